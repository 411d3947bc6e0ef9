//! Network, remote access and first-boot settings: WIN-DHCP, WIN-RDP,
//! WIN-RDP-FIREWALL, WIN-SAN-POLICY, WIN-CLOUDBASE-INIT, WIN-RTC,
//! WIN-PAGEFILE, WIN-DISPLAY-POWER.

use super::drivers::{installed_products, service, ServiceFacts};
use super::paths::find_file_ci;
use super::registry::Reg;
use crate::evidence::{Evidence, Fact};
use crate::files::GuestFiles;
use crate::text::CONFIG_LIMIT;

/// Most interfaces or adapters read.
const MAX_INTERFACES: usize = 256;

/// One TCP/IP interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    /// Interface GUID (key name).
    pub guid: String,
    /// `EnableDHCP`.
    pub enable_dhcp: Option<u32>,
    /// `IPAddress` (static addresses).
    pub ip_addresses: Vec<String>,
    /// `NameServer`.
    pub name_server: Option<String>,
    /// The adapter bound to it: `ComponentId` (`pci\ven_1af4&dev_1000…`).
    pub component_id: Option<String>,
    /// The adapter's `DriverDesc`.
    pub driver_desc: Option<String>,
}

impl Interface {
    /// A static configuration: DHCP off and a real address.
    pub fn is_static(&self) -> bool {
        self.enable_dhcp == Some(0)
            && self
                .ip_addresses
                .iter()
                .any(|a| !a.is_empty() && a != "0.0.0.0")
    }

    /// The adapter is a virtio-net device.
    pub fn is_virtio(&self) -> bool {
        self.component_id.as_deref().is_some_and(|c| {
            let c = c.to_ascii_lowercase();
            c.contains("ven_1af4&dev_1000") || c.contains("ven_1af4&dev_1041")
        })
    }
}

/// DHCP facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DhcpFacts {
    /// The `Dhcp` service.
    pub dhcp_service: ServiceFacts,
    /// The `Tcpip` service.
    pub tcpip_service: ServiceFacts,
    /// Interfaces with an address setting.
    pub interfaces: Vec<Interface>,
    /// Global `Tcpip\Parameters\NameServer`.
    pub global_name_server: Option<String>,
}

/// Network adapter class.
const NET_CLASS: &str = "{4D36E972-E325-11CE-BFC1-08002BE10318}";

/// Reads the DHCP facts.
pub fn dhcp(guest: &dyn GuestFiles, system: Reg<'_>, cs: &str, root: &str) -> Fact<DhcpFacts> {
    let mut ev = Vec::new();
    let mut f = DhcpFacts {
        dhcp_service: service(guest, system, cs, root, "Dhcp", &mut ev),
        tcpip_service: service(guest, system, cs, root, "Tcpip", &mut ev),
        ..DhcpFacts::default()
    };
    let params = format!("{cs}\\Services\\Tcpip\\Parameters");
    f.global_name_server = system
        .string(&params, "NameServer", &mut ev)
        .filter(|s| !s.trim().is_empty());
    // Adapters by NetCfgInstanceId.
    let class = format!("{cs}\\Control\\Class\\{NET_CLASS}");
    let mut adapters = Vec::new();
    let mut scratch = Vec::new();
    for k in system.subkey_names(&class).into_iter().take(MAX_INTERFACES) {
        let key = format!("{class}\\{k}");
        if let Some(id) = system.string(&key, "NetCfgInstanceId", &mut scratch) {
            adapters.push((
                id,
                system.string(&key, "ComponentId", &mut scratch),
                system.string(&key, "DriverDesc", &mut scratch),
                key,
            ));
        }
    }
    let ifs = format!("{params}\\Interfaces");
    for guid in system.subkey_names(&ifs).into_iter().take(MAX_INTERFACES) {
        let key = format!("{ifs}\\{guid}");
        let mut iev = Vec::new();
        let enable_dhcp = system.dword(&key, "EnableDHCP", &mut iev);
        let ip_addresses = system
            .multi(&key, "IPAddress", &mut iev)
            .unwrap_or_default();
        let name_server = system
            .string(&key, "NameServer", &mut iev)
            .filter(|s| !s.trim().is_empty());
        if enable_dhcp.is_none() && ip_addresses.is_empty() {
            continue;
        }
        ev.extend(iev);
        let adapter = adapters.iter().find(|a| a.0.eq_ignore_ascii_case(&guid));
        if let Some((_, cid, desc, akey)) = adapter {
            ev.push(Evidence::registry(
                format!("SYSTEM\\{akey}\\ComponentId"),
                cid.clone().unwrap_or_else(|| "absent".into()),
            ));
            let _ = desc;
        }
        f.interfaces.push(Interface {
            guid: guid.clone(),
            enable_dhcp,
            ip_addresses,
            name_server,
            component_id: adapter.and_then(|a| a.1.clone()),
            driver_desc: adapter.and_then(|a| a.2.clone()),
        });
    }
    Fact::found(f, ev)
}

/// Remote Desktop settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RdpFacts {
    /// `Control\Terminal Server\fDenyTSConnections`.
    pub deny: Option<u32>,
    /// Policy override `SOFTWARE\Policies\…\Terminal Services\fDenyTSConnections`.
    pub policy_deny: Option<u32>,
    /// `WinStations\RDP-Tcp\PortNumber`.
    pub port: Option<u32>,
    /// `WinStations\RDP-Tcp\UserAuthentication` (1 = NLA required).
    pub user_authentication: Option<u32>,
    /// `WinStations\RDP-Tcp\SecurityLayer`.
    pub security_layer: Option<u32>,
    /// The `TermService` service.
    pub term_service: ServiceFacts,
}

impl RdpFacts {
    /// Remote Desktop connections are denied by setting or policy
    /// (absent `fDenyTSConnections` means denied: Windows installs with 1).
    pub fn denied(&self) -> bool {
        self.policy_deny == Some(1) || (self.policy_deny.is_none() && self.deny != Some(0))
    }
}

/// Reads the RDP settings.
pub fn rdp(
    guest: &dyn GuestFiles,
    system: Reg<'_>,
    software: Reg<'_>,
    cs: &str,
    root: &str,
) -> Fact<RdpFacts> {
    let mut ev = Vec::new();
    let ts = format!("{cs}\\Control\\Terminal Server");
    let tcp = format!("{ts}\\WinStations\\RDP-Tcp");
    let f = RdpFacts {
        deny: system.dword(&ts, "fDenyTSConnections", &mut ev),
        policy_deny: software.dword(
            "Policies\\Microsoft\\Windows NT\\Terminal Services",
            "fDenyTSConnections",
            &mut ev,
        ),
        port: system.dword(&tcp, "PortNumber", &mut ev),
        user_authentication: system.dword(&tcp, "UserAuthentication", &mut ev),
        security_layer: system.dword(&tcp, "SecurityLayer", &mut ev),
        term_service: service(guest, system, cs, root, "TermService", &mut ev),
    };
    Fact::found(f, ev)
}

/// A firewall rule as stored (`v2.xx|Action=Allow|Active=TRUE|…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirewallRule {
    /// Rule ID (value name).
    pub id: String,
    /// `Action=`.
    pub action: Option<String>,
    /// `Active=TRUE`.
    pub active: bool,
    /// `Dir=`.
    pub dir: Option<String>,
    /// `Profile=` entries (`Public`, `Private`, `Domain`); empty = all.
    pub profiles: Vec<String>,
    /// `LPort=`.
    pub local_port: Option<String>,
}

impl FirewallRule {
    /// Parse a rule string.
    pub fn parse(id: &str, text: &str) -> FirewallRule {
        let mut r = FirewallRule {
            id: id.to_string(),
            ..FirewallRule::default()
        };
        for field in text.split('|') {
            let Some((k, v)) = field.split_once('=') else {
                continue;
            };
            match k.to_ascii_lowercase().as_str() {
                "action" => r.action = Some(v.to_string()),
                "active" => r.active = v.eq_ignore_ascii_case("true"),
                "dir" => r.dir = Some(v.to_string()),
                "profile" => r.profiles.push(v.to_string()),
                "lport" => r.local_port = Some(v.to_string()),
                _ => {}
            }
        }
        r
    }

    /// Active, allowing, inbound, and covering the Public profile.
    pub fn allows_public(&self) -> bool {
        self.active
            && self
                .action
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("allow"))
            && self
                .dir
                .as_deref()
                .is_none_or(|d| d.eq_ignore_ascii_case("in"))
            && (self.profiles.is_empty()
                || self
                    .profiles
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case("public")))
    }
}

/// Firewall facts for RDP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirewallFacts {
    /// `EnableFirewall` per profile (`Domain`, `Standard`, `Public`):
    /// the policy store's value when set, else the local one.
    pub enabled: Vec<(String, Option<u32>)>,
    /// The RDP rules found by ID (`RemoteDesktop-UserMode-In-TCP`/`-UDP`).
    pub rules: Vec<FirewallRule>,
    /// The `MpsSvc` service (Windows Firewall).
    pub mpssvc: ServiceFacts,
}

impl FirewallFacts {
    /// The firewall filters the Public profile (a new network is Public).
    pub fn public_enabled(&self) -> bool {
        let svc_off = self.mpssvc.present && self.mpssvc.start == Some(4);
        !svc_off
            && self
                .enabled
                .iter()
                .find(|(p, _)| p == "Public")
                .is_none_or(|(_, v)| *v != Some(0))
    }

    /// An RDP TCP rule lets Public traffic in.
    pub fn rdp_allowed(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.id.to_ascii_uppercase().ends_with("-TCP") && r.allows_public())
    }
}

/// RDP rule IDs (not display names, which are localised).
pub const RDP_RULES: &[&str] = &[
    "RemoteDesktop-UserMode-In-TCP",
    "RemoteDesktop-UserMode-In-UDP",
    "RemoteDesktop-In-TCP",
];

/// Reads the firewall facts.
pub fn rdp_firewall(
    guest: &dyn GuestFiles,
    system: Reg<'_>,
    software: Reg<'_>,
    cs: &str,
    root: &str,
) -> Fact<FirewallFacts> {
    let mut ev = Vec::new();
    let base = format!("{cs}\\Services\\SharedAccess\\Parameters\\FirewallPolicy");
    let mut f = FirewallFacts::default();
    for profile in ["DomainProfile", "StandardProfile", "PublicProfile"] {
        let policy = software.dword(
            &format!("Policies\\Microsoft\\WindowsFirewall\\{profile}"),
            "EnableFirewall",
            &mut ev,
        );
        let local = policy
            .or_else(|| system.dword(&format!("{base}\\{profile}"), "EnableFirewall", &mut ev));
        f.enabled
            .push((profile.trim_end_matches("Profile").to_string(), local));
    }
    for id in RDP_RULES {
        for (hive, key) in [
            (
                software,
                "Policies\\Microsoft\\WindowsFirewall\\FirewallRules".to_string(),
            ),
            (system, format!("{base}\\FirewallRules")),
        ] {
            if let Some(text) = hive.string(&key, id, &mut ev) {
                f.rules.push(FirewallRule::parse(id, &text));
                break;
            }
        }
    }
    f.mpssvc = service(guest, system, cs, root, "MpsSvc", &mut ev);
    Fact::found(f, ev)
}

/// Reads `partmgr\Parameters\SanPolicy`.
pub fn san_policy(system: Reg<'_>, cs: &str) -> Fact<u32> {
    let mut ev = Vec::new();
    match system.dword(
        &format!("{cs}\\Services\\partmgr\\Parameters"),
        "SanPolicy",
        &mut ev,
    ) {
        Some(v) => Fact::found(v, ev),
        None => Fact::absent(ev),
    }
}

/// Cloudbase-Init.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudbaseInit {
    /// `SOFTWARE\Cloudbase Solutions\Cloudbase-Init` exists.
    pub registry_key: bool,
    /// The `cloudbase-init` service.
    pub service: ServiceFacts,
    /// Uninstall `DisplayName` starting "Cloudbase-Init".
    pub product: Option<String>,
    /// Guest path of `cloudbase-init.conf`, if found.
    pub conf: Option<String>,
    /// `metadata_services` from the conf files.
    pub metadata_services: Option<String>,
    /// `real_time_clock_utc`.
    pub real_time_clock_utc: Option<String>,
    /// `plugins`.
    pub plugins: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `netbios_host_name_compatibility`.
    pub netbios_host_name_compatibility: Option<String>,
    /// `[openstack] add_metadata_private_ip_route`.
    pub add_metadata_private_ip_route: Option<String>,
    /// Per-instance plugin state subkeys from a previous instance.
    pub instance_state: Vec<String>,
}

impl CloudbaseInit {
    /// Installed by any sign.
    pub fn installed(&self) -> bool {
        self.service.present || self.registry_key || self.product.is_some()
    }

    /// The configured plugins include a WinRM plugin.
    pub fn winrm_plugins(&self) -> bool {
        self.plugins
            .as_deref()
            .is_some_and(|p| p.to_ascii_lowercase().contains("winrm"))
    }
}

/// Install directory of Cloudbase-Init.
pub const CLOUDBASE_DIR: &str = "/Program Files/Cloudbase Solutions/Cloudbase-Init";

/// `key = value` from an INI file's `[DEFAULT]` section (or no section).
fn ini_default(text: &str, key: &str) -> Option<String> {
    ini_value(text, "default", key)
}

/// `key = value` from section `wanted` (lower case) of an INI file; the
/// last one wins, as in oslo.config.
fn ini_value(text: &str, wanted: &str, key: &str) -> Option<String> {
    let mut section = String::from("default");
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.trim().to_ascii_lowercase();
            continue;
        }
        if section != wanted {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim().eq_ignore_ascii_case(key) {
                found = Some(v.trim().to_string());
            }
        }
    }
    found
}

/// Reads Cloudbase-Init.
pub fn cloudbase_init(
    guest: &dyn GuestFiles,
    system: Reg<'_>,
    software: Reg<'_>,
    cs: &str,
    root: &str,
) -> Fact<CloudbaseInit> {
    let mut ev = Vec::new();
    let mut c = CloudbaseInit {
        registry_key: software.exists("Cloudbase Solutions\\Cloudbase-Init", &mut ev),
        service: service(guest, system, cs, root, "cloudbase-init", &mut ev),
        ..CloudbaseInit::default()
    };
    for (loc, name) in installed_products(software) {
        if name.to_ascii_lowercase().starts_with("cloudbase-init") {
            ev.push(Evidence::registry(loc, format!("\"{name}\"")));
            c.product = Some(name);
            break;
        }
    }
    // Instance state: Cloudbase-Init\<instance id>\Plugins.
    c.instance_state = software
        .subkey_names("Cloudbase Solutions\\Cloudbase-Init")
        .into_iter()
        .take(64)
        .collect();
    for conf in ["cloudbase-init.conf", "cloudbase-init-unattend.conf"] {
        let path = format!("{CLOUDBASE_DIR}/conf/{conf}");
        let Ok(Some(found)) = find_file_ci(guest, &path) else {
            continue;
        };
        let text = match guest.read_file(&found, CONFIG_LIMIT) {
            Ok(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(None) => continue,
            Err(e) => {
                ev.push(Evidence::file(&found, format!("unreadable: {e}")));
                continue;
            }
        };
        let main = conf == "cloudbase-init.conf";
        if main {
            c.conf = Some(found.clone());
        }
        for (key, slot) in [
            ("metadata_services", &mut c.metadata_services),
            ("real_time_clock_utc", &mut c.real_time_clock_utc),
            ("plugins", &mut c.plugins),
            ("username", &mut c.username),
            (
                "netbios_host_name_compatibility",
                &mut c.netbios_host_name_compatibility,
            ),
        ] {
            if let Some(v) = ini_default(&text, key) {
                ev.push(Evidence::file(&found, format!("{key} = {v}")));
                if main || slot.is_none() {
                    *slot = Some(v);
                }
            }
        }
        if let Some(v) = ini_value(&text, "openstack", "add_metadata_private_ip_route") {
            ev.push(Evidence::file(
                &found,
                format!("[openstack] add_metadata_private_ip_route = {v}"),
            ));
            if main || c.add_metadata_private_ip_route.is_none() {
                c.add_metadata_private_ip_route = Some(v);
            }
        }
    }
    if c.conf.is_none() {
        ev.push(Evidence::absent(format!(
            "{CLOUDBASE_DIR}/conf/cloudbase-init.conf"
        )));
    }
    Fact::found(c, ev)
}

/// Reads `TimeZoneInformation\RealTimeIsUniversal` (DWORD or QWORD).
pub fn rtc(system: Reg<'_>, cs: &str) -> Fact<u64> {
    let mut ev = Vec::new();
    match system.qword(
        &format!("{cs}\\Control\\TimeZoneInformation"),
        "RealTimeIsUniversal",
        &mut ev,
    ) {
        Some(v) => Fact::found(v, ev),
        None => Fact::absent(ev),
    }
}

/// Page file settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pagefile {
    /// `PagingFiles` entries (`C:\pagefile.sys 0 0`, `?:\pagefile.sys`).
    pub paging_files: Vec<String>,
    /// `ExistingPageFiles`.
    pub existing: Vec<String>,
    /// `C:\pagefile.sys` exists.
    pub pagefile_sys: bool,
    /// `C:\swapfile.sys` exists.
    pub swapfile_sys: bool,
}

impl Pagefile {
    /// Drive letters other than `C` that page files are configured on.
    pub fn other_drives(&self) -> Vec<String> {
        self.paging_files
            .iter()
            .filter_map(|p| {
                let p = p.trim().trim_start_matches("\\??\\");
                let d = p.chars().next()?;
                (p.get(1..2) == Some(":")
                    && d.is_ascii_alphabetic()
                    && !d.eq_ignore_ascii_case(&'c'))
                .then(|| format!("{}:", d.to_ascii_uppercase()))
            })
            .collect()
    }

    /// Automatic sizing: `?:\pagefile.sys` or sizes `0 0`.
    pub fn automatic(&self) -> bool {
        self.paging_files.iter().any(|p| {
            let p = p.trim();
            p.starts_with('?') || p.ends_with(" 0 0")
        })
    }
}

/// Reads the page file settings.
pub fn pagefile(guest: &dyn GuestFiles, system: Reg<'_>, cs: &str) -> Fact<Pagefile> {
    let mut ev = Vec::new();
    let key = format!("{cs}\\Control\\Session Manager\\Memory Management");
    let mut p = Pagefile {
        paging_files: system
            .multi(&key, "PagingFiles", &mut ev)
            .unwrap_or_default(),
        existing: system
            .multi(&key, "ExistingPageFiles", &mut ev)
            .unwrap_or_default(),
        ..Pagefile::default()
    };
    p.pagefile_sys = matches!(find_file_ci(guest, "/pagefile.sys"), Ok(Some(_)));
    p.swapfile_sys = matches!(find_file_ci(guest, "/swapfile.sys"), Ok(Some(_)));
    ev.push(Evidence::file(
        "/pagefile.sys",
        if p.pagefile_sys { "present" } else { "absent" },
    ));
    Fact::found(p, ev)
}

/// Display timeout of the active power scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisplayPower {
    /// `ActivePowerScheme` GUID.
    pub active_scheme: Option<String>,
    /// Display idle timeout on AC power, seconds (0 = never), when the
    /// scheme overrides it.
    pub display_timeout_ac: Option<u32>,
}

/// Display subgroup and its idle-timeout setting.
const DISPLAY_SUBGROUP: &str = "7516b95f-f776-4464-8c53-06167f40cc99";
const DISPLAY_IDLE: &str = "3c0bc021-c8a8-4e07-a973-6b14cbcb2b7e";

/// Reads the display power setting (advisory).
pub fn display_power(system: Reg<'_>, cs: &str) -> Fact<DisplayPower> {
    let mut ev = Vec::new();
    let schemes = format!("{cs}\\Control\\Power\\User\\PowerSchemes");
    let active = system.string(&schemes, "ActivePowerScheme", &mut ev);
    let timeout = active.as_deref().and_then(|g| {
        system.dword(
            &format!("{schemes}\\{g}\\{DISPLAY_SUBGROUP}\\{DISPLAY_IDLE}"),
            "ACSettingIndex",
            &mut ev,
        )
    });
    if active.is_none() {
        return Fact::absent(ev);
    }
    Fact::found(
        DisplayPower {
            active_scheme: active,
            display_timeout_ac: timeout,
        },
        ev,
    )
}
