//! Host firewalls and whether their saved rules let SSH in (heuristic):
//! firewalld (default zone, `/etc` zone file over the vendor one), ufw
//! (`ENABLED=yes`, user rules), iptables-services and nftables rule files
//! (a plain port-22 accept rule is recognised; anything else is left
//! undecided).

use crate::linux::services::{read_config, ServiceIndex};
use crate::text::{last_value, shell_assignments};
use crate::{Evidence, GuestFiles};

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

pub(super) fn firewalls(g: &dyn GuestFiles, services: &ServiceIndex) -> Vec<Firewall> {
    let mut out = Vec::new();
    // firewalld: default zone, its services (the /etc zone file overrides
    // the vendor one).
    let fwd = services.unit_state(g, "firewalld.service", None);
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
        let st = services.unit_state(g, unit, None);
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
