//! WIN-OS-ID, WIN-OS-VERSION, WIN-ARCH and IMG-OS-SUPPORTED for Windows.
//!
//! The `os_version` string follows the lists' pattern `{ProductName}
//! {bits}bit` — `Windows Server 2019 Standard 64bit` — with the year taken
//! from the build number (a product name can be stale: Windows 11 still
//! says "Windows 10"), the edition from `EditionID` (evaluation editions
//! map to the retail name), and the lists' exceptions: client Windows 10
//! is just `Windows 10 64bit`; Essentials is spelled both `2012 R2
//! Essentials` and `2012 Essentials R2`, Web both `2008 R2 WEB` and `2008
//! WEB R2`. Each spelling is looked up in the built-in catalogue
//! ([`crate::os::lookup_os`]) for the target cloud; offline the choice is
//! never validated against the region's live list.

use imsprep_guest::windows::identity::{WinArch, WindowsArch, WindowsIdentity};
use imsprep_guest::WindowsFacts;

use super::{fail, info, read, warn};
use crate::finding::{Code, Finding};
use crate::os::{lookup_os, Cloud, OsEntry};

/// The generic string for a Windows the lists do not name.
pub const OTHER_WINDOWS_64: &str = "Other Windows(64 bit)";

/// The `os_version` chosen for a Windows guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsOsVersion {
    /// The spellings the naming rules give, most likely first.
    pub candidates: Vec<String>,
    /// A spelling the target cloud lists (either cloud when none is given).
    pub exact: Option<String>,
    /// A spelling only the other cloud lists.
    pub other_cloud: Option<(String, Cloud)>,
    /// What the product, edition and build were read as.
    pub reason: String,
}

impl WindowsOsVersion {
    /// The string to use: the listed one, else the generic one.
    pub fn best(&self) -> &str {
        self.exact.as_deref().unwrap_or(OTHER_WINDOWS_64)
    }
}

/// Server release by build number.
fn server_year(build: u32) -> Option<&'static str> {
    Some(match build {
        6001..=6003 => "2008",
        7600 | 7601 => "2008 R2",
        9200 => "2012",
        9600 => "2012 R2",
        14393 => "2016",
        17763 => "2019",
        20348 => "2022",
        26100 => "2025",
        _ => return None,
    })
}

/// The year words of a product name (`Windows Server 2012 R2 Standard`).
fn year_from_name(name: &str) -> Option<String> {
    let mut words = name
        .split_whitespace()
        .skip_while(|w| *w != "Server")
        .skip(1);
    let year = words
        .next()
        .filter(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))?;
    Some(match words.next() {
        Some("R2") => format!("{year} R2"),
        _ => year.to_string(),
    })
}

/// The edition word of the lists, from `EditionID` (else the product name).
fn edition(id: &WindowsIdentity) -> Option<&'static str> {
    let text = id
        .edition_id
        .as_deref()
        .or(id.product_name.as_deref())?
        .to_ascii_lowercase();
    const WORDS: &[(&str, &str)] = &[
        ("datacenter", "Datacenter"),
        ("enterprise", "Enterprise"),
        ("essentials", "Essentials"),
        ("solution", "Essentials"),
        ("web", "WEB"),
        ("standard", "Standard"),
        ("professional", "Professional"),
        ("ultimate", "Ultimate"),
    ];
    WORDS
        .iter()
        .find(|(w, _)| text.contains(w))
        .map(|(_, e)| *e)
}

fn listed_on(e: &OsEntry, cloud: Option<Cloud>) -> bool {
    match cloud {
        Some(Cloud::HuaweiCloud) => e.huaweicloud,
        Some(Cloud::Otc) => e.otc,
        None => e.huaweicloud || e.otc,
    }
}

/// Chooses the `os_version` for a Windows identity and architecture.
pub fn windows_os_version(
    id: &WindowsIdentity,
    arch: Option<WinArch>,
    cloud: Option<Cloud>,
) -> WindowsOsVersion {
    let bits = if arch == Some(WinArch::X86) { 32 } else { 64 };
    let ed = edition(id);
    let mut candidates = Vec::new();
    let reason = format!(
        "ProductName {:?}, EditionID {:?}, InstallationType {:?}, build {:?}",
        id.product_name.as_deref().unwrap_or("?"),
        id.edition_id.as_deref().unwrap_or("?"),
        id.installation_type.as_deref().unwrap_or("?"),
        id.build
    );
    if id.is_server() {
        let year = id
            .build
            .and_then(server_year)
            .map(str::to_string)
            .or_else(|| id.product_name.as_deref().and_then(year_from_name));
        if let (Some(year), Some(ed)) = (year, ed) {
            candidates.push(format!("Windows Server {year} {ed} {bits}bit"));
            if let Some(y) = year.strip_suffix(" R2") {
                candidates.push(format!("Windows Server {y} {ed} R2 {bits}bit"));
            }
        }
    } else {
        match id.build {
            Some(7600 | 7601) => {
                if let Some(ed) = ed {
                    candidates.push(format!("Windows 7 {ed} {bits}bit"));
                }
            }
            Some(b) if (10240..22000).contains(&b) => {
                candidates.push(format!("Windows 10 {bits}bit"));
            }
            Some(b) if b >= 22000 => candidates.push(format!("Windows 11 {bits}bit")),
            _ => {}
        }
    }
    let exact = candidates
        .iter()
        .find(|c| lookup_os(c).is_some_and(|e| listed_on(e, cloud)))
        .cloned();
    let other_cloud = if exact.is_none() {
        candidates.iter().find_map(|c| {
            let e = lookup_os(c)?;
            let other = match cloud {
                Some(Cloud::HuaweiCloud) if e.otc => Cloud::Otc,
                Some(Cloud::Otc) if e.huaweicloud => Cloud::HuaweiCloud,
                _ => return None,
            };
            Some((c.clone(), other))
        })
    } else {
        None
    };
    WindowsOsVersion {
        candidates,
        exact,
        other_cloud,
        reason,
    }
}

/// IMG-OS-SUPPORTED for a Windows guest.
pub(super) fn os_supported(cloud: Option<Cloud>, out: &mut Vec<Finding>) {
    let text = "Huawei Cloud states that it no longer provides Windows images and that quick import (`POST /v2/cloudimages/quickimport/action`) is no longer used for Windows images";
    match cloud {
        Some(Cloud::HuaweiCloud) => out.push(fail(
            Code::ImgOsSupported,
            "/Windows",
            format!("the guest is Windows and the target is Huawei Cloud: {text}"),
            &[],
        )
        .with_fix("Import the image on Huawei Cloud through the normal image import, or use a Huawei-stack cloud that documents Windows import (e.g. Open Telekom Cloud).")),
        None => out.push(warn(
            Code::ImgOsSupported,
            "/Windows",
            format!("the guest is Windows; if the target is Huawei Cloud: {text}"),
            &[],
        )),
        Some(Cloud::Otc) => {}
    }
}

/// WIN-OS-ID, WIN-OS-VERSION and WIN-ARCH.
pub(super) fn check(facts: &WindowsFacts, cloud: Option<Cloud>, out: &mut Vec<Finding>) {
    let path = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
    let fact = &facts.identity;
    let id = read(fact, Code::WinOsId, path, "the Windows version", out);
    if id.is_none() && fact.is_known() {
        out.push(fail(
            Code::WinOsId,
            path,
            "neither ProductName nor CurrentBuild is set",
            &fact.evidence,
        ));
    }
    let arch = arch(facts, out);
    let Some(id) = id else {
        out.push(fail(
            Code::WinOsVersion,
            path,
            "no os_version can be chosen without the Windows product and build",
            &fact.evidence,
        ));
        return;
    };
    let choice = windows_os_version(id, arch, cloud);
    let on = cloud.map_or("either cloud's list".to_string(), |c| {
        format!("{}'s list", c.name())
    });
    match (&choice.exact, &choice.other_cloud) {
        (Some(s), _) => out.push(
            info(
                Code::WinOsVersion,
                path,
                format!("os_version \"{s}\" ({}; found in {on}, not validated against the region's live list)", choice.reason),
                &fact.evidence,
            )
            .with_fix(format!("Register the image with `os_version` \"{s}\".")),
        ),
        (None, Some((s, other))) => out.push(
            warn(
                Code::WinOsVersion,
                path,
                format!(
                    "\"{s}\" ({}) is listed by {} only, not in {on}; the generic \"{OTHER_WINDOWS_64}\" applies no OS-specific handling",
                    choice.reason,
                    other.name()
                ),
                &fact.evidence,
            ),
        ),
        (None, None) => out.push(warn(
            Code::WinOsVersion,
            path,
            format!(
                "no listed os_version fits ({}; tried {}); the generic \"{OTHER_WINDOWS_64}\" applies no OS-specific handling",
                choice.reason,
                if choice.candidates.is_empty() {
                    "nothing".to_string()
                } else {
                    choice.candidates.join(", ")
                }
            ),
            &fact.evidence,
        )),
    }
}

fn arch(facts: &WindowsFacts, out: &mut Vec<Finding>) -> Option<WinArch> {
    let fact = &facts.arch;
    let path = "/Windows/System32/ntoskrnl.exe";
    let a: &WindowsArch = read(fact, Code::WinArch, path, "the Windows architecture", out)?;
    let ev = &fact.evidence;
    match a.arch {
        WinArch::Amd64 => {}
        WinArch::X86 => out.push(warn(
            Code::WinArch,
            path,
            "32-bit Windows (x86): the lists name few 32-bit versions and such instances use at most 4 GiB of memory",
            ev,
        )),
        WinArch::Arm64 => out.push(fail(
            Code::WinArch,
            path,
            "ARM64 Windows: no Windows-on-arm import is documented",
            ev,
        )),
        WinArch::Other => out.push(fail(
            Code::WinArch,
            path,
            "the Windows architecture is neither x64, x86 nor ARM64",
            ev,
        )),
    }
    Some(a.arch)
}

/// A given `os_version` or architecture that contradicts a Windows guest:
/// another system, another Windows version (the year or number), another
/// architecture; both values are shown. An edition that differs only in
/// spelling or edition is a warning.
pub fn check_declared_windows(
    facts: &WindowsFacts,
    declared_os_version: Option<&str>,
    declared_arch: Option<crate::model::Architecture>,
    cloud: Option<Cloud>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let arch = facts.arch.get().map(|a| a.arch);
    if let (Some(declared), Some(id)) = (declared_os_version, facts.identity.get()) {
        let choice = windows_os_version(id, arch, cloud);
        let guest = choice
            .exact
            .clone()
            .or_else(|| choice.candidates.first().cloned())
            .unwrap_or_else(|| OTHER_WINDOWS_64.to_string());
        let version = |s: &str| -> Vec<String> {
            s.split_whitespace()
                .filter(|w| w.chars().all(|c| c.is_ascii_digit()) || *w == "R2")
                .map(str::to_string)
                .collect()
        };
        if choice
            .candidates
            .iter()
            .any(|c| c.eq_ignore_ascii_case(declared))
        {
            // One of the guest's own spellings.
        } else if !declared.to_ascii_lowercase().contains("windows") {
            out.push(fail(
                Code::WinOsVersion,
                "$.os_version",
                format!(
                    "the os_version given, {declared:?}, is not Windows; the guest is {guest:?}"
                ),
                &facts.identity.evidence,
            ));
        } else if version(declared) != version(&guest) {
            out.push(fail(
                Code::WinOsVersion,
                "$.os_version",
                format!(
                    "the os_version given, {declared:?}, names another Windows version than the guest, {guest:?}"
                ),
                &facts.identity.evidence,
            ));
        } else {
            out.push(warn(
                Code::WinOsVersion,
                "$.os_version",
                format!(
                    "the os_version given, {declared:?}, differs from the guest's, {guest:?} (edition or spelling)"
                ),
                &facts.identity.evidence,
            ));
        }
    }
    if let (Some(declared), Some(a)) = (declared_arch, arch) {
        let guest = match a {
            WinArch::Amd64 | WinArch::X86 => Some(crate::model::Architecture::X86),
            WinArch::Arm64 => Some(crate::model::Architecture::Arm),
            WinArch::Other => None,
        };
        if guest.is_some_and(|g| g != declared) {
            out.push(fail(
                Code::WinArch,
                "$.architecture",
                format!("the architecture given, {declared}, is not the guest's ({a:?})"),
                &facts.arch.evidence,
            ));
        }
    }
    out
}
