//! Facts about a Linux guest.
//!
//! [`inspect_linux`] gathers every part; each part lives in its own module
//! and can also be called on its own. Parts that depend on others (the
//! virtio facts need the default boot entry and the kernels) take those
//! results as arguments instead of reading them again.

pub mod access;
pub mod advisory;
pub mod arch;
pub mod bootloader;
pub mod bootmode;
pub mod cloudinit;
pub mod identity;
pub mod initramfs;
pub mod initrd_generator;
pub mod kernels;
pub mod leftovers;
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
    /// Installed packages (dpkg) or the RPM database found and not read.
    pub packages: Fact<packages::InstalledPackages>,
    /// fstab entries, swap and resume references, root file-system type
    /// (LX-FSTAB-SPEC/REFS, LX-SWAP-RESUME, LX-USR-SEPARATE,
    /// LX-ROOTFS-TYPE).
    pub storage: Fact<storage::StorageFacts>,
    /// Network stacks, profiles, naming and MAC bindings (LX-NET-*,
    /// LX-NOZEROCONF).
    pub network: Fact<network::NetworkFacts>,
    /// Cloud-init (LX-CLOUDINIT-*, LX-GROWPART).
    pub cloud_init: Fact<cloudinit::CloudInitFacts>,
    /// SSH, accounts, firewall, SELinux, default target (LX-SSHD*,
    /// LX-LOGIN-PATH, LX-FIREWALL, LX-SELINUX, LX-BOOT-TARGET).
    pub access: Fact<access::AccessFacts>,
    /// Other hypervisors' tools and settings (LX-UVP-PV,
    /// LX-XEN-LEFTOVERS, LX-VMWARE-TOOLS, LX-XORG).
    pub leftovers: Fact<leftovers::LeftoverFacts>,
    /// Advisory facts: console, crash kernel, machine-id, RTC mode, DHCP
    /// leases (§3.9).
    pub advisory: Fact<advisory::AdvisoryFacts>,
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
    let cmdline = boot
        .get()
        .and_then(bootloader::BootConfig::default_entry)
        .and_then(|e| e.cmdline.clone());
    let cmdline = cmdline.as_deref();
    let packages = packages::installed_packages(guest);
    let storage = storage::storage_facts(guest, cmdline);
    // These parts are collections of findings, each carrying its own
    // evidence (a profile, a unit, a setting); the part itself adds none.
    let network = Fact::found(network::network_facts(guest, cmdline), Vec::new());
    let cloud_init = Fact::found(
        cloudinit::cloud_init_facts(guest, cmdline, packages.get()),
        Vec::new(),
    );
    let access = Fact::found(access::access_facts(guest), Vec::new());
    let leftovers = Fact::found(
        leftovers::leftover_facts(guest, cmdline, packages.get()),
        Vec::new(),
    );
    let advisory = Fact::found(advisory::advisory_facts(guest, cmdline), Vec::new());
    LinuxFacts {
        identity,
        arch,
        kernels,
        boot,
        boot_mode,
        virtio,
        initrd_generator,
        packages,
        storage,
        network,
        cloud_init,
        access,
        leftovers,
        advisory,
    }
}
