//! Access facts: sshd and its configuration, accounts (password state
//! only, never the hash), firewalls, SELinux and the default target.

mod common;

use common::{symlink, write};
use imsprep_guest::linux::access::{access_facts, PasswordState};
use imsprep_guest::DirGuest;

/// Debian 12's sshd_config (the non-comment lines and some comments).
const DEBIAN_SSHD_CONFIG: &str = "
# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

Include /etc/ssh/sshd_config.d/*.conf

#Port 22
#AddressFamily any
#ListenAddress 0.0.0.0
#ListenAddress ::

#PermitRootLogin prohibit-password
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
PasswordAuthentication yes
Match User anoncvs
\tPasswordAuthentication no
\tPermitRootLogin yes
";

const SHADOW: &str = "root:$6$Xq1T9sZ2$7nq0cJ4kS0fA1cD6oVvA5f5Yk2nJm4h3k0d1:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
debian:!:19700:0:99999:7:::
admin:$y$j9T$abcdefghijklmnop$0123456789abcdefghijklmnopqrstuvwxyzABCDEFG:19700:0:99999:7:::
";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
debian:x:1000:1000:Debian:/home/debian:/bin/bash
admin:x:1001:1001::/home/admin:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
";

fn debian_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/usr/sbin/sshd", "\x7fELF");
    write(
        r,
        "/lib/systemd/system/ssh.service",
        "[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n",
    );
    symlink(
        r,
        "/etc/systemd/system/multi-user.target.wants/ssh.service",
        "/lib/systemd/system/ssh.service",
    );
    symlink(
        r,
        "/etc/systemd/system/sshd.service",
        "/lib/systemd/system/ssh.service",
    );
    write(r, "/etc/ssh/sshd_config", DEBIAN_SSHD_CONFIG);
    write(
        r,
        "/etc/ssh/sshd_config.d/50-cloud-init.conf",
        "PasswordAuthentication no\n",
    );
    write(
        r,
        "/etc/ssh/ssh_host_ed25519_key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    );
    write(r, "/etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA\n");
    write(r, "/etc/shadow", SHADOW);
    write(r, "/etc/passwd", PASSWD);
    write(
        r,
        "/home/debian/.ssh/authorized_keys",
        "# managed\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB debian@host\n",
    );
    symlink(
        r,
        "/etc/systemd/system/default.target",
        "/lib/systemd/system/multi-user.target",
    );
    d
}

#[test]
fn debian_sshd_and_accounts() {
    let d = debian_tree();
    let f = access_facts(&DirGuest::new(d.path()));
    assert!(f.ssh.binary.is_some());
    assert!(f.ssh.enabled());
    assert_eq!(
        f.ssh.config_files,
        [
            "/etc/ssh/sshd_config",
            "/etc/ssh/sshd_config.d/50-cloud-init.conf"
        ]
    );
    let pa = f.ssh.setting("passwordauthentication").unwrap();
    assert_eq!(
        pa.values,
        ["no"],
        "the included file comes first, and the first value wins"
    );
    assert_eq!(
        pa.evidence.location,
        "/etc/ssh/sshd_config.d/50-cloud-init.conf"
    );
    assert_eq!(
        f.ssh
            .setting("kbdinteractiveauthentication")
            .unwrap()
            .values,
        ["no"]
    );
    assert!(
        f.ssh.setting("permitrootlogin").is_none(),
        "Match blocks and comments are not global settings"
    );
    assert!(f.ssh.setting("listenaddress").is_none());
    assert_eq!(f.ssh.host_keys, ["/etc/ssh/ssh_host_ed25519_key"]);

    let names: Vec<&str> = f.accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["root", "debian", "admin"]);
    assert_eq!(f.accounts[0].password, Some(PasswordState::Set));
    assert_eq!(f.accounts[1].password, Some(PasswordState::Locked));
    assert_eq!(
        f.accounts[1].authorized_keys.as_ref().unwrap().value,
        "1 keys"
    );
    assert_eq!(f.accounts[2].password, Some(PasswordState::Set));
    let all = format!("{f:?}");
    assert!(
        !all.contains("$6$") && !all.contains("$y$"),
        "no hash is ever kept"
    );
    assert_eq!(f.default_target.unwrap().target, "multi-user.target");
}

#[test]
fn listen_address_ports_and_disabled_sshd() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/usr/sbin/sshd", "");
    write(
        r,
        "/usr/lib/systemd/system/sshd.service",
        "[Install]\nWantedBy=multi-user.target\n",
    );
    write(
        r,
        "/etc/ssh/sshd_config",
        "Port 22\nPort 2222\nListenAddress 192.168.10.5\nListenAddress=[::1]:22\nPermitRootLogin=yes\nInclude extra.conf\n",
    );
    write(
        r,
        "/etc/ssh/extra.conf",
        "Include /etc/ssh/sshd_config\nPermitRootLogin no\n",
    );
    write(r, "/etc/shadow", "root:!!:19700::::::\n");
    write(r, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    let f = access_facts(&DirGuest::new(r));
    assert!(!f.ssh.enabled(), "installed, no enable link");
    assert_eq!(
        f.ssh.setting("listenaddress").unwrap().values,
        ["192.168.10.5", "[::1]:22"]
    );
    assert_eq!(f.ssh.setting("port").unwrap().values, ["22", "2222"]);
    assert_eq!(f.ssh.setting("permitrootlogin").unwrap().values, ["yes"]);
    assert!(
        f.ssh.config_files.len() <= imsprep_guest::linux::access::MAX_INCLUDES,
        "self-include is bounded"
    );
    assert_eq!(f.accounts[0].password, Some(PasswordState::Locked));
    assert!(f.accounts[0].authorized_keys.is_none());
}

const PUBLIC_ZONE: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>
<zone>
  <short>Public</short>
  <description>For use in public areas.</description>
  <service name=\"ssh\"/>
  <service name=\"dhcpv6-client\"/>
  <service name=\"cockpit\"/>
  <forward/>
</zone>
";

#[test]
fn firewalld_zone_override() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        "/usr/lib/systemd/system/firewalld.service",
        "[Install]\nWantedBy=multi-user.target\n",
    );
    symlink(
        r,
        "/etc/systemd/system/multi-user.target.wants/firewalld.service",
        "/usr/lib/systemd/system/firewalld.service",
    );
    write(
        r,
        "/etc/firewalld/firewalld.conf",
        "# firewalld config file\nDefaultZone=public\nCleanupOnExit=yes\n",
    );
    write(r, "/usr/lib/firewalld/zones/public.xml", PUBLIC_ZONE);
    let f = access_facts(&DirGuest::new(r));
    let fw = &f.firewalls[0];
    assert_eq!(fw.kind, "firewalld");
    assert!(fw.enabled);
    assert_eq!(fw.allows_ssh, Some(true));
    write(r, "/etc/firewalld/zones/public.xml", "<?xml version=\"1.0\"?>\n<zone>\n  <short>Public</short>\n  <service name=\"https\"/>\n</zone>\n");
    let f = access_facts(&DirGuest::new(r));
    assert_eq!(f.firewalls[0].allows_ssh, Some(false));
    assert!(f.firewalls[0]
        .evidence
        .iter()
        .any(|e| e.location == "/etc/firewalld/zones/public.xml"));
}

#[test]
fn ufw_and_iptables() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        "/etc/ufw/ufw.conf",
        "# /etc/ufw/ufw.conf\nENABLED=yes\nLOGLEVEL=low\n",
    );
    write(r, "/etc/ufw/user.rules", "*filter\n### RULES ###\n\n### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 80 -j ACCEPT\n\n### END RULES ###\nCOMMIT\n");
    write(
        r,
        "/etc/sysconfig/iptables",
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT\n-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT\n-A INPUT -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n",
    );
    let f = access_facts(&DirGuest::new(r));
    let ufw = f.firewalls.iter().find(|x| x.kind == "ufw").unwrap();
    assert!(ufw.enabled);
    assert_eq!(ufw.allows_ssh, Some(false));
    let ipt = f.firewalls.iter().find(|x| x.kind == "iptables").unwrap();
    assert_eq!(ipt.allows_ssh, Some(true));
}

#[test]
fn selinux_and_rescue_target() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/etc/selinux/config", "# This file controls the state of SELinux on the system.\nSELINUX=enforcing\nSELINUXTYPE=targeted\n");
    write(r, "/.autorelabel", "");
    symlink(
        r,
        "/etc/systemd/system/default.target",
        "/usr/lib/systemd/system/emergency.target",
    );
    let f = access_facts(&DirGuest::new(r));
    assert_eq!(f.selinux.mode.as_ref().unwrap().0, "enforcing");
    assert_eq!(f.selinux.policy.as_deref(), Some("targeted"));
    assert!(f.selinux.autorelabel.is_some());
    assert_eq!(f.default_target.unwrap().target, "emergency.target");
    assert!(f.ssh.binary.is_none() && f.accounts.is_empty() && f.firewalls.is_empty());
}

#[test]
fn hostile_access_files_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    symlink(r, "/etc/ssh/sshd_config", "/etc/ssh/sshd_config");
    let big = d.path().join("etc/shadow");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    write(
        r,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\n::::::\nx:x:notanumber:0::/:/bin/sh\n",
    );
    symlink(r, "/root/.ssh", "/root/.ssh");
    let f = access_facts(&DirGuest::new(r));
    assert!(f.ssh.config_files.is_empty());
    assert_eq!(f.accounts.len(), 1);
    assert_eq!(
        f.accounts[0].password, None,
        "unreadable shadow: no state claimed"
    );
}

#[test]
fn socket_activation_and_sysv_sshd() {
    // Ubuntu 24.04: ssh.socket enabled in sockets.target.wants.
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/usr/sbin/sshd", "");
    write(
        r,
        "/usr/lib/systemd/system/ssh.service",
        "[Install]\nWantedBy=multi-user.target\n",
    );
    write(
        r,
        "/usr/lib/systemd/system/ssh.socket",
        "[Socket]\nListenStream=22\n[Install]\nWantedBy=sockets.target\n",
    );
    symlink(
        r,
        "/etc/systemd/system/sockets.target.wants/ssh.socket",
        "/usr/lib/systemd/system/ssh.socket",
    );
    let f = access_facts(&DirGuest::new(r));
    assert!(f.ssh.enabled());
    let socket = f.ssh.units.iter().find(|u| u.unit == "ssh.socket").unwrap();
    assert_eq!(
        socket.enabled_by,
        ["/etc/systemd/system/sockets.target.wants/ssh.socket"]
    );
    assert!(!f
        .ssh
        .units
        .iter()
        .find(|u| u.unit == "ssh.service")
        .unwrap()
        .enabled());

    // CentOS 6: SysV script and start link.
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/usr/sbin/sshd", "");
    write(r, "/etc/rc.d/init.d/sshd", "#!/bin/sh\n");
    symlink(r, "/etc/rc.d/rc3.d/S55sshd", "../init.d/sshd");
    symlink(r, "/etc/rc.d/rc1.d/K25sshd", "../init.d/sshd");
    write(r, "/etc/inittab", "id:3:initdefault:\n");
    let f = access_facts(&DirGuest::new(r));
    assert!(f.ssh.enabled());
    assert_eq!(f.initdefault.unwrap().0, "3");
    assert!(f.default_target.is_none());

    // Masked: never starts whatever links exist.
    symlink(r, "/etc/systemd/system/sshd.service", "/dev/null");
    let f = access_facts(&DirGuest::new(r));
    let sshd = f
        .ssh
        .units
        .iter()
        .find(|u| u.unit == "sshd.service")
        .unwrap();
    assert!(sshd.masked_by.is_some() && !sshd.enabled());
}
