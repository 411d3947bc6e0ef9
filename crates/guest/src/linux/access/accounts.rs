//! Accounts that can log in: root and UID ≥ 1000 with a login shell from
//! `/etc/passwd`, their password state from `/etc/shadow` (reported only
//! as `set`, `locked` or `empty`: the hash is never kept), and their
//! `~/.ssh/authorized_keys`.

use std::collections::HashMap;

use crate::linux::services::{join, read_text};
use crate::{Evidence, GuestFiles};

/// Most `/etc/passwd` lines read.
pub const MAX_ACCOUNTS: usize = 100_000;
/// Most accounts whose `authorized_keys` are read.
pub const MAX_KEY_READS: usize = 256;
/// Read limit for `/etc/shadow` and `/etc/passwd`.
pub const ACCOUNTS_LIMIT: u64 = 8 << 20;

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

pub(super) fn accounts(g: &dyn GuestFiles) -> Vec<Account> {
    let passwd = read_text(g, "/etc/passwd", ACCOUNTS_LIMIT).unwrap_or_default();
    let shadow = read_text(g, "/etc/shadow", ACCOUNTS_LIMIT).unwrap_or_default();
    // Name -> password state, built once (the hash is dropped here).
    let states: HashMap<&str, PasswordState> = shadow
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            Some((it.next()?, password_state(it.next()?)))
        })
        .collect();
    let mut out = Vec::new();
    for line in passwd.lines().take(MAX_ACCOUNTS) {
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
        let password = states.get(name).copied();
        let word = match password {
            Some(PasswordState::Set) => "password set",
            Some(PasswordState::Locked) => "password locked",
            Some(PasswordState::Empty) => "password empty",
            None => "no shadow entry",
        };
        evidence.push(Evidence::file("/etc/shadow", format!("{name}: {word}")));
        let keys_path = join(home, ".ssh/authorized_keys");
        let keys_text = if out.len() < MAX_KEY_READS {
            read_text(g, &keys_path, 1 << 20)
        } else {
            evidence.push(Evidence::file(&keys_path, "not read (account limit)"));
            None
        };
        let authorized_keys = keys_text.and_then(|t| {
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
