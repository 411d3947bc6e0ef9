//! DirGuest: the GuestFiles contract over a host directory.

mod common;

use common::{symlink, write};
use imsprep_guest::{DirGuest, FileKind, GuestError, GuestFiles};

#[test]
fn reads_follow_links_inside_the_guest_and_respect_limits() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/usr/lib/os-release", "ID=debian\n");
    symlink(dir.path(), "/etc/os-release", "../usr/lib/os-release");
    symlink(dir.path(), "/etc/escape", "../../../../../../etc/passwd");
    let g = DirGuest::new(dir.path());

    assert_eq!(
        g.read_file("/etc/os-release", 100).unwrap().unwrap(),
        b"ID=debian\n"
    );
    assert!(matches!(
        g.read_file("/etc/os-release", 3),
        Err(GuestError::TooLarge { size: 10, .. })
    ));
    assert_eq!(g.read_prefix("/etc/os-release", 2).unwrap().unwrap(), b"ID");
    let mut buf = [0u8; 4];
    assert_eq!(g.read_at("/etc/os-release", 3, &mut buf).unwrap(), 4);
    assert_eq!(&buf, b"debi");
    assert_eq!(
        g.read_link("/etc/os-release").unwrap().as_deref(),
        Some("../usr/lib/os-release")
    );
    assert_eq!(
        g.symlink_metadata("/etc/os-release").unwrap().unwrap().kind,
        FileKind::Symlink
    );
    assert_eq!(
        g.metadata("/etc/os-release").unwrap().unwrap().kind,
        FileKind::File
    );
    assert_eq!(
        g.canonical("/etc/os-release").unwrap().as_deref(),
        Some("/usr/lib/os-release")
    );
    // ".." never leaves the guest root: the host's /etc/passwd is not read.
    assert_eq!(g.read_file("/etc/escape", 1 << 20).unwrap(), None);
    assert!(!g.exists("/nope"));
    let entries = g.read_dir("/etc").unwrap().unwrap();
    assert_eq!(entries[0], ("escape".to_string(), FileKind::Symlink));
    assert_eq!(g.read_dir("/missing").unwrap(), None);
    assert!(g.volume_files("/dev/vda1").is_none());
}
