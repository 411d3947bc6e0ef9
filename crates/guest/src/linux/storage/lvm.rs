//! The guest's LVM configuration that decides which disks LVM scans at
//! boot: `/etc/lvm/lvm.conf` `filter`, `global_filter`, `use_devicesfile`
//! (active lines only), and the RHEL 9 devices file
//! `/etc/lvm/devices/system.devices` (`IDTYPE=… IDNAME=… DEVNAME=…
//! PVID=…` lines). The physical volumes themselves come from the volumes
//! layer.

use crate::linux::services::read_config;
use crate::text::{last_value, shell_assignments};
use crate::{Evidence, GuestFiles};

/// The devices file path.
pub const DEVICES_FILE: &str = "/etc/lvm/devices/system.devices";

/// One device in the devices file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceId {
    /// `IDTYPE=` (`sys_wwid`, `sys_serial`, `devname`, …).
    pub id_type: String,
    /// `IDNAME=`.
    pub id_name: String,
    /// `DEVNAME=` (the device node on the source machine).
    pub dev_name: String,
    /// `PVID=`.
    pub pvid: String,
}

/// LVM configuration facts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LvmConfig {
    /// Active `filter`/`global_filter` lines of lvm.conf.
    pub filters: Vec<Evidence>,
    /// `use_devicesfile` value, if set.
    pub use_devicesfile: Option<(String, Evidence)>,
    /// Entries of the devices file, if it exists.
    pub devices_file: Option<Vec<DeviceId>>,
}

/// Reads the LVM configuration facts.
pub fn lvm_config(g: &dyn GuestFiles) -> LvmConfig {
    let mut c = LvmConfig::default();
    let conf = "/etc/lvm/lvm.conf";
    if let Some(text) = read_config(g, conf) {
        for (idx, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim();
            let ev = || Evidence::file(conf, format!("line {}: {line}", idx + 1));
            match key {
                "filter" | "global_filter" => c.filters.push(ev()),
                "use_devicesfile" => c.use_devicesfile = Some((value.trim().to_string(), ev())),
                _ => {}
            }
        }
    }
    if let Some(text) = read_config(g, DEVICES_FILE) {
        let entries = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| {
                let fields =
                    shell_assignments(&l.split_whitespace().collect::<Vec<_>>().join("\n"));
                let get = |k: &str| last_value(&fields, k).unwrap_or("").to_string();
                let pvid = get("PVID");
                (!pvid.is_empty()).then(|| DeviceId {
                    id_type: get("IDTYPE"),
                    id_name: get("IDNAME"),
                    dev_name: get("DEVNAME"),
                    pvid,
                })
            })
            .collect();
        c.devices_file = Some(entries);
    }
    c
}
