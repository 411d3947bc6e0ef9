//! LX-VIRTIO-KERNEL / LX-VIRTIO-INITRD / LX-INITRD-CMDLINE: virtio drivers
//! of the default kernel and of its initramfs.
use crate::evidence::Fact;
use crate::files::GuestFiles;

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
}

impl VirtioFacts {
    /// The state of one module by name.
    pub fn module(&self, name: &str) -> Option<&ModuleState> {
        self.modules.iter().find(|m| m.name == name)
    }
}

/// Examine the default kernel and its initramfs.
pub fn inspect(
    guest: &dyn GuestFiles,
    boot: &Fact<BootConfig>,
    kernels: &Fact<Vec<KernelInfo>>,
) -> Fact<VirtioFacts> {
    let _ = (guest, boot, kernels);
    Fact::unknown("not inspected", Vec::new())
}
