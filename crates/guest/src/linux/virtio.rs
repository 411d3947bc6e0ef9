//! LX-VIRTIO-KERNEL / LX-VIRTIO-INITRD / LX-INITRD-CMDLINE: virtio drivers
//! of the default kernel and of its initramfs.
//!
//! The default kernel is the one the default boot entry loads (its
//! `vmlinuz-<ver>` name gives the version); without a default entry the
//! newest installed kernel is examined and the evidence says so. For each
//! module in [`VIRTIO_MODULES`]: built in when `modules.builtin` lists it or
//! its Kconfig symbol is `=y` in the kernel's config; a module when
//! `modules.dep` lists it (or, without `modules.dep`, when the file exists
//! at its usual place under `kernel/drivers`). The initramfs of the default
//! entry (else the kernel's own) is listed with
//! [`super::initramfs::list`] and searched for the module files under
//! `(usr/)lib/modules/<ver>/`; its `etc/cmdline.d/*.conf`,
//! `conf/conf.d/*`, `conf/param.conf` and persistent-net udev rules are
//! read for host-specific values (and `etc/modprobe.d/*`, `etc/fstab` and
//! `etc/crypttab` kept in [`InitrdListing::files`] for the checks that
//! read them). The initramfs is streamed through
//! [`GuestFiles::read_at`], never read whole. Module names treat `-` and `_` alike.
use crate::evidence::{Evidence, Fact};
use crate::files::{read_text, GuestFiles};

use super::bootloader::cmdline_args;
use super::initramfs::{list_from, Limits};

use super::bootloader::BootConfig;
use super::initramfs::InitrdListing;
use super::kernels::KernelInfo;

/// Modules whose presence is looked for.
pub const VIRTIO_MODULES: &[&str] = &[
    "virtio",
    "virtio_ring",
    "virtio_pci",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_blk",
    "virtio_scsi",
    "virtio_net",
    "virtio_console",
];

/// How one module is provided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleState {
    /// Module name (underscores).
    pub name: String,
    /// Built into the kernel (modules.builtin or `CONFIG_...=y`).
    pub builtin: bool,
    /// Module file under the kernel's module directory.
    pub module_file: Option<String>,
    /// Module file inside the default initramfs (`None` when the
    /// initramfs was not read).
    pub in_initrd: Option<String>,
    /// Listed in the initramfs's own modules.builtin.
    pub builtin_in_initrd: bool,
}

/// A host-specific value found inside the initramfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitrdSetting {
    /// Member path in the initramfs.
    pub file: String,
    /// Argument or line (`root=/dev/sda2`, a persistent-net rule line).
    pub value: String,
}

/// Virtio facts for the default kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VirtioFacts {
    /// Kernel version examined.
    pub kernel_version: String,
    /// One state per name in [`VIRTIO_MODULES`].
    pub modules: Vec<ModuleState>,
    /// Guest path of the initramfs read.
    pub initrd_path: Option<String>,
    /// Listing of that initramfs (entries, small files, incompleteness).
    pub initrd: Option<InitrdListing>,
    /// Why the initramfs could not be read, when it could not.
    pub initrd_unknown: Option<String>,
    /// Kernel-argument values in the initramfs (`etc/cmdline.d/*.conf`,
    /// `conf/conf.d/resume`, `conf/param.conf`).
    pub initrd_cmdline: Vec<InitrdSetting>,
    /// Persistent-net udev rules inside the initramfs.
    pub initrd_persistent_net: Vec<InitrdSetting>,
    /// Architecture of the default kernel, from the ELF header of one of
    /// its module files (decompressed when `.ko.xz`/`.ko.zst`/`.ko.gz`), to
    /// cross-check the userland's (LX-ARCH).
    pub kernel_arch: Option<super::arch::ArchInfo>,
}

impl VirtioFacts {
    /// The state of one module by name.
    pub fn module(&self, name: &str) -> Option<&ModuleState> {
        self.modules.iter().find(|m| m.name == name)
    }
}

/// Largest modules.dep / modules.builtin / config read.
const TABLE_LIMIT: u64 = 16 << 20;

/// Kconfig symbol and usual directory under `kernel/drivers` per module.
fn module_info(name: &str) -> (&'static str, &'static str) {
    match name {
        "virtio" | "virtio_ring" => ("CONFIG_VIRTIO", "virtio"),
        "virtio_pci" => ("CONFIG_VIRTIO_PCI", "virtio"),
        "virtio_pci_modern_dev" => ("CONFIG_VIRTIO_PCI_LIB", "virtio"),
        "virtio_pci_legacy_dev" => ("CONFIG_VIRTIO_PCI_LIB_LEGACY", "virtio"),
        "virtio_blk" => ("CONFIG_VIRTIO_BLK", "block"),
        "virtio_scsi" => ("CONFIG_SCSI_VIRTIO", "scsi"),
        "virtio_net" => ("CONFIG_VIRTIO_NET", "net"),
        "virtio_console" => ("CONFIG_VIRTIO_CONSOLE", "char"),
        _ => ("", ""),
    }
}

/// Module name of a path (`.../virtio-blk.ko.xz` → `virtio_blk`).
pub fn module_name(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    let stem = [".ko.xz", ".ko.zst", ".ko.gz", ".ko"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    Some(stem.replace('-', "_"))
}

/// The kernel version of a kernel image path (`/boot/vmlinuz-5.15.0-91-generic`).
fn version_of_image(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    ["vmlinuz-", "vmlinux-", "Image-", "zImage-", "kernel-"]
        .iter()
        .find_map(|p| file.strip_prefix(p))
        .map(str::to_string)
        .or_else(|| {
            // /usr/lib/modules/<ver>/vmlinuz, systemd-boot <id>/<ver>/linux.
            let mut parts = path.rsplit('/');
            let file = parts.next()?;
            let parent = parts.next()?;
            (matches!(file, "vmlinuz" | "linux" | "Image") && parent.contains('.'))
                .then(|| parent.to_string())
        })
}

fn read_small(guest: &dyn GuestFiles, path: &str, evidence: &mut Vec<Evidence>) -> Option<String> {
    match read_text(guest, path, TABLE_LIMIT) {
        Ok(t) => t,
        Err(e) => {
            evidence.push(Evidence::file(path, format!("unreadable: {e}")));
            None
        }
    }
}

/// Largest compressed module read for its ELF header.
const MODULE_LIMIT: u64 = 32 << 20;

/// The first 64 bytes of a (possibly compressed) kernel module.
fn module_elf_head(guest: &dyn GuestFiles, path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if path.ends_with(".ko") {
        return guest
            .read_prefix(path, 64)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "absent".to_string());
    }
    let data = guest
        .read_file(path, MODULE_LIMIT)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "absent".to_string())?;
    let mut head = Vec::with_capacity(64);
    let result = if path.ends_with(".xz") {
        // lzma-rs writes into a sink; stop it once the header is in.
        struct Head<'a>(&'a mut Vec<u8>);
        impl std::io::Write for Head<'_> {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let room = 64usize.saturating_sub(self.0.len());
                self.0
                    .extend_from_slice(buf.get(..room.min(buf.len())).unwrap_or_default());
                if self.0.len() >= 64 {
                    return Err(std::io::Error::other("header read"));
                }
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = lzma_rs::xz_decompress(&mut data.as_slice(), &mut Head(&mut head));
        Ok(())
    } else if path.ends_with(".zst") {
        zstd::stream::read::Decoder::new(data.as_slice())
            .and_then(|d| d.take(64).read_to_end(&mut head))
            .map(|_| ())
    } else if path.ends_with(".gz") {
        flate2::read::GzDecoder::new(data.as_slice())
            .take(64)
            .read_to_end(&mut head)
            .map(|_| ())
    } else {
        return Err("not a kernel module name".into());
    };
    result.map_err(|e| format!("module could not be decompressed: {e}"))?;
    Ok(head)
}

/// Examine the default kernel and its initramfs.
pub fn inspect(
    guest: &dyn GuestFiles,
    boot: &Fact<BootConfig>,
    kernels: &Fact<Vec<KernelInfo>>,
) -> Fact<VirtioFacts> {
    let mut evidence = Vec::new();
    let installed = kernels.value.as_deref().unwrap_or_default();
    let entry = boot.value.as_ref().and_then(|b| b.default_entry());
    // Through links: SUSE boots /boot/vmlinuz -> vmlinuz-<ver>.
    let wanted_version = entry
        .and_then(|e| match &e.kernel_path {
            Some(p) => guest.canonical(p).ok().flatten().or(Some(p.clone())),
            None => e.kernel.clone(),
        })
        .and_then(|p| version_of_image(&p));
    let kernel = match &wanted_version {
        Some(v) => installed.iter().find(|k| k.version == *v),
        None => {
            evidence.push(Evidence::file(
                "boot configuration",
                "no default boot entry; the newest installed kernel is examined",
            ));
            installed.last()
        }
    };
    let Some(kernel) = kernel else {
        let reason = match wanted_version {
            Some(v) => format!("the default entry's kernel {v} is not installed (no /boot image or module directory)"),
            None => "no installed kernel found".to_string(),
        };
        return Fact::unknown(reason, evidence);
    };
    let ver = kernel.version.clone();

    // Built-ins and modules of the installed kernel.
    let builtin_text = kernel
        .modules_builtin
        .as_deref()
        .and_then(|p| read_small(guest, p, &mut evidence))
        .unwrap_or_default();
    let builtin: Vec<String> = builtin_text.lines().filter_map(module_name).collect();
    let config_text = kernel
        .config
        .as_deref()
        .and_then(|p| read_small(guest, p, &mut evidence))
        .unwrap_or_default();
    let dep_text = kernel
        .modules_dep
        .as_deref()
        .and_then(|p| read_small(guest, p, &mut evidence))
        .unwrap_or_default();
    let dep_modules: Vec<(String, String)> = dep_text
        .lines()
        .filter_map(|l| l.split(':').next())
        .filter_map(|p| module_name(p).map(|n| (n, p.to_string())))
        .collect();

    let mut facts = VirtioFacts {
        kernel_version: ver.clone(),
        ..VirtioFacts::default()
    };
    for name in VIRTIO_MODULES {
        let (symbol, subdir) = module_info(name);
        let mut state = ModuleState {
            name: name.to_string(),
            ..ModuleState::default()
        };
        if builtin.iter().any(|b| b == name) {
            state.builtin = true;
            evidence.push(Evidence::file(
                kernel.modules_builtin.clone().unwrap_or_default(),
                format!("{name} built in"),
            ));
        }
        let config_line = format!("{symbol}=");
        if let Some(line) = config_text.lines().find(|l| l.starts_with(&config_line)) {
            if line.ends_with("=y") && !state.builtin {
                state.builtin = true;
            }
            evidence.push(Evidence::file(
                kernel.config.clone().unwrap_or_default(),
                line.to_string(),
            ));
        }
        if let Some(dir) = &kernel.modules_dir {
            if !dep_text.is_empty() {
                if let Some((_, rel)) = dep_modules.iter().find(|(n, _)| n == name) {
                    state.module_file = Some(format!("{dir}/{rel}"));
                }
            } else {
                for ext in [".ko", ".ko.xz", ".ko.zst", ".ko.gz"] {
                    let p = format!("{dir}/kernel/drivers/{subdir}/{name}{ext}");
                    if guest.exists(&p) {
                        state.module_file = Some(p);
                        break;
                    }
                }
            }
        }
        if let Some(f) = &state.module_file {
            evidence.push(Evidence::file(f.clone(), format!("{name} module present")));
        }
        facts.modules.push(state);
    }
    // The kernel's architecture from the first module file that reads.
    let mut samples: Vec<String> = facts
        .modules
        .iter()
        .filter_map(|m| m.module_file.clone())
        .collect();
    if let Some(dir) = &kernel.modules_dir {
        samples.extend(
            dep_modules
                .iter()
                .take(8)
                .map(|(_, rel)| format!("{dir}/{rel}")),
        );
    }
    for path in samples.into_iter().take(8) {
        if !guest.exists(&path) {
            continue;
        }
        match module_elf_head(guest, &path).and_then(|head| super::arch::parse_elf(&head)) {
            Ok((arch, bits, little_endian)) => {
                evidence.push(Evidence::file(
                    path.clone(),
                    format!("kernel module ELF class {bits}-bit, {arch:?}"),
                ));
                facts.kernel_arch = Some(super::arch::ArchInfo {
                    arch,
                    bits,
                    little_endian,
                    binary: path,
                });
                break;
            }
            Err(why) => evidence.push(Evidence::file(path, format!("ELF header not read: {why}"))),
        }
    }
    if kernel.modules_builtin.is_none() && kernel.config.is_none() && kernel.modules_dir.is_none() {
        evidence.push(Evidence::file(format!("/lib/modules/{ver}"), "absent"));
    }

    // The initramfs of the default entry, else the kernel's own.
    let initrds: Vec<String> = match entry {
        Some(e) if !e.initrd_paths.is_empty() => e.initrd_paths.clone(),
        _ => kernel.initrds.clone(),
    };
    let Some(initrd_path) = initrds.last().cloned() else {
        facts.initrd_unknown = Some(format!("no initramfs found for kernel {ver}"));
        evidence.push(Evidence::file(
            format!("/boot/initramfs-{ver}.img"),
            "absent",
        ));
        return Fact::found(facts, evidence);
    };
    facts.initrd_path = Some(initrd_path.clone());
    match guest.metadata(&initrd_path) {
        Ok(Some(m)) if m.kind == crate::files::FileKind::File => {}
        Ok(_) => {
            facts.initrd_unknown = Some(format!("{initrd_path} is absent or not a file"));
            return Fact::found(facts, evidence);
        }
        Err(e) => {
            facts.initrd_unknown = Some(e.to_string());
            evidence.push(Evidence::file(initrd_path, format!("unreadable: {e}")));
            return Fact::found(facts, evidence);
        }
    }
    let builtin_member = format!("lib/modules/{ver}/modules.builtin");
    let wanted = |n: &str| {
        n.starts_with("etc/cmdline.d/")
            || n.starts_with("conf/conf.d/")
            || n.starts_with("etc/modprobe.d/")
            || n == "etc/fstab"
            || n == "etc/crypttab"
            || n == "conf/param.conf"
            || (n.starts_with("etc/udev/rules.d/") && n.contains("persistent") && n.contains("net"))
            || n.trim_start_matches("usr/") == builtin_member
    };
    let read_at = |offset: u64, buf: &mut [u8]| {
        guest
            .read_at(&initrd_path, offset, buf)
            .map_err(|e| std::io::Error::other(e.to_string()))
    };
    let listing = list_from(&read_at, Limits::default(), &wanted);
    evidence.push(Evidence::file(
        initrd_path.clone(),
        format!(
            "{} entries in {} archive member(s) ({}){}",
            listing.entries.len(),
            listing.members.len(),
            listing
                .members
                .iter()
                .map(|m| format!("{:?}", m.compression))
                .collect::<Vec<_>>()
                .join(", "),
            listing
                .incomplete
                .as_deref()
                .map(|w| format!("; incomplete: {w}"))
                .unwrap_or_default()
        ),
    ));
    if let Some(why) = &listing.incomplete {
        facts.initrd_unknown = Some(format!("{initrd_path}: {why}"));
    }

    let prefix = format!("lib/modules/{ver}/");
    let initrd_builtin: Vec<String> = listing
        .files
        .iter()
        .filter(|(n, _)| n.trim_start_matches("usr/") == builtin_member)
        .flat_map(|(_, d)| {
            String::from_utf8_lossy(d)
                .lines()
                .filter_map(module_name)
                .collect::<Vec<_>>()
        })
        .collect();
    let other_versions: Vec<String> = listing
        .entries
        .iter()
        .filter_map(|e| {
            e.name
                .trim_start_matches("usr/")
                .strip_prefix("lib/modules/")
        })
        .filter_map(|rest| rest.split('/').next())
        .filter(|v| *v != ver && !v.is_empty())
        .map(str::to_string)
        .fold(Vec::new(), |mut acc, v| {
            if !acc.contains(&v) {
                acc.push(v);
            }
            acc
        });
    if !other_versions.is_empty() {
        evidence.push(Evidence::file(
            initrd_path.clone(),
            format!(
                "modules for other kernel versions: {}",
                other_versions.join(", ")
            ),
        ));
    }
    for state in &mut facts.modules {
        let found = listing.entries.iter().find(|e| {
            e.name.trim_start_matches("usr/").starts_with(&prefix)
                && module_name(&e.name).as_deref() == Some(state.name.as_str())
        });
        state.in_initrd = found.map(|e| e.name.clone());
        state.builtin_in_initrd = initrd_builtin.contains(&state.name);
        match &state.in_initrd {
            Some(name) => evidence.push(Evidence::archive(&initrd_path, name, "present")),
            None => evidence.push(Evidence::archive(
                &initrd_path,
                &format!("(usr/){prefix}**/{}.ko*", state.name),
                "absent",
            )),
        }
    }

    // Host-specific values baked into the initramfs.
    for (name, data) in &listing.files {
        let text = String::from_utf8_lossy(data);
        if name.starts_with("etc/cmdline.d/") {
            for (k, v) in cmdline_args(&text.replace('\n', " ")) {
                let value = match v {
                    Some(v) => format!("{k}={v}"),
                    None => k,
                };
                evidence.push(Evidence::archive(&initrd_path, name, value.clone()));
                facts.initrd_cmdline.push(InitrdSetting {
                    file: name.clone(),
                    value,
                });
            }
        } else if name.starts_with("conf/") {
            for (k, v) in crate::text::shell_assignments(&text) {
                let key = k.to_ascii_lowercase();
                if matches!(key.as_str(), "resume" | "root" | "rootfstype" | "rootflags")
                    && !v.is_empty()
                {
                    let value = format!("{key}={v}");
                    evidence.push(Evidence::archive(&initrd_path, name, value.clone()));
                    facts.initrd_cmdline.push(InitrdSetting {
                        file: name.clone(),
                        value,
                    });
                }
            }
        } else if name.starts_with("etc/udev/rules.d/") {
            for line in text.lines().map(str::trim) {
                if !line.is_empty() && !line.starts_with('#') && line.contains("NAME") {
                    evidence.push(Evidence::archive(&initrd_path, name, line.to_string()));
                    facts.initrd_persistent_net.push(InitrdSetting {
                        file: name.clone(),
                        value: line.to_string(),
                    });
                }
            }
        }
    }
    facts.initrd = Some(listing);
    Fact::found(facts, evidence)
}
