//! LX-OS-ID, LX-OS-VERSION, LX-ARCH, IMG-OS-SUPPORTED and the check of a
//! declared `os_version` / `architecture` against the guest.
//!
//! The `os_version` string is built from the guest's identity by the
//! naming patterns the clouds' lists use, including their
//! inconsistencies: "Red Hat Linux Enterprise" (not "Enterprise Linux")
//! next to "Redhat Linux Enterprise" for older minors and OTC's second
//! spelling "Red Hat Enterprise Linux"; Debian's "GNU/Linux 12.0.0";
//! Ubuntu's "server"/"Server" casing; EulerOS whose service pack is the
//! list's minor ("2.0 (SP8)" is "EulerOS 2.8"); openEuler without the
//! "LTS" word; SUSE's "SP" suffix. Each spelling is looked up in the
//! built-in catalogue ([`crate::os`]) for the target cloud. Kylin is not
//! NeoKylin, openEuler is not EulerOS, and Huawei Cloud EulerOS is neither:
//! a family is never answered with another family's string. Offline the
//! result is never validated against the region's live list
//! (`GET /v1/cloudimages/os_version`); every message says so.

use imsprep_guest::linux::arch::{Arch, ArchInfo};
use imsprep_guest::linux::identity::{OsFamily, OsIdentity};
use imsprep_guest::LinuxFacts;

use super::{fail, info, unknown, warn};
use crate::finding::{Code, Finding, Severity};
use crate::model::Architecture;
use crate::os::{lookup_os, os_catalogue, Cloud, OsEntry};

/// The generic string for a 64-bit Linux the lists do not name.
pub const OTHER_LINUX_64: &str = "Other Linux(64 bit)";
/// The 32-bit generic string as Huawei Cloud's list spells it.
pub const OTHER_32_HUAWEI: &str = "Other(32 bit)";
/// The 32-bit generic string as the API documentation spells it (Open
/// Telekom Cloud's list has no 32-bit generic entry).
pub const OTHER_LINUX_32: &str = "Other Linux(32 bit)";

/// The `os_version` chosen for a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsVersionChoice {
    /// The string the naming rules give for the guest, listed or not.
    pub candidate: Option<String>,
    /// A listed string that names exactly the guest's version.
    pub exact: Option<String>,
    /// When there is no exact string: the listed string of the same family
    /// and major version with the nearest lower minor / service pack. The
    /// OS must match the image, so it needs the user's confirmation.
    pub nearest: Option<String>,
    /// The generic string (`Other Linux(64 bit)` or its 32-bit twin).
    pub fallback: String,
    /// How the choice was made, with the identity fields used.
    pub reason: String,
    /// The naming pattern for this family is not confirmed by a list
    /// (CentOS Stream, Rocky, Alma, Huawei Cloud EulerOS, Kylin).
    pub unverified: bool,
}

impl OsVersionChoice {
    /// The string to use: exact, else nearest, else the fallback.
    pub fn best(&self) -> &str {
        self.exact
            .as_deref()
            .or(self.nearest.as_deref())
            .unwrap_or(&self.fallback)
    }
}

/// Listed on `cloud` (on either when no cloud is given).
fn listed_on(e: &OsEntry, cloud: Option<Cloud>) -> bool {
    match cloud {
        Some(Cloud::HuaweiCloud) => e.huaweicloud,
        Some(Cloud::Otc) => e.otc,
        None => e.huaweicloud || e.otc,
    }
}

/// Separates spellings of a more precise version (tried first) from those
/// of a less precise one (Ubuntu's point release before its series).
const TIER_BREAK: &str = "";

/// The first spelling listed on `cloud`, preferring one both clouds list,
/// within the most precise tier that has one.
fn pick(spellings: &[String], cloud: Option<Cloud>) -> Option<String> {
    spellings.split(|s| s == TIER_BREAK).find_map(|tier| {
        let listed: Vec<&OsEntry> = tier
            .iter()
            .filter_map(|s| lookup_os(s))
            .filter(|e| listed_on(e, cloud))
            .collect();
        listed
            .iter()
            .find(|e| e.huaweicloud && e.otc)
            .or(listed.first())
            .map(|e| e.version.clone())
    })
}

/// The version numbers the patterns use.
#[derive(Debug, Clone, Copy)]
struct Ver {
    major: u32,
    minor: Option<u32>,
    patch: Option<u32>,
    sp: Option<u32>,
}

/// The third number of `12.5.1` / `22.04.3`.
fn patch_of(full: Option<&str>) -> Option<u32> {
    full?.split('.').nth(2).and_then(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// Every spelling the lists use for `family` at `v`, preferred first.
fn spellings(family: &OsFamily, v: Ver, bits: u8, full: Option<&str>) -> Vec<String> {
    let m = v.major;
    let b = format!("{bits}bit");
    let with_minor = |prefixes: &[&str]| -> Vec<String> {
        v.minor.map_or_else(Vec::new, |n| {
            prefixes
                .iter()
                .map(|p| format!("{p} {m}.{n} {b}"))
                .collect()
        })
    };
    match family {
        OsFamily::CentOs => with_minor(&["CentOS"]),
        OsFamily::Rhel => with_minor(&[
            "Red Hat Linux Enterprise",
            "Red Hat Enterprise Linux",
            "Redhat Linux Enterprise",
            "Red Hat",
            "Redhat",
        ]),
        OsFamily::Oracle => with_minor(&["Oracle Linux Server release"]),
        OsFamily::OpenSuse => with_minor(&["openSUSE", "OpenSUSE"]),
        OsFamily::Rocky => with_minor(&["Rocky Linux"]),
        OsFamily::HuaweiCloudEulerOs => with_minor(&["Huawei Cloud EulerOS"]),
        OsFamily::Alma => {
            let mut s = vec![format!("Alma {m} {b}")];
            s.extend(with_minor(&["AlmaLinux", "Alma"]));
            s
        }
        OsFamily::Fedora => vec![format!("Fedora {m} {b}")],
        OsFamily::Ubuntu => {
            let Some(n) = v.minor else {
                return Vec::new();
            };
            let mut s = Vec::new();
            if let Some(p) = v.patch.filter(|p| *p > 0) {
                s.push(format!("Ubuntu {m}.{n:02}.{p} server {b}"));
                s.push(format!("Ubuntu {m}.{n:02}.{p} Server {b}"));
                s.push(TIER_BREAK.to_owned());
            }
            s.push(format!("Ubuntu {m}.{n:02} server {b}"));
            s.push(format!("Ubuntu {m}.{n:02} Server {b}"));
            s
        }
        OsFamily::Debian => match v.minor {
            Some(n) => vec![format!("Debian GNU/Linux {m}.{n}.0 {b}")],
            None => vec![format!("Debian GNU/Linux {m} {b}")],
        },
        OsFamily::Sles => {
            let sp = match v.sp.filter(|n| *n > 0) {
                Some(n) => format!(" SP{n}"),
                None => String::new(),
            };
            [
                "SUSE Linux Enterprise Server",
                "Novell SUSE Linux Enterprise Server",
                "SUSE Enterprise Linux Server",
                "SUSE SLES",
            ]
            .iter()
            .map(|p| format!("{p} {m}{sp} {b}"))
            .collect()
        }
        OsFamily::EulerOs => {
            v.sp.map(|n| vec![format!("EulerOS {m}.{n} {b}")])
                .unwrap_or_default()
        }
        OsFamily::OpenEuler => {
            let Some(n) = v.minor else {
                return Vec::new();
            };
            let sp = match v.sp.filter(|n| *n > 0) {
                Some(s) => format!(" SP{s}"),
                None => String::new(),
            };
            vec![format!("openEuler {m}.{n:02}{sp} {b}")]
        }
        OsFamily::Kylin => {
            let sp = v.sp.map(|n| format!(" SP{n}")).unwrap_or_default();
            vec![format!("Kylin Linux Advanced Server V{m}{sp} {b}")]
        }
        OsFamily::NeoKylin => v.minor.map_or_else(Vec::new, |n| {
            vec![
                format!("NeoKylin Linux Advanced Server release {m}.0 U{n} {b}"),
                format!("NeoKylin {m}.{n} {b}"),
            ]
        }),
        OsFamily::Other(id) if id.eq_ignore_ascii_case("coreos") => full
            .map(|f| vec![format!("CoreOS {f}")])
            .unwrap_or_default(),
        OsFamily::CentOsStream | OsFamily::Other(_) => Vec::new(),
    }
}

/// Families whose pattern no list confirms.
fn unverified_family(family: &OsFamily) -> bool {
    matches!(
        family,
        OsFamily::CentOsStream
            | OsFamily::Rocky
            | OsFamily::Alma
            | OsFamily::HuaweiCloudEulerOs
            | OsFamily::Kylin
            | OsFamily::NeoKylin
    )
}

/// The family's display name.
pub fn family_name(family: &OsFamily) -> String {
    match family {
        OsFamily::Ubuntu => "Ubuntu",
        OsFamily::Debian => "Debian",
        OsFamily::CentOs => "CentOS",
        OsFamily::CentOsStream => "CentOS Stream",
        OsFamily::Rhel => "Red Hat Enterprise Linux",
        OsFamily::Rocky => "Rocky Linux",
        OsFamily::Alma => "AlmaLinux",
        OsFamily::Oracle => "Oracle Linux",
        OsFamily::Fedora => "Fedora",
        OsFamily::Sles => "SUSE Linux Enterprise Server",
        OsFamily::OpenSuse => "openSUSE",
        OsFamily::EulerOs => "EulerOS",
        OsFamily::OpenEuler => "openEuler",
        OsFamily::HuaweiCloudEulerOs => "Huawei Cloud EulerOS",
        OsFamily::Kylin => "Kylin Linux Advanced Server",
        OsFamily::NeoKylin => "NeoKylin",
        OsFamily::Other(id) => return id.clone(),
    }
    .to_owned()
}

/// The identity fields a choice rests on, for messages.
pub fn identity_summary(id: &OsIdentity) -> String {
    let mut parts = vec![format!("family {}", family_name(&id.family))];
    if let Some(v) = &id.id {
        parts.push(format!("ID={v}"));
    }
    if let Some(v) = &id.version_id {
        parts.push(format!("VERSION_ID={v}"));
    }
    if let Some(v) = &id.version {
        parts.push(format!("VERSION=\"{v}\""));
    }
    if let Some(v) = &id.release_line {
        parts.push(format!("release file \"{v}\""));
    }
    if let Some(v) = &id.full_version {
        parts.push(format!("version {v}"));
    }
    if let Some(v) = id.service_pack {
        parts.push(format!("SP{v}"));
    }
    parts.join(", ")
}

fn clouds_of(version: &str) -> String {
    lookup_os(version).map_or_else(
        || "no list".to_owned(),
        |e| {
            e.clouds()
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(" and ")
        },
    )
}

fn target_name(cloud: Option<Cloud>) -> &'static str {
    cloud.map_or("either cloud", Cloud::name)
}

/// Chooses the `os_version` for a guest on `cloud` (either cloud when
/// `None`). `arch` gives the word size (64-bit when unknown).
pub fn os_version_for(
    identity: &OsIdentity,
    arch: Option<&ArchInfo>,
    cloud: Option<Cloud>,
) -> OsVersionChoice {
    let bits = arch.map_or(64, |a| a.bits);
    let fallback = if bits == 32 {
        match cloud {
            Some(Cloud::Otc) => OTHER_LINUX_32,
            _ => OTHER_32_HUAWEI,
        }
    } else {
        OTHER_LINUX_64
    }
    .to_owned();
    let family = &identity.family;
    let summary = identity_summary(identity);
    let unverified = unverified_family(family);
    let Some(major) = identity.major else {
        return OsVersionChoice {
            candidate: None,
            exact: None,
            nearest: None,
            reason: format!(
                "no major version could be read ({summary}); only the generic \"{fallback}\" can be given"
            ),
            fallback,
            unverified,
        };
    };
    let ver = Ver {
        major,
        minor: identity.minor,
        patch: patch_of(identity.full_version.as_deref()),
        sp: identity.service_pack,
    };
    let full = identity.full_version.as_deref();
    let names = spellings(family, ver, bits, full);
    let candidate = names.first().cloned();
    let exact = pick(&names, cloud);
    let nearest = if exact.is_some() {
        None
    } else {
        nearest_listed(family, ver, bits, cloud)
    };
    let mut reason = match (&exact, &nearest, &candidate) {
        (Some(e), _, _) => format!(
            "\"{e}\" names {summary} exactly and is listed by {}",
            clouds_of(e)
        ),
        (None, Some(n), Some(c)) => format!(
            "{summary}: the naming rules give \"{c}\", which {} does not list; the nearest listed version of the same family and major is \"{n}\" ({}), and the OS selected must match the image",
            target_name(cloud),
            clouds_of(n)
        ),
        (None, Some(n), None) => format!(
            "{summary}: the exact version cannot be derived from the image; the listed version of the same family and major is \"{n}\" ({})",
            clouds_of(n)
        ),
        (None, None, Some(c)) => format!(
            "{summary}: the naming rules give \"{c}\", which {} does not list, nor any version of the same family and major; the generic \"{fallback}\" applies",
            target_name(cloud)
        ),
        (None, None, None) => format!(
            "{summary}: no naming pattern of the lists fits this family and version; the generic \"{fallback}\" applies"
        ),
    };
    reason.push_str(trap_note(family));
    OsVersionChoice {
        candidate,
        exact,
        nearest,
        fallback,
        reason,
        unverified,
    }
}

/// Why a neighbouring family's strings were not used.
fn trap_note(family: &OsFamily) -> &'static str {
    match family {
        OsFamily::Kylin => "; Kylin is not NeoKylin, whose strings the lists carry",
        OsFamily::OpenEuler => "; openEuler is not EulerOS",
        OsFamily::HuaweiCloudEulerOs => "; Huawei Cloud EulerOS is neither EulerOS nor openEuler",
        OsFamily::EulerOs => "; EulerOS's lists encode the service pack as the minor",
        OsFamily::CentOsStream => "; CentOS Stream's release file has no minor",
        _ => "",
    }
}

/// The listed string of the same family and major with the nearest lower
/// minor (or service pack).
fn nearest_listed(family: &OsFamily, v: Ver, bits: u8, cloud: Option<Cloud>) -> Option<String> {
    match family {
        OsFamily::CentOsStream => {
            let prefix = format!("CentOS Stream {}.", v.major);
            os_catalogue()
                .iter()
                .find(|e| e.version.starts_with(&prefix) && listed_on(e, cloud))
                .map(|e| e.version.clone())
        }
        OsFamily::Sles | OsFamily::OpenEuler => {
            let sp = v.sp?;
            (0..sp).rev().find_map(|n| {
                let lower = Ver { sp: Some(n), ..v };
                pick(&spellings(family, lower, bits, None), cloud)
            })
        }
        OsFamily::CentOs
        | OsFamily::Rhel
        | OsFamily::Oracle
        | OsFamily::OpenSuse
        | OsFamily::Debian
        | OsFamily::Rocky
        | OsFamily::NeoKylin => {
            let minor = v.minor?.min(100);
            (0..minor).rev().find_map(|n| {
                let lower = Ver {
                    minor: Some(n),
                    patch: None,
                    ..v
                };
                pick(&spellings(family, lower, bits, None), cloud)
            })
        }
        _ => None,
    }
}

/// Whether the family needs a minor version or service pack for its
/// string, and that part is missing.
fn lacks_minor(id: &OsIdentity) -> Option<&'static str> {
    match id.family {
        OsFamily::CentOs
        | OsFamily::Rhel
        | OsFamily::Oracle
        | OsFamily::OpenSuse
        | OsFamily::Ubuntu
        | OsFamily::Rocky
        | OsFamily::OpenEuler
        | OsFamily::Debian
            if id.minor.is_none() =>
        {
            Some("minor version")
        }
        OsFamily::EulerOs if id.service_pack.is_none() => Some("service pack"),
        _ => None,
    }
}

/// LX-OS-ID, LX-OS-VERSION, IMG-OS-SUPPORTED and LX-ARCH.
pub(crate) fn check(facts: &LinuxFacts, cloud: Option<Cloud>, out: &mut Vec<Finding>) {
    let id_fact = &facts.identity;
    let arch = facts.arch.get();
    match id_fact.get() {
        None => {
            let reason = id_fact.unknown.clone().unwrap_or_else(|| {
                "no /etc/os-release, /usr/lib/os-release or known release file was found".to_owned()
            });
            out.push(unknown(
                Code::LxOsId,
                "/etc/os-release",
                format!("the distribution could not be told: {reason}"),
                &id_fact.evidence,
            ));
            out.push(unknown(
                Code::LxOsVersion,
                "/etc/os-release",
                format!(
                    "no os_version can be chosen without the distribution; only the generic \"{OTHER_LINUX_64}\" remains"
                ),
                &id_fact.evidence,
            ));
        }
        Some(id) => {
            if id.major.is_none() {
                out.push(unknown(
                    Code::LxOsId,
                    "/etc/os-release",
                    format!(
                        "{} found but no version number ({})",
                        family_name(&id.family),
                        identity_summary(id)
                    ),
                    &id_fact.evidence,
                ));
            } else if let Some(part) = lacks_minor(id) {
                out.push(warn(
                    Code::LxOsId,
                    "/etc/os-release",
                    format!(
                        "only the major version is known ({}); the {part} the os_version string needs is missing",
                        identity_summary(id)
                    ),
                    &id_fact.evidence,
                ));
            }
            version_findings(id, arch, cloud, &id_fact.evidence, out);
        }
    }
    arch_findings(facts, out);
}

fn version_findings(
    id: &OsIdentity,
    arch: Option<&ArchInfo>,
    cloud: Option<Cloud>,
    evidence: &[imsprep_guest::Evidence],
    out: &mut Vec<Finding>,
) {
    let choice = os_version_for(id, arch, cloud);
    let offline = "offline choice from the built-in lists, not validated against the region's list (GET /v1/cloudimages/os_version)";
    let verify = if choice.unverified {
        "; the naming pattern of this family is not verified on a live ECS"
    } else {
        ""
    };
    let path = "$.os_version";
    if let Some(exact) = &choice.exact {
        out.push(
            info(
                Code::LxOsVersion,
                path,
                format!(
                    "os_version \"{exact}\": {}; {offline}{verify}",
                    choice.reason
                ),
                evidence,
            )
            .with_fix(format!("Register the image with os_version \"{exact}\".")),
        );
        return;
    }
    if let Some(nearest) = &choice.nearest {
        out.push(
            warn(
                Code::LxOsVersion,
                path,
                format!(
                    "no exact os_version; nearest listed \"{nearest}\": {}; {offline}{verify}",
                    choice.reason
                ),
                evidence,
            )
            .with_fix(format!(
                "Check the region's list for the exact version; otherwise confirm \"{nearest}\" explicitly (--os-version) or use \"{}\".",
                choice.fallback
            )),
        );
        return;
    }
    let known_family = !matches!(id.family, OsFamily::Other(_))
        && !matches!(id.family, OsFamily::Kylin | OsFamily::HuaweiCloudEulerOs);
    out.push(
        warn(
            Code::LxOsVersion,
            path,
            format!(
                "no listed os_version; generic \"{}\": {}; {offline}{verify}",
                choice.fallback, choice.reason
            ),
            evidence,
        )
        .with_fix(format!(
            "Use \"{}\" unless the region's list names this system; then use its string.",
            choice.fallback
        )),
    );
    let family_listed = os_catalogue().iter().any(|e| {
        choice
            .candidate
            .as_ref()
            .is_some_and(|c| same_family(c, &e.version))
    });
    if !known_family || !family_listed {
        out.push(
            warn(
                Code::ImgOsSupported,
                path,
                format!(
                    "{} is not in {}'s OS list; with \"{}\" the platform applies no OS-specific handling",
                    family_name(&id.family),
                    target_name(cloud),
                    choice.fallback
                ),
                evidence,
            )
            .with_fix("Use an OS the target cloud lists, or accept the generic string."),
        );
    }
}

/// Two strings name the same family (by their leading words).
fn same_family(a: &str, b: &str) -> bool {
    declared_family(a).is_some_and(|f| declared_family(b).as_ref() == Some(&f))
}

fn arch_findings(facts: &LinuxFacts, out: &mut Vec<Finding>) {
    let fact = &facts.arch;
    let Some(a) = fact.get() else {
        let reason = fact
            .unknown
            .clone()
            .unwrap_or_else(|| "no ELF binary (/bin/sh) was found".to_owned());
        out.push(unknown(
            Code::LxArch,
            "/bin/sh",
            format!("the architecture could not be read: {reason}"),
            &fact.evidence,
        ));
        return;
    };
    let what = format!("{} is {:?}, {}-bit", a.binary, a.arch, a.bits);
    if let Some(k) = facts.virtio.get().and_then(|v| v.kernel_arch.as_ref()) {
        if k.arch != a.arch || k.bits != a.bits {
            let mut ev = fact.evidence.clone();
            ev.push(imsprep_guest::Evidence::file(
                &k.binary,
                format!("ELF {:?}, {}-bit", k.arch, k.bits),
            ));
            out.push(fail(
                Code::LxArch,
                &a.binary,
                format!(
                    "{what}, but the default kernel's module {} is {:?}, {}-bit: userland and kernel disagree",
                    k.binary, k.arch, k.bits
                ),
                &ev,
            ));
        }
    }
    match a.arch {
        Arch::X86_64 | Arch::Aarch64 if a.bits == 64 => {}
        Arch::I386 => out.push(warn(
            Code::LxArch,
            &a.binary,
            format!("{what}: 32-bit x86 is listed only for a few old OS versions"),
            &fact.evidence,
        )),
        _ => out.push(fail(
            Code::LxArch,
            &a.binary,
            format!("{what}: fast import takes only x86-64 (architecture x86) and AArch64 (architecture arm)"),
            &fact.evidence,
        )),
    }
}

/// The family a declared `os_version` names (by its leading words).
pub fn declared_family(version: &str) -> Option<OsFamily> {
    let v = version.trim().to_ascii_lowercase();
    let table: &[(&str, OsFamily)] = &[
        ("centos stream", OsFamily::CentOsStream),
        ("centos", OsFamily::CentOs),
        ("red hat", OsFamily::Rhel),
        ("redhat", OsFamily::Rhel),
        ("ubuntu", OsFamily::Ubuntu),
        ("debian", OsFamily::Debian),
        ("opensuse", OsFamily::OpenSuse),
        ("novell suse", OsFamily::Sles),
        ("suse", OsFamily::Sles),
        ("oracle linux", OsFamily::Oracle),
        ("fedora", OsFamily::Fedora),
        ("huawei cloud euleros", OsFamily::HuaweiCloudEulerOs),
        ("euleros", OsFamily::EulerOs),
        ("openeuler", OsFamily::OpenEuler),
        ("rocky", OsFamily::Rocky),
        ("alma", OsFamily::Alma),
        ("neokylin", OsFamily::NeoKylin),
        ("kylin", OsFamily::Kylin),
        ("coreos", OsFamily::Other("coreos".to_owned())),
        ("windows", OsFamily::Other("windows".to_owned())),
        ("other", OsFamily::Other("other".to_owned())),
    ];
    table
        .iter()
        .find(|(p, _)| v.starts_with(p))
        .map(|(_, f)| f.clone())
}

/// The first `N` or `N.M` number of a declared string, after the family
/// words (`EulerOS 2.8 64bit` gives (2, Some(8))).
fn declared_numbers(version: &str) -> Option<(u32, Option<u32>)> {
    let word = version
        .split_whitespace()
        .map(|w| w.trim_start_matches(['V', 'v']))
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()) && !w.ends_with("bit"))?;
    let mut it = word.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().and_then(|m| m.parse().ok());
    Some((major, minor))
}

/// A declared `os_version` or `architecture` that contradicts the guest:
/// another distribution, another major version (EulerOS: another service
/// pack), another word size, another architecture. Both values are shown.
pub fn check_declared(
    facts: &LinuxFacts,
    declared_os_version: Option<&str>,
    declared_arch: Option<Architecture>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let arch = facts.arch.get();
    if let (Some(declared), Some(id)) = (declared_os_version, facts.identity.get()) {
        declared_os(declared, id, arch, &facts.identity.evidence, &mut out);
    }
    if let (Some(declared), Some(a)) = (declared_arch, arch) {
        let guest = match a.arch {
            Arch::X86_64 | Arch::I386 => Some(Architecture::X86),
            Arch::Aarch64 | Arch::Arm => Some(Architecture::Arm),
            _ => None,
        };
        if guest.is_some_and(|g| g != declared) || guest.is_none() {
            out.push(
                fail(
                    Code::LxArchDeclared,
                    "$.architecture",
                    format!(
                        "architecture \"{}\" given, but the guest's {} is {:?} ({}-bit)",
                        declared.as_str(),
                        a.binary,
                        a.arch,
                        a.bits
                    ),
                    &facts.arch.evidence,
                )
                .with_fix(match guest {
                    Some(g) => format!("Give architecture \"{}\".", g.as_str()),
                    None => "Fast import takes no architecture for this guest.".to_owned(),
                }),
            );
        }
    }
    out
}

fn declared_os(
    declared: &str,
    id: &OsIdentity,
    arch: Option<&ArchInfo>,
    evidence: &[imsprep_guest::Evidence],
    out: &mut Vec<Finding>,
) {
    let path = "$.os_version";
    let choice = os_version_for(id, arch, None);
    let suggestion = format!("Give os_version \"{}\".", choice.best());
    let guest = format!("the guest is {}", identity_summary(id));
    let push = |out: &mut Vec<Finding>, sev: Severity, text: String| {
        let f = if sev == Severity::Warning {
            warn(Code::LxOsVersionDeclared, path, text, evidence)
        } else {
            fail(Code::LxOsVersionDeclared, path, text, evidence)
        };
        out.push(f.with_fix(suggestion.clone()));
    };
    let Some(family) = declared_family(declared) else {
        push(
            out,
            Severity::Warning,
            format!("os_version \"{declared}\" names no known distribution; {guest}"),
        );
        return;
    };
    if let OsFamily::Other(word) = &family {
        if word == "other" {
            if choice.exact.is_some() {
                push(
                    out,
                    Severity::Warning,
                    format!(
                        "os_version \"{declared}\" is the generic string, but the list names the guest: {guest}"
                    ),
                );
            }
            return;
        }
    }
    if family != id.family {
        push(
            out,
            Severity::Error,
            format!(
                "os_version \"{declared}\" names {}, but {guest}",
                family_name(&family)
            ),
        );
        return;
    }
    if let Some(bits) = crate::os::parse_bits(declared) {
        if let Some(a) = arch.filter(|a| a.bits != bits) {
            push(
                out,
                Severity::Error,
                format!(
                    "os_version \"{declared}\" is {bits}-bit, but the guest's {} is {}-bit",
                    a.binary, a.bits
                ),
            );
            return;
        }
    }
    let Some((major, minor)) = declared_numbers(declared) else {
        return;
    };
    // EulerOS strings carry the service pack as the minor: 2.8 and 2.10
    // are different releases.
    let (guest_major, guest_minor) = match id.family {
        OsFamily::EulerOs => (id.major, id.service_pack),
        _ => (id.major, id.minor),
    };
    let major_differs = guest_major.is_some_and(|g| g != major);
    let euler_sp_differs = id.family == OsFamily::EulerOs
        && minor.is_some()
        && guest_minor.is_some()
        && minor != guest_minor;
    if major_differs || euler_sp_differs {
        push(
            out,
            Severity::Error,
            format!("os_version \"{declared}\" names another version than the guest: {guest}"),
        );
    } else if choice.nearest.as_deref() == Some(declared.trim()) {
        // The nearest listed version, confirmed by the user.
    } else if minor.is_some() && guest_minor.is_some() && minor != guest_minor {
        let sev = if id.family == OsFamily::Ubuntu {
            Severity::Error
        } else {
            Severity::Warning
        };
        push(
            out,
            sev,
            format!(
                "os_version \"{declared}\" names another minor version than the guest: {guest}"
            ),
        );
    }
}
