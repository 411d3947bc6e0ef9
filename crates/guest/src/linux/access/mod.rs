//! Reachability and login: the SSH server and its configuration, the
//! accounts that can log in, the host firewall, SELinux and the default
//! boot target.
//!
//! Each part is in its own file: [`sshd`] (program, units, configuration
//! with includes), [`accounts`] (password state without hashes, keys),
//! [`firewall`] (firewalld, ufw, iptables, nftables). Read here:
//! `/etc/selinux/config` and `/.autorelabel`; the default systemd target
//! and `/etc/inittab` `initdefault`.

pub mod accounts;
pub mod firewall;
pub mod sshd;

pub use accounts::{
    password_state, Account, PasswordState, ACCOUNTS_LIMIT, MAX_ACCOUNTS, MAX_KEY_READS,
};
pub use firewall::Firewall;
pub use sshd::{SshFacts, SshdSetting, MAX_INCLUDES, MAX_INCLUDE_DEPTH, SSHD_KEYWORDS};

use super::services::{
    default_target, exists, inittab_default, read_config, DefaultTarget, ServiceIndex,
};
use crate::text::{last_value, shell_assignments};
use crate::{Evidence, GuestFiles};

/// SELinux configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SelinuxFacts {
    /// `SELINUX=` value.
    pub mode: Option<(String, Evidence)>,
    /// `SELINUXTYPE=` value.
    pub policy: Option<String>,
    /// `/.autorelabel` exists.
    pub autorelabel: Option<Evidence>,
}

/// Access facts of a Linux guest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessFacts {
    /// SSH server.
    pub ssh: SshFacts,
    /// Root and UID ≥ 1000 accounts with a login shell.
    pub accounts: Vec<Account>,
    /// Firewalls found.
    pub firewalls: Vec<Firewall>,
    /// SELinux.
    pub selinux: SelinuxFacts,
    /// systemd default target.
    pub default_target: Option<DefaultTarget>,
    /// SysV `initdefault` runlevel.
    pub initdefault: Option<(String, Evidence)>,
}

/// Reads the access facts.
pub fn access_facts(g: &dyn GuestFiles) -> AccessFacts {
    let services = ServiceIndex::scan(g);
    AccessFacts {
        ssh: sshd::ssh_facts(g, &services),
        accounts: accounts::accounts(g),
        firewalls: firewall::firewalls(g, &services),
        selinux: selinux(g),
        default_target: default_target(g),
        initdefault: inittab_default(g),
    }
}

fn selinux(g: &dyn GuestFiles) -> SelinuxFacts {
    let mut f = SelinuxFacts::default();
    let conf = "/etc/selinux/config";
    if let Some(text) = read_config(g, conf) {
        let vars = shell_assignments(&text);
        if let Some(mode) = last_value(&vars, "SELINUX").map(str::to_string) {
            f.mode = Some((
                mode.clone(),
                Evidence::file(conf, format!("SELINUX={mode}")),
            ));
        }
        f.policy = last_value(&vars, "SELINUXTYPE").map(str::to_string);
    }
    if exists(g, "/.autorelabel") {
        f.autorelabel = Some(Evidence::file("/.autorelabel", "present"));
    }
    f
}
