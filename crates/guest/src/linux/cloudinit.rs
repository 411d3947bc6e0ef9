//! Cloud-init: installed, which version, whether it runs at boot, which
//! datasources it will try, the settings IMS asks about, and whether the
//! root partition grows.
//!
//! Read: the `cloud-init` program (`/usr/bin`, `/usr/local/bin` for pip
//! installs, `coreos-cloudinit`), the dpkg entry, the Python package's
//! `cloudinit/version.py` (`__VERSION__`) under
//! `/usr/lib*/python3*/site-packages|dist-packages` and
//! `/usr/local/lib*/…`; the systemd units (`cloud-init-local`,
//! `cloud-init` or its newer `cloud-init-network` + `cloud-init-main`,
//! `cloud-config`, `cloud-final`, `cloud-init.target`), SysV and Upstart
//! jobs; disable markers (`/etc/cloud/cloud-init.disabled`,
//! `cloud-init=disabled` on the kernel command line, `policy: disabled` in
//! `/etc/cloud/ds-identify.cfg`); the configuration `/etc/cloud/cloud.cfg`
//! then `/etc/cloud/cloud.cfg.d/*.cfg` in name order, merged as cloud-init
//! merges them (mappings merge, lists and scalars are replaced by the
//! later file). A `datasource_list` written as a block list is noted
//! separately: ds-identify reads only one-line flow lists.
//!
//! YAML goes through the bounded subset reader in
//! [`crate::linux::network::yaml`]; a file it cannot read is listed in
//! `unreadable` and left out of the merge.

use super::network::yaml::{self, Yaml};
use super::packages::InstalledPackages;
use super::services::{
    exists, join, list_dir, read_config, read_config_checked, sysv_start_links, unit_state,
    UnitState,
};
use crate::{Evidence, GuestFiles};

/// The units of the four stages and the target, current names first.
pub const UNITS: [&str; 7] = [
    "cloud-init-local.service",
    "cloud-init.service",
    "cloud-init-network.service",
    "cloud-init-main.service",
    "cloud-config.service",
    "cloud-final.service",
    "cloud-init.target",
];

/// Where the program is installed.
pub const PROGRAMS: [&str; 4] = [
    "/usr/bin/cloud-init",
    "/usr/local/bin/cloud-init",
    "/bin/cloud-init",
    "/usr/bin/coreos-cloudinit",
];

/// Where the growpart program is installed.
pub const GROWPART_PROGRAMS: [&str; 3] = [
    "/usr/bin/growpart",
    "/usr/sbin/growpart",
    "/usr/local/bin/growpart",
];

/// A configuration value and the file it was last set in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Dotted key, e.g. `system_info.default_user.lock_passwd`.
    pub key: String,
    /// Value as text (lists joined with `, `).
    pub value: String,
    /// The file that set it.
    pub evidence: Evidence,
}

/// Settings reported when present (LX-CLOUDINIT-CONFIG).
pub const REPORTED_SETTINGS: [&str; 11] = [
    "network.config",
    "datasource.OpenStack.apply_network_config",
    "datasource.OpenStack.metadata_urls",
    "manage_etc_hosts",
    "disable_root",
    "ssh_pwauth",
    "ssh_deletekeys",
    "system_info.default_user.lock_passwd",
    "system_info.default_user.name",
    "system_info.distro",
    "growpart.mode",
];

/// Cloud-init facts of a Linux guest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CloudInitFacts {
    /// Evidence of installation (program or package); empty if absent.
    pub installed_by: Vec<Evidence>,
    /// Version and where it was read.
    pub version: Option<(String, Evidence)>,
    /// State of each unit that is installed or enabled.
    pub units: Vec<UnitState>,
    /// SysV start links and Upstart jobs.
    pub legacy_jobs: Vec<Evidence>,
    /// What disables it (marker file, kernel argument, ds-identify policy).
    pub disabled_by: Vec<Evidence>,
    /// `/etc/cloud/ds-identify.cfg` `policy:` value.
    pub ds_identify_policy: Option<(String, Evidence)>,
    /// Effective `datasource_list` and the file that set it.
    pub datasource_list: Option<(Vec<String>, Evidence)>,
    /// Files that write `datasource_list` as a block (multi-line) list.
    pub datasource_list_multiline: Vec<Evidence>,
    /// `ci.ds=`/`ci.datasource=`/`ci.di.policy=` on the kernel command line.
    pub cmdline_overrides: Vec<Evidence>,
    /// Reported settings that are set ([`REPORTED_SETTINGS`]).
    pub settings: Vec<Setting>,
    /// Module names per stage (`cloud_init_modules`, ...), from the merge.
    pub modules: Vec<(String, Vec<String>)>,
    /// The growpart program, if installed.
    pub growpart_program: Option<Evidence>,
    /// `/var/lib/cloud/instance` left from a previous run.
    pub stale_instance: Option<Evidence>,
    /// Configuration files read, in merge order.
    pub config_files: Vec<String>,
    /// Files that could not be parsed, with the reason.
    pub unreadable: Vec<(String, String)>,
}

impl CloudInitFacts {
    /// Installed (program or package found).
    pub fn installed(&self) -> bool {
        !self.installed_by.is_empty()
    }
    /// `(major, minor)` of the version, if it parses.
    pub fn version_number(&self) -> Option<(u32, u32)> {
        let (v, _) = self.version.as_ref()?;
        let mut parts = v
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty());
        Some((
            parts.next()?.parse().ok()?,
            parts.next().unwrap_or("0").parse().ok()?,
        ))
    }
    /// A unit's state by name.
    pub fn unit(&self, name: &str) -> Option<&UnitState> {
        self.units.iter().find(|u| u.unit == name)
    }
    /// Units masked to `/dev/null`.
    pub fn masked_units(&self) -> impl Iterator<Item = &UnitState> {
        self.units.iter().filter(|u| u.masked_by.is_some())
    }
    /// A stage's module list contains `module` (`-` and `_` alike).
    pub fn module_listed(&self, stage: &str, module: &str) -> bool {
        let norm = |s: &str| s.replace('-', "_");
        self.modules
            .iter()
            .filter(|(s, _)| s == stage)
            .any(|(_, m)| m.iter().any(|x| norm(x) == norm(module)))
    }
    /// A reported setting's value.
    pub fn setting(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.key == key)
    }
}

/// Reads the cloud-init facts. `cmdline` is the default kernel command
/// line, if known; `packages` the package facts.
pub fn cloud_init_facts(
    g: &dyn GuestFiles,
    cmdline: Option<&str>,
    packages: Option<&InstalledPackages>,
) -> CloudInitFacts {
    let mut f = CloudInitFacts::default();
    for p in PROGRAMS {
        if exists(g, p) {
            f.installed_by.push(Evidence::file(p, "present"));
        }
    }
    if let Some(pk) = packages.and_then(|p| p.packages.get("cloud-init")) {
        f.installed_by.push(Evidence::file(
            super::packages::DPKG_STATUS,
            format!("cloud-init {} installed", pk.version),
        ));
        f.version = Some((
            upstream_version(&pk.version),
            Evidence::file(
                super::packages::DPKG_STATUS,
                format!("cloud-init {}", pk.version),
            ),
        ));
    }
    if f.version.is_none() {
        f.version = python_version(g);
        if let Some((_, ev)) = &f.version {
            if f.installed_by.is_empty() {
                f.installed_by.push(ev.clone());
            }
        }
    }
    for unit in UNITS {
        let st = unit_state(g, unit, None);
        if st.installed() || st.enabled() || st.masked_by.is_some() {
            f.units.push(st);
        }
    }
    for name in [
        "cloud-init-local",
        "cloud-init",
        "cloud-config",
        "cloud-final",
    ] {
        f.legacy_jobs.extend(
            sysv_start_links(g, name)
                .iter()
                .map(|l| Evidence::file(l, "SysV start link")),
        );
        let upstart = format!("/etc/init/{name}.conf");
        if exists(g, &upstart) {
            f.legacy_jobs.push(Evidence::file(upstart, "Upstart job"));
        }
    }
    let marker = "/etc/cloud/cloud-init.disabled";
    if exists(g, marker) {
        f.disabled_by.push(Evidence::file(marker, "present"));
    }
    if let Some(cmd) = cmdline {
        for arg in cmd.split_whitespace() {
            if arg == "cloud-init=disabled" {
                f.disabled_by
                    .push(Evidence::file("kernel command line", arg));
            }
            if ["ci.ds=", "ci.datasource=", "ci.di.policy="]
                .iter()
                .any(|p| arg.starts_with(p))
            {
                f.cmdline_overrides
                    .push(Evidence::file("kernel command line", arg));
            }
        }
    }
    let dsi = "/etc/cloud/ds-identify.cfg";
    if let Some(text) = read_config(g, dsi) {
        if let Some(policy) = ds_identify_policy(&text) {
            if policy.starts_with("disabled") {
                f.disabled_by
                    .push(Evidence::file(dsi, format!("policy: {policy}")));
            }
            f.ds_identify_policy = Some((
                policy.clone(),
                Evidence::file(dsi, format!("policy: {policy}")),
            ));
        }
    }
    read_config_files(g, &mut f);
    f.growpart_program = GROWPART_PROGRAMS
        .iter()
        .find(|p| exists(g, p))
        .map(|p| Evidence::file(*p, "present"));
    let instance = "/var/lib/cloud/instance";
    if exists(g, instance) || g.read_link(instance).ok().flatten().is_some() {
        f.stale_instance = Some(Evidence::file(instance, "present"));
    }
    f
}

/// Debian version `22.4.2-0ubuntu0~22.04.1` → upstream `22.4.2`.
fn upstream_version(v: &str) -> String {
    let v = v.split_once(':').map_or(v, |(_, r)| r);
    v.split('-').next().unwrap_or(v).to_string()
}

/// `cloudinit/version.py` `__VERSION__` in the Python library folders.
fn python_version(g: &dyn GuestFiles) -> Option<(String, Evidence)> {
    for base in [
        "/usr/lib",
        "/usr/lib64",
        "/usr/local/lib",
        "/usr/local/lib64",
    ] {
        for py in list_dir(g, base)
            .into_iter()
            .filter(|n| n.starts_with("python"))
        {
            for sub in ["site-packages", "dist-packages"] {
                let path = format!("{base}/{py}/{sub}/cloudinit/version.py");
                let Some(text) = read_config(g, &path) else {
                    continue;
                };
                let found = text.lines().find_map(|l| {
                    let (k, v) = l.split_once('=')?;
                    (k.trim() == "__VERSION__")
                        .then(|| v.trim().trim_matches(['"', '\'']).to_string())
                });
                if let Some(v) = found {
                    return Some((
                        v.clone(),
                        Evidence::file(path, format!("__VERSION__ = \"{v}\"")),
                    ));
                }
            }
        }
    }
    None
}

/// `policy:` from ds-identify.cfg (its own `key: value` lines).
fn ds_identify_policy(text: &str) -> Option<String> {
    text.lines().rev().find_map(|l| {
        let l = l.trim();
        let v = l.strip_prefix("policy:")?;
        Some(v.trim().to_string())
    })
}

/// Reads and merges cloud.cfg and cloud.cfg.d/*.cfg.
fn read_config_files(g: &dyn GuestFiles, f: &mut CloudInitFacts) {
    let mut files = vec!["/etc/cloud/cloud.cfg".to_string()];
    files.extend(
        list_dir(g, "/etc/cloud/cloud.cfg.d")
            .into_iter()
            .filter(|n| n.ends_with(".cfg"))
            .map(|n| join("/etc/cloud/cloud.cfg.d", &n)),
    );
    // Merged tree, and for each dotted key the file that set it last.
    let mut merged = Yaml::Map(Vec::new());
    let mut origin: Vec<(String, String)> = Vec::new();
    for file in files {
        let text = match read_config_checked(g, &file) {
            Ok(Some(text)) => text,
            Ok(None) => continue,
            Err(e) => {
                f.unreadable.push((file, e.to_string()));
                continue;
            }
        };
        f.config_files.push(file.clone());
        if has_block_datasource_list(&text) {
            f.datasource_list_multiline.push(Evidence::file(
                &file,
                "datasource_list: written as a block list",
            ));
        }
        match yaml::parse(&text) {
            Ok(doc) => {
                record_origins(&doc, "", &file, &mut origin, 0);
                merge(&mut merged, doc, 0);
            }
            Err(e) => f
                .unreadable
                .push((file, format!("line {}: {}", e.line, e.reason))),
        }
    }
    let from = |key: &str| {
        origin
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    };
    if let Some(list) = merged.get("datasource_list") {
        let names = list.string_list();
        let file = from("datasource_list");
        f.datasource_list = Some((
            names.clone(),
            Evidence::file(file, format!("datasource_list: [{}]", names.join(", "))),
        ));
    }
    for key in REPORTED_SETTINGS {
        let path: Vec<&str> = key.split('.').collect();
        if let Some(v) = merged.path(&path) {
            let value = match v {
                Yaml::Scalar(s) => s.clone(),
                Yaml::List(_) => v.string_list().join(", "),
                Yaml::Map(_) => "(mapping)".to_string(),
                Yaml::Null => String::new(),
            };
            f.settings.push(Setting {
                key: key.to_string(),
                evidence: Evidence::file(from(key), format!("{key}: {value}")),
                value,
            });
        }
    }
    for stage in [
        "cloud_init_modules",
        "cloud_config_modules",
        "cloud_final_modules",
    ] {
        if let Some(Yaml::List(items)) = merged.get(stage) {
            // An item is a name, `[name, frequency]` or `{name: …}`.
            let names = items
                .iter()
                .filter_map(|i| match i {
                    Yaml::Scalar(s) => Some(s.clone()),
                    Yaml::List(l) => l.first().and_then(Yaml::as_str).map(String::from),
                    Yaml::Map(_) => i.get("name").and_then(Yaml::as_str).map(String::from),
                    Yaml::Null => None,
                })
                .collect();
            f.modules.push((stage.to_string(), names));
        }
    }
}

/// `datasource_list:` with nothing after it (a block list follows).
fn has_block_datasource_list(text: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix("datasource_list:")
            .is_some_and(|rest| rest.split('#').next().unwrap_or("").trim().is_empty())
    })
}

/// Cloud-init's merge: mappings merge key by key, anything else is
/// replaced. Depth is bounded by the parser's limit.
fn merge(into: &mut Yaml, from: Yaml, depth: usize) {
    match (into, from) {
        (Yaml::Map(dst), Yaml::Map(src)) if depth <= yaml::MAX_DEPTH => {
            for (k, v) in src {
                match dst.iter_mut().rev().find(|(dk, _)| *dk == k) {
                    Some((_, existing)) => merge(existing, v, depth + 1),
                    None => dst.push((k, v)),
                }
            }
        }
        (dst, src) => *dst = src,
    }
}

/// Notes which file set each dotted key (mappings are descended).
fn record_origins(
    doc: &Yaml,
    prefix: &str,
    file: &str,
    out: &mut Vec<(String, String)>,
    depth: usize,
) {
    if depth > 4 {
        return;
    }
    for (k, v) in doc.entries() {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        out.push((key.clone(), file.to_string()));
        record_origins(v, &key, file, out, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_replaces_lists_and_merges_maps() {
        let mut a = yaml::parse("datasource_list: [NoCloud, OpenStack]\nsystem_info:\n  distro: ubuntu\n  default_user:\n    name: ubuntu\n").unwrap();
        let b = yaml::parse(
            "datasource_list: [None]\nsystem_info:\n  default_user:\n    lock_passwd: false\n",
        )
        .unwrap();
        merge(&mut a, b, 0);
        assert_eq!(a.get("datasource_list").unwrap().string_list(), ["None"]);
        assert_eq!(
            a.path(&["system_info", "distro"]).and_then(Yaml::as_str),
            Some("ubuntu")
        );
        assert_eq!(
            a.path(&["system_info", "default_user", "name"])
                .and_then(Yaml::as_str),
            Some("ubuntu")
        );
        assert_eq!(
            a.path(&["system_info", "default_user", "lock_passwd"])
                .and_then(Yaml::as_bool),
            Some(false)
        );
    }

    #[test]
    fn versions() {
        assert_eq!(upstream_version("22.4.2-0ubuntu0~22.04.1"), "22.4.2");
        assert_eq!(upstream_version("1:20.4.1-1"), "20.4.1");
        assert!(has_block_datasource_list("datasource_list:\n  - None\n"));
        assert!(!has_block_datasource_list("datasource_list: [ None ]\n"));
    }
}
