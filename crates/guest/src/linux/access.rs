//! Reachability and login: the SSH server and its configuration, the
//! accounts that can log in, the host firewall, SELinux and the default
//! boot target.
//!
//! Read: `/usr/sbin/sshd`; units `sshd.service`, `ssh.service`,
//! `ssh.socket`, `sshd.socket` and SysV `sshd`/`ssh`;
//! `/etc/ssh/sshd_config` and the files its `Include` lines name (globs
//! in the last component, relative to `/etc/ssh`, each file once, at most
//! [`MAX_INCLUDES`] files, [`MAX_INCLUDE_DEPTH`] levels; the first value
//! of a keyword wins, as in sshd; `Match` blocks are skipped);
//! `/etc/shadow` and `/etc/passwd` (root and UID ≥ 1000), where a
//! password is reported only as `set`, `locked` or `empty` — the hash is
//! never kept; `~/.ssh/authorized_keys`; firewalld, ufw, iptables and
//! nftables files; `/etc/selinux/config` and `/.autorelabel`; the default
//! systemd target and `/etc/inittab` `initdefault`.

use super::network::ifupdown::glob_match;
use super::services::{
    default_target, exists, inittab_default, join, list_dir, read_config, unit_state,
    DefaultTarget, UnitState,
};
use crate::text::{last_value, shell_assignments};
use crate::{Evidence, GuestFiles};

/// Most sshd configuration files read through `Include`.
pub const MAX_INCLUDES: usize = 64;
/// Deepest `Include` chain followed.
pub const MAX_INCLUDE_DEPTH: usize = 8;
/// Read limit for `/etc/shadow` and `/etc/passwd`.
pub const ACCOUNTS_LIMIT: u64 = 8 << 20;

/// sshd keywords reported (lower case, as sshd compares them).
pub const SSHD_KEYWORDS: [&str; 9] = [
    "listenaddress",
    "port",
    "permitrootlogin",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "challengeresponseauthentication",
    "pubkeyauthentication",
    "allowusers",
    "allowgroups",
];

/// One sshd setting in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshdSetting {
    /// Keyword, lower case.
    pub keyword: String,
    /// Value(s); `ListenAddress` and `Port` may repeat, all are kept.
    pub values: Vec<String>,
    /// Where the (first) value was read.
    pub evidence: Evidence,
}

/// SSH server facts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SshFacts {
    /// `/usr/sbin/sshd` exists.
    pub binary: Option<Evidence>,
    /// Unit states of `sshd.service`, `ssh.service`, `ssh.socket`,
    /// `sshd.socket` that exist.
    pub units: Vec<UnitState>,
    /// Settings in effect (first value wins, `ListenAddress`/`Port` all).
    pub settings: Vec<SshdSetting>,
    /// Host key files present.
    pub host_keys: Vec<String>,
    /// Files read, in order.
    pub config_files: Vec<String>,
}

impl SshFacts {
    /// At least one of the sshd units (or its SysV script) starts at boot.
    pub fn enabled(&self) -> bool {
        self.units.iter().any(UnitState::enabled)
    }
    /// A setting's values.
    pub fn setting(&self, keyword: &str) -> Option<&SshdSetting> {
        self.settings.iter().find(|s| s.keyword == keyword)
    }
}

/// How an account's password field looks. The hash itself is never kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordState {
    /// A usable hash (`$1$`, `$5$`, `$6$`, `$y$`, `$2…$`, or a DES hash).
    Set,
    /// Locked (`!`, `*`, `!!`, or a hash prefixed with `!`).
    Locked,
    /// Empty: login without a password.
    Empty,
}

/// An account that could log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// User name.
    pub name: String,
    /// UID.
    pub uid: u32,
    /// Login shell.
    pub shell: String,
    /// Password state from `/etc/shadow` (`None` when no shadow entry).
    pub password: Option<PasswordState>,
    /// `~/.ssh/authorized_keys` with at least one key.
    pub authorized_keys: Option<Evidence>,
    /// Evidence (shadow state, never the hash).
    pub evidence: Vec<Evidence>,
}

/// A firewall found and what it says about SSH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firewall {
    /// `firewalld`, `ufw`, `iptables`, `nftables`.
    pub kind: String,
    /// Its service is enabled.
    pub enabled: bool,
    /// `Some(true)` if the rules read allow TCP 22 / the ssh service,
    /// `Some(false)` if they were read and do not, `None` if not decided.
    pub allows_ssh: Option<bool>,
    /// What was read.
    pub evidence: Vec<Evidence>,
}

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
    AccessFacts {
        ssh: ssh_facts(g),
        accounts: accounts(g),
        firewalls: firewalls(g),
        selinux: selinux(g),
        default_target: default_target(g),
        initdefault: inittab_default(g),
    }
}

fn ssh_facts(g: &dyn GuestFiles) -> SshFacts {
    let mut f = SshFacts::default();
    for p in ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"] {
        if exists(g, p) {
            f.binary = Some(Evidence::file(p, "present"));
            break;
        }
    }
    for (unit, sysv) in [
        ("sshd.service", Some("sshd")),
        ("ssh.service", Some("ssh")),
        ("ssh.socket", None),
        ("sshd.socket", None),
    ] {
        let st = unit_state(g, unit, sysv);
        if st.installed() || st.enabled() || st.masked_by.is_some() {
            f.units.push(st);
        }
    }
    let mut budget = MAX_INCLUDES;
    read_sshd_config(g, "/etc/ssh/sshd_config", 0, &mut budget, &mut f);
    f.host_keys = list_dir(g, "/etc/ssh")
        .into_iter()
        .filter(|n| n.starts_with("ssh_host_") && n.ends_with("_key"))
        .map(|n| join("/etc/ssh", &n))
        .collect();
    f
}

/// Reads one sshd configuration file, following `Include`.
fn read_sshd_config(
    g: &dyn GuestFiles,
    path: &str,
    depth: usize,
    budget: &mut usize,
    f: &mut SshFacts,
) {
    // A file already read adds nothing (sshd itself would stop at its
    // include depth limit).
    if depth > MAX_INCLUDE_DEPTH || *budget == 0 || f.config_files.iter().any(|p| p == path) {
        return;
    }
    *budget -= 1;
    let Some(text) = read_config(g, path) else {
        return;
    };
    f.config_files.push(path.to_string());
    let mut in_match = false;
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((k, v)) => (
                k.to_ascii_lowercase(),
                v.trim().trim_start_matches('=').trim(),
            ),
            None => (line.to_ascii_lowercase(), ""),
        };
        if key == "match" {
            in_match = true;
            continue;
        }
        if key == "include" {
            for pattern in value.split_whitespace() {
                for file in expand_include(g, pattern) {
                    read_sshd_config(g, &file, depth + 1, budget, f);
                }
            }
            continue;
        }
        if in_match || !SSHD_KEYWORDS.contains(&key.as_str()) {
            continue;
        }
        let ev = Evidence::file(path, format!("line {}: {}", idx + 1, line));
        let repeats = key == "listenaddress" || key == "port";
        match f.settings.iter_mut().find(|s| s.keyword == key) {
            Some(s) if repeats => s.values.push(value.to_string()),
            Some(_) => {}
            None => f.settings.push(SshdSetting {
                keyword: key,
                values: vec![value.to_string()],
                evidence: ev,
            }),
        }
    }
}

/// Expands an sshd `Include` argument (relative to `/etc/ssh`, globs in
/// the last component), in name order.
fn expand_include(g: &dyn GuestFiles, pattern: &str) -> Vec<String> {
    let full = if pattern.starts_with('/') {
        pattern.to_string()
    } else {
        join("/etc/ssh", pattern)
    };
    let Some((dir, last)) = full.rsplit_once('/') else {
        return Vec::new();
    };
    if !last.contains(['*', '?']) {
        return vec![full];
    }
    list_dir(g, dir)
        .into_iter()
        .filter(|n| glob_match(last, n))
        .map(|n| join(dir, &n))
        .collect()
}

/// Classifies a shadow password field.
pub fn password_state(field: &str) -> PasswordState {
    if field.is_empty() {
        PasswordState::Empty
    } else if field.starts_with('!') || field.starts_with('*') {
        PasswordState::Locked
    } else if field.starts_with('$') || field.len() == 13 {
        PasswordState::Set
    } else {
        PasswordState::Locked
    }
}

fn accounts(g: &dyn GuestFiles) -> Vec<Account> {
    let passwd = super::services::read_text(g, "/etc/passwd", ACCOUNTS_LIMIT).unwrap_or_default();
    let shadow = super::services::read_text(g, "/etc/shadow", ACCOUNTS_LIMIT).unwrap_or_default();
    let mut out = Vec::new();
    for line in passwd.lines().take(100_000) {
        let fields: Vec<&str> = line.split(':').collect();
        let (Some(name), Some(uid), Some(home), Some(shell)) =
            (fields.first(), fields.get(2), fields.get(5), fields.get(6))
        else {
            continue;
        };
        let Ok(uid) = uid.parse::<u32>() else {
            continue;
        };
        let no_login = shell.ends_with("nologin") || shell.ends_with("/false") || shell.is_empty();
        if (uid != 0 && uid < 1000) || uid == 65534 || no_login {
            continue;
        }
        let mut evidence = Vec::new();
        let password = shadow.lines().find_map(|l| {
            let mut it = l.splitn(3, ':');
            (it.next() == Some(*name)).then(|| password_state(it.next().unwrap_or("")))
        });
        let word = match password {
            Some(PasswordState::Set) => "password set",
            Some(PasswordState::Locked) => "password locked",
            Some(PasswordState::Empty) => "password empty",
            None => "no shadow entry",
        };
        evidence.push(Evidence::file("/etc/shadow", format!("{name}: {word}")));
        let keys_path = join(home, ".ssh/authorized_keys");
        let authorized_keys = super::services::read_text(g, &keys_path, 1 << 20).and_then(|t| {
            let n = t
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .count();
            (n > 0).then(|| Evidence::file(&keys_path, format!("{n} keys")))
        });
        if let Some(e) = &authorized_keys {
            evidence.push(e.clone());
        }
        out.push(Account {
            name: name.to_string(),
            uid,
            shell: shell.to_string(),
            password,
            authorized_keys,
            evidence,
        });
    }
    out
}

fn firewalls(g: &dyn GuestFiles) -> Vec<Firewall> {
    let mut out = Vec::new();
    // firewalld: default zone, its services (the /etc zone file overrides
    // the vendor one).
    let fwd = unit_state(g, "firewalld.service", None);
    if fwd.installed() {
        let conf = "/etc/firewalld/firewalld.conf";
        let zone = read_config(g, conf)
            .and_then(|t| last_value(&shell_assignments(&t), "DefaultZone").map(str::to_string))
            .unwrap_or_else(|| "public".to_string());
        let mut evidence = vec![Evidence::file(conf, format!("DefaultZone={zone}"))];
        let zone_file = [
            format!("/etc/firewalld/zones/{zone}.xml"),
            format!("/usr/lib/firewalld/zones/{zone}.xml"),
        ]
        .into_iter()
        .find_map(|p| read_config(g, &p).map(|t| (p, t)));
        let allows_ssh = zone_file.map(|(p, t)| {
            let ssh = t.contains("<service name=\"ssh\"")
                || t.contains("port=\"22\"")
                || t.contains("target=\"ACCEPT\"");
            evidence.push(Evidence::file(
                &p,
                if ssh {
                    "allows ssh"
                } else {
                    "no ssh service or port 22"
                },
            ));
            ssh
        });
        evidence.extend(fwd.evidence());
        out.push(Firewall {
            kind: "firewalld".into(),
            enabled: fwd.enabled(),
            allows_ssh,
            evidence,
        });
    }
    // ufw: ENABLED=yes and a rule for 22/tcp or OpenSSH.
    let ufw_conf = "/etc/ufw/ufw.conf";
    if let Some(text) = read_config(g, ufw_conf) {
        let enabled = last_value(&shell_assignments(&text), "ENABLED")
            .map(str::to_string)
            .is_some_and(|v| v.eq_ignore_ascii_case("yes"));
        let mut evidence = vec![Evidence::file(
            ufw_conf,
            format!("ENABLED={}", if enabled { "yes" } else { "no" }),
        )];
        let rules = "/etc/ufw/user.rules";
        let allows_ssh = read_config(g, rules).map(|t| {
            let ssh = t.lines().any(|l| {
                l.starts_with("### tuple ### allow")
                    && (l.contains(" 22 ") || l.contains("OpenSSH"))
            });
            evidence.push(Evidence::file(
                rules,
                if ssh {
                    "allow rule for 22/OpenSSH"
                } else {
                    "no allow rule for 22"
                },
            ));
            ssh
        });
        out.push(Firewall {
            kind: "ufw".into(),
            enabled,
            allows_ssh,
            evidence,
        });
    }
    // iptables-services and nftables: saved rule files; only a plain
    // "--dport 22 -j ACCEPT" / "tcp dport 22 accept" is recognised.
    for (kind, unit, files) in [
        (
            "iptables",
            "iptables.service",
            &["/etc/sysconfig/iptables", "/etc/iptables/rules.v4"][..],
        ),
        (
            "nftables",
            "nftables.service",
            &["/etc/sysconfig/nftables.conf", "/etc/nftables.conf"][..],
        ),
    ] {
        let st = unit_state(g, unit, None);
        let found = files
            .iter()
            .find_map(|p| read_config(g, p).map(|t| (*p, t)));
        let Some((path, text)) = found else {
            continue;
        };
        let ssh = text.lines().any(|l| {
            (l.contains("--dport 22") && l.contains("ACCEPT"))
                || (l.contains("dport 22") && l.contains("accept"))
                || l.contains("dport ssh")
        });
        let drops = text.contains("REJECT")
            || text.contains("DROP")
            || text.contains("drop")
            || text.contains("reject");
        let mut evidence = vec![Evidence::file(
            path,
            if ssh {
                "accepts port 22"
            } else if drops {
                "drops or rejects, no port 22 rule"
            } else {
                "no drop rule"
            },
        )];
        evidence.extend(st.evidence());
        out.push(Firewall {
            kind: kind.into(),
            enabled: st.enabled(),
            allows_ssh: if ssh {
                Some(true)
            } else if drops {
                Some(false)
            } else {
                None
            },
            evidence,
        });
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_fields() {
        assert_eq!(password_state("$6$salt$hash"), PasswordState::Set);
        assert_eq!(password_state("$y$j9T$x$y"), PasswordState::Set);
        assert_eq!(password_state("!$6$salt$hash"), PasswordState::Locked);
        assert_eq!(password_state("!!"), PasswordState::Locked);
        assert_eq!(password_state("*"), PasswordState::Locked);
        assert_eq!(password_state(""), PasswordState::Empty);
    }
}
