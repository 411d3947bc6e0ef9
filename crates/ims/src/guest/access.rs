//! LX-SSHD, LX-SSHD-CONFIG, LX-LOGIN-PATH, LX-FIREWALL, LX-SELINUX and
//! LX-BOOT-TARGET.

use imsprep_guest::linux::access::{AccessFacts, PasswordState};
use imsprep_guest::{Evidence, LinuxFacts};

use super::{fail, info, unknown, warn};
use crate::finding::{Code, Finding};

/// A way in without Cloud-Init: an account with a usable (or empty)
/// password for the console, or an authorized key with sshd enabled.
pub(crate) fn other_login_path(facts: &LinuxFacts) -> bool {
    let Some(a) = facts.access.get() else {
        return false;
    };
    let sshd = a.ssh.binary.is_some() && a.ssh.enabled();
    a.accounts.iter().any(|acc| {
        matches!(
            acc.password,
            Some(PasswordState::Set | PasswordState::Empty)
        ) || (sshd && acc.authorized_keys.is_some())
    })
}

pub(crate) fn check(facts: &LinuxFacts, cloud_init_ok: bool, out: &mut Vec<Finding>) {
    let Some(a) = facts.access.get() else {
        let reason = facts
            .access
            .unknown
            .clone()
            .unwrap_or_else(|| "no access facts were read".to_owned());
        out.push(unknown(
            Code::LxLoginPath,
            "/etc/shadow",
            format!("accounts and SSH could not be read: {reason}"),
            &facts.access.evidence,
        ));
        return;
    };
    sshd(a, out);
    sshd_config(a, facts, out);
    login_path(a, facts, cloud_init_ok, out);
    firewall(a, out);
    selinux(a, out);
    boot_target(a, out);
}

fn sshd(a: &AccessFacts, out: &mut Vec<Finding>) {
    let unit_ev: Vec<Evidence> = a.ssh.units.iter().flat_map(|u| u.evidence()).collect();
    let Some(bin) = &a.ssh.binary else {
        out.push(fail(
            Code::LxSshd,
            "/usr/sbin/sshd",
            "no SSH server is installed: only the remote console remains",
            &[Evidence::absent("/usr/sbin/sshd")],
        ));
        return;
    };
    if a.ssh.enabled() {
        return;
    }
    let masked = a.ssh.units.iter().any(|u| u.masked_by.is_some());
    let mut ev = vec![bin.clone()];
    ev.extend(unit_ev);
    out.push(fail(
        Code::LxSshd,
        "/usr/sbin/sshd",
        if masked {
            "sshd is installed but its unit is masked: only the remote console remains"
        } else {
            "sshd is installed but not enabled (no sshd.service, ssh.service or ssh.socket enable link, no SysV start link): only the remote console remains"
        },
        &ev,
    ));
}

fn wildcard(addr: &str) -> bool {
    let host = addr
        .rsplit_once(':')
        .filter(|(h, p)| {
            !h.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':')
        })
        .map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(host, "0.0.0.0" | "::" | "*" | "" | "0:0:0:0:0:0:0:0")
}

fn sshd_config(a: &AccessFacts, facts: &LinuxFacts, out: &mut Vec<Finding>) {
    if let Some(s) = a.ssh.setting("listenaddress") {
        let specific: Vec<&String> = s.values.iter().filter(|v| !wildcard(v)).collect();
        if !specific.is_empty() {
            let ev = [s.evidence.clone()];
            out.push(fail(
                Code::LxSshdConfig,
                &s.evidence.location,
                format!(
                    "sshd listens only on {}: the address belongs to the source machine, so the bind fails on ECS",
                    specific.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                ),
                &ev,
            ).with_fix("Remove the ListenAddress lines (sshd then listens on all addresses)."));
        }
    }
    if let Some(p) = a.ssh.setting("port") {
        if p.values.iter().any(|v| v.trim() != "22") {
            out.push(info(
                Code::LxSshdConfig,
                &p.evidence.location,
                format!(
                    "sshd listens on port {}: the security group must allow it",
                    p.values.join(", ")
                ),
                std::slice::from_ref(&p.evidence),
            ));
        }
    }
    let deletekeys = facts
        .cloud_init
        .get()
        .and_then(|c| c.setting("ssh_deletekeys"))
        .is_some_and(|s| s.value.trim().eq_ignore_ascii_case("true"));
    if !a.ssh.host_keys.is_empty() && !deletekeys {
        out.push(info(
            Code::LxSshdConfig,
            "/etc/ssh",
            format!(
                "SSH host keys are in the image ({}) and Cloud-Init will not replace them (ssh_deletekeys not true): every ECS from this image shares them",
                a.ssh.host_keys.join(", ")
            ),
            &[],
        ));
    }
}

fn login_path(a: &AccessFacts, facts: &LinuxFacts, cloud_init_ok: bool, out: &mut Vec<Finding>) {
    if cloud_init_ok || other_login_path(facts) {
        return;
    }
    let ev: Vec<Evidence> = a
        .accounts
        .iter()
        .flat_map(|acc| acc.evidence.clone())
        .collect();
    out.push(fail(
        Code::LxLoginPath,
        "/etc/shadow",
        format!(
            "no way in: Cloud-Init will not inject credentials, no account has a usable password ({} accounts with a login shell checked), and no account has an authorized SSH key with sshd enabled",
            a.accounts.len()
        ),
        &ev,
    ));
}

fn firewall(a: &AccessFacts, out: &mut Vec<Finding>) {
    for f in a.firewalls.iter().filter(|f| f.enabled) {
        let path = f.evidence.first().map_or("/etc", |e| e.location.as_str());
        match f.allows_ssh {
            Some(true) => {}
            Some(false) => out.push(warn(
                Code::LxFirewall,
                path,
                format!("{} is enabled and its rules do not allow TCP 22", f.kind),
                &f.evidence,
            )),
            None => out.push(unknown(
                Code::LxFirewall,
                path,
                format!(
                    "{} is enabled; whether it allows TCP 22 was not decided",
                    f.kind
                ),
                &f.evidence,
            )),
        }
    }
}

fn selinux(a: &AccessFacts, out: &mut Vec<Finding>) {
    if let Some(e) = &a.selinux.autorelabel {
        out.push(warn(
            Code::LxSelinux,
            "/.autorelabel",
            "/.autorelabel exists: the first boot relabels every file and reboots (slow)",
            std::slice::from_ref(e),
        ));
    }
    if let Some((mode, e)) = &a.selinux.mode {
        if mode.eq_ignore_ascii_case("enforcing") {
            out.push(info(
                Code::LxSelinux,
                &e.location,
                "SELinux is enforcing (supported)",
                std::slice::from_ref(e),
            ));
        }
    }
}

fn boot_target(a: &AccessFacts, out: &mut Vec<Finding>) {
    if let Some(t) = &a.default_target {
        if matches!(t.target.as_str(), "rescue.target" | "emergency.target") {
            out.push(fail(
                Code::LxBootTarget,
                &t.evidence.location,
                format!(
                    "the default target is {}: the system boots into a maintenance shell",
                    t.target
                ),
                std::slice::from_ref(&t.evidence),
            ));
        }
    }
    if let Some((level, e)) = &a.initdefault {
        if matches!(level.trim(), "1" | "S" | "s") {
            out.push(fail(
                Code::LxBootTarget,
                &e.location,
                format!("the SysV initdefault runlevel is {level}: single-user mode"),
                std::slice::from_ref(e),
            ));
        }
    }
}
