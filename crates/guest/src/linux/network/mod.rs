//! Network configuration of a Linux guest: which stack brings up the NIC,
//! which profiles it has, whether they use DHCPv4, what interface names
//! and MAC addresses they are bound to, and what name the first NIC will
//! get on ECS.
//!
//! Read per stack (each parser is in its own file and takes text):
//! ifupdown `/etc/network/interfaces` with `source`/`source-directory`
//! includes ([`ifupdown`]); netplan `/etc/netplan/*.yaml`,
//! `/lib/netplan/*.yaml` ([`netplan`]); NetworkManager keyfiles
//! ([`keyfile`]); Red Hat and SUSE `ifcfg-*` ([`ifcfg`]);
//! systemd-networkd `.network` and `.link` files ([`networkd`]); udev
//! persistent-net rules and the rule generator ([`udev`]). Whether a
//! stack starts at boot comes from the shared services reader.
//!
//! Name on ECS: with `net.ifnames=0` on the kernel command line, or the
//! udev naming policy masked (`/etc/udev/rules.d/80-net-setup-link.rules`
//! → `/dev/null`, or `/etc/systemd/network/99-default.link` → `/dev/null`),
//! the first NIC is `eth0`; otherwise it gets a predictable name that the
//! image alone cannot tell (the spec leaves `ens3`/`enp0s3` to be verified
//! on ECS), so [`IfNaming::first_nic`] is `None`.

pub mod ifcfg;
pub mod ifupdown;
pub mod keyfile;
pub mod netplan;
pub mod networkd;
pub mod syntax;
pub mod udev;
pub mod yaml;

use std::collections::HashSet;

use super::services::{
    is_empty_file, link_target, list_dir, read_config, read_config_checked, ServiceIndex, UnitState,
};
use crate::text::{last_value, shell_assignments};
use crate::{Evidence, GuestFiles};

/// A network configuration system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stack {
    /// Debian ifupdown (`/etc/network/interfaces`).
    Ifupdown,
    /// Netplan (renders for networkd or NetworkManager).
    Netplan,
    /// NetworkManager.
    NetworkManager,
    /// systemd-networkd.
    Networkd,
    /// Red Hat `ifcfg` files (initscripts `network` service, or
    /// NetworkManager's ifcfg-rh plugin).
    RhIfcfg,
    /// SUSE wicked (`/etc/sysconfig/network/ifcfg-*`).
    Wicked,
}

/// Which interfaces a profile applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// An exact interface name.
    Name(String),
    /// A glob pattern (`en*`, `e*`).
    Pattern(String),
    /// A MAC address.
    Mac(String),
    /// A kernel driver (`virtio_net`).
    Driver(String),
    /// Any interface (NM profile without `interface-name`).
    Any,
}

/// One configuration profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetProfile {
    /// The stack whose file this is.
    pub stack: Stack,
    /// File read.
    pub file: String,
    /// Profile id (iface name, netplan key, connection id, file name).
    pub id: String,
    /// How it selects interfaces (all must match).
    pub matchers: Vec<Matcher>,
    /// Name the interface is renamed to (netplan `set-name`).
    pub set_name: Option<String>,
    /// Uses DHCPv4.
    pub dhcp4: bool,
    /// Has static IPv4 addresses.
    pub static_v4: bool,
    /// Brought up at boot (`auto`, `ONBOOT=yes`, `autoconnect`, …).
    pub at_boot: bool,
    /// The lines that decided the fields above.
    pub evidence: Vec<Evidence>,
}

impl NetProfile {
    /// Bound to a MAC address.
    pub fn mac_bound(&self) -> bool {
        self.matchers.iter().any(|m| matches!(m, Matcher::Mac(_)))
    }
    /// Whether the profile applies to the NIC an ECS instance gets: a
    /// virtio-net NIC with a new MAC address, named `name` when the name
    /// is known ([`IfNaming::first_nic`]). `None` when it depends on a
    /// name that is not known. A MAC matcher never matches (the MAC
    /// changes); a driver matcher matches `virtio_net`/`virtio-net`.
    pub fn matches_ecs_nic(&self, name: Option<&str>) -> Option<bool> {
        let mut unknown = false;
        for m in &self.matchers {
            let hit = match m {
                Matcher::Any => Some(true),
                Matcher::Mac(_) => Some(false),
                Matcher::Driver(d) => Some(d.replace('-', "_") == "virtio_net"),
                Matcher::Name(n) => name.map(|x| x == n),
                Matcher::Pattern(p) => name.map(|x| ifupdown::glob_match(p, x)).or_else(|| {
                    // An unknown name is a predictable one (`ens3`,
                    // `enp0s3`): `*`, `e*` and `en*` match all of them.
                    ["*", "e*", "en*"].contains(&p.as_str()).then_some(true)
                }),
            };
            match hit {
                Some(false) => return Some(false),
                None => unknown = true,
                Some(true) => {}
            }
        }
        if unknown {
            None
        } else {
            Some(true)
        }
    }

    /// The exact interface name it is bound to, if any.
    pub fn interface_name(&self) -> Option<&str> {
        self.matchers.iter().find_map(|m| match m {
            Matcher::Name(n) => Some(n.as_str()),
            _ => None,
        })
    }
}

/// How a configured interface name relates to the names on ECS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameClass {
    /// `ethN`: kernel naming.
    Kernel,
    /// A predictable name that could exist on KVM (`ens3`, `enp0s3`).
    Predictable,
    /// A name that comes from other virtual hardware (`ens160`, `ens192`,
    /// `ens33`, `eno*`, `enp*s0f*`, `em*`).
    ForeignHardware,
    /// Anything else (`bond0`, `lo`).
    Other,
}

/// Classifies an interface name.
pub fn classify_name(name: &str) -> NameClass {
    let digits_after = |p: &str| {
        name.strip_prefix(p)
            .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
    };
    if digits_after("eth") {
        return NameClass::Kernel;
    }
    if [
        "ens160", "ens192", "ens224", "ens256", "ens33", "ens34", "ens35",
    ]
    .contains(&name)
        || digits_after("em")
        || name.starts_with("eno")
        || (name.starts_with("enp") && name.contains("s0f"))
        || is_biosdevname_slot(name)
    {
        return NameClass::ForeignHardware;
    }
    if name.starts_with("ens") || name.starts_with("enp") || name.starts_with("enx") {
        return NameClass::Predictable;
    }
    NameClass::Other
}

/// biosdevname's PCI slot names `p<slot>p<port>` (Dell/HP hardware).
fn is_biosdevname_slot(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('p') else {
        return false;
    };
    let Some((slot, port)) = rest.split_once('p') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    digits(slot) && digits(port.split('_').next().unwrap_or(port))
}

/// What decides the first NIC's name on ECS.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IfNaming {
    /// `eth0` when predictable naming is off; `None` when the predictable
    /// name cannot be told from the image.
    pub first_nic: Option<String>,
    /// What turns predictable naming off (cmdline, masked udev policy).
    pub disabled_by: Vec<Evidence>,
    /// `net.ifnames=0` in `/etc/default/grub` (what the next
    /// `grub-mkconfig` writes), for the report.
    pub grub_default: Option<Evidence>,
}

/// Enablement of one stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackState {
    /// The stack.
    pub stack: Stack,
    /// Its service state (none for netplan, which is a generator).
    pub service: Option<UnitState>,
    /// Profiles of this stack were found.
    pub has_profiles: bool,
    /// Starts at boot.
    pub enabled: bool,
    /// Why `enabled` is what it is.
    pub evidence: Vec<Evidence>,
}

/// A file that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Guest path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// Network facts of a Linux guest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkFacts {
    /// Each stack found (configured or enabled).
    pub stacks: Vec<StackState>,
    /// Every profile read.
    pub profiles: Vec<NetProfile>,
    /// Netplan renderer (`networkd` default, or `NetworkManager`).
    pub netplan_renderer: Option<String>,
    /// NetworkManager `no-auto-default=` value and where.
    pub nm_no_auto_default: Option<(String, Evidence)>,
    /// First-NIC naming on ECS.
    pub naming: IfNaming,
    /// udev persistent-net rules and `.link` renames bound to a MAC.
    pub persistent_net: Vec<udev::PersistentRule>,
    /// The persistent-net rule generator and whether it is overridden.
    pub generator: Option<udev::Generator>,
    /// `/etc/sysconfig/network` `NOZEROCONF=` value.
    pub nozeroconf: Option<(String, Evidence)>,
    /// SUSE `/etc/sysconfig/network/dhcp` settings IMS asks to be `no`:
    /// (`DHCLIENT_SET_HOSTNAME`, `DHCLIENT_USE_LAST_LEASE`) values found.
    pub suse_dhcp: Vec<(String, String, Evidence)>,
    /// `/etc/resolv.conf`: a link (managed by a resolver service) or a
    /// static file and its `nameserver` lines.
    pub resolv_conf: Option<Evidence>,
    /// Files that could not be parsed.
    pub unreadable: Vec<Unreadable>,
}

impl NetworkFacts {
    /// The stacks that start at boot.
    pub fn enabled_stacks(&self) -> impl Iterator<Item = Stack> + '_ {
        self.stacks.iter().filter(|s| s.enabled).map(|s| s.stack)
    }
    /// Profiles of stacks that start at boot.
    pub fn active_profiles(&self) -> impl Iterator<Item = &NetProfile> + '_ {
        let enabled: Vec<Stack> = self.enabled_stacks().collect();
        self.profiles.iter().filter(move |p| {
            enabled.contains(&p.stack)
                || (p.stack == Stack::RhIfcfg && enabled.contains(&Stack::NetworkManager))
        })
    }
}

/// Whether the first ECS NIC gets an address by DHCPv4, and from what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstNicDhcp {
    /// A profile of an enabled stack, brought up at boot with DHCPv4,
    /// applies to the NIC (its file and id).
    Profile(String, String),
    /// NetworkManager is enabled, no profile applies, and it creates its
    /// automatic DHCP "Wired connection" (`no-auto-default` does not stop
    /// it).
    NetworkManagerDefault,
    /// Profiles apply, none with DHCPv4 at boot.
    NotDhcp,
    /// Whether a profile applies depends on the predictable name, which
    /// the image does not tell.
    DependsOnName,
    /// No profile of an enabled stack applies to the NIC.
    NoProfile,
}

impl NetworkFacts {
    /// Whether the first ECS NIC (named [`IfNaming::first_nic`], new MAC,
    /// virtio-net) gets an address by DHCPv4.
    pub fn first_nic_dhcp(&self) -> FirstNicDhcp {
        let name = self.naming.first_nic.as_deref();
        let mut applies = false;
        let mut unknown = false;
        for p in self.active_profiles().filter(|p| p.at_boot) {
            match p.matches_ecs_nic(name) {
                Some(true) if p.dhcp4 => {
                    return FirstNicDhcp::Profile(p.file.clone(), p.id.clone())
                }
                Some(true) => applies = true,
                Some(false) => {}
                None => unknown = true,
            }
        }
        if unknown {
            return FirstNicDhcp::DependsOnName;
        }
        if applies {
            return FirstNicDhcp::NotDhcp;
        }
        let nm = self.enabled_stacks().any(|s| s == Stack::NetworkManager);
        let blocked = self
            .nm_no_auto_default
            .as_ref()
            .is_some_and(|(v, _)| v.split(',').any(|x| x.trim() == "*"));
        if nm && !blocked {
            FirstNicDhcp::NetworkManagerDefault
        } else {
            FirstNicDhcp::NoProfile
        }
    }
}

/// Reads the network facts. `cmdline` is the default kernel command line
/// when the boot facts know it.
pub fn network_facts(g: &dyn GuestFiles, cmdline: Option<&str>) -> NetworkFacts {
    let mut facts = NetworkFacts::default();
    ifupdown::read(g, &mut facts);
    netplan::read(g, &mut facts);
    keyfile::read(g, &mut facts);
    ifcfg::read(g, &mut facts);
    networkd::read(g, &mut facts);
    udev::read(g, &mut facts);
    facts.naming = naming(g, cmdline);
    facts.stacks = stacks(g, &facts);
    if let Some(text) = read_config(g, "/etc/sysconfig/network") {
        let vars = shell_assignments(&text);
        if let Some(v) = last_value(&vars, "NOZEROCONF").map(str::to_string) {
            facts.nozeroconf = Some((
                v.clone(),
                Evidence::file("/etc/sysconfig/network", format!("NOZEROCONF={v}")),
            ));
        }
    }
    facts.resolv_conf = resolv_conf(g);
    let suse_dhcp = "/etc/sysconfig/network/dhcp";
    if let Some(text) = read_config(g, suse_dhcp) {
        let vars = shell_assignments(&text);
        for key in ["DHCLIENT_SET_HOSTNAME", "DHCLIENT_USE_LAST_LEASE"] {
            if let Some(v) = last_value(&vars, key).map(str::to_string) {
                facts.suse_dhcp.push((
                    key.to_string(),
                    v.clone(),
                    Evidence::file(suse_dhcp, format!("{key}={v}")),
                ));
            }
        }
    }
    facts
}

/// How `/etc/resolv.conf` is kept.
fn resolv_conf(g: &dyn GuestFiles) -> Option<Evidence> {
    let path = "/etc/resolv.conf";
    if let Some(t) = link_target(g, path) {
        return Some(Evidence::file(path, format!("-> {t}")));
    }
    let text = read_config(g, path)?;
    let servers: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(str::trim)
        .collect();
    Some(Evidence::file(
        path,
        format!("static file; nameserver {}", servers.join(", ")),
    ))
}

/// Whether each stack is configured and enabled.
fn stacks(g: &dyn GuestFiles, facts: &NetworkFacts) -> Vec<StackState> {
    let has = |s: Stack| facts.profiles.iter().any(|p| p.stack == s);
    let index = ServiceIndex::scan(g);
    let mut out = Vec::new();
    let services: [(Stack, &str, Option<&str>); 5] = [
        (Stack::Ifupdown, "networking.service", Some("networking")),
        (
            Stack::NetworkManager,
            "NetworkManager.service",
            Some("NetworkManager"),
        ),
        (Stack::Networkd, "systemd-networkd.service", None),
        (Stack::RhIfcfg, "network.service", Some("network")),
        (Stack::Wicked, "wicked.service", None),
    ];
    for (stack, unit, sysv) in services {
        let st = index.unit_state(g, unit, sysv);
        if !st.installed() && !has(stack) && !st.enabled() {
            continue;
        }
        let mut evidence = st.evidence();
        if evidence.is_empty() {
            evidence.push(Evidence::file(
                super::services::join("/etc/systemd/system", unit),
                "no unit file, no enable link",
            ));
        }
        out.push(StackState {
            stack,
            enabled: st.enabled(),
            has_profiles: has(stack),
            service: Some(st),
            evidence,
        });
    }
    if has(Stack::Netplan) {
        // Netplan is a generator: its files take effect when the renderer's
        // service starts.
        let renderer = facts.netplan_renderer.as_deref().unwrap_or("networkd");
        let backend = if renderer.eq_ignore_ascii_case("NetworkManager") {
            Stack::NetworkManager
        } else {
            Stack::Networkd
        };
        let backend_enabled = out.iter().any(|s| s.stack == backend && s.enabled);
        out.push(StackState {
            stack: Stack::Netplan,
            service: None,
            has_profiles: true,
            enabled: backend_enabled,
            evidence: vec![Evidence::file(
                "/etc/netplan",
                format!(
                    "renderer {renderer}; its service {}",
                    if backend_enabled {
                        "enabled"
                    } else {
                        "not enabled"
                    }
                ),
            )],
        });
    }
    out
}

/// What decides the first NIC's name.
fn naming(g: &dyn GuestFiles, cmdline: Option<&str>) -> IfNaming {
    let mut n = IfNaming::default();
    if let Some(cmd) = cmdline {
        for arg in cmd.split_whitespace() {
            if arg == "net.ifnames=0" {
                n.disabled_by
                    .push(Evidence::file("kernel command line", arg));
            }
        }
    }
    for path in [
        "/etc/udev/rules.d/80-net-setup-link.rules",
        "/etc/udev/rules.d/80-net-name-slot.rules",
        "/etc/systemd/network/99-default.link",
    ] {
        if link_target(g, path).as_deref() == Some("/dev/null") {
            n.disabled_by.push(Evidence::file(path, "-> /dev/null"));
        } else if path.ends_with(".rules") && is_empty_file(g, path) {
            n.disabled_by.push(Evidence::file(path, "empty file"));
        }
    }
    if let Some(text) = read_config(g, "/etc/default/grub") {
        for (k, v) in shell_assignments(&text) {
            if k.starts_with("GRUB_CMDLINE_LINUX")
                && v.split_whitespace().any(|a| a == "net.ifnames=0")
            {
                n.grub_default = Some(Evidence::file("/etc/default/grub", format!("{k}=\"{v}\"")));
            }
        }
    }
    if !n.disabled_by.is_empty() {
        n.first_nic = Some("eth0".to_string());
    }
    n
}

/// Reads a configuration file; one that exists but cannot be read (too
/// large, damaged) is noted in `unreadable` instead of being taken as
/// absent.
pub(crate) fn read_noted(
    g: &dyn GuestFiles,
    path: &str,
    unreadable: &mut Vec<Unreadable>,
) -> Option<String> {
    match read_config_checked(g, path) {
        Ok(text) => text,
        Err(e) => {
            unreadable.push(Unreadable {
                path: path.to_string(),
                reason: e.to_string(),
            });
            None
        }
    }
}

/// Files in `dirs` ending with `suffix`, a name in an earlier folder
/// hiding the same name in later ones (systemd and netplan precedence),
/// bounded by the folder listing limit.
pub(crate) fn config_files(g: &dyn GuestFiles, dirs: &[&str], suffix: &str) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for dir in dirs {
        for name in list_dir(g, dir) {
            if !name.ends_with(suffix) || !seen.insert(name.clone()) {
                continue;
            }
            out.push(super::services::join(dir, &name));
        }
    }
    out.sort_by(|a, b| a.rsplit('/').next().cmp(&b.rsplit('/').next()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified() {
        assert_eq!(classify_name("eth0"), NameClass::Kernel);
        assert_eq!(classify_name("ens3"), NameClass::Predictable);
        assert_eq!(classify_name("enp0s3"), NameClass::Predictable);
        assert_eq!(classify_name("ens192"), NameClass::ForeignHardware);
        assert_eq!(classify_name("ens33"), NameClass::ForeignHardware);
        assert_eq!(classify_name("eno1"), NameClass::ForeignHardware);
        assert_eq!(classify_name("enp3s0f0"), NameClass::ForeignHardware);
        assert_eq!(classify_name("em1"), NameClass::ForeignHardware);
        assert_eq!(classify_name("bond0"), NameClass::Other);
        assert_eq!(classify_name("p1p1"), NameClass::ForeignHardware);
    }

    fn profile(matchers: Vec<Matcher>) -> NetProfile {
        NetProfile {
            stack: Stack::Networkd,
            file: String::new(),
            id: String::new(),
            matchers,
            set_name: None,
            dhcp4: true,
            static_v4: false,
            at_boot: true,
            evidence: Vec::new(),
        }
    }

    #[test]
    fn profiles_against_the_ecs_nic() {
        let eth0 = profile(vec![Matcher::Name("eth0".into())]);
        assert_eq!(eth0.matches_ecs_nic(Some("eth0")), Some(true));
        assert_eq!(eth0.matches_ecs_nic(Some("ens3")), Some(false));
        assert_eq!(eth0.matches_ecs_nic(None), None);
        let en = profile(vec![Matcher::Pattern("en*".into())]);
        assert_eq!(en.matches_ecs_nic(None), Some(true));
        assert_eq!(en.matches_ecs_nic(Some("eth0")), Some(false));
        let mac = profile(vec![
            Matcher::Name("eth0".into()),
            Matcher::Mac("00:0c:29:ab:cd:ef".into()),
        ]);
        assert_eq!(mac.matches_ecs_nic(Some("eth0")), Some(false));
        assert_eq!(
            profile(vec![Matcher::Driver("virtio-net".into())]).matches_ecs_nic(None),
            Some(true)
        );
        assert_eq!(
            profile(vec![Matcher::Any]).matches_ecs_nic(None),
            Some(true)
        );
    }
}
