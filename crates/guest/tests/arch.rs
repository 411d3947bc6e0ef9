//! LX-ARCH: ELF headers of real binaries, links resolved inside the guest.

mod common;

use common::{symlink, write};
use imsprep_guest::linux::arch::{inspect, Arch};
use imsprep_guest::DirGuest;

#[test]
fn host_shell_through_merged_usr_links() {
    let dir = tempfile::tempdir().unwrap();
    let sh = std::fs::read(std::fs::canonicalize("/bin/sh").unwrap()).unwrap();
    write(dir.path(), "/usr/bin/dash", &sh);
    symlink(dir.path(), "/bin", "usr/bin");
    symlink(dir.path(), "/usr/bin/sh", "dash");
    let fact = inspect(&DirGuest::new(dir.path()));
    let info = fact.value.expect("arch");
    assert_eq!(info.arch, Arch::X86_64);
    assert_eq!(info.bits, 64);
    assert!(info.little_endian);
    assert_eq!(info.binary, "/usr/bin/dash");
    let ev = &fact.evidence[0];
    assert_eq!(ev.location, "/bin/sh -> /usr/bin/dash");
    assert!(ev.value.contains("0x3e"), "{}", ev.value);
}

#[test]
fn absolute_link_stays_inside_the_guest() {
    // An absolute target must be resolved against the guest root, not the
    // host's /bin/sh.
    let dir = tempfile::tempdir().unwrap();
    symlink(dir.path(), "/bin/sh", "/usr/bin/missing");
    let fact = inspect(&DirGuest::new(dir.path()));
    assert!(fact.value.is_none());
    assert!(fact.unknown.is_some());
}

#[test]
fn aarch64_header() {
    // No aarch64 binary is available on the build host, so an ELF header
    // is written by hand: 64-bit, little-endian, ET_EXEC, e_machine 0xB7.
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2;
    elf[5] = 1;
    elf[6] = 1;
    elf[16] = 2;
    elf[18..20].copy_from_slice(&0xB7u16.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/usr/lib/systemd/systemd", &elf);
    let fact = inspect(&DirGuest::new(dir.path()));
    let info = fact.value.unwrap();
    assert_eq!((info.arch, info.bits), (Arch::Aarch64, 64));
}

#[test]
fn not_elf_and_link_loop() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/bin/sh", "#!/bin/busybox\n");
    symlink(dir.path(), "/sbin/init", "/sbin/init2");
    symlink(dir.path(), "/sbin/init2", "/sbin/init");
    let fact = inspect(&DirGuest::new(dir.path()));
    assert!(fact.value.is_none());
    let why = fact.unknown.unwrap();
    assert!(why.contains("not an ELF"), "{why}");
    assert!(why.contains("symbolic links"), "{why}");
}
