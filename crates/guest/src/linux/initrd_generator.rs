//! LX-INITRD-HOSTONLY: settings of the initramfs generator.
use crate::evidence::Fact;
use crate::files::GuestFiles;

/// Initramfs generator settings found in the guest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitrdGenerator {
    /// dracut is configured (`/etc/dracut.conf` or `/etc/dracut.conf.d`).
    pub dracut: bool,
    /// Last `hostonly=` value (`yes`/`no`), if set.
    pub dracut_hostonly: Option<String>,
    /// Last `hostonly_cmdline=` value, if set.
    pub dracut_hostonly_cmdline: Option<String>,
    /// Modules named by `add_drivers`/`force_drivers` (+= accumulates).
    pub dracut_add_drivers: Vec<String>,
    /// Modules named by `omit_drivers`.
    pub dracut_omit_drivers: Vec<String>,
    /// initramfs-tools is configured (`/etc/initramfs-tools`).
    pub initramfs_tools: bool,
    /// `MODULES=` of `/etc/initramfs-tools/initramfs.conf` (and conf.d).
    pub initramfs_tools_modules: Option<String>,
    /// Module names listed in `/etc/initramfs-tools/modules`.
    pub initramfs_tools_module_list: Vec<String>,
    /// SUSE `/etc/sysconfig/kernel` `INITRD_MODULES`.
    pub suse_initrd_modules: Option<String>,
}

/// Read the generator settings.
pub fn inspect(guest: &dyn GuestFiles) -> Fact<InitrdGenerator> {
    let _ = guest;
    Fact::unknown("not inspected", Vec::new())
}
