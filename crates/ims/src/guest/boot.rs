//! IMG-BOOTMODE, LX-BOOTLOADER, LX-KERNEL, LX-BOOT-ROOTARG and the boot
//! advisories (LX-CONSOLE-TTYS0, LX-KDUMP, LX-NIC-MULTIQUEUE).

use imsprep_guest::linux::arch::Arch;
use imsprep_guest::linux::bootloader::{cmdline_args, BootConfig, BootEntry};
use imsprep_guest::linux::bootmode::{BootCapability, BootMode};
use imsprep_guest::linux::kernels::{compare_versions, KernelInfo};
use imsprep_guest::linux::storage::{classify_source, Resolution, SourceKind, StorageFacts};
use imsprep_guest::{Evidence, LinuxFacts};

use super::{fail, info, unknown, warn};
use crate::finding::{Code, Finding};
use crate::image::Intent;
use crate::model::{Architecture, Firmware};
use crate::os::Cloud;

pub(crate) fn check(facts: &LinuxFacts, intent: &Intent, out: &mut Vec<Finding>) {
    bootmode(facts, intent, out);
    let Some(entry) = bootloader(facts, out) else {
        return;
    };
    let default_kernel = kernel(facts, entry, out);
    rootarg(facts, entry, out);
    advisories(facts, entry, default_kernel, out);
}

/// The architecture the image will be registered with: the guest's when
/// it could be read, else the intent's.
fn target_arch(facts: &LinuxFacts, intent: &Intent) -> Architecture {
    match facts.arch.get().map(|a| a.arch) {
        Some(Arch::Aarch64 | Arch::Arm) => Architecture::Arm,
        Some(Arch::X86_64 | Arch::I386) => Architecture::X86,
        _ => intent.architecture,
    }
}

/// How the target cloud takes `hw_firmware_type` for a UEFI image.
fn uefi_registration(cloud: Option<Cloud>) -> &'static str {
    match cloud {
        Some(Cloud::Otc) => "register it with `hw_firmware_type` `uefi` (Open Telekom Cloud's quick-import request takes the field)",
        Some(Cloud::HuaweiCloud) => "Huawei Cloud's quick-import request has no firmware field (per its SDK models; not verified on a live ECS): after the import, `PATCH /v2/cloudimages/{image_id}` setting `hw_firmware_type` to `uefi`",
        None => "on Open Telekom Cloud pass `hw_firmware_type` `uefi` in the quick-import request; on Huawei Cloud, whose quick-import request has no firmware field, `PATCH /v2/cloudimages/{image_id}` setting `hw_firmware_type` to `uefi` after the import",
    }
}

fn has_fallback(cap: &BootCapability, arch: Architecture) -> bool {
    let want = match arch {
        Architecture::X86 => "bootx64.efi",
        Architecture::Arm => "bootaa64.efi",
    };
    cap.uefi_fallback
        .iter()
        .any(|p| p.to_ascii_lowercase().ends_with(want))
}

fn bootmode(facts: &LinuxFacts, intent: &Intent, out: &mut Vec<Finding>) {
    let fact = &facts.boot_mode;
    let ev = &fact.evidence;
    let path = "image";
    let Some(cap) = fact.get() else {
        let reason = fact
            .unknown
            .clone()
            .unwrap_or_else(|| "no boot evidence was read".to_owned());
        out.push(unknown(
            Code::ImgBootmode,
            path,
            format!("what firmware can start the disk could not be told: {reason}"),
            ev,
        ));
        return;
    };
    let arch = target_arch(facts, intent);
    let loader = match arch {
        Architecture::X86 => "EFI/BOOT/BOOTX64.EFI",
        Architecture::Arm => "EFI/BOOT/BOOTAA64.EFI",
    };
    let fallback_fix = format!(
        "Install the removable-media fallback {loader} on the ESP: Debian `grub-install --force-extra-removable` (or `dpkg-reconfigure grub-efi-amd64`, \"force extra removable\"); otherwise copy `shimx64.efi` to `EFI/BOOT/BOOTX64.EFI` with `fbx64.efi` and `BOOTX64.CSV`."
    );
    let no_fallback = |out: &mut Vec<Finding>, why: &str| {
        out.push(
            fail(
                Code::ImgBootmode,
                path,
                format!(
                    "the disk will start by UEFI ({why}) but the ESP has no {loader}; with empty NVRAM the firmware tries only that file (ECS NVRAM is empty at first boot: not verified on a live ECS; vendor loaders found: {})",
                    list_or_none(&cap.uefi_vendor_loaders)
                ),
                ev,
            )
            .with_fix(fallback_fix.clone()),
        );
    };
    if cap.mode == BootMode::None {
        out.push(fail(
            Code::ImgBootmode,
            path,
            "the disk has neither BIOS boot code nor an EFI loader: no firmware can start it",
            ev,
        ).with_fix("Install the boot loader to the disk: `grub2-install` (plus a BIOS boot partition on GPT) for BIOS, or a UEFI loader on an ESP."));
        return;
    }
    let uefi_capable = matches!(cap.mode, BootMode::Uefi | BootMode::Hybrid);
    match arch {
        Architecture::Arm => {
            if !uefi_capable {
                out.push(fail(
                    Code::ImgBootmode,
                    path,
                    "an arm image always starts by UEFI, but the disk boots only by BIOS",
                    ev,
                ).with_fix("Install a UEFI boot loader on an ESP (`grub2-install --target=arm64-efi`) with the fallback EFI/BOOT/BOOTAA64.EFI."));
            } else if !has_fallback(cap, arch) {
                no_fallback(out, "arm images always do");
            }
        }
        Architecture::X86 => {
            let uefi_asked = intent.firmware == Some(Firmware::Uefi);
            match cap.mode {
                BootMode::Bios | BootMode::Hybrid if !uefi_asked => {}
                BootMode::Bios => out.push(
                    fail(
                        Code::ImgBootmode,
                        path,
                        "hw_firmware_type uefi is asked for, but the disk boots only by BIOS",
                        ev,
                    )
                    .with_fix(
                        "Leave hw_firmware_type out (BIOS), or install a UEFI loader on an ESP.",
                    ),
                ),
                BootMode::Hybrid | BootMode::Uefi if uefi_asked => {
                    if !has_fallback(cap, arch) {
                        no_fallback(out, "hw_firmware_type uefi");
                    } else if cap.mode == BootMode::Uefi {
                        out.push(info(
                            Code::ImgBootmode,
                            path,
                            format!(
                                "the disk boots only by UEFI and hw_firmware_type uefi is chosen; {}; check that the OS is in the cloud's UEFI-capable list",
                                uefi_registration(intent.cloud)
                            ),
                            ev,
                        ));
                    }
                }
                BootMode::Uefi => {
                    if has_fallback(cap, arch) {
                        out.push(fail(
                            Code::ImgBootmode,
                            path,
                            "the disk boots only by UEFI, but an x86 image starts by BIOS unless registered as UEFI",
                            ev,
                        ).with_fix(format!(
                            "Either {}, and check that the OS is in the cloud's UEFI-capable list; or make the disk boot by BIOS too (`grub2-install` to the disk, plus a BIOS boot partition on GPT).",
                            uefi_registration(intent.cloud)
                        )));
                    } else {
                        no_fallback(out, "it boots only by UEFI");
                    }
                }
                BootMode::Hybrid | BootMode::None => {}
            }
        }
    }
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

fn entry_evidence(boot: &BootConfig, entry: &BootEntry, extra: &[Evidence]) -> Vec<Evidence> {
    let mut ev = vec![Evidence::file(
        &entry.source,
        format!("default entry \"{}\"", entry.title),
    )];
    if let Some(spec) = &boot.default_spec {
        ev.push(Evidence::file(&boot.config_path, spec.clone()));
    }
    ev.extend_from_slice(extra);
    ev
}

/// LX-BOOTLOADER; gives the default entry when one is resolved.
fn bootloader<'a>(facts: &'a LinuxFacts, out: &mut Vec<Finding>) -> Option<&'a BootEntry> {
    let fact = &facts.boot;
    let Some(boot) = fact.get() else {
        match &fact.unknown {
            Some(reason) => out.push(unknown(
                Code::LxBootloader,
                "/boot",
                format!("the boot loader configuration could not be read: {reason}"),
                &fact.evidence,
            )),
            None => out.push(fail(
                Code::LxBootloader,
                "/boot",
                "no boot loader configuration was found (GRUB 2, BLS, GRUB legacy, extlinux, systemd-boot)",
                &fact.evidence,
            )),
        }
        return None;
    };
    let path = boot.config_path.as_str();
    let Some(entry) = boot.default_entry() else {
        let why = boot
            .default_problem
            .clone()
            .unwrap_or_else(|| "no entry matches the default".to_owned());
        out.push(unknown(
            Code::LxBootloader,
            path,
            format!(
                "{path}: the default entry could not be resolved ({} entries; default {}): {why}",
                boot.entries.len(),
                boot.default_spec.as_deref().unwrap_or("not set")
            ),
            &fact.evidence,
        ));
        return None;
    };
    let ev = entry_evidence(boot, entry, &fact.evidence);
    match (&entry.kernel, &entry.kernel_path) {
        (None, _) => out.push(fail(
            Code::LxBootloader,
            path,
            format!("the default entry \"{}\" names no kernel", entry.title),
            &ev,
        )),
        (Some(k), None) => out.push(fail(
            Code::LxBootloader,
            path,
            format!(
                "the default entry \"{}\" names kernel {k}, which does not exist in the image",
                entry.title
            ),
            &ev,
        )),
        _ => {}
    }
    if entry.initrd.is_empty() {
        out.push(warn(
            Code::LxBootloader,
            path,
            format!(
                "the default entry \"{}\" loads no initrd; the kernel must have the disk and root file-system drivers built in",
                entry.title
            ),
            &ev,
        ));
    } else if entry.initrd_paths.len() < entry.initrd.len() {
        out.push(fail(
            Code::LxBootloader,
            path,
            format!(
                "the default entry \"{}\" names initrd {} but only {} exist in the image",
                entry.title,
                entry.initrd.join(" "),
                list_or_none(&entry.initrd_paths)
            ),
            &ev,
        ));
    }
    if let Some(problem) = &boot.default_problem {
        out.push(warn(
            Code::LxBootloader,
            path,
            format!("the configuration was read only in part: {problem}"),
            &ev,
        ));
    }
    Some(entry)
}

/// The kernel the default entry boots.
fn default_kernel<'a>(kernels: &'a [KernelInfo], entry: &BootEntry) -> Option<&'a KernelInfo> {
    let path = entry.kernel_path.as_deref().or(entry.kernel.as_deref())?;
    kernels
        .iter()
        .find(|k| k.image.as_deref() == Some(path))
        .or_else(|| {
            kernels
                .iter()
                .filter(|k| path.ends_with(&k.version))
                .max_by_key(|k| k.version.len())
        })
}

/// The `major.minor.patch` numbers of a kernel version.
fn kernel_numbers(version: &str) -> (u32, u32, u32) {
    let mut nums = version
        .split(['.', '-'])
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .map(|d| d.parse::<u32>().unwrap_or(0));
    (
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
    )
}

fn is_xen_flavour(version: &str) -> bool {
    version.ends_with("xen") || version.ends_with("-xen")
}

fn is_debug(version: &str) -> bool {
    let v = version.to_ascii_lowercase();
    v.contains("debug") || v.ends_with("+debug") || v.contains("rescue")
}

/// LX-KERNEL; gives the default kernel.
fn kernel<'a>(
    facts: &'a LinuxFacts,
    entry: &BootEntry,
    out: &mut Vec<Finding>,
) -> Option<&'a KernelInfo> {
    let fact = &facts.kernels;
    let Some(kernels) = fact.get() else {
        let reason = fact
            .unknown
            .clone()
            .unwrap_or_else(|| "no kernel was found in /boot and /lib/modules".to_owned());
        out.push(unknown(
            Code::LxKernel,
            "/boot",
            format!("the installed kernels could not be listed: {reason}"),
            &fact.evidence,
        ));
        return None;
    };
    let Some(k) = default_kernel(kernels, entry) else {
        out.push(unknown(
            Code::LxKernel,
            "/boot",
            format!(
                "the default entry's kernel {} matches none of the installed kernels ({})",
                entry.kernel.as_deref().unwrap_or("(none)"),
                kernels
                    .iter()
                    .map(|k| k.version.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &fact.evidence,
        ));
        return None;
    };
    let image = k
        .image
        .clone()
        .unwrap_or_else(|| format!("kernel {}", k.version));
    let ev = vec![
        Evidence::file(
            &entry.source,
            format!("kernel {}", entry.kernel.as_deref().unwrap_or("")),
        ),
        Evidence::file(
            k.modules_dir
                .clone()
                .unwrap_or_else(|| format!("/lib/modules/{}", k.version)),
            if k.modules_dir.is_some() {
                "present"
            } else {
                "absent"
            },
        ),
    ];
    if k.modules_dir.is_none() {
        out.push(fail(
            Code::LxKernel,
            &image,
            format!(
                "the default kernel {} has no module directory (/lib/modules/{} or /usr/lib/modules/{})",
                k.version, k.version, k.version
            ),
            &ev,
        ).with_fix("Reinstall the kernel package so that its modules are present, or make an installed complete kernel the default."));
    }
    if is_xen_flavour(&k.version) {
        out.push(fail(
            Code::LxKernel,
            &image,
            format!("the default kernel {} is a Xen paravirtual flavour, which does not boot on KVM", k.version),
            &ev,
        ).with_fix("Install the standard (non-xen) kernel flavour and make it the default."));
    }
    let (a, b, c) = kernel_numbers(&k.version);
    if (a, b, c) <= (2, 6, 24) {
        out.push(warn(
            Code::LxKernel,
            &image,
            format!(
                "the default kernel {} is 2.6.24 or older; IMS requires a later kernel for virtio",
                k.version
            ),
            &ev,
        ));
    }
    let newest = kernels
        .iter()
        .filter(|o| !is_debug(&o.version) && !is_xen_flavour(&o.version) && o.modules_dir.is_some())
        .max_by(|x, y| compare_versions(&x.version, &y.version));
    if let Some(n) = newest {
        if compare_versions(&n.version, &k.version) == std::cmp::Ordering::Greater {
            out.push(warn(
                Code::LxKernel,
                &image,
                format!(
                    "a newer kernel {} is installed but the default entry boots {}",
                    n.version, k.version
                ),
                &ev,
            ).with_fix("Make the newest kernel the default (`grubby --set-default` or `GRUB_DEFAULT`), unless the older one is meant."));
        }
    }
    Some(k)
}

/// The resolution fstab gives for the same identifier, if any entry names it.
fn fstab_resolution<'a>(
    storage: Option<&'a StorageFacts>,
    kind: &SourceKind,
) -> Option<&'a Resolution> {
    storage?
        .fstab
        .iter()
        .chain(&storage?.mount_units)
        .find(|e| &e.kind == kind && e.resolution != Resolution::NotApplicable)
        .map(|e| &e.resolution)
}

/// Judges one device reference of the command line.
fn judge_device(
    arg: &str,
    value: &str,
    where_: &str,
    storage: Option<&StorageFacts>,
    ev: &[Evidence],
    out: &mut Vec<Finding>,
) {
    let kind = classify_source(value, "");
    let code = Code::LxBootRootarg;
    let what = format!("{where_}: {arg}={value}");
    match &kind {
        SourceKind::ForeignName(_) => out.push(fail(
            code,
            where_,
            format!("{what} names a device of the old hardware; on ECS the system disk is /dev/vda"),
            ev,
        )),
        SourceKind::ByIdOrPath(_) => out.push(fail(
            code,
            where_,
            format!("{what} names the old controller or disk model (by-id/by-path), which will not exist on ECS"),
            ev,
        )),
        SourceKind::VirtioName(_) => out.push(warn(
            code,
            where_,
            format!("{what} works only while the system disk stays virtio-blk; IMS asks for UUID"),
            ev,
        )),
        SourceKind::Uuid(_)
        | SourceKind::Label(_)
        | SourceKind::PartUuid(_)
        | SourceKind::PartLabel(_)
        | SourceKind::Lvm(_, _)
        | SourceKind::Mapper(_) => match fstab_resolution(storage, &kind) {
            Some(Resolution::Found(_)) => {}
            Some(Resolution::Missing) => out.push(fail(
                code,
                where_,
                format!("{what} names an identifier that is in no file system or volume of the image"),
                ev,
            )),
            _ if matches!(kind, SourceKind::Lvm(_, _) | SourceKind::Mapper(_)) => {}
            _ => out.push(unknown(
                code,
                where_,
                format!("{what}: no fstab entry names the same identifier, so whether it exists in the image was not decided"),
                ev,
            )),
        },
        _ => out.push(unknown(
            code,
            where_,
            format!("{what} is a form that cannot be judged offline"),
            ev,
        )),
    }
}

/// LX-BOOT-ROOTARG.
fn rootarg(facts: &LinuxFacts, entry: &BootEntry, out: &mut Vec<Finding>) {
    let storage = facts.storage.get();
    let code = Code::LxBootRootarg;
    let Some(cmdline) = &entry.cmdline else {
        out.push(unknown(
            code,
            &entry.source,
            format!(
                "the default entry \"{}\" has no kernel command line, so root= cannot be checked",
                entry.title
            ),
            &[],
        ));
        return;
    };
    let ev = vec![Evidence::file(&entry.source, cmdline.clone())];
    let args = cmdline_args(cmdline);
    let roots: Vec<&String> = args
        .iter()
        .filter(|(k, _)| k == "root")
        .filter_map(|(_, v)| v.as_ref())
        .collect();
    match roots.last() {
        None => out.push(unknown(
            code,
            &entry.source,
            "the default command line has no root= argument (only discoverable partitions or a unified kernel image could do without)",
            &ev,
        )),
        Some(root) => judge_device("root", root, &entry.source, storage, &ev, out),
    }
    // `rd.lvm.lv=vg/lv` is judged like `/dev/vg/lv`; `rd.md.uuid` and
    // `rd.luks.uuid` name members the facts do not list, so they are not
    // judged here.
    for (k, v) in &args {
        if let (true, Some(v)) = (k == "rd.lvm.lv", v) {
            judge_device(k, &format!("/dev/{v}"), &entry.source, storage, &ev, out);
        }
    }
    if let Some(boot) = facts.boot.get() {
        // GRUB's own `search --fs-uuid`: judged where fstab names the same
        // file system (the facts carry no volume list here).
        for uuid in &boot.grub_search_uuids {
            let kind = SourceKind::Uuid(uuid.to_ascii_lowercase());
            if fstab_resolution(storage, &kind) == Some(&Resolution::Missing) {
                out.push(fail(
                    code,
                    &boot.config_path,
                    format!("{}: GRUB searches for the file system {uuid}, which is not in the image: GRUB stops at its rescue prompt", boot.config_path),
                    &[Evidence::file(&boot.config_path, format!("search --fs-uuid {uuid}"))],
                ));
            }
        }
        for (name, line) in [
            ("GRUB_CMDLINE_LINUX", &boot.grub_cmdline_linux),
            (
                "GRUB_CMDLINE_LINUX_DEFAULT",
                &boot.grub_cmdline_linux_default,
            ),
        ] {
            let Some(line) = line else { continue };
            let ev = vec![Evidence::file(
                "/etc/default/grub",
                format!("{name}=\"{line}\""),
            )];
            for (k, v) in cmdline_args(line) {
                if k == "root" {
                    if let Some(v) = v {
                        judge_device("root", &v, "/etc/default/grub", storage, &ev, out);
                    }
                }
            }
        }
    }
}

fn advisories(
    facts: &LinuxFacts,
    entry: &BootEntry,
    kernel: Option<&KernelInfo>,
    out: &mut Vec<Finding>,
) {
    if let Some(cmdline) = &entry.cmdline {
        // The advisory facts when read, else the default entry's arguments.
        let (consoles, quiet_boot, crashkernel) = match facts.advisory.get() {
            Some(a) => (
                a.consoles.clone(),
                a.quiet_boot.clone(),
                a.crashkernel.clone(),
            ),
            None => (
                entry.arg("console"),
                ["rhgb", "quiet"]
                    .iter()
                    .filter(|w| entry.has_arg(w))
                    .map(|w| (*w).to_owned())
                    .collect(),
                entry.arg("crashkernel").into_iter().next(),
            ),
        };
        let ev = vec![Evidence::file(&entry.source, cmdline.clone())];
        if !consoles.iter().any(|c| c.starts_with("ttyS0")) {
            let quiet = if quiet_boot.is_empty() {
                String::new()
            } else {
                format!("; {} hide the boot messages", quiet_boot.join(" "))
            };
            out.push(info(
                Code::LxConsoleTtys0,
                &entry.source,
                format!(
                    "no console=ttyS0 on the default command line (console= {}){quiet}; the ECS console log stays empty",
                    if consoles.is_empty() { "not set".to_owned() } else { consoles.join(", ") }
                ),
                &ev,
            ));
        }
        if let Some(c) = &crashkernel {
            out.push(info(
                Code::LxKdump,
                &entry.source,
                format!("crashkernel={c} reserves memory for kdump"),
                &ev,
            ));
        }
    }
    if let Some(k) = kernel {
        if kernel_numbers(&k.version) < (2, 6, 35) {
            out.push(info(
                Code::LxNicMultiqueue,
                k.image.as_deref().unwrap_or("/boot"),
                format!(
                    "the default kernel {} is older than 2.6.35: no NIC multi-queue",
                    k.version
                ),
                &[],
            ));
        }
    }
}
