//! WIN-SYSTEMROOT, WIN-HIVE-DIRTY, WIN-CONTROLSET: where Windows is, its
//! hives, whether they were flushed, and which control set boots.
//!
//! The Windows directory is `/Windows` or `/WINNT` (any case) holding
//! `System32/config`; `System32/cmd.exe` is recorded too (libguestfs
//! requires both). The `SYSTEM` and `SOFTWARE` hives are read whole (at
//! most [`MAX_HIVE_READ`] bytes each) with their `.LOG1`/`.LOG2`
//! transaction logs, which are replayed in memory when the hive is dirty.
//! `SYSTEM\Select\Current` names the control set (`ControlSet%03d`):
//! `CurrentControlSet` is a link the kernel makes at boot and does not
//! exist offline.

use imsprep_regf::{BaseBlock, Hive};

/// Whether a hive was clean, stale or recovered (from `imsprep-regf`).
pub use imsprep_regf::HiveState;

use super::paths::{find_ci, find_file_ci};
use super::registry::Reg;
use crate::evidence::{Evidence, Fact};
use crate::files::GuestFiles;

/// Largest hive (or log) read. SYSTEM hives are tens of MiB, SOFTWARE
/// hives up to a few hundred.
pub const MAX_HIVE_READ: u64 = 1 << 30;

/// Directory names tried for the Windows directory, in order.
pub const ROOT_CANDIDATES: &[&str] = &["/Windows", "/WINNT"];

/// Where Windows is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemRoot {
    /// Guest path of the Windows directory, as stored (`/Windows`).
    pub path: String,
    /// Guest path of `System32/config`.
    pub config_dir: String,
    /// `System32/cmd.exe` exists.
    pub cmd_exe: bool,
}

/// A hive as loaded.
#[derive(Debug)]
pub struct LoadedHive {
    /// Guest path of the primary file.
    pub path: String,
    /// The hive (after any log replay).
    pub hive: Hive,
    /// Whether it was clean, stale or recovered from its logs.
    pub state: HiveState,
    /// Sequence numbers of the primary file before any replay
    /// (primary, secondary).
    pub sequence: (u32, u32),
    /// Guest paths of the transaction logs found.
    pub logs: Vec<String>,
}

/// State of one hive for WIN-HIVE-DIRTY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiveStatus {
    /// `SYSTEM` or `SOFTWARE`.
    pub name: String,
    /// Guest path of the primary file.
    pub path: String,
    /// Clean, stale (dirty, no usable log) or recovered from the logs.
    pub state: HiveState,
    /// Primary and secondary sequence numbers of the primary file.
    pub sequence: (u32, u32),
    /// Transaction logs found.
    pub logs: Vec<String>,
}

/// The control sets named by `SYSTEM\Select`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlSet {
    /// `Select\Current`.
    pub current: u32,
    /// `Select\Default`.
    pub default: Option<u32>,
    /// `Select\LastKnownGood`.
    pub last_known_good: Option<u32>,
    /// `Select\Failed`.
    pub failed: Option<u32>,
    /// `ControlSet%03d` of `current`.
    pub name: String,
    /// The key exists in the hive.
    pub exists: bool,
}

/// Finds the Windows directory.
pub fn system_root(guest: &dyn GuestFiles) -> Fact<SystemRoot> {
    let mut ev = Vec::new();
    for cand in ROOT_CANDIDATES {
        let config = format!("{cand}/System32/config");
        match find_ci(guest, &config) {
            Ok(Some(config_dir)) => {
                let path = config_dir
                    .rsplitn(3, '/')
                    .nth(2)
                    .unwrap_or(cand)
                    .to_string();
                let cmd = format!("{path}/System32/cmd.exe");
                let cmd_exe = matches!(find_file_ci(guest, &cmd), Ok(Some(_)));
                ev.push(Evidence::file(&config_dir, "directory present"));
                ev.push(Evidence::file(
                    cmd,
                    if cmd_exe { "present" } else { "absent" },
                ));
                return Fact::found(
                    SystemRoot {
                        path,
                        config_dir,
                        cmd_exe,
                    },
                    ev,
                );
            }
            Ok(None) => ev.push(Evidence::absent(config)),
            Err(e) => {
                ev.push(Evidence::file(config, format!("unreadable: {e}")));
                return Fact::unknown(e.to_string(), ev);
            }
        }
    }
    Fact::absent(ev)
}

/// Loads hive `name` (`SYSTEM`, `SOFTWARE`) from the config directory,
/// replaying its logs if it is dirty.
pub fn load_hive(
    guest: &dyn GuestFiles,
    config_dir: &str,
    name: &str,
) -> Result<LoadedHive, (String, Vec<Evidence>)> {
    let wanted = format!("{config_dir}/{name}");
    let mut ev = Vec::new();
    let path = match find_file_ci(guest, &wanted) {
        Ok(Some(p)) => p,
        Ok(None) => {
            ev.push(Evidence::absent(&wanted));
            return Err((format!("{wanted} is absent"), ev));
        }
        Err(e) => {
            ev.push(Evidence::file(&wanted, format!("unreadable: {e}")));
            return Err((e.to_string(), ev));
        }
    };
    let bytes = match guest.read_file(&path, MAX_HIVE_READ) {
        Ok(Some(b)) => b,
        Ok(None) => {
            ev.push(Evidence::absent(&path));
            return Err((format!("{path} is absent"), ev));
        }
        Err(e) => {
            ev.push(Evidence::file(&path, format!("unreadable: {e}")));
            return Err((e.to_string(), ev));
        }
    };
    let sequence = BaseBlock::parse(&bytes)
        .map(|b| (b.primary_sequence, b.secondary_sequence))
        .unwrap_or((0, 0));
    let mut logs = Vec::new();
    let mut log_data: Vec<Option<Vec<u8>>> = Vec::new();
    for ext in ["LOG1", "LOG2"] {
        let log = format!("{config_dir}/{name}.{ext}");
        match find_file_ci(guest, &log).ok().flatten().and_then(|p| {
            guest
                .read_file(&p, MAX_HIVE_READ)
                .ok()
                .flatten()
                .map(|b| (p, b))
        }) {
            Some((p, b)) if !b.is_empty() => {
                logs.push(p);
                log_data.push(Some(b));
            }
            _ => log_data.push(None),
        }
    }
    let log1 = log_data.first().and_then(|l| l.as_deref());
    let log2 = log_data.get(1).and_then(|l| l.as_deref());
    match Hive::open_with_logs(bytes, log1, log2) {
        Ok(hive) => {
            let state = hive.state();
            ev.push(Evidence::file(
                &path,
                format!(
                    "regf hive, sequence numbers {} / {}, {}",
                    sequence.0,
                    sequence.1,
                    state_text(state)
                ),
            ));
            Ok(LoadedHive {
                path,
                hive,
                state,
                sequence,
                logs,
            })
        }
        Err(e) => {
            ev.push(Evidence::file(&path, format!("unreadable: {e}")));
            Err((format!("{path}: {e}"), ev))
        }
    }
}

/// The hive state in words.
pub fn state_text(state: HiveState) -> String {
    match state {
        HiveState::Clean => "clean".into(),
        HiveState::Stale => "dirty; no transaction log brought it up to date".into(),
        HiveState::Recovered { applied } => {
            format!("dirty; {applied} transaction log entries replayed in memory")
        }
    }
}

/// WIN-HIVE-DIRTY from the loaded hives.
pub fn hive_status(hives: &[(&str, &LoadedHive)]) -> Fact<Vec<HiveStatus>> {
    let mut ev = Vec::new();
    let list = hives
        .iter()
        .map(|(name, h)| {
            ev.push(Evidence::file(
                &h.path,
                format!(
                    "sequence numbers {} / {}: {}",
                    h.sequence.0,
                    h.sequence.1,
                    state_text(h.state)
                ),
            ));
            for l in &h.logs {
                ev.push(Evidence::file(l, "transaction log present"));
            }
            HiveStatus {
                name: name.to_string(),
                path: h.path.clone(),
                state: h.state,
                sequence: h.sequence,
                logs: h.logs.clone(),
            }
        })
        .collect();
    Fact::found(list, ev)
}

/// WIN-CONTROLSET: `SYSTEM\Select`.
pub fn control_set(system: Reg<'_>) -> Fact<ControlSet> {
    let mut ev = Vec::new();
    let Some(current) = system.dword("Select", "Current", &mut ev) else {
        return Fact::absent(ev);
    };
    let default = system.dword("Select", "Default", &mut ev);
    let last_known_good = system.dword("Select", "LastKnownGood", &mut ev);
    let failed = system.dword("Select", "Failed", &mut ev);
    let name = format!("ControlSet{current:03}");
    let exists = system.exists(&name, &mut ev);
    Fact::found(
        ControlSet {
            current,
            default,
            last_known_good,
            failed,
            name,
            exists,
        },
        ev,
    )
}
