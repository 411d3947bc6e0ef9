//! LX-OS-ID: release files of each family, as the distributions write them.

mod common;

use common::{symlink, write};
use imsprep_guest::linux::identity::{inspect, OsFamily, OsIdentity};
use imsprep_guest::DirGuest;

fn identify(files: &[(&str, &str)]) -> (OsIdentity, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    let fact = inspect(&DirGuest::new(dir.path()));
    let ev = fact.evidence.iter().map(|e| e.to_string()).collect();
    (fact.value.expect("identified"), ev)
}

#[test]
fn ubuntu_point_release_from_version() {
    let (os, ev) = identify(&[
        (
            "/usr/lib/os-release",
            "PRETTY_NAME=\"Ubuntu 22.04.3 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.3 LTS (Jammy Jellyfish)\"\nID=ubuntu\nID_LIKE=debian\n",
        ),
        ("/etc/debian_version", "bookworm/sid\n"),
    ]);
    assert_eq!(os.family, OsFamily::Ubuntu);
    assert_eq!(os.full_version.as_deref(), Some("22.04.3"));
    assert_eq!((os.major, os.minor), (Some(22), Some(4)));
    assert_eq!(os.id_like, vec!["debian"]);
    assert!(
        ev.contains(&"/usr/lib/os-release: VERSION_ID=22.04".to_string()),
        "{ev:?}"
    );
}

#[test]
fn os_release_symlink_is_followed_inside_the_guest() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "/usr/lib/os-release",
        "ID=debian\nVERSION_ID=\"12\"\n",
    );
    symlink(dir.path(), "/etc/os-release", "../usr/lib/os-release");
    write(dir.path(), "/etc/debian_version", "12.5\n");
    let fact = inspect(&DirGuest::new(dir.path()));
    let os = fact.value.unwrap();
    assert_eq!(os.family, OsFamily::Debian);
    assert_eq!(os.full_version.as_deref(), Some("12.5"));
    assert!(fact
        .evidence
        .iter()
        .any(|e| e.location == "/etc/debian_version" && e.value == "12.5"));
}

#[test]
fn centos_7_full_version_from_centos_release() {
    let (os, _) = identify(&[
        ("/etc/os-release", "NAME=\"CentOS Linux\"\nVERSION=\"7 (Core)\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\n"),
        ("/etc/centos-release", "CentOS Linux release 7.9.2009 (Core)\n"),
        ("/etc/redhat-release", "CentOS Linux release 7.9.2009 (Core)\n"),
    ]);
    assert_eq!(os.family, OsFamily::CentOs);
    assert_eq!(os.full_version.as_deref(), Some("7.9.2009"));
    assert_eq!((os.major, os.minor), (Some(7), Some(9)));
}

#[test]
fn centos_6_without_os_release() {
    let (os, _) = identify(&[
        ("/etc/centos-release", "CentOS release 6.10 (Final)\n"),
        ("/etc/redhat-release", "CentOS release 6.10 (Final)\n"),
    ]);
    assert_eq!(os.family, OsFamily::CentOs);
    assert_eq!((os.major, os.minor), (Some(6), Some(10)));
}

#[test]
fn centos_stream_and_rhel_and_rocky() {
    let (os, _) = identify(&[
        (
            "/etc/os-release",
            "NAME=\"CentOS Stream\"\nVERSION=\"9\"\nID=\"centos\"\nVERSION_ID=\"9\"\n",
        ),
        ("/etc/centos-release", "CentOS Stream release 9\n"),
    ]);
    assert_eq!(os.family, OsFamily::CentOsStream);
    assert_eq!((os.major, os.minor), (Some(9), None));

    let (os, _) = identify(&[
        ("/etc/os-release", "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"8.6 (Ootpa)\"\nID=\"rhel\"\nVERSION_ID=\"8.6\"\n"),
        ("/etc/redhat-release", "Red Hat Enterprise Linux release 8.6 (Ootpa)\n"),
    ]);
    assert_eq!(os.family, OsFamily::Rhel);
    assert_eq!(os.full_version.as_deref(), Some("8.6"));

    // RHEL 7 without os-release knowledge: clone file absent → redhat-release.
    let (os, _) = identify(&[(
        "/etc/redhat-release",
        "Red Hat Enterprise Linux Server release 7.9 (Maipo)\n",
    )]);
    assert_eq!(os.family, OsFamily::Rhel);
    assert_eq!((os.major, os.minor), (Some(7), Some(9)));

    let (os, _) = identify(&[
        (
            "/etc/redhat-release",
            "Rocky Linux release 9.2 (Blue Onyx)\n",
        ),
        (
            "/etc/rocky-release",
            "Rocky Linux release 9.2 (Blue Onyx)\n",
        ),
    ]);
    assert_eq!(
        os.family,
        OsFamily::Rocky,
        "clone file is tried before redhat-release"
    );
    assert_eq!(os.full_version.as_deref(), Some("9.2"));
}

#[test]
fn fedora_and_opensuse_and_sles() {
    let (os, _) = identify(&[("/etc/os-release", "NAME=\"Fedora Linux\"\nVERSION=\"39 (Server Edition)\"\nID=fedora\nVERSION_ID=39\nVARIANT_ID=server\n")]);
    assert_eq!(os.family, OsFamily::Fedora);
    assert_eq!(os.major, Some(39));
    assert_eq!(os.variant_id.as_deref(), Some("server"));

    let (os, _) = identify(&[("/etc/os-release", "NAME=\"openSUSE Leap\"\nVERSION=\"15.5\"\nID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\"15.5\"\n")]);
    assert_eq!(os.family, OsFamily::OpenSuse);
    assert_eq!((os.major, os.minor), (Some(15), Some(5)));

    let (os, _) = identify(&[(
        "/etc/os-release",
        "NAME=\"SLES\"\nVERSION=\"15-SP5\"\nVERSION_ID=\"15.5\"\nID=\"sles\"\n",
    )]);
    assert_eq!(os.family, OsFamily::Sles);
    assert_eq!((os.major, os.service_pack), (Some(15), Some(5)));

    let (os, ev) = identify(&[(
        "/etc/SuSE-release",
        "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n",
    )]);
    assert_eq!(os.family, OsFamily::Sles);
    assert_eq!((os.major, os.service_pack), (Some(11), Some(4)));
    assert!(ev.iter().any(|e| e.contains("PATCHLEVEL = 4")));
}

#[test]
fn euleros_service_pack_is_the_ims_minor() {
    let (os, _) = identify(&[
        (
            "/etc/os-release",
            "NAME=\"EulerOS\"\nVERSION=\"2.0 (SP9x86_64)\"\nID=\"euleros\"\nVERSION_ID=\"2.0\"\n",
        ),
        ("/etc/euleros-release", "EulerOS release 2.0 (SP9x86_64)\n"),
    ]);
    assert_eq!(os.family, OsFamily::EulerOs);
    assert_eq!(
        (os.major, os.minor, os.service_pack),
        (Some(2), Some(0), Some(9))
    );

    let (os, _) = identify(&[("/etc/euleros-release", "EulerOS release 2.0 (SP8)\n")]);
    assert_eq!((os.family, os.service_pack), (OsFamily::EulerOs, Some(8)));
}

#[test]
fn openeuler_mixed_case_id_and_lts_sp() {
    let (os, _) = identify(&[
        ("/etc/os-release", "NAME=\"openEuler\"\nVERSION=\"22.03 (LTS-SP1)\"\nID=\"openEuler\"\nVERSION_ID=\"22.03\"\n"),
        ("/etc/openEuler-release", "openEuler release 22.03 (LTS-SP1)\n"),
    ]);
    assert_eq!(os.family, OsFamily::OpenEuler);
    assert_eq!(os.full_version.as_deref(), Some("22.03"));
    assert_eq!(
        (os.major, os.minor, os.service_pack),
        (Some(22), Some(3), Some(1))
    );
}

#[test]
fn kylin_sp_only_in_productinfo() {
    let (os, ev) = identify(&[
        ("/etc/os-release", "NAME=\"Kylin Linux Advanced Server\"\nVERSION=\"V10 (Sword)\"\nID=\"kylin\"\nVERSION_ID=\"V10\"\n"),
        ("/etc/kylin-release", "Kylin Linux Advanced Server release V10 (Sword)\n"),
        ("/etc/.productinfo", "Kylin Linux Advanced Server\nrelease V10 (SP2) /(Sword)-x86_64-Build09/20210524\n"),
    ]);
    assert_eq!(os.family, OsFamily::Kylin);
    assert_eq!(os.full_version.as_deref(), Some("V10"));
    assert_eq!((os.major, os.service_pack), (Some(10), Some(2)));
    assert!(ev.iter().any(|e| e.starts_with("/etc/.productinfo")));

    let (os, _) = identify(&[(
        "/etc/os-release",
        "NAME=\"NeoKylin Linux Server\"\nID=\"neokylin\"\nVERSION_ID=\"V7Update6\"\n",
    )]);
    assert_eq!(os.family, OsFamily::NeoKylin);
    assert_eq!((os.major, os.minor), (Some(7), Some(6)));
}

#[test]
fn hce_and_unknown() {
    let (os, _) = identify(&[
        ("/etc/os-release", "NAME=\"Huawei Cloud EulerOS\"\nVERSION=\"2.0 (x86_64)\"\nID=\"hce\"\nVERSION_ID=\"2.0\"\n"),
        ("/etc/hce-release", "Huawei Cloud EulerOS release 2.0 (West Lake)\n"),
    ]);
    assert_eq!(os.family, OsFamily::HuaweiCloudEulerOs);
    assert_eq!((os.major, os.minor), (Some(2), Some(0)));

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/etc/hostname", "x\n");
    let fact = inspect(&DirGuest::new(dir.path()));
    assert!(fact.value.is_none());
    assert!(fact.unknown.is_some());
    assert!(fact
        .evidence
        .iter()
        .any(|e| e.location == "/etc/os-release" && e.value == "absent"));
}
