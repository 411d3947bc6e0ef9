//! systemd `.mount` and `.swap` units in `/etc/systemd/system`: the
//! administrator's mounts that are not in fstab. A unit counts when it is
//! enabled (a link in a `*.wants/`/`*.requires/` folder) and not masked;
//! `[Mount] What=`, `Where=`, `Type=`, `Options=` (`[Swap] What=` for
//! swap) become entries like fstab lines.

use super::fstab::{entry, FstabEntry};
use crate::linux::network::syntax::{ini, ini_value};
use crate::linux::services::{join, list_dir, read_config, ServiceIndex};
use crate::{GuestFiles, VolumeInfo};

/// Most units read.
pub const MAX_UNITS: usize = 256;

/// Enabled mount and swap units as entries (line 0, file = unit path).
pub fn mount_units(g: &dyn GuestFiles, volumes: &[VolumeInfo]) -> Vec<FstabEntry> {
    let dir = "/etc/systemd/system";
    let mut out = Vec::new();
    let services = ServiceIndex::scan(g);
    let names = list_dir(g, dir)
        .into_iter()
        .filter(|n| n.ends_with(".mount") || n.ends_with(".swap"))
        .take(MAX_UNITS);
    for name in names {
        let state = services.unit_state(g, &name, None);
        if !state.enabled() {
            continue;
        }
        let path = join(dir, &name);
        let Some(text) = read_config(g, &path) else {
            continue;
        };
        let e = ini(&text);
        let swap = name.ends_with(".swap");
        let section = if swap { "Swap" } else { "Mount" };
        let Some(what) = ini_value(&e, section, "What") else {
            continue;
        };
        let (mount_point, fs_type) = if swap {
            ("none", "swap")
        } else {
            (
                ini_value(&e, "Mount", "Where").unwrap_or(""),
                ini_value(&e, "Mount", "Type").unwrap_or("auto"),
            )
        };
        let options = ini_value(&e, section, "Options").unwrap_or("defaults");
        out.push(entry(
            &path,
            0,
            what,
            mount_point,
            fs_type,
            options,
            volumes,
        ));
    }
    out
}
