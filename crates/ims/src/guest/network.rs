//! LX-NET-STACK, LX-NET-DHCP, LX-NET-IFNAME, LX-NET-MAC-BINDING and
//! LX-NOZEROCONF.

use imsprep_guest::linux::network::{
    classify_name, FirstNicDhcp, Matcher, NameClass, NetProfile, NetworkFacts, Stack,
};
use imsprep_guest::{Evidence, LinuxFacts};

use super::{fail, unknown, warn};
use crate::finding::{Code, Finding};

pub(crate) fn check(facts: &LinuxFacts, out: &mut Vec<Finding>) {
    let fact = &facts.network;
    let Some(n) = fact.get() else {
        let reason = fact
            .unknown
            .clone()
            .unwrap_or_else(|| "no network facts were read".to_owned());
        out.push(unknown(
            Code::LxNetStack,
            "/etc",
            format!("the network configuration could not be read: {reason}"),
            &fact.evidence,
        ));
        return;
    };
    for u in &n.unreadable {
        out.push(unknown(
            Code::LxNetDhcp,
            &u.path,
            format!("{} could not be parsed: {}", u.path, u.reason),
            &[],
        ));
    }
    if !stack(n, out) {
        return;
    }
    let dhcp_ok = dhcp(n, out);
    if dhcp_ok {
        ifname(n, out);
    }
    mac_binding(n, out);
    nozeroconf(n, out);
}

fn stack_evidence(n: &NetworkFacts) -> Vec<Evidence> {
    n.stacks.iter().flat_map(|s| s.evidence.clone()).collect()
}

/// LX-NET-STACK; false when no stack is enabled.
fn stack(n: &NetworkFacts, out: &mut Vec<Finding>) -> bool {
    let enabled: Vec<Stack> = n.enabled_stacks().collect();
    if enabled.is_empty() {
        let found: Vec<String> = n.stacks.iter().map(|s| format!("{:?}", s.stack)).collect();
        out.push(fail(
            Code::LxNetStack,
            "/etc/systemd/system",
            format!(
                "no network stack is enabled at boot (configured but not enabled: {}); nothing brings up the NIC",
                if found.is_empty() { "none".to_owned() } else { found.join(", ") }
            ),
            &stack_evidence(n),
        ));
        return false;
    }
    // Two stacks that each bring up the same interface name.
    let independent = |s: Stack| {
        matches!(
            s,
            Stack::Ifupdown
                | Stack::Networkd
                | Stack::NetworkManager
                | Stack::RhIfcfg
                | Stack::Wicked
        )
    };
    let active: Vec<&NetProfile> = n.active_profiles().filter(|p| p.at_boot).collect();
    for (i, a) in active.iter().enumerate() {
        for b in active.iter().skip(i + 1) {
            let same_stack = a.stack == b.stack
                || matches!(
                    (a.stack, b.stack),
                    (Stack::RhIfcfg, Stack::NetworkManager)
                        | (Stack::NetworkManager, Stack::RhIfcfg)
                );
            if same_stack || !independent(a.stack) || !independent(b.stack) {
                continue;
            }
            if let (Some(x), Some(y)) = (a.interface_name(), b.interface_name()) {
                if x == y && enabled.contains(&a.stack) && enabled.contains(&b.stack) {
                    let mut ev = a.evidence.clone();
                    ev.extend(b.evidence.clone());
                    out.push(
                        warn(
                            Code::LxNetStack,
                            &a.file,
                            format!(
                                "{x} is configured by two enabled stacks ({:?} in {}, {:?} in {})",
                                a.stack, a.file, b.stack, b.file
                            ),
                            &ev,
                        )
                        .with_fix(
                            "Keep one network stack for the interface and disable the other.",
                        ),
                    );
                    return true;
                }
            }
        }
    }
    true
}

fn dhcp_profiles(n: &NetworkFacts) -> Vec<&NetProfile> {
    n.active_profiles()
        .filter(|p| p.at_boot && p.dhcp4)
        .collect()
}

/// LX-NET-DHCP; true when DHCP will configure the NIC.
fn dhcp(n: &NetworkFacts, out: &mut Vec<Finding>) -> bool {
    let dhcp = dhcp_profiles(n);
    let statics: Vec<&NetProfile> = n
        .active_profiles()
        .filter(|p| p.at_boot && p.static_v4 && !p.dhcp4)
        .collect();
    let static_ev: Vec<Evidence> = statics.iter().flat_map(|p| p.evidence.clone()).collect();
    for (key, value, ev) in &n.suse_dhcp {
        if value.trim_matches(['"', '\'']).eq_ignore_ascii_case("yes") {
            out.push(
                warn(
                    Code::LxNetDhcp,
                    "/etc/sysconfig/network/dhcp",
                    format!("{key}={value}; IMS asks for \"no\""),
                    std::slice::from_ref(ev),
                )
                .with_fix(format!("Set {key}=\"no\" in /etc/sysconfig/network/dhcp.")),
            );
        }
    }
    let first = n.first_nic_dhcp();
    // A static profile that applies to the ECS NIC wins over DHCP profiles
    // for other names and over NetworkManager's automatic connection.
    let static_applies = first == FirstNicDhcp::NotDhcp;
    let dhcp_possible = match first {
        FirstNicDhcp::Profile(..) | FirstNicDhcp::NetworkManagerDefault => true,
        FirstNicDhcp::NotDhcp => false,
        // Which profile applies depends on the NIC's name (LX-NET-IFNAME).
        FirstNicDhcp::DependsOnName | FirstNicDhcp::NoProfile => !dhcp.is_empty(),
    };
    if !dhcp_possible {
        let text = if statics.is_empty() {
            "no active profile configures an interface by DHCPv4, and NetworkManager's automatic wired connection does not apply".to_owned()
        } else {
            format!(
                "{} ({}); the ECS NIC gets its address by DHCP",
                if static_applies {
                    "a static IPv4 profile applies to the ECS NIC"
                } else {
                    "only static IPv4 profiles are active"
                },
                statics
                    .iter()
                    .map(|p| format!("{} in {}", p.id, p.file))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut ev = static_ev;
        if let Some((_, e)) = &n.nm_no_auto_default {
            ev.push(e.clone());
        }
        ev.extend(stack_evidence(n));
        out.push(fail(Code::LxNetDhcp, "/etc", text, &ev));
        return false;
    }
    if !statics.is_empty() {
        out.push(warn(
            Code::LxNetDhcp,
            &statics[0].file,
            format!(
                "a static IPv4 profile coexists with DHCP ({}); it may be applied to a second NIC",
                statics
                    .iter()
                    .map(|p| format!("{} in {}", p.id, p.file))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &static_ev,
        ));
    }
    true
}

/// A simple shell glob (`*`, `?`).
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8], depth: usize) -> bool {
        if depth > 64 {
            return false;
        }
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                go(p.get(1..).unwrap_or(&[]), n, depth + 1)
                    || (!n.is_empty() && go(p, n.get(1..).unwrap_or(&[]), depth + 1))
            }
            (Some(b'?'), Some(_)) => go(
                p.get(1..).unwrap_or(&[]),
                n.get(1..).unwrap_or(&[]),
                depth + 1,
            ),
            (Some(a), Some(b)) if a == b => go(
                p.get(1..).unwrap_or(&[]),
                n.get(1..).unwrap_or(&[]),
                depth + 1,
            ),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes(), 0)
}

/// How well a profile will match the ECS NIC: 2 certainly, 1 maybe, 0 no.
fn match_level(p: &NetProfile, first_nic: Option<&str>) -> (u8, String) {
    let mut level = 2u8;
    let mut why = Vec::new();
    for m in &p.matchers {
        let (l, w) = match m {
            Matcher::Any => (2, "matches any interface".to_owned()),
            Matcher::Driver(d) => {
                if d.replace('-', "_") == "virtio_net" {
                    (2, format!("matches driver {d}"))
                } else {
                    (0, format!("matches driver {d}, not virtio_net"))
                }
            }
            Matcher::Pattern(pat) => {
                let certain = first_nic.is_some_and(|f| glob(pat, f));
                let maybe = ["ens3", "enp0s3", "eth0", "ens4"].iter().any(|c| glob(pat, c));
                if certain {
                    (2, format!("pattern {pat} matches {}", first_nic.unwrap_or("")))
                } else if maybe {
                    (2, format!("pattern {pat} matches the names a virtio NIC gets"))
                } else {
                    (0, format!("pattern {pat} matches no name a virtio NIC gets"))
                }
            }
            Matcher::Mac(mac) => (0, format!("bound to MAC {mac}")),
            Matcher::Name(name) => match classify_name(name) {
                NameClass::Kernel if first_nic == Some(name.as_str()) => {
                    (2, format!("{name} with predictable naming turned off"))
                }
                NameClass::Kernel => (
                    0,
                    format!("{name}, but predictable interface naming is on (no net.ifnames=0): the NIC will be named ens*/enp*"),
                ),
                NameClass::Predictable => (1, format!("{name}, a predictable name that cannot be proven offline (the ECS NIC's name is not verified on a live ECS)")),
                NameClass::ForeignHardware => (0, format!("{name}, a name from other virtual hardware")),
                NameClass::Other => (1, format!("{name}, not a NIC name the ECS NIC gets")),
            },
        };
        level = level.min(l);
        why.push(w);
    }
    if why.is_empty() {
        why.push("matches any interface".to_owned());
    }
    (level, why.join(", "))
}

/// LX-NET-IFNAME.
fn ifname(n: &NetworkFacts, out: &mut Vec<Finding>) {
    let dhcp = dhcp_profiles(n);
    if dhcp.is_empty() {
        return; // NetworkManager's automatic connection matches any NIC.
    }
    let first = n.naming.first_nic.as_deref();
    let judged: Vec<(u8, String, &NetProfile)> = dhcp
        .iter()
        .map(|p| {
            let (l, w) = match_level(p, first);
            (l, w, *p)
        })
        .collect();
    let best = judged.iter().map(|j| j.0).max().unwrap_or(0);
    // The guest crate's own judgement that a DHCP profile, or
    // NetworkManager's automatic connection, applies to the ECS NIC.
    let applies = matches!(
        n.first_nic_dhcp(),
        FirstNicDhcp::Profile(..) | FirstNicDhcp::NetworkManagerDefault
    );
    if best == 2 || applies {
        return;
    }
    let mut ev: Vec<Evidence> = judged.iter().flat_map(|j| j.2.evidence.clone()).collect();
    ev.extend(n.naming.disabled_by.clone());
    if let Some(g) = &n.naming.grub_default {
        ev.push(g.clone());
    }
    let desc: Vec<String> = judged
        .iter()
        .map(|(_, w, p)| format!("{} in {}: {w}", p.id, p.file))
        .collect();
    let path = dhcp.first().map_or("/etc", |p| p.file.as_str());
    if best == 1 {
        out.push(warn(
            Code::LxNetIfname,
            path,
            format!(
                "the DHCP profiles are bound to interface names that may not exist on ECS: {}",
                desc.join("; ")
            ),
            &ev,
        ));
    } else {
        out.push(fail(
            Code::LxNetIfname,
            path,
            format!(
                "no DHCP profile will match the ECS NIC: {}",
                desc.join("; ")
            ),
            &ev,
        ));
    }
}

/// Active DHCP configuration matches interfaces by pattern.
fn matches_by_pattern(n: &NetworkFacts) -> bool {
    dhcp_profiles(n).iter().any(|p| {
        p.matchers
            .iter()
            .any(|m| matches!(m, Matcher::Pattern(_) | Matcher::Driver(_) | Matcher::Any))
            || p.matchers.is_empty()
    })
}

/// LX-NET-MAC-BINDING.
fn mac_binding(n: &NetworkFacts, out: &mut Vec<Finding>) {
    let by_pattern = matches_by_pattern(n);
    for r in &n.persistent_net {
        let text = format!(
            "{} pins {} to the old MAC {}: the ECS NIC gets another name",
            r.file, r.name, r.mac
        );
        let ev = std::slice::from_ref(&r.evidence);
        if by_pattern {
            out.push(warn(
                Code::LxNetMacBinding,
                &r.file,
                format!("{text}; the DHCP profile matches by pattern, so the new NIC is still configured (not boot-tested)"),
                ev,
            ));
        } else {
            out.push(fail(Code::LxNetMacBinding, &r.file, text, ev));
        }
    }
    let dhcp = dhcp_profiles(n);
    if !dhcp.is_empty() && dhcp.iter().all(|p| p.mac_bound()) {
        let ev: Vec<Evidence> = dhcp.iter().flat_map(|p| p.evidence.clone()).collect();
        out.push(fail(
            Code::LxNetMacBinding,
            &dhcp[0].file,
            format!(
                "every DHCP profile is bound to a MAC address ({}); the ECS NIC has another",
                dhcp.iter()
                    .map(|p| format!("{} in {}", p.id, p.file))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &ev,
        ));
    }
    if let Some(g) = &n.generator {
        if g.overridden_by.is_none() {
            out.push(warn(
                Code::LxNetMacBinding,
                &g.file,
                format!("the persistent-net rule generator {} is active and not overridden: an ECS made from this image writes its first MAC into a rule, and its clones inherit it", g.file),
                &[Evidence::file(&g.file, "present"), Evidence::absent("/etc/udev/rules.d/75-persistent-net-generator.rules")],
            ));
        }
    }
}

/// LX-NOZEROCONF.
fn nozeroconf(n: &NetworkFacts, out: &mut Vec<Finding>) {
    let initscripts = n
        .stacks
        .iter()
        .any(|s| s.stack == Stack::RhIfcfg && s.enabled);
    if !initscripts {
        return;
    }
    let ok = n
        .nozeroconf
        .as_ref()
        .is_some_and(|(v, _)| v.trim_matches(['"', '\'']).eq_ignore_ascii_case("yes"));
    if !ok {
        let ev = match &n.nozeroconf {
            Some((_, e)) => vec![e.clone()],
            None => vec![Evidence::file("/etc/sysconfig/network", "no NOZEROCONF=")],
        };
        out.push(warn(
            Code::LxNozeroconf,
            "/etc/sysconfig/network",
            "the initscripts network service is active and NOZEROCONF=yes is missing",
            &ev,
        ));
    }
}
