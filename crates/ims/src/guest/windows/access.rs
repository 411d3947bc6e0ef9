//! WIN-DHCP, WIN-RDP, WIN-RDP-FIREWALL, WIN-SAN-POLICY,
//! WIN-CLOUDBASE-INIT, WIN-RTC, WIN-PAGEFILE, WIN-DISPLAY-POWER.

use imsprep_guest::WindowsFacts;

use super::system::control_set_name;
use super::{fail, info, read, warn, NOT_VERIFIED};
use crate::finding::{Code, Finding};

pub(super) fn check(facts: &WindowsFacts, out: &mut Vec<Finding>) {
    let cs = control_set_name(facts);
    dhcp(facts, &cs, out);
    rdp(facts, &cs, out);
    rdp_firewall(facts, &cs, out);
    san_policy(facts, &cs, out);
    cloudbase_init(facts, &cs, out);
    rtc(facts, &cs, out);
    pagefile(facts, &cs, out);
    display_power(facts, &cs, out);
}

fn dhcp(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.dhcp;
    let path = format!("SYSTEM\\{cs}\\Services\\Tcpip\\Parameters\\Interfaces");
    let Some(d) = read(fact, Code::WinDhcp, &path, "the TCP/IP settings", out) else {
        return;
    };
    let ev = &fact.evidence;
    for s in [&d.dhcp_service, &d.tcpip_service] {
        let spath = format!("SYSTEM\\{cs}\\Services\\{}", s.name);
        if !s.present {
            out.push(fail(
                Code::WinDhcp,
                &spath,
                format!("the {} service is not installed", s.name),
                ev,
            ));
        } else if s.start == Some(4) {
            out.push(fail(
                Code::WinDhcp,
                &spath,
                format!(
                    "the {} service is disabled (Start=4): no address from DHCP",
                    s.name
                ),
                ev,
            ));
        }
    }
    for i in d.interfaces.iter().filter(|i| i.is_static()) {
        let ipath = format!("{path}\\{}", i.guid);
        let addrs = i.ip_addresses.join(", ");
        if i.is_virtio() {
            out.push(fail(
                Code::WinDhcp,
                &ipath,
                format!(
                    "the virtio NIC ({}) has the static address {addrs} (EnableDHCP=0); the same device can reappear on the cloud with it",
                    i.component_id.as_deref().unwrap_or_default()
                ),
                ev,
            ));
        } else {
            out.push(warn(
                Code::WinDhcp,
                &ipath,
                format!(
                    "adapter {} has the static address {addrs} (EnableDHCP=0); IMS requires DHCP",
                    i.driver_desc.as_deref().unwrap_or(&i.guid)
                ),
                ev,
            ));
        }
    }
    if let Some(ns) = &d.global_name_server {
        out.push(warn(
            Code::WinDhcp,
            &format!("SYSTEM\\{cs}\\Services\\Tcpip\\Parameters"),
            format!("static DNS servers are set globally ({ns}); the cloud's DNS servers from DHCP are not used"),
            ev,
        ));
    }
}

fn rdp(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.rdp;
    let path = format!("SYSTEM\\{cs}\\Control\\Terminal Server");
    let Some(r) = read(
        fact,
        Code::WinRdp,
        &path,
        "the Remote Desktop settings",
        out,
    ) else {
        return;
    };
    let ev = &fact.evidence;
    if r.denied() {
        let by = if r.policy_deny == Some(1) {
            "by policy (SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services\\fDenyTSConnections = 1)".to_string()
        } else {
            match r.deny {
                Some(v) => format!("fDenyTSConnections = {v}"),
                None => "fDenyTSConnections is absent (Windows installs with 1)".to_string(),
            }
        };
        out.push(fail(
            Code::WinRdp,
            &path,
            format!("Remote Desktop connections are denied: {by}"),
            ev,
        ));
    }
    if r.term_service.present && r.term_service.start == Some(4) {
        out.push(fail(
            Code::WinRdp,
            &format!("SYSTEM\\{cs}\\Services\\TermService"),
            "the Remote Desktop service (TermService) is disabled (Start=4)",
            ev,
        ));
    }
    if let Some(port) = r.port.filter(|p| *p != 3389) {
        out.push(info(
            Code::WinRdp,
            &format!("{path}\\WinStations\\RDP-Tcp"),
            format!(
                "Remote Desktop listens on port {port}, not 3389: the security group must open it"
            ),
            ev,
        ));
    }
}

fn rdp_firewall(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.rdp_firewall;
    let path = format!("SYSTEM\\{cs}\\Services\\SharedAccess\\Parameters\\FirewallPolicy");
    let Some(f) = read(
        fact,
        Code::WinRdpFirewall,
        &path,
        "the firewall settings",
        out,
    ) else {
        return;
    };
    if !f.public_enabled() || f.rdp_allowed() {
        return;
    }
    let rules: Vec<String> = f
        .rules
        .iter()
        .map(|r| {
            format!(
                "{} (Active={}, Action={}, Profile={})",
                r.id,
                if r.active { "TRUE" } else { "FALSE" },
                r.action.as_deref().unwrap_or("?"),
                if r.profiles.is_empty() {
                    "all".to_string()
                } else {
                    r.profiles.join("+")
                }
            )
        })
        .collect();
    out.push(fail(
        Code::WinRdpFirewall,
        &path,
        format!(
            "the firewall filters the Public profile (a new network is Public) and no enabled rule lets Remote Desktop in on it: {}",
            if rules.is_empty() {
                "no RemoteDesktop-UserMode-In-TCP rule".to_string()
            } else {
                rules.join("; ")
            }
        ),
        &fact.evidence,
    ));
}

fn san_policy(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.san_policy;
    let path = format!("SYSTEM\\{cs}\\Services\\partmgr\\Parameters");
    if fact.unknown.is_some() {
        read(fact, Code::WinSanPolicy, &path, "SanPolicy", out);
        return;
    }
    let text = match fact.get() {
        Some(1) => return,
        Some(2) => "SanPolicy is 2 (OfflineShared)".to_string(),
        Some(3) => "SanPolicy is 3 (OfflineAll)".to_string(),
        Some(4) => "SanPolicy is 4 (OfflineInternal)".to_string(),
        Some(v) => format!("SanPolicy is {v} (unknown)"),
        None => format!("SanPolicy is not set: the OS default applies (server editions are commonly reported to default to OfflineShared{NOT_VERIFIED})"),
    };
    out.push(warn(
        Code::WinSanPolicy,
        &path,
        format!("{text}; attached data disks may stay offline (IMS asks for OnlineAll)"),
        &fact.evidence,
    ));
}

fn cloudbase_init(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.cloudbase_init;
    let path = format!("SYSTEM\\{cs}\\Services\\cloudbase-init");
    let Some(c) = read(fact, Code::WinCloudbaseInit, &path, "Cloudbase-Init", out) else {
        return;
    };
    let ev = &fact.evidence;
    if !c.installed() {
        out.push(fail(
            Code::WinCloudbaseInit,
            &path,
            "Cloudbase-Init is not installed: no password or key injection and no user data",
            ev,
        ));
        return;
    }
    if !c.service.present || c.service.start == Some(4) {
        out.push(fail(
            Code::WinCloudbaseInit,
            &path,
            if c.service.present {
                "the cloudbase-init service is disabled (Start=4)"
            } else {
                "Cloudbase-Init is installed but its service is not registered"
            },
            ev,
        ));
    }
    if let Some(ms) = &c.metadata_services {
        let l = ms.to_ascii_lowercase();
        if !l.contains("httpservice") && !l.contains("configdriveservice") {
            out.push(warn(
                Code::WinCloudbaseInit,
                c.conf.as_deref().unwrap_or(&path),
                format!("metadata_services = {ms} names neither the HTTP metadata service nor the config drive"),
                ev,
            ));
        }
    }
    let mut advice = Vec::new();
    if unset_or_true(c.netbios_host_name_compatibility.as_deref()) {
        advice.push("netbios_host_name_compatibility=false".to_string());
    }
    if unset_or_true(c.add_metadata_private_ip_route.as_deref()) {
        advice.push("[openstack] add_metadata_private_ip_route=False".to_string());
    }
    if c.username
        .as_deref()
        .is_some_and(|u| !u.eq_ignore_ascii_case("Administrator"))
    {
        advice.push("username=Administrator".to_string());
    }
    if c.service
        .object_name
        .as_deref()
        .is_some_and(|o| o.eq_ignore_ascii_case("LocalSystem"))
    {
        advice.push("the service not running as LocalSystem (an installer option)".to_string());
    }
    if !advice.is_empty() {
        out.push(info(
            Code::WinCloudbaseInit,
            c.conf.as_deref().unwrap_or(&path),
            format!("IMS recommends: {}", advice.join(", ")),
            ev,
        ));
    }
    if c.winrm_plugins() {
        out.push(info(
            Code::WinCloudbaseInit,
            c.conf.as_deref().unwrap_or(&path),
            "WinRM plug-ins are enabled; IMS calls them weak and recommends leaving them out",
            ev,
        ));
    }
    if !c.instance_state.is_empty() {
        out.push(info(
            Code::WinCloudbaseInit,
            "SOFTWARE\\Cloudbase Solutions\\Cloudbase-Init",
            format!(
                "per-instance plug-in state from a previous instance is kept ({}); plug-ins that already ran for it are skipped if the instance ID repeats",
                c.instance_state.join(", ")
            ),
            ev,
        ));
    }
}

/// An INI boolean that is absent or true (these options default to true).
fn unset_or_true(v: Option<&str>) -> bool {
    v.map_or(true, |v| {
        !(v.eq_ignore_ascii_case("false") || v == "0" || v.eq_ignore_ascii_case("no"))
    })
}

fn rtc(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.rtc;
    let path = format!("SYSTEM\\{cs}\\Control\\TimeZoneInformation");
    if fact.unknown.is_some() {
        read(fact, Code::WinRtc, &path, "RealTimeIsUniversal", out);
        return;
    }
    let utc = fact.get().is_some_and(|v| *v == 1);
    let cb = facts.cloudbase_init.get().filter(|c| c.installed());
    let cb_utc = cb.map(|c| {
        c.real_time_clock_utc
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    });
    let mut ev = fact.evidence.clone();
    ev.extend(
        facts
            .cloudbase_init
            .evidence
            .iter()
            .filter(|e| e.value.contains("real_time_clock_utc"))
            .cloned(),
    );
    match cb_utc {
        Some(cb_utc) if cb_utc != utc => out.push(warn(
            Code::WinRtc,
            &path,
            format!(
                "RealTimeIsUniversal is {} but Cloudbase-Init's real_time_clock_utc is {}: Cloudbase-Init resets the setting and the clock is off by the time-zone difference",
                if utc { "1" } else { "not 1" },
                cb_utc
            ),
            &ev,
        )),
        None if utc => out.push(info(
            Code::WinRtc,
            &path,
            "RealTimeIsUniversal = 1 (hardware clock in UTC) and no Cloudbase-Init to keep it",
            &ev,
        )),
        _ => {}
    }
}

fn pagefile(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.pagefile;
    let path = format!("SYSTEM\\{cs}\\Control\\Session Manager\\Memory Management");
    let Some(p) = read(
        fact,
        Code::WinPagefile,
        &path,
        "the page file settings",
        out,
    ) else {
        return;
    };
    let other = p.other_drives();
    if !other.is_empty() {
        out.push(warn(
            Code::WinPagefile,
            &path,
            format!(
                "a page file is configured on {} (PagingFiles {:?}); that drive is not in the image",
                other.join(", "),
                p.paging_files
            ),
            &fact.evidence,
        ));
    }
    if p.automatic() {
        out.push(info(
            Code::WinPagefile,
            &path,
            "the page file is sized automatically and may grow to many GiB; a fixed size is recommended",
            &fact.evidence,
        ));
    }
}

fn display_power(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.display_power;
    let path = format!("SYSTEM\\{cs}\\Control\\Power\\User\\PowerSchemes");
    if fact.unknown.is_some() {
        read(fact, Code::WinDisplayPower, &path, "the power scheme", out);
        return;
    }
    if let Some(t) = fact
        .get()
        .and_then(|d| d.display_timeout_ac)
        .filter(|t| *t > 0)
    {
        out.push(info(
            Code::WinDisplayPower,
            &path,
            format!("the active power plan turns the display off after {t} s; IMS asks for Never"),
            &fact.evidence,
        ));
    }
}
