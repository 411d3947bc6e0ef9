//! LX-OS-ID: distribution, version and variant.
//!
//! Reads `/etc/os-release` (or `/usr/lib/os-release`), then the
//! distribution's own release file, which is more precise where os-release
//! gives only a major version (CentOS, Debian) or hides the service pack
//! (EulerOS, openEuler, Kylin). The clone release files are tried before
//! `/etc/redhat-release`, which every RHEL clone also carries, and
//! `/etc/debian_version` is never used for Ubuntu (it holds a Debian
//! codename there).
use crate::evidence::{Evidence, Fact};
use crate::files::{read_text, GuestFiles};
use crate::text::{first_version, last_value, service_pack, shell_assignments, CONFIG_LIMIT};

/// Distribution family, as far as the release files tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsFamily {
    /// Ubuntu.
    Ubuntu,
    /// Debian.
    Debian,
    /// CentOS Linux.
    CentOs,
    /// CentOS Stream.
    CentOsStream,
    /// Red Hat Enterprise Linux.
    Rhel,
    /// Rocky Linux.
    Rocky,
    /// AlmaLinux.
    Alma,
    /// Oracle Linux.
    Oracle,
    /// Fedora.
    Fedora,
    /// SUSE Linux Enterprise Server (or Desktop).
    Sles,
    /// openSUSE (Leap or Tumbleweed).
    OpenSuse,
    /// EulerOS.
    EulerOs,
    /// openEuler.
    OpenEuler,
    /// Huawei Cloud EulerOS.
    HuaweiCloudEulerOs,
    /// Kylin Linux Advanced Server.
    Kylin,
    /// NeoKylin.
    NeoKylin,
    /// Anything else: the os-release `ID` (lower case) or the file that told.
    Other(String),
}

/// What the release files say about the distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsIdentity {
    /// Family decided from the files below.
    pub family: OsFamily,
    /// os-release `ID` as written.
    pub id: Option<String>,
    /// os-release `ID_LIKE` words.
    pub id_like: Vec<String>,
    /// os-release `VERSION_ID`.
    pub version_id: Option<String>,
    /// os-release `VERSION`.
    pub version: Option<String>,
    /// os-release `NAME`.
    pub name: Option<String>,
    /// os-release `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// os-release `VARIANT_ID`.
    pub variant_id: Option<String>,
    /// The most precise version the files give (`7.9.2009`, `12.5`,
    /// `22.04.3`, `15.5`, `V10`).
    pub full_version: Option<String>,
    /// Major version number, when one could be read.
    pub major: Option<u32>,
    /// Minor version number, when one could be read.
    pub minor: Option<u32>,
    /// Service pack / patch level (SUSE SP, EulerOS SP, openEuler LTS-SP,
    /// Kylin SP).
    pub service_pack: Option<u32>,
    /// First line of the distribution-specific release file used.
    pub release_line: Option<String>,
}

/// Release files tried when os-release does not name the family, in
/// order: clones before `redhat-release`, Ubuntu's lsb-release before
/// `debian_version`.
/// Decides the family from a release file's first line.
type Classify = fn(&str) -> OsFamily;

const RELEASE_FILES: &[(&str, Classify)] = &[
    ("/etc/centos-release", |l| {
        if l.contains("Stream") {
            OsFamily::CentOsStream
        } else {
            OsFamily::CentOs
        }
    }),
    ("/etc/rocky-release", |_| OsFamily::Rocky),
    ("/etc/almalinux-release", |_| OsFamily::Alma),
    ("/etc/oracle-release", |_| OsFamily::Oracle),
    ("/etc/fedora-release", |_| OsFamily::Fedora),
    ("/etc/hce-release", |_| OsFamily::HuaweiCloudEulerOs),
    ("/etc/euleros-release", |_| OsFamily::EulerOs),
    ("/etc/openEuler-release", |_| OsFamily::OpenEuler),
    ("/etc/neokylin-release", |_| OsFamily::NeoKylin),
    ("/etc/kylin-release", |_| OsFamily::Kylin),
    ("/etc/redhat-release", |l| {
        if l.contains("CentOS") {
            OsFamily::CentOs
        } else {
            OsFamily::Rhel
        }
    }),
    ("/etc/SuSE-release", |l| {
        if l.to_ascii_lowercase().contains("opensuse") {
            OsFamily::OpenSuse
        } else {
            OsFamily::Sles
        }
    }),
];

/// The family an os-release `ID` names.
fn family_from_id(id: &str, name: &str) -> Option<OsFamily> {
    Some(match id.to_ascii_lowercase().as_str() {
        "ubuntu" => OsFamily::Ubuntu,
        "debian" => OsFamily::Debian,
        "centos" if name.contains("Stream") => OsFamily::CentOsStream,
        "centos" => OsFamily::CentOs,
        "rhel" => OsFamily::Rhel,
        "rocky" => OsFamily::Rocky,
        "almalinux" => OsFamily::Alma,
        "ol" => OsFamily::Oracle,
        "fedora" => OsFamily::Fedora,
        "sles" | "sled" | "sles_sap" => OsFamily::Sles,
        "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" => OsFamily::OpenSuse,
        "euleros" => OsFamily::EulerOs,
        "openeuler" => OsFamily::OpenEuler,
        "hce" => OsFamily::HuaweiCloudEulerOs,
        "kylin" => OsFamily::Kylin,
        "neokylin" => OsFamily::NeoKylin,
        _ => return None,
    })
}

/// The release file that refines a family's version.
fn release_file_of(family: &OsFamily) -> Option<&'static str> {
    Some(match family {
        OsFamily::CentOs | OsFamily::CentOsStream => "/etc/centos-release",
        OsFamily::Rhel => "/etc/redhat-release",
        OsFamily::Rocky => "/etc/rocky-release",
        OsFamily::Alma => "/etc/almalinux-release",
        OsFamily::Oracle => "/etc/oracle-release",
        OsFamily::Fedora => "/etc/fedora-release",
        OsFamily::EulerOs => "/etc/euleros-release",
        OsFamily::OpenEuler => "/etc/openEuler-release",
        OsFamily::HuaweiCloudEulerOs => "/etc/hce-release",
        OsFamily::Kylin => "/etc/kylin-release",
        OsFamily::NeoKylin => "/etc/neokylin-release",
        OsFamily::Sles | OsFamily::OpenSuse => "/etc/SuSE-release",
        OsFamily::Debian => "/etc/debian_version",
        OsFamily::Ubuntu => "/etc/lsb-release",
        OsFamily::Other(_) => return None,
    })
}

struct Reader<'g> {
    guest: &'g dyn GuestFiles,
    evidence: Vec<Evidence>,
    errors: Vec<String>,
}

impl Reader<'_> {
    /// First non-empty line of a file, recording what was found.
    fn text(&mut self, path: &str) -> Option<String> {
        match read_text(self.guest, path, CONFIG_LIMIT) {
            Ok(Some(t)) => Some(t),
            Ok(None) => None,
            Err(e) => {
                self.evidence
                    .push(Evidence::file(path, format!("unreadable: {e}")));
                self.errors.push(e.to_string());
                None
            }
        }
    }

    fn first_line(&mut self, path: &str) -> Option<String> {
        let text = self.text(path)?;
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())?
            .to_string();
        self.evidence.push(Evidence::file(path, line.clone()));
        Some(line)
    }
}

fn split_version(v: &str) -> (Option<u32>, Option<u32>) {
    let mut parts = v.split('.');
    let major = parts.next().and_then(|p| p.parse().ok());
    let minor = parts.next().and_then(|p| p.parse().ok());
    (major, minor)
}

/// Read the release files.
pub fn inspect(guest: &dyn GuestFiles) -> Fact<OsIdentity> {
    let mut r = Reader {
        guest,
        evidence: Vec::new(),
        errors: Vec::new(),
    };
    let mut os = OsIdentity {
        family: OsFamily::Other(String::new()),
        id: None,
        id_like: Vec::new(),
        version_id: None,
        version: None,
        name: None,
        pretty_name: None,
        variant_id: None,
        full_version: None,
        major: None,
        minor: None,
        service_pack: None,
        release_line: None,
    };

    let mut family = None;
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        let Some(text) = r.text(path) else {
            continue;
        };
        let pairs = shell_assignments(&text);
        let get = |k: &str| last_value(&pairs, k).map(str::to_string);
        os.id = get("ID");
        os.id_like = get("ID_LIKE")
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        os.version_id = get("VERSION_ID");
        os.version = get("VERSION");
        os.name = get("NAME");
        os.pretty_name = get("PRETTY_NAME");
        os.variant_id = get("VARIANT_ID");
        for key in [
            "ID",
            "VERSION_ID",
            "VERSION",
            "NAME",
            "PRETTY_NAME",
            "VARIANT_ID",
        ] {
            if let Some(v) = last_value(&pairs, key) {
                r.evidence.push(Evidence::file(path, format!("{key}={v}")));
            }
        }
        family = os
            .id
            .as_deref()
            .and_then(|id| family_from_id(id, os.name.as_deref().unwrap_or("")));
        break;
    }

    // Without a known os-release ID, the first release file that exists.
    let mut release_line = None;
    if family.is_none() {
        for (path, classify) in RELEASE_FILES {
            if let Some(line) = r.first_line(path) {
                family = Some(classify(&line));
                release_line = Some(line);
                break;
            }
        }
    } else if let Some(path) = family.as_ref().and_then(release_file_of) {
        release_line = r.first_line(path);
    }
    if family.is_none() {
        if let Some(text) = r.text("/etc/lsb-release") {
            let pairs = shell_assignments(&text);
            if last_value(&pairs, "DISTRIB_ID") == Some("Ubuntu") {
                family = Some(OsFamily::Ubuntu);
            }
        }
    }
    if family.is_none() {
        if let Some(line) = r.first_line("/etc/debian_version") {
            family = Some(OsFamily::Debian);
            release_line = Some(line);
        }
    }
    let Some(family) =
        family.or_else(|| os.id.clone().map(|id| OsFamily::Other(id.to_lowercase())))
    else {
        let reason = if r.errors.is_empty() {
            "no os-release or known release file found".to_string()
        } else {
            format!("release files unreadable: {}", r.errors.join("; "))
        };
        if r.evidence.is_empty() {
            r.evidence.push(Evidence::absent("/etc/os-release"));
            r.evidence.push(Evidence::absent("/usr/lib/os-release"));
        }
        return Fact::unknown(reason, r.evidence);
    };
    os.family = family;

    refine_version(&mut r, &mut os, release_line.as_deref());
    os.release_line = release_line;
    Fact::found(os, r.evidence)
}

/// Fill `full_version`, `major`, `minor` and `service_pack` from the most
/// precise source for the family.
fn refine_version(r: &mut Reader<'_>, os: &mut OsIdentity, line: Option<&str>) {
    let from_line = line.and_then(|l| {
        // "release X" is the version in every RH-style release file.
        l.find("release ")
            .and_then(|i| l.get(i + 8..))
            .and_then(first_version)
    });
    let version_id = os.version_id.clone();
    let mut full = match os.family {
        OsFamily::Debian => line
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .and_then(first_version)
            .or(version_id.clone()),
        OsFamily::Ubuntu => {
            let mut v = os.version.as_deref().and_then(first_version);
            if v.is_none() {
                if let Some(text) = r.text("/etc/lsb-release") {
                    let pairs = shell_assignments(&text);
                    if let Some(d) = last_value(&pairs, "DISTRIB_DESCRIPTION") {
                        r.evidence.push(Evidence::file(
                            "/etc/lsb-release",
                            format!("DISTRIB_DESCRIPTION={d}"),
                        ));
                        v = first_version(d);
                    }
                    if v.is_none() {
                        v = last_value(&pairs, "DISTRIB_RELEASE").map(str::to_string);
                    }
                }
            }
            v.or(version_id.clone())
        }
        OsFamily::Kylin | OsFamily::NeoKylin => {
            // VERSION_ID=V10, V7Update6; the release file says "release V10".
            let v = version_id.clone().or_else(|| {
                line.and_then(|l| l.split_whitespace().find(|w| w.starts_with('V')))
                    .map(str::to_string)
            });
            if let Some(v) = &v {
                let digits = v.trim_start_matches(['V', 'v']);
                let (major, rest) = match digits.split_once("Update") {
                    Some((a, b)) => (a, Some(b)),
                    None => (digits, None),
                };
                os.major = first_version(major).and_then(|m| split_version(&m).0);
                os.minor = rest.and_then(|m| m.parse().ok());
            }
            v
        }
        OsFamily::Sles | OsFamily::OpenSuse if line.is_some() && version_id.is_none() => {
            // SLES <= 12 SuSE-release: "VERSION = 11", "PATCHLEVEL = 4".
            let text = r.text("/etc/SuSE-release").unwrap_or_default();
            let pairs: Vec<(String, String)> = text
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            let ver = last_value(&pairs, "VERSION").map(str::to_string);
            let pl = last_value(&pairs, "PATCHLEVEL").and_then(|p| p.parse::<u32>().ok());
            if let Some(pl) = pl {
                r.evidence.push(Evidence::file(
                    "/etc/SuSE-release",
                    format!("PATCHLEVEL = {pl}"),
                ));
                os.service_pack = Some(pl).filter(|p| *p > 0);
            }
            ver
        }
        _ => from_line.clone().or(version_id.clone()),
    };
    if full.as_deref() == Some("") {
        full = None;
    }
    if os.major.is_none() {
        if let Some(v) = &full {
            let (major, minor) = split_version(v);
            os.major = major;
            os.minor = minor;
        }
    }
    match os.family {
        OsFamily::Sles if os.service_pack.is_none() => {
            // SLES 15: VERSION_ID="15.5" is SP5; VERSION="15-SP5".
            os.service_pack = os
                .version
                .as_deref()
                .and_then(service_pack)
                .or(os.minor.filter(|m| *m > 0));
        }
        OsFamily::EulerOs | OsFamily::OpenEuler | OsFamily::Kylin => {
            let mut sp = line.and_then(service_pack);
            if sp.is_none() {
                sp = os.version.as_deref().and_then(service_pack);
            }
            if sp.is_none() && os.family == OsFamily::Kylin {
                if let Some(info) = r.first_line("/etc/.productinfo") {
                    sp = service_pack(&info);
                    if sp.is_none() {
                        if let Some(text) = r.text("/etc/.productinfo") {
                            sp = text.lines().find_map(service_pack);
                        }
                    }
                }
            }
            os.service_pack = sp;
        }
        _ => {}
    }
    os.full_version = full;
}
