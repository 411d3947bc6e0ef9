//! LVM2: physical volume labels, the volume group's text metadata, and
//! linear and striped logical volumes mapped onto the disk.
//!
//! A volume group is read when every one of its physical volumes is on
//! this disk (found by its uuid). Logical volumes with only `linear` and
//! `striped` segments become volumes; thin pools and thin volumes, cache,
//! RAID and mirror segments, snapshots and volumes with a missing PV are
//! listed as not read, with the reason.

mod label;
mod text;

use std::collections::BTreeMap;
use std::sync::Arc;

use imsprep_disk::Disk;

use crate::error::FsError;
use crate::volume::{Piece, Volume, MAX_PIECES};

pub use label::{read_label, PvLabel, MAX_METADATA_TEXT};
pub use text::{parse, Section, Value};

use super::{FoundVolume, Origin, UnreadVolume};

/// The format's name in messages.
const FS: &str = "lvm2";
const SECTOR: u64 = 512;

/// A physical volume found on the disk.
#[derive(Debug, Clone)]
pub struct PhysicalVolume {
    /// The volume holding it (a partition or the whole disk).
    pub volume: Volume,
    /// Its label.
    pub label: PvLabel,
}

/// Reads the volume groups described by `pvs` and maps their logical
/// volumes.
pub fn logical_volumes(
    disk: &Arc<dyn Disk>,
    pvs: &[PhysicalVolume],
    found: &mut Vec<FoundVolume>,
    unread: &mut Vec<UnreadVolume>,
) {
    // The newest metadata of each VG (by its seqno), from any of its PVs.
    let mut groups: BTreeMap<String, (i64, Section, String)> = BTreeMap::new();
    for pv in pvs {
        let Some(text) = &pv.label.metadata else {
            continue;
        };
        let top = match parse(text) {
            Ok(top) => top,
            Err(problem) => {
                unread.push(UnreadVolume {
                    name: pv.volume.name().to_owned(),
                    what: "LVM2 physical volume".to_owned(),
                    reason: format!("its metadata text cannot be parsed: {problem}"),
                });
                continue;
            }
        };
        for (vg_name, vg) in top.sections() {
            let seqno = vg.int("seqno").unwrap_or(0);
            if groups.get(vg_name).is_none_or(|(s, _, _)| *s < seqno) {
                groups.insert(
                    vg_name.to_owned(),
                    (seqno, vg.clone(), pv.volume.name().to_owned()),
                );
            }
        }
    }
    for (vg_name, (_, vg, _)) in groups {
        map_group(disk, pvs, &vg_name, &vg, found, unread);
    }
}

fn without_dashes(id: &str) -> String {
    id.chars().filter(|&c| c != '-').collect()
}

/// The device-mapper name of `vg`/`lv`: dashes doubled, joined by one.
pub fn mapper_name(vg: &str, lv: &str) -> String {
    format!("{}-{}", vg.replace('-', "--"), lv.replace('-', "--"))
}

fn map_group(
    disk: &Arc<dyn Disk>,
    pvs: &[PhysicalVolume],
    vg_name: &str,
    vg: &Section,
    found: &mut Vec<FoundVolume>,
    unread: &mut Vec<UnreadVolume>,
) {
    let extent_sectors = vg.int("extent_size").unwrap_or(0);
    // PV name in the metadata -> where its extents start on the disk and
    // how many it has; None when the PV is not on this disk.
    let mut pv_map: BTreeMap<&str, Option<(Volume, u64, u64)>> = BTreeMap::new();
    if let Some(section) = vg.section("physical_volumes") {
        for (pv_name, pv) in section.sections() {
            let id = without_dashes(pv.str("id").unwrap_or_default());
            let here = pvs.iter().find(|p| p.label.uuid == id).and_then(|p| {
                let pe_start = u64::try_from(pv.int("pe_start")?)
                    .ok()?
                    .checked_mul(SECTOR)?;
                let pe_count = u64::try_from(pv.int("pe_count")?).ok()?;
                Some((p.volume.clone(), pe_start, pe_count))
            });
            pv_map.insert(pv_name, here);
        }
    }
    let Some(lvs) = vg.section("logical_volumes") else {
        return;
    };
    for (lv_name, lv) in lvs.sections() {
        let name = format!("/dev/{vg_name}/{lv_name}");
        let not_read = |reason: String, what: &str| UnreadVolume {
            name: name.clone(),
            what: what.to_owned(),
            reason,
        };
        let status = lv.strings("status");
        if !status.contains(&"VISIBLE") {
            // Hidden LVs (thin pool data, RAID images, logs) are parts of
            // others, not volumes of their own.
            continue;
        }
        match map_lv(disk, &pv_map, extent_sectors, lv, &name) {
            Ok(Ok(volume)) => {
                let alias = format!("/dev/mapper/{}", mapper_name(vg_name, lv_name));
                found.push(FoundVolume {
                    volume,
                    origin: Origin::LogicalVolume {
                        vg: vg_name.to_owned(),
                        lv: lv_name.to_owned(),
                    },
                    aliases: vec![alias],
                });
            }
            Ok(Err((what, reason))) => unread.push(not_read(reason, &what)),
            Err(e) => unread.push(not_read(e.to_string(), "LVM2 logical volume")),
        }
    }
}

type Refusal = (String, String);

fn map_lv(
    disk: &Arc<dyn Disk>,
    pv_map: &BTreeMap<&str, Option<(Volume, u64, u64)>>,
    extent_sectors: i64,
    lv: &Section,
    name: &str,
) -> Result<Result<Volume, Refusal>, FsError> {
    let bad = |structure: String, problem: String| FsError::malformed(name, FS, structure, problem);
    let extent = u64::try_from(extent_sectors)
        .ok()
        .filter(|&e| e > 0 && e <= 1 << 32)
        .map(|e| e * SECTOR)
        .ok_or_else(|| {
            bad(
                "volume group field extent_size".into(),
                format!("{extent_sectors}; expected 1..=2^32 sectors"),
            )
        })?;
    let mut segments: Vec<(u64, &Section)> = Vec::new();
    for (seg_name, seg) in lv.sections() {
        let start = seg.int("start_extent").and_then(|n| u64::try_from(n).ok());
        let Some(start) = start else {
            return Err(bad(
                format!("{seg_name} field start_extent"),
                "missing or negative".into(),
            ));
        };
        segments.push((start, seg));
    }
    segments.sort_by_key(|(start, _)| *start);
    let mut pieces: Vec<Piece> = Vec::new();
    let mut next_extent = 0u64;
    for (start, seg) in segments {
        let kind = seg.str("type").unwrap_or_default();
        let what = match kind {
            "striped" | "linear" => None,
            "thin" => Some("LVM2 thin volume"),
            "thin-pool" => Some("LVM2 thin pool"),
            "cache" | "cache-pool" | "writecache" => Some("LVM2 cached volume"),
            "snapshot" => Some("LVM2 snapshot"),
            k if k.starts_with("raid") || k == "mirror" => Some("LVM2 RAID or mirror volume"),
            "vdo" | "vdo-pool" => Some("LVM2 VDO volume"),
            _ => Some("LVM2 logical volume"),
        };
        if let Some(what) = what {
            return Ok(Err((
                what.to_owned(),
                format!("segment type {kind:?} is not read: its blocks are not a plain map of the physical volumes"),
            )));
        }
        if start != next_extent {
            return Err(bad(
                format!("segment at extent {start}"),
                format!("expected it to start at extent {next_extent}"),
            ));
        }
        let count = seg
            .int("extent_count")
            .and_then(|n| u64::try_from(n).ok())
            .filter(|&n| n > 0);
        let Some(count) = count else {
            return Err(bad(
                format!("segment at extent {start} field extent_count"),
                "missing or not positive".into(),
            ));
        };
        let stripes = seg.get("stripes");
        let list = match stripes {
            Some(Value::List(items)) => items,
            _ => {
                return Err(bad(
                    format!("segment at extent {start} field stripes"),
                    "missing".into(),
                ))
            }
        };
        let mut legs = Vec::new();
        for pair in list.chunks(2) {
            match pair {
                [Value::Str(pv), Value::Int(pe)] if *pe >= 0 => {
                    legs.push((pv.as_str(), *pe as u64))
                }
                _ => {
                    return Err(bad(
                        format!("segment at extent {start} field stripes"),
                        "expected pairs of a PV name and an extent".into(),
                    ))
                }
            }
        }
        let n = legs.len() as u64;
        if n == 0 || count % n != 0 {
            return Err(bad(
                format!("segment at extent {start}"),
                format!("{count} extents cannot be split over {n} stripes"),
            ));
        }
        let per_leg = count / n;
        // Where each leg's extents lie on the disk.
        let mut leg_starts = Vec::new();
        for (pv, pe) in &legs {
            let Some(place) = pv_map.get(pv) else {
                return Err(bad(
                    format!("segment at extent {start}"),
                    format!("names {pv:?}, which the volume group does not list"),
                ));
            };
            let Some((pv_volume, pe_start, pe_count)) = place else {
                return Ok(Err((
                    "LVM2 logical volume".to_owned(),
                    format!("physical volume {pv:?} is not on this disk"),
                )));
            };
            if pe.checked_add(per_leg).is_none_or(|end| end > *pe_count) {
                return Err(bad(
                    format!("segment at extent {start}"),
                    format!("extents {pe}+{per_leg} of {pv} lie past its {pe_count} extents"),
                ));
            }
            let off = pe
                .checked_mul(extent)
                .and_then(|o| o.checked_add(*pe_start))
                .filter(|&o| {
                    per_leg
                        .checked_mul(extent)
                        .and_then(|len| o.checked_add(len))
                        .is_some_and(|end| end <= pv_volume.len())
                })
                .ok_or_else(|| {
                    bad(
                        format!("segment at extent {start}"),
                        format!(
                            "extents {pe}+{per_leg} of {pv} lie past the end of its {}-byte device",
                            pv_volume.len()
                        ),
                    )
                })?;
            // A PV is one piece of the disk (a partition or the disk).
            let base = pv_volume
                .pieces()
                .first()
                .map(|p| p.disk_offset)
                .unwrap_or(0);
            leg_starts.push(base + off);
        }
        let overflow = || {
            bad(
                format!("segment at extent {start}"),
                "its byte range overflows".into(),
            )
        };
        let seg_bytes = count.checked_mul(extent).ok_or_else(overflow)?;
        let volume_base = next_extent.checked_mul(extent).ok_or_else(overflow)?;
        if let [only] = leg_starts[..] {
            pieces.push(Piece {
                volume_offset: volume_base,
                disk_offset: only,
                len: seg_bytes,
            });
        } else {
            let stripe = seg
                .int("stripe_size")
                .and_then(|s| u64::try_from(s).ok())
                .filter(|&s| s > 0 && (per_leg * extent) % (s * SECTOR) == 0)
                .map(|s| s * SECTOR)
                .ok_or_else(|| {
                    bad(
                        format!("segment at extent {start} field stripe_size"),
                        "missing, or not dividing the stripe".into(),
                    )
                })?;
            let chunks = seg_bytes / stripe;
            if pieces.len() as u64 + chunks > MAX_PIECES as u64 {
                return Err(FsError::limit(
                    name,
                    FS,
                    "stripe chunks of the volume",
                    pieces.len() as u64 + chunks,
                    MAX_PIECES as u64,
                ));
            }
            for k in 0..chunks {
                let leg = (k % n) as usize;
                let row = k / n;
                let disk_offset = leg_starts.get(leg).copied().unwrap_or(0) + row * stripe;
                pieces.push(Piece {
                    volume_offset: volume_base + k * stripe,
                    disk_offset,
                    len: stripe,
                });
            }
        }
        next_extent = next_extent.checked_add(count).ok_or_else(overflow)?;
    }
    if pieces.is_empty() {
        return Err(bad("segments".into(), "the volume has none".into()));
    }
    Volume::mapped(Arc::clone(disk), name, pieces).map(Ok)
}
