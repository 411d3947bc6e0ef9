//! Cloud-init facts on guest trees with cloud-init's own configuration
//! files, its units' enable links and the installer leftovers the spec
//! warns about.

mod common;

use common::{symlink, write};
use imsprep_guest::linux::cloudinit::cloud_init_facts;
use imsprep_guest::linux::packages::installed_packages;
use imsprep_guest::DirGuest;

/// Ubuntu's /etc/cloud/cloud.cfg (cloud-init 23.x defaults, trimmed).
const UBUNTU_CLOUD_CFG: &str = r#"# The top level settings are used as module
# and base configuration.
# A set of users which may be applied and/or used by various modules
# when a 'default' entry is found it will reference the 'default_user'
# from the distro configuration specified below
users:
   - default

# If this is set, 'root' will not be able to ssh in and they
# will get a message to login instead as the default $user
disable_root: true

# This will cause the set+update hostname module to not operate (if true)
preserve_hostname: false

# If you use datasource_list array, keep array items in a single line.
# If you use multi line array, ds-identify script won't read array items.
# Example datasource config
# datasource:
#    Ec2:
#      metadata_urls: [ 'blah.com' ]

# The modules that run in the 'init' stage
cloud_init_modules:
 - migrator
 - seed_random
 - bootcmd
 - write-files
 - growpart
 - resizefs
 - disk_setup
 - mounts
 - set_hostname
 - update_hostname
 - update_etc_hosts
 - ca-certs
 - rsyslog
 - users-groups
 - ssh

# The modules that run in the 'config' stage
cloud_config_modules:
 - snap
 - ssh-import-id
 - keyboard
 - locale
 - set-passwords
 - grub-dpkg
 - apt-pipelining
 - apt-configure
 - ntp
 - timezone
 - disable-ec2-metadata
 - runcmd
 - byobu

# The modules that run in the 'final' stage
cloud_final_modules:
 - package-update-upgrade-install
 - scripts-vendor
 - scripts-per-once
 - scripts-per-boot
 - scripts-per-instance
 - scripts-user
 - ssh-authkey-fingerprints
 - keys-to-console
 - final-message
 - power-state-change

# System and/or distro specific settings
# (not accessible to handlers/transforms)
system_info:
   # This will affect which distro class gets used
   distro: ubuntu
   # Default user name + that default users groups (if added/used)
   default_user:
     name: ubuntu
     lock_passwd: True
     gecos: Ubuntu
     groups: [adm, audio, cdrom, dialout, dip, floppy, lxd, netdev, plugdev, sudo, video]
     sudo: ["ALL=(ALL) NOPASSWD:ALL"]
     shell: /bin/bash
   network:
     renderers: ['netplan', 'eni', 'sysconfig']
   ntp_client: auto
   paths:
      cloud_dir: /var/lib/cloud/
      templates_dir: /etc/cloud/templates/
   package_mirrors:
     - arches: [i386, amd64]
       failsafe:
         primary: http://archive.ubuntu.com/ubuntu
         security: http://security.ubuntu.com/ubuntu
       search:
         primary:
           - http://%(ec2_region)s.ec2.archive.ubuntu.com/ubuntu/
         security: []
     - arches: [arm64, armel, armhf]
       failsafe:
         primary: http://ports.ubuntu.com/ubuntu-ports
   ssh_svcname: ssh
"#;

const DPKG_CFG: &str = "# to update this file, run dpkg-reconfigure cloud-init
datasource_list: [ NoCloud, ConfigDrive, OpenNebula, DigitalOcean, Azure, AltCloud, OVF, MAAS, GCE, OpenStack, CloudSigma, SmartOS, Bigstep, Scaleway, AliYun, Ec2, CloudStack, Hetzner, IBMCloud, Oracle, Exoscale, RbxCloud, UpCloud, VMware, Vultr, LXD, NWCS, Akamai, None ]
";

const DPKG_STATUS: &str = "Package: cloud-init\nStatus: install ok installed\nArchitecture: all\nVersion: 23.4.4-0ubuntu0~22.04.1\n\nPackage: cloud-guest-utils\nStatus: install ok installed\nArchitecture: all\nVersion: 0.32-22-g45fe84a5-0ubuntu1\n";

fn ubuntu_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/etc/cloud/cloud.cfg", UBUNTU_CLOUD_CFG);
    write(r, "/etc/cloud/cloud.cfg.d/90_dpkg.cfg", DPKG_CFG);
    write(
        r,
        "/etc/cloud/cloud.cfg.d/README",
        "# All files in this directory will be read by cloud-init\n",
    );
    write(r, "/var/lib/dpkg/status", DPKG_STATUS);
    write(r, "/usr/bin/cloud-init", "#!/usr/bin/python3\n");
    write(r, "/usr/bin/growpart", "#!/bin/sh\n");
    write(
        r,
        "/lib/systemd/system-generators/cloud-init-generator",
        "#!/bin/sh\n",
    );
    for unit in [
        "cloud-init-local.service",
        "cloud-init.service",
        "cloud-config.service",
        "cloud-final.service",
    ] {
        write(
            r,
            &format!("/lib/systemd/system/{unit}"),
            "[Install]\nWantedBy=cloud-init.target\n",
        );
        symlink(
            r,
            &format!("/etc/systemd/system/cloud-init.target.wants/{unit}"),
            &format!("/lib/systemd/system/{unit}"),
        );
    }
    write(
        r,
        "/lib/systemd/system/cloud-init.target",
        "[Install]\nWantedBy=multi-user.target\n",
    );
    symlink(
        r,
        "/etc/systemd/system/multi-user.target.wants/cloud-init.target",
        "/lib/systemd/system/cloud-init.target",
    );
    d
}

#[test]
fn ubuntu_cloud_image_defaults() {
    let d = ubuntu_tree();
    let g = DirGuest::new(d.path());
    let pk = installed_packages(&g);
    let f = cloud_init_facts(&g, Some("root=UUID=x ro console=ttyS0"), pk.get());
    assert!(f.installed());
    let (version, ev) = f.version.as_ref().unwrap();
    assert_eq!(version, "23.4.4");
    assert_eq!(ev.location, "/var/lib/dpkg/status");
    assert_eq!(f.version_number(), Some((23, 4)));
    assert_eq!(f.units.len(), 5);
    assert!(f.units.iter().all(|u| u.enabled()));
    assert!(f.disabled_by.is_empty());
    assert_eq!(
        f.generator.as_ref().unwrap().location,
        "/lib/systemd/system-generators/cloud-init-generator"
    );
    let (list, ev) = f.datasource_list.as_ref().unwrap();
    assert_eq!(list.len(), 29);
    assert!(list.contains(&"OpenStack".to_string()));
    assert_eq!(ev.location, "/etc/cloud/cloud.cfg.d/90_dpkg.cfg");
    assert!(f.datasource_list_multiline.is_empty());
    assert_eq!(f.setting("disable_root").unwrap().value, "true");
    assert_eq!(
        f.setting("system_info.default_user.lock_passwd")
            .unwrap()
            .value,
        "True"
    );
    assert_eq!(
        f.setting("system_info.distro").unwrap().evidence.location,
        "/etc/cloud/cloud.cfg"
    );
    assert!(f.setting("ssh_pwauth").is_none());
    assert!(f.module_listed("cloud_init_modules", "growpart"));
    assert!(
        f.module_listed("cloud_config_modules", "set_passwords"),
        "- and _ alike"
    );
    assert!(f.module_listed("cloud_init_modules", "ssh"));
    assert_eq!(
        f.growpart_program.as_ref().unwrap().location,
        "/usr/bin/growpart"
    );
    assert!(f.unreadable.is_empty(), "{:?}", f.unreadable);
    assert_eq!(f.config_files.len(), 2, "README is not a .cfg");
}

#[test]
fn subiquity_installer_leftovers_disable_it() {
    let d = ubuntu_tree();
    let r = d.path();
    write(
        r,
        "/etc/cloud/cloud.cfg.d/99-installer.cfg",
        "datasource:\n  None:\n    metadata:\n      instance-id: 0f3a4b6c-1d2e-4f50-8a9b-0c1d2e3f4a5b\n    userdata_raw: \"#cloud-config\\ngrowpart: {mode: 'off'}\\n\"\ndatasource_list: [None]\n",
    );
    write(r, "/etc/cloud/ds-identify.cfg", "policy: enabled\n");
    write(
        r,
        "/etc/cloud/cloud-init.disabled",
        "Disabled by Ubuntu live installer after first boot.\n",
    );
    symlink(
        r,
        "/etc/systemd/system/cloud-init-local.service",
        "/dev/null",
    );
    let g = DirGuest::new(r);
    let pk = installed_packages(&g);
    let f = cloud_init_facts(&g, None, pk.get());
    assert_eq!(f.datasource_list.as_ref().unwrap().0, ["None"]);
    assert_eq!(
        f.datasource_list.as_ref().unwrap().1.location,
        "/etc/cloud/cloud.cfg.d/99-installer.cfg"
    );
    assert_eq!(f.disabled_by[0].location, "/etc/cloud/cloud-init.disabled");
    assert_eq!(f.ds_identify_policy.as_ref().unwrap().0, "enabled");
    assert_eq!(f.masked_units().count(), 1);
    assert!(!f.unit("cloud-init-local.service").unwrap().enabled());
}

#[test]
fn rpm_guest_version_from_python_package_and_block_list() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/var/lib/rpm/Packages", b"\0\0\0\0\x61\x15\x06\0");
    write(r, "/usr/bin/cloud-init", "#!/usr/bin/python3\n");
    write(
        r,
        "/usr/lib/python3.6/site-packages/cloudinit/version.py",
        "# This file is part of cloud-init. See LICENSE file for license information.\n\n__VERSION__ = \"19.4\"\n_PACKAGED_VERSION = \"@@PACKAGED_VERSION@@\"\n",
    );
    write(
        r,
        "/etc/cloud/cloud.cfg",
        "disable_root: 1\nssh_pwauth:   0\ncloud_init_modules:\n - disk_setup\n - [ssh, always]\n",
    );
    write(
        r,
        "/etc/cloud/cloud.cfg.d/05-ims.cfg",
        "datasource_list:\n  - OpenStack\ndatasource:\n  OpenStack:\n    metadata_urls: ['http://169.254.169.254']\n    apply_network_config: false\nnetwork: {config: disabled}\n",
    );
    write(
        r,
        "/usr/lib/systemd/system/cloud-init.service",
        "[Install]\nWantedBy=multi-user.target\n",
    );
    symlink(
        r,
        "/etc/systemd/system/multi-user.target.wants/cloud-init.service",
        "/usr/lib/systemd/system/cloud-init.service",
    );
    let g = DirGuest::new(r);
    let pk = installed_packages(&g);
    let f = cloud_init_facts(&g, Some("ro cloud-init=disabled ci.ds=OpenStack"), pk.get());
    assert_eq!(f.version.as_ref().unwrap().0, "19.4");
    assert_eq!(
        f.version.as_ref().unwrap().1.location,
        "/usr/lib/python3.6/site-packages/cloudinit/version.py"
    );
    assert_eq!(f.datasource_list.as_ref().unwrap().0, ["OpenStack"]);
    assert_eq!(
        f.datasource_list_multiline[0].location,
        "/etc/cloud/cloud.cfg.d/05-ims.cfg"
    );
    assert_eq!(
        f.setting("datasource.OpenStack.metadata_urls")
            .unwrap()
            .value,
        "http://169.254.169.254"
    );
    assert_eq!(f.setting("network.config").unwrap().value, "disabled");
    assert_eq!(f.setting("ssh_pwauth").unwrap().value, "0");
    assert!(f.module_listed("cloud_init_modules", "ssh"));
    assert!(!f.module_listed("cloud_init_modules", "growpart"));
    assert!(f.growpart_program.is_none());
    assert_eq!(f.disabled_by[0].value, "cloud-init=disabled");
    assert_eq!(f.cmdline_overrides[0].value, "ci.ds=OpenStack");
    assert_eq!(f.units.len(), 1);
    assert!(f.unit("cloud-init.service").unwrap().enabled());
}

#[test]
fn absent_cloud_init() {
    let d = tempfile::tempdir().unwrap();
    let f = cloud_init_facts(&DirGuest::new(d.path()), None, None);
    assert!(!f.installed());
    assert!(f.version.is_none() && f.units.is_empty() && f.datasource_list.is_none());
}

#[test]
fn hostile_cloud_cfg_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        "/etc/cloud/cloud.cfg",
        format!("a: {}\n", "[".repeat(100_000)),
    );
    write(
        r,
        "/etc/cloud/cloud.cfg.d/01.cfg",
        format!("b: {}{}\n", "{x: ".repeat(3000), "}".repeat(3000)),
    );
    write(
        r,
        "/etc/cloud/cloud.cfg.d/02.cfg",
        "x: &a [1, 2]\ny: [*a, *a, *a]\ndatasource_list: [OpenStack]\n",
    );
    symlink(r, "/etc/cloud/cloud.cfg.d/03.cfg", "03.cfg");
    let f = cloud_init_facts(&DirGuest::new(r), None, None);
    assert_eq!(f.unreadable.len(), 3, "{:?}", f.unreadable);
    assert!(f
        .unreadable
        .iter()
        .any(|u| u.path.ends_with("03.cfg") && u.reason.contains("symbolic links")));
    assert_eq!(
        f.datasource_list.unwrap().0,
        ["OpenStack"],
        "aliases are read as text, not expanded"
    );
}
