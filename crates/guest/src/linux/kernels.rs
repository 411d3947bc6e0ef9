//! LX-KERNEL: installed kernels with their modules, initramfs and config.
use crate::evidence::Fact;
use crate::files::GuestFiles;

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
}

/// List installed kernels.
pub fn inspect(guest: &dyn GuestFiles) -> Fact<Vec<KernelInfo>> {
    let _ = guest;
    Fact::unknown("not inspected", Vec::new())
}
