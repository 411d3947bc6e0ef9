//! Facts about a Linux guest.
//!
//! [`inspect_linux`] gathers every part; each part lives in its own module
//! and can also be called on its own. Parts that depend on others (the
//! virtio facts need the default boot entry and the kernels) take those
//! results as arguments instead of reading them again.

pub mod arch;
pub mod bootloader;
pub mod bootmode;
pub mod identity;
pub mod initramfs;
pub mod initrd_generator;
pub mod kernels;
pub mod network;
pub mod packages;
pub mod services;
pub mod storage;
pub mod virtio;

use crate::evidence::Fact;
use crate::files::GuestFiles;

/// Everything inspected in a Linux guest.
#[derive(Debug, Clone, Default)]
pub struct LinuxFacts {
    /// Distribution, version and variant (LX-OS-ID).
    pub identity: Fact<identity::OsIdentity>,
    /// Architecture of the userland (LX-ARCH).
    pub arch: Fact<arch::ArchInfo>,
    /// Installed kernels (LX-KERNEL).
    pub kernels: Fact<Vec<kernels::KernelInfo>>,
    /// Boot loader configuration and its default entry (LX-BOOTLOADER,
    /// LX-BOOT-ROOTARG).
    pub boot: Fact<bootloader::BootConfig>,
    /// What firmware can start the disk (IMG-BOOTMODE).
    pub boot_mode: Fact<bootmode::BootCapability>,
    /// Virtio drivers of the default kernel and its initramfs
    /// (LX-VIRTIO-KERNEL, LX-VIRTIO-INITRD, LX-INITRD-CMDLINE).
    pub virtio: Fact<virtio::VirtioFacts>,
    /// Initramfs generator settings (LX-INITRD-HOSTONLY).
    pub initrd_generator: Fact<initrd_generator::InitrdGenerator>,
}

/// Inspect a Linux guest.
pub fn inspect_linux(guest: &dyn GuestFiles) -> LinuxFacts {
    let identity = identity::inspect(guest);
    let arch = arch::inspect(guest);
    let kernels = kernels::inspect(guest);
    let boot = bootloader::inspect(guest);
    let boot_mode = bootmode::inspect(guest);
    let virtio = virtio::inspect(guest, &boot, &kernels);
    let initrd_generator = initrd_generator::inspect(guest);
    LinuxFacts {
        identity,
        arch,
        kernels,
        boot,
        boot_mode,
        virtio,
        initrd_generator,
    }
}
