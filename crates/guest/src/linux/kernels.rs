//! LX-KERNEL: installed kernels with their modules, initramfs and config.
//!
//! Versions are the union of kernel images in `/boot` (`vmlinuz-<ver>`,
//! `vmlinux-<ver>`, `Image-<ver>`, `zImage-<ver>`) and module directories
//! (`/lib/modules/<ver>`, `/usr/lib/modules/<ver>`, the same directory once
//! when `/lib` links to `/usr/lib`). For each version the matching initramfs
//! files (`initrd.img-<ver>`, `initramfs-<ver>.img`, `initrd-<ver>`,
//! `initrd-<ver>.img`; kdump images excluded), `config-<ver>`,
//! `System.map-<ver>`, `modules.builtin` and `modules.dep` are located. The
//! package databases are not read.
use crate::evidence::{Evidence, Fact};
use crate::files::{FileKind, GuestFiles};

/// Most kernel versions examined (the newest are kept).
pub const MAX_KERNELS: usize = 256;

/// Kernel image prefixes in `/boot`.
const IMAGE_PREFIXES: &[&str] = &["vmlinuz-", "vmlinux-", "Image-", "zImage-", "kernel-"];

/// One installed kernel version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelInfo {
    /// Version string (`5.14.0-362.el9.x86_64`).
    pub version: String,
    /// Kernel image (`/boot/vmlinuz-<ver>`, `/boot/Image-<ver>`).
    pub image: Option<String>,
    /// Module directory (`/lib/modules/<ver>` or `/usr/lib/modules/<ver>`).
    pub modules_dir: Option<String>,
    /// Initramfs files for this version.
    pub initrds: Vec<String>,
    /// `/boot/config-<ver>` (or the copy in the module directory).
    pub config: Option<String>,
    /// `/boot/System.map-<ver>`.
    pub system_map: Option<String>,
    /// `<modules_dir>/modules.builtin`.
    pub modules_builtin: Option<String>,
    /// `<modules_dir>/modules.dep`.
    pub modules_dep: Option<String>,
    /// Why this kernel runs only as a Xen PV guest, when it does: the
    /// config line (`CONFIG_X86_64_XEN=y`, the non-pvops xenlinux build) or
    /// the flavour in its version (`-xen`, RHEL 5 `el5xen`).
    pub xen_pv: Option<String>,
}

/// Compare kernel versions by their numeric runs (`5.14.0-70` < `5.14.0-362`).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<Result<u64, String>> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut digits = false;
        for c in s.chars() {
            if c.is_ascii_digit() != digits && !cur.is_empty() {
                out.push(if digits {
                    cur.parse().map_err(|_| cur.clone())
                } else {
                    Err(cur.clone())
                });
                cur.clear();
            }
            digits = c.is_ascii_digit();
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(if digits {
                cur.parse().map_err(|_| cur.clone())
            } else {
                Err(cur)
            });
        }
        out
    }
    parts(a).cmp(&parts(b))
}

fn list(
    guest: &dyn GuestFiles,
    path: &str,
    evidence: &mut Vec<Evidence>,
) -> Vec<(String, FileKind)> {
    match guest.read_dir(path) {
        Ok(Some(entries)) => entries,
        Ok(None) => {
            evidence.push(Evidence::absent(path));
            Vec::new()
        }
        Err(e) => {
            evidence.push(Evidence::file(path, format!("unreadable: {e}")));
            Vec::new()
        }
    }
}

/// Why a kernel is Xen-PV-only, from its version flavour or its config.
fn xen_pv_reason(guest: &dyn GuestFiles, version: &str, config: Option<&str>) -> Option<String> {
    if version.ends_with("-xen") || version.ends_with("xen") && version.contains(".el5") {
        return Some(format!("kernel flavour {version}"));
    }
    let text = crate::files::read_text(guest, config?, 16 << 20).ok()??;
    text.lines()
        .map(str::trim)
        .find(|l| *l == "CONFIG_X86_XEN=y" || *l == "CONFIG_X86_64_XEN=y")
        .map(|l| format!("{l} in {}", config.unwrap_or_default()))
}

/// List installed kernels, oldest first.
pub fn inspect(guest: &dyn GuestFiles) -> Fact<Vec<KernelInfo>> {
    let mut evidence = Vec::new();
    let boot = list(guest, "/boot", &mut evidence);
    let boot_names: Vec<&str> = boot.iter().map(|(n, _)| n.as_str()).collect();
    let mut versions: Vec<String> = Vec::new();
    for name in &boot_names {
        for prefix in IMAGE_PREFIXES {
            if let Some(ver) = name.strip_prefix(prefix) {
                if !ver.is_empty() && !ver.contains("rescue") && !ver.ends_with(".hmac") {
                    versions.push(ver.to_string());
                }
            }
        }
    }
    // Module directories, by canonical path so a /lib -> usr/lib link
    // counts once.
    let mut module_dirs: Vec<(String, String)> = Vec::new();
    for base in ["/lib/modules", "/usr/lib/modules"] {
        let canonical = guest.canonical(base).ok().flatten();
        if base == "/usr/lib/modules"
            && canonical.is_some()
            && guest.canonical("/lib/modules").ok().flatten() == canonical
        {
            continue;
        }
        for (name, kind) in list(guest, base, &mut evidence) {
            if kind == FileKind::Dir || kind == FileKind::Symlink {
                let dir = format!("{base}/{name}");
                if !module_dirs.iter().any(|(v, _)| *v == name) {
                    module_dirs.push((name.clone(), dir));
                }
                versions.push(name);
            }
        }
    }
    versions.sort_by(|a, b| compare_versions(a, b));
    versions.dedup();
    if versions.len() > MAX_KERNELS {
        evidence.push(Evidence::file(
            "/boot",
            format!(
                "{} kernel versions; only the newest {MAX_KERNELS} examined",
                versions.len()
            ),
        ));
        versions.drain(..versions.len() - MAX_KERNELS);
    }

    let mut kernels = Vec::new();
    for ver in versions {
        let in_boot = |name: String| -> Option<String> {
            boot_names
                .contains(&name.as_str())
                .then(|| format!("/boot/{name}"))
        };
        let modules_dir = module_dirs
            .iter()
            .find(|(v, _)| *v == ver)
            .map(|(_, d)| d.clone());
        let mut image = IMAGE_PREFIXES
            .iter()
            .find_map(|p| in_boot(format!("{p}{ver}")));
        if image.is_none() {
            if let Some(dir) = &modules_dir {
                let p = format!("{dir}/vmlinuz");
                image = guest.exists(&p).then_some(p);
            }
        }
        let initrds: Vec<String> = [
            format!("initramfs-{ver}.img"),
            format!("initrd.img-{ver}"),
            format!("initrd-{ver}"),
            format!("initrd-{ver}.img"),
        ]
        .into_iter()
        .filter_map(in_boot)
        .collect();
        let in_mod = |name: &str| -> Option<String> {
            let p = format!("{}/{name}", modules_dir.as_deref()?);
            guest.exists(&p).then_some(p)
        };
        let config = in_boot(format!("config-{ver}")).or_else(|| in_mod("config"));
        let xen_pv = xen_pv_reason(guest, &ver, config.as_deref());
        let k = KernelInfo {
            xen_pv,
            system_map: in_boot(format!("System.map-{ver}")),
            modules_builtin: in_mod("modules.builtin"),
            modules_dep: in_mod("modules.dep"),
            image,
            config,
            initrds,
            modules_dir,
            version: ver,
        };
        evidence.push(Evidence::file(
            k.image
                .clone()
                .unwrap_or_else(|| format!("/boot/vmlinuz-{}", k.version)),
            format!(
                "kernel {}: image {}, modules {}, initrd {}{}",
                k.version,
                if k.image.is_some() {
                    "present"
                } else {
                    "absent"
                },
                k.modules_dir.as_deref().unwrap_or("absent"),
                if k.initrds.is_empty() {
                    "absent".to_string()
                } else {
                    k.initrds.join(", ")
                },
                k.xen_pv
                    .as_deref()
                    .map(|x| format!(", Xen PV only ({x})"))
                    .unwrap_or_default()
            ),
        ));
        kernels.push(k);
    }
    Fact::found(kernels, evidence)
}
