//! Installed packages from a dpkg database written by dpkg itself:
//! packages are built with `dpkg-deb` and installed into (and removed
//! from) a guest root in a temporary directory.

use std::fs;
use std::path::Path;
use std::process::Command;

use imsprep_guest::linux::cloudinit::cloud_init_facts;
use imsprep_guest::linux::packages::{installed_packages, PackageSource};
use imsprep_guest::DirGuest;

fn build_deb(work: &Path, name: &str, version: &str, conffile: bool) -> String {
    let pkg = work.join(format!("{name}-pkg"));
    fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    fs::create_dir_all(pkg.join("usr/bin")).unwrap();
    fs::write(
        pkg.join("DEBIAN/control"),
        format!("Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: Test <test@example.org>\nDescription: test package\n second line of the description\n"),
    )
    .unwrap();
    fs::write(pkg.join(format!("usr/bin/{name}")), "#!/bin/sh\n").unwrap();
    if conffile {
        fs::create_dir_all(pkg.join(format!("etc/{name}"))).unwrap();
        fs::write(pkg.join(format!("etc/{name}/{name}.cfg")), "x: 1\n").unwrap();
        fs::write(
            pkg.join("DEBIAN/conffiles"),
            format!("/etc/{name}/{name}.cfg\n"),
        )
        .unwrap();
    }
    let deb = work.join(format!("{name}.deb"));
    let st = Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&pkg)
        .arg(&deb)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    deb.to_string_lossy().into_owned()
}

fn dpkg(root: &Path, args: &[&str]) {
    let admin = root.join("var/lib/dpkg");
    let out = Command::new("dpkg")
        .arg(format!("--admindir={}", admin.display()))
        .arg(format!("--root={}", root.display()))
        .arg(format!("--instdir={}", root.display()))
        .args([
            "--force-not-root",
            "--force-script-chrootless",
            "--log=/dev/null",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dpkg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn dpkg_written_status() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
    fs::create_dir_all(root.join("var/lib/dpkg/updates")).unwrap();
    fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    fs::write(root.join("var/lib/dpkg/available"), "").unwrap();
    let ci = build_deb(work.path(), "cloud-init", "23.4.4-0ubuntu0~22.04.1", false);
    let vm = build_deb(work.path(), "open-vm-tools", "2:12.1.5-3", true);
    dpkg(&root, &["--install", &ci, &vm]);
    dpkg(&root, &["--remove", "open-vm-tools"]);

    let g = DirGuest::new(&root);
    let fact = installed_packages(&g);
    let p = fact.get().unwrap();
    assert_eq!(p.source, PackageSource::Dpkg);
    assert_eq!(p.has_package("cloud-init"), Some(true));
    assert_eq!(p.packages["cloud-init"].version, "23.4.4-0ubuntu0~22.04.1");
    assert_eq!(p.packages["cloud-init"].arch, "all");
    assert_eq!(
        p.has_package("open-vm-tools"),
        Some(false),
        "removed, config files left"
    );
    let status = fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    assert!(
        status.contains("Status: deinstall ok config-files"),
        "{status}"
    );

    let f = cloud_init_facts(&g, None, Some(p));
    assert_eq!(
        f.installed_by.len(),
        2,
        "the program dpkg unpacked and the package: {:?}",
        f.installed_by
    );
    assert_eq!(f.version.unwrap().0, "23.4.4");
}
