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
//! `/etc/cloud/ds-identify.cfg`); the growpart program and the stale
//! `/var/lib/cloud/instance`. The configuration files and their merge are
//! in [`config`].

pub mod config;

pub use config::{Setting, REPORTED_SETTINGS};

use super::network::Unreadable;
use super::packages::InstalledPackages;
use super::services::{exists, list_dir, read_config, sysv_start_links, ServiceIndex, UnitState};
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
    /// The systemd generator that enables `cloud-init.target` at boot
    /// unless a disable marker is present (cloud-init ≥ 0.7.9).
    pub generator: Option<Evidence>,
    /// What disables it (marker file, kernel argument, ds-identify policy).
    pub disabled_by: Vec<Evidence>,
    /// `/etc/cloud/ds-identify.cfg` `policy:` value.
    pub ds_identify_policy: Option<(String, Evidence)>,
    /// Effective `datasource_list` and the file that set it.
    pub datasource_list: Option<(Vec<String>, Evidence)>,
    /// Files that spread `datasource_list` over several lines (a block
    /// list, or a flow list not closed on its line).
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
    pub unreadable: Vec<Unreadable>,
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
    let services = ServiceIndex::scan(g);
    for unit in UNITS {
        let st = services.unit_state(g, unit, None);
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
    f.generator = [
        "/usr/lib/systemd/system-generators/cloud-init-generator",
        "/lib/systemd/system-generators/cloud-init-generator",
    ]
    .iter()
    .find(|p| exists(g, p))
    .map(|p| Evidence::file(*p, "present"));
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
    config::read_config_files(g, &mut f);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(upstream_version("22.4.2-0ubuntu0~22.04.1"), "22.4.2");
        assert_eq!(upstream_version("1:20.4.1-1"), "20.4.1");
    }
}
