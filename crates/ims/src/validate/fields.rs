//! Enumerated fields and how `type`, `os_version` and `os_type` combine.

use crate::finding::{Code, Finding};
use crate::model::{Architecture, Firmware, ImageRequest, ImageType, LicenseType, OsType};
use crate::os;
use crate::shown::quoted;

/// Largest `min_disk` in GiB (1 TiB).
pub const MIN_DISK_MAX: u64 = 1024;

/// Finding for a value that is not one of an enum's spellings, naming the
/// exact spelling when only case differs.
fn bad_enum(
    code: Code,
    path: &str,
    value: &str,
    exact: Option<&str>,
    hint: Option<&str>,
) -> Finding {
    let f = Finding::new(
        code,
        path,
        format!("{} is not an accepted value", quoted(value)),
    );
    match (exact, hint) {
        (Some(e), _) => f.with_fix(format!("Write it exactly as \"{e}\".")),
        (None, Some(h)) => f.with_fix(format!("Use \"{h}\".")),
        (None, None) => f,
    }
}

/// `type`, `os_version`, `os_type` and their combinations.
pub fn check_type_and_os(req: &ImageRequest, out: &mut Vec<Finding>) {
    let ty = match req.image_type.as_deref() {
        None => Some(ImageType::Ecs),
        Some(t) => match t.parse::<ImageType>() {
            Ok(t) => Some(t),
            Err(_) => {
                let exact = ImageType::from_str_ignore_case(t).map(|t| t.as_str());
                let hint = match t.to_ascii_lowercase().as_str() {
                    "data" | "data_image" | "data-image" | "datadisk" => Some("DataImage"),
                    _ => None,
                };
                out.push(bad_enum(Code::ReqType, "$.type", t, exact, hint));
                None
            }
        },
    };
    if let Some(v) = req.os_type.as_deref() {
        if v.parse::<OsType>().is_err() {
            let exact = OsType::from_str_ignore_case(v).map(|t| t.as_str());
            out.push(bad_enum(Code::ReqOsType, "$.os_type", v, exact, None));
        }
    }
    let os_version = req.os_version.as_deref();
    match ty {
        Some(t) if t.is_system_disk() => {
            match os_version {
                None => out.push(Finding::new(
                    Code::ReqOsVersionMissing,
                    "$.os_version",
                    format!("an image of type {t} needs `os_version`"),
                )),
                Some(v) if v.trim().is_empty() => out.push(Finding::new(
                    Code::ReqOsVersionMissing,
                    "$.os_version",
                    "`os_version` is empty",
                )),
                Some(v) => out.extend(os::check_os_version(v, "$.os_version")),
            }
            if req.os_type.is_some() {
                let f = Finding::new(
                    Code::ReqOsTypeOnSystem,
                    "$.os_type",
                    format!("an image of type {t} takes `os_version`, not `os_type`"),
                );
                out.push(if os_version.is_none() {
                    f.with_fix("For a data disk set `\"type\": \"DataImage\"`; for a system disk replace `os_type` with `os_version`.")
                } else {
                    f.with_fix("Remove `os_type`.")
                });
            }
        }
        Some(_) => {
            if os_version.is_some() {
                out.push(Finding::new(
                    Code::ReqOsVersionOnData,
                    "$.os_version",
                    "a DataImage takes `os_type`, not `os_version`",
                ));
            }
            if req.os_type.is_none() {
                out.push(Finding::new(
                    Code::ReqOsTypeMissing,
                    "$.os_type",
                    "a DataImage needs `os_type`",
                ));
            }
        }
        None => {}
    }
}

/// `architecture`, `hw_firmware_type`, `license_type`.
pub fn check_platform(req: &ImageRequest, out: &mut Vec<Finding>) {
    let arch = match req.architecture.as_deref() {
        None => Some(Architecture::X86),
        Some(a) => match a.parse::<Architecture>() {
            Ok(a) => Some(a),
            Err(_) => {
                let exact = Architecture::from_str_ignore_case(a).map(|a| a.as_str());
                let hint = match a.to_ascii_lowercase().as_str() {
                    "aarch64" | "arm64" | "armv8" => Some("arm"),
                    "x86_64" | "amd64" | "x64" | "x86-64" | "i386" | "i686" => Some("x86"),
                    _ => None,
                };
                out.push(bad_enum(
                    Code::ReqArchitecture,
                    "$.architecture",
                    a,
                    exact,
                    hint,
                ));
                None
            }
        },
    };
    let firmware = match req.hw_firmware_type.as_deref() {
        None => None,
        Some(f) => match f.parse::<Firmware>() {
            Ok(f) => Some(f),
            Err(_) => {
                let exact = Firmware::from_str_ignore_case(f).map(|f| f.as_str());
                let hint = match f.to_ascii_lowercase().as_str() {
                    "efi" | "uefi-boot" => Some("uefi"),
                    "legacy" | "mbr" => Some("bios"),
                    _ => None,
                };
                out.push(bad_enum(
                    Code::ReqFirmware,
                    "$.hw_firmware_type",
                    f,
                    exact,
                    hint,
                ));
                None
            }
        },
    };
    if arch == Some(Architecture::Arm) && firmware == Some(Firmware::Bios) {
        out.push(Finding::new(
            Code::ReqArmBios,
            "$.hw_firmware_type",
            "`architecture` is arm but `hw_firmware_type` is bios",
        ));
    }
    if let Some(l) = req.license_type.as_deref() {
        if l.parse::<LicenseType>().is_err() {
            let exact = LicenseType::from_str_ignore_case(l).map(|l| l.as_str());
            out.push(bad_enum(
                Code::ReqLicenseType,
                "$.license_type",
                l,
                exact,
                None,
            ));
        }
        if let Some(false) = is_windows(req) {
            out.push(Finding::new(
                Code::ReqLicenseNotWindows,
                "$.license_type",
                "`license_type` is set but the image is not Windows",
            ));
        }
    }
}

/// Whether the request describes a Windows image; `None` when it cannot tell.
fn is_windows(req: &ImageRequest) -> Option<bool> {
    if let Some(v) = req.os_version.as_deref().filter(|v| !v.trim().is_empty()) {
        return Some(os::is_windows_version(v));
    }
    req.os_type
        .as_deref()
        .and_then(OsType::from_str_ignore_case)
        .map(|t| t == OsType::Windows)
}

/// `min_disk` range (GiB).
pub fn check_min_disk(min_disk: u64, out: &mut Vec<Finding>) {
    if !(1..=MIN_DISK_MAX).contains(&min_disk) {
        out.push(Finding::new(
            Code::ReqMinDiskRange,
            "$.min_disk",
            format!("min_disk is {min_disk}; it must be 1 to {MIN_DISK_MAX}"),
        ));
    }
}

/// True for "0" or a UUID in 8-4-4-4-12 hexadecimal form.
pub fn is_enterprise_project_id(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let groups: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    groups.len() == lens.len()
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `enterprise_project_id`.
pub fn check_enterprise_project(id: &str, out: &mut Vec<Finding>) {
    if !is_enterprise_project_id(id) {
        out.push(Finding::new(
            Code::ReqEnterpriseProject,
            "$.enterprise_project_id",
            format!("{} is neither \"0\" nor a UUID", quoted(id)),
        ));
    }
}
