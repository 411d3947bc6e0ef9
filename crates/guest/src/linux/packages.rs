//! Installed packages.
//!
//! Debian-family guests: the dpkg status file `/var/lib/dpkg/status` is
//! read (stanzas separated by blank lines; a package counts as installed
//! when its `Status:` is `install ok installed`; `deinstall ok
//! config-files` and half-installed states do not). The file is text and
//! bounded by [`DPKG_STATUS_LIMIT`]; a larger one makes the fact unknown
//! rather than silently partial.
//!
//! RPM-family guests: the RPM database is Berkeley DB (`Packages`, RHEL
//! ≤ 8), SQLite (`rpmdb.sqlite`, RHEL 9, Fedora ≥ 33) or NDB
//! (`Packages.db`, SUSE ≥ 15 SP3). None of them is read here: reading
//! three database engines to learn package names is not worth the attack
//! surface when the checks can ask for the files the packages install.
//! The fact says "rpm database not read" and callers use [`has_file`].

use std::collections::BTreeMap;

use super::services::exists;
use crate::files::read_text;
use crate::{Evidence, Fact, GuestFiles};

/// Read limit for the dpkg status file (large desktops have ~10 MB).
pub const DPKG_STATUS_LIMIT: u64 = 64 << 20;

/// Where the dpkg status file lives.
pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";

/// RPM database files, newest layout first.
pub const RPM_DATABASES: [&str; 6] = [
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/Packages.db",
    "/var/lib/rpm/rpmdb.sqlite",
    "/var/lib/rpm/Packages.db",
    "/var/lib/rpm/Packages",
    "/usr/lib/sysimage/rpm/Packages",
];

/// Which package database the guest has and whether it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSource {
    /// dpkg status read.
    Dpkg,
    /// An RPM database exists at this path; it is not read.
    RpmNotRead {
        /// The database file found.
        database: String,
    },
    /// No package database found.
    None,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// `Version:` field.
    pub version: String,
    /// `Architecture:` field (empty if absent).
    pub arch: String,
}

/// The guest's installed packages as far as they can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPackages {
    /// Which database, and whether it was read.
    pub source: PackageSource,
    /// Installed packages by name (empty unless dpkg was read).
    pub packages: BTreeMap<String, Package>,
}

impl InstalledPackages {
    /// True when the package list is known (dpkg read).
    pub fn listed(&self) -> bool {
        matches!(self.source, PackageSource::Dpkg)
    }

    /// `Some(true/false)` when the list is known, `None` when it is not
    /// (RPM database not read), so callers fall back to files.
    pub fn has_package(&self, name: &str) -> Option<bool> {
        self.listed().then(|| self.packages.contains_key(name))
    }

    /// Installed packages whose name starts with `prefix`.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a Package> + 'a {
        self.packages
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(_, p)| p)
    }

    /// Evidence for a package lookup: the status file and the answer.
    pub fn evidence_for(&self, name: &str) -> Evidence {
        match &self.source {
            PackageSource::Dpkg => match self.packages.get(name) {
                Some(p) => Evidence::file(DPKG_STATUS, format!("{name} {} installed", p.version)),
                None => Evidence::file(DPKG_STATUS, format!("{name} not installed")),
            },
            PackageSource::RpmNotRead { database } => {
                Evidence::file(database, "rpm database not read")
            }
            PackageSource::None => Evidence::file(DPKG_STATUS, "no package database found"),
        }
    }
}

/// Reads the guest's package database (dpkg) or notes the RPM one.
/// Unknown when the dpkg status file exists but cannot be read (damaged,
/// or larger than [`DPKG_STATUS_LIMIT`]).
pub fn installed_packages(g: &dyn GuestFiles) -> Fact<InstalledPackages> {
    match read_text(g, DPKG_STATUS, DPKG_STATUS_LIMIT) {
        Ok(Some(text)) => {
            let packages = parse_dpkg_status(&text);
            let ev = Evidence::file(
                DPKG_STATUS,
                format!("{} packages installed", packages.len()),
            );
            return Fact::found(
                InstalledPackages {
                    source: PackageSource::Dpkg,
                    packages,
                },
                vec![ev],
            );
        }
        Ok(None) => {}
        Err(e) => {
            return Fact::unknown(
                e.to_string(),
                vec![Evidence::file(DPKG_STATUS, "unreadable")],
            )
        }
    }
    match RPM_DATABASES.iter().find(|p| exists(g, p)) {
        Some(db) => Fact::found(
            InstalledPackages {
                source: PackageSource::RpmNotRead {
                    database: db.to_string(),
                },
                packages: BTreeMap::new(),
            },
            vec![Evidence::file(*db, "rpm database not read")],
        ),
        None => Fact::found(
            InstalledPackages {
                source: PackageSource::None,
                packages: BTreeMap::new(),
            },
            std::iter::once(DPKG_STATUS)
                .chain(RPM_DATABASES)
                .map(Evidence::absent)
                .collect(),
        ),
    }
}

/// Parses a dpkg status file; returns packages whose status is
/// `install ok installed` (also `hold ok installed`).
pub fn parse_dpkg_status(text: &str) -> BTreeMap<String, Package> {
    let mut out = BTreeMap::new();
    for stanza in text.split("\n\n") {
        let mut name = None;
        let mut version = "";
        let mut arch = "";
        let mut installed = false;
        for line in stanza.lines() {
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key {
                "Package" => name = Some(value),
                "Version" => version = value,
                "Architecture" => arch = value,
                "Status" => installed = value.ends_with(" ok installed"),
                _ => {}
            }
        }
        if let (Some(name), true) = (name, installed) {
            out.insert(
                name.to_string(),
                Package {
                    name: name.to_string(),
                    version: version.to_string(),
                    arch: arch.to_string(),
                },
            );
        }
    }
    out
}

/// Evidence that a file exists (or not) in the guest.
pub fn has_file(g: &dyn GuestFiles, path: &str) -> (bool, Evidence) {
    let present = exists(g, path);
    let detail = if present { "present" } else { "absent" };
    (present, Evidence::file(path, detail))
}

/// The first of `paths` that exists, with evidence of every path looked at
/// when none does.
pub fn first_file(g: &dyn GuestFiles, paths: &[&str]) -> (Option<String>, Vec<Evidence>) {
    match paths.iter().find(|p| exists(g, p)) {
        Some(p) => (Some(p.to_string()), vec![Evidence::file(*p, "present")]),
        None => (None, paths.iter().map(|p| Evidence::absent(*p)).collect()),
    }
}
