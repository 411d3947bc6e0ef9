//! Whether a service is installed and whether it starts at boot.
//!
//! "Installed" and "enabled" are separate facts. A systemd unit is
//! installed when its unit file exists in `/etc/systemd/system`,
//! `/usr/lib/systemd/system` or `/lib/systemd/system`; it is enabled only
//! when a link to it sits in a `*.wants/` or `*.requires/` folder under
//! `/etc/systemd/system` (what `systemctl enable` writes). Vendor preset
//! files and the `.wants/` folders under `/usr/lib` are not enablement by
//! the administrator and are reported separately (`vendor_wants`), because
//! a preset only takes effect when `systemctl preset` runs. A unit linked
//! to `/dev/null` in `/etc/systemd/system` is masked and never starts,
//! whatever links exist. SysV start links (`/etc/rc?.d/S??name`,
//! `/etc/rc.d/rc?.d/`, `/etc/init.d/rc?.d/`) are read for runlevels 2, 3,
//! 5 and S. The default target is the `/etc/systemd/system/default.target`
//! link (else the vendor one).
//!
//! The enable links are listed once into a [`ServiceIndex`] and every
//! unit is looked up there. Folder listings are bounded
//! ([`MAX_DIR_ENTRIES`] per folder, [`MAX_WANTS_DIRS`] wants folders,
//! [`MAX_INDEXED_LINKS`] links) so a crafted tree cannot make the scan
//! unbounded; links are read one level (`read_link`), never followed in a
//! loop.
//!
//! This module also holds the small read helpers the other Linux modules
//! share, so that all reads go through one bounded path.

use crate::{Evidence, FileKind, GuestError, GuestFiles};

/// Most entries read from one folder.
pub const MAX_DIR_ENTRIES: usize = 4096;
/// Most `*.wants`/`*.requires` folders scanned under `/etc/systemd/system`.
pub const MAX_WANTS_DIRS: usize = 512;
pub use crate::text::CONFIG_LIMIT;

/// Where systemd unit files are installed, administrator first.
pub const UNIT_DIRS: [&str; 4] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Reads a guest text file (lossy UTF-8) up to `limit` bytes. Absent,
/// unreadable and over-limit files are `None`; callers that must tell
/// those apart use [`read_config_checked`].
pub(crate) fn read_text(g: &dyn GuestFiles, path: &str, limit: u64) -> Option<String> {
    crate::files::read_text(g, path, limit).ok().flatten()
}

/// Reads a guest configuration file up to [`CONFIG_LIMIT`].
pub(crate) fn read_config(g: &dyn GuestFiles, path: &str) -> Option<String> {
    read_text(g, path, CONFIG_LIMIT)
}

/// Reads a guest configuration file up to [`CONFIG_LIMIT`], keeping the
/// reason when it exists but cannot be read.
pub(crate) fn read_config_checked(
    g: &dyn GuestFiles,
    path: &str,
) -> Result<Option<String>, GuestError> {
    crate::files::read_text(g, path, CONFIG_LIMIT)
}

/// Lists a guest folder, sorted, at most [`MAX_DIR_ENTRIES`] names.
pub(crate) fn list_dir(g: &dyn GuestFiles, path: &str) -> Vec<String> {
    let mut names: Vec<String> = g
        .read_dir(path)
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    names.sort();
    names.truncate(MAX_DIR_ENTRIES);
    names
}

/// The raw target of a link (not followed), if `path` is a link.
pub(crate) fn link_target(g: &dyn GuestFiles, path: &str) -> Option<String> {
    g.read_link(path).ok().flatten()
}

/// Whether a guest path exists (links resolved inside the guest).
pub(crate) fn exists(g: &dyn GuestFiles, path: &str) -> bool {
    g.exists(path)
}

/// Whether a guest file exists and is empty (an override such as an
/// empty udev rule).
pub(crate) fn is_empty_file(g: &dyn GuestFiles, path: &str) -> bool {
    matches!(g.metadata(path), Ok(Some(m)) if m.kind == FileKind::File && m.size == 0)
}

/// Joins a folder and a name with one slash.
pub(crate) fn join(dir: &str, name: &str) -> String {
    format!("{}/{}", dir.trim_end_matches('/'), name)
}

/// Last path component of a link target.
fn base_name(target: &str) -> &str {
    target.rsplit('/').next().unwrap_or(target)
}

/// What the guest's own files say about one service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnitState {
    /// The unit name asked about, e.g. `sshd.service`.
    pub unit: String,
    /// The unit file found, if any (first of [`UNIT_DIRS`]).
    pub unit_file: Option<String>,
    /// Links under `/etc/systemd/system/*.wants|*.requires/` naming it
    /// (by link name or link target), e.g.
    /// `/etc/systemd/system/multi-user.target.wants/sshd.service`.
    pub enabled_by: Vec<String>,
    /// Links in vendor `*.wants/` folders (static dependencies of other
    /// units; they start the unit only if the wanting unit starts).
    pub vendor_wants: Vec<String>,
    /// The mask link (`/etc/systemd/system/<unit>` → `/dev/null`).
    pub masked_by: Option<String>,
    /// SysV start links for runlevels 2, 3, 5 and S.
    pub sysv_start_links: Vec<String>,
    /// The SysV init script, if any (`/etc/init.d/<name>`).
    pub sysv_script: Option<String>,
}

impl UnitState {
    /// Installed as a systemd unit or a SysV script.
    pub fn installed(&self) -> bool {
        self.unit_file.is_some() || self.sysv_script.is_some()
    }

    /// Starts at boot: not masked, and enabled by a systemd link or a SysV
    /// start link.
    pub fn enabled(&self) -> bool {
        self.masked_by.is_none()
            && (!self.enabled_by.is_empty() || !self.sysv_start_links.is_empty())
    }

    /// The paths that show the state, for a fact's evidence.
    pub fn evidence(&self) -> Vec<Evidence> {
        let mut ev = Vec::new();
        if let Some(f) = &self.unit_file {
            ev.push(Evidence::file(f, "unit file present"));
        }
        if let Some(s) = &self.sysv_script {
            ev.push(Evidence::file(s, "init script present"));
        }
        for l in &self.enabled_by {
            ev.push(Evidence::file(l, "enable link"));
        }
        for l in &self.sysv_start_links {
            ev.push(Evidence::file(l, "SysV start link"));
        }
        if let Some(m) = &self.masked_by {
            ev.push(Evidence::file(m, "masked (link to /dev/null)"));
        }
        ev
    }
}

/// Most links kept in a [`ServiceIndex`].
pub const MAX_INDEXED_LINKS: usize = 65536;

/// One link found in a `*.wants/` or `*.requires/` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WantsLink {
    /// Under `/etc/systemd/system` (administrator) rather than a vendor
    /// folder.
    admin: bool,
    /// Guest path of the link.
    path: String,
    /// The link's own name.
    name: String,
    /// Last component of its target.
    target: String,
}

/// Every enable link of the guest, read once, so that asking about many
/// units does not list the folders again for each.
#[derive(Debug, Clone, Default)]
pub struct ServiceIndex {
    links: Vec<WantsLink>,
}

impl ServiceIndex {
    /// Lists the `*.wants/` and `*.requires/` folders of
    /// `/etc/systemd/system` and the vendor unit folders (bounded by
    /// [`MAX_WANTS_DIRS`], [`MAX_DIR_ENTRIES`] and [`MAX_INDEXED_LINKS`]).
    pub fn scan(g: &dyn GuestFiles) -> ServiceIndex {
        let mut links = Vec::new();
        let mut seen_dirs: Vec<String> = Vec::new();
        for (dir, admin) in [
            (UNIT_DIRS[0], true),
            (UNIT_DIRS[2], false),
            (UNIT_DIRS[3], false),
        ] {
            // On merged-/usr systems `/lib` is `/usr/lib`: list it once.
            let canonical = g
                .canonical(dir)
                .ok()
                .flatten()
                .unwrap_or_else(|| dir.to_string());
            if seen_dirs.contains(&canonical) {
                continue;
            }
            seen_dirs.push(canonical);
            let folders = list_dir(g, dir)
                .into_iter()
                .filter(|n| n.ends_with(".wants") || n.ends_with(".requires"))
                .take(MAX_WANTS_DIRS);
            for folder in folders {
                let folder = join(dir, &folder);
                for name in list_dir(g, &folder) {
                    if links.len() >= MAX_INDEXED_LINKS {
                        return ServiceIndex { links };
                    }
                    let path = join(&folder, &name);
                    let target = link_target(g, &path)
                        .map(|t| base_name(&t).to_string())
                        .unwrap_or_default();
                    links.push(WantsLink {
                        admin,
                        path,
                        name,
                        target,
                    });
                }
            }
        }
        ServiceIndex { links }
    }

    /// Reads the state of `unit` (a full unit name such as
    /// `sshd.service`); `sysv_name` is the SysV script name to look for
    /// (`sshd`), if any.
    pub fn unit_state(&self, g: &dyn GuestFiles, unit: &str, sysv_name: Option<&str>) -> UnitState {
        let mut st = UnitState {
            unit: unit.to_string(),
            ..UnitState::default()
        };
        let own = join(UNIT_DIRS[0], unit);
        if link_target(g, &own).as_deref() == Some("/dev/null") {
            st.masked_by = Some(own.clone());
        }
        st.unit_file = UNIT_DIRS
            .iter()
            .map(|d| join(d, unit))
            .find(|p| st.masked_by.as_deref() != Some(p.as_str()) && exists(g, p));
        // A link names the unit by its own name or by its target's name
        // (an alias such as `sshd.service` -> `ssh.service` enables
        // `ssh.service`).
        for l in self
            .links
            .iter()
            .filter(|l| l.name == unit || l.target == unit)
        {
            if l.admin {
                st.enabled_by.push(l.path.clone());
            } else {
                st.vendor_wants.push(l.path.clone());
            }
        }
        if let Some(name) = sysv_name {
            st.sysv_script = ["/etc/init.d", "/etc/rc.d/init.d"]
                .iter()
                .map(|d| join(d, name))
                .find(|p| exists(g, p));
            st.sysv_start_links = sysv_start_links(g, name);
        }
        st
    }
}

/// Reads the state of one unit (scans the enable links; to ask about
/// several units, scan once with [`ServiceIndex::scan`]).
pub fn unit_state(g: &dyn GuestFiles, unit: &str, sysv_name: Option<&str>) -> UnitState {
    ServiceIndex::scan(g).unit_state(g, unit, sysv_name)
}

/// SysV start links `S??name` for runlevels 2, 3, 5 and S (Debian's
/// boot-time runlevel) in the folders the distributions use.
pub(crate) fn sysv_start_links(g: &dyn GuestFiles, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    for level in ['2', '3', '5', 'S'] {
        for base in ["/etc", "/etc/rc.d", "/etc/init.d"] {
            let dir = format!("{base}/rc{level}.d");
            for entry in list_dir(g, &dir) {
                let rest = entry
                    .strip_prefix('S')
                    .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()));
                if rest == Some(name) {
                    found.push(join(&dir, &entry));
                }
            }
        }
    }
    found
}

/// The systemd default target and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultTarget {
    /// Target unit name, e.g. `multi-user.target`.
    pub target: String,
    /// The link read.
    pub evidence: Evidence,
}

/// Reads the default target: `/etc/systemd/system/default.target`, else
/// the vendor link in `/usr/lib/systemd/system` or `/lib/systemd/system`.
pub fn default_target(g: &dyn GuestFiles) -> Option<DefaultTarget> {
    [
        "/etc/systemd/system",
        "/usr/lib/systemd/system",
        "/lib/systemd/system",
    ]
    .iter()
    .map(|d| join(d, "default.target"))
    .find_map(|p| {
        let t = link_target(g, &p)?;
        Some(DefaultTarget {
            target: base_name(&t).to_string(),
            evidence: Evidence::file(&p, format!("-> {t}")),
        })
    })
}

/// The SysV `initdefault` runlevel from `/etc/inittab`.
pub fn inittab_default(g: &dyn GuestFiles) -> Option<(String, Evidence)> {
    let text = read_config(g, "/etc/inittab")?;
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.trim().split(':').collect();
        match fields.as_slice() {
            [_, level, "initdefault", ..] if !line.trim_start().starts_with('#') => Some((
                level.to_string(),
                Evidence::file("/etc/inittab", line.trim()),
            )),
            _ => None,
        }
    })
}
