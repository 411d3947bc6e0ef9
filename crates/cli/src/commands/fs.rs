//! `imsprep fs`: the volumes and file systems of an image, the root, and
//! where the guest's fstab mounts each one; what is not read and why.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use imsprep_fs::guest::{Content, Guest, OsFamily};
use imsprep_fs::FsState;
use serde::Serialize;

use crate::args::FsArgs;
use crate::exit::{Outcome, UsageError};
use crate::output::{human_size, print_json};

/// Opens the image at `path` (any format imsprep reads) as its guest
/// sees it, for `command`.
pub fn open_guest(path: &Path, command: &str) -> anyhow::Result<Guest> {
    super::endpoint::needs_file(path, command)?;
    let report =
        imsprep_probe::inspect(path).with_context(|| format!("inspecting {}", path.display()))?;
    let disk = imsprep_probe::open_disk(path, report.format, &imsprep_disk::OpenOptions::default())
        .with_context(|| format!("opening {}", path.display()))?;
    Guest::open(Arc::from(disk)).with_context(|| format!("reading {}", path.display()))
}

/// The guest view, or with `spec` one file system alone at `/`.
pub fn open_view(path: &Path, spec: Option<&str>, command: &str) -> anyhow::Result<Guest> {
    let guest = open_guest(path, command)?;
    match spec {
        None => Ok(guest),
        Some(spec) => guest.only(spec).map_err(|e| {
            anyhow::Error::new(UsageError(format!(
                "{}: --fs {spec}: {}",
                path.display(),
                match e {
                    imsprep_fs::FsError::InvalidPath { problem, .. } => problem,
                    other => other.to_string(),
                }
            )))
        }),
    }
}

#[derive(Serialize)]
struct VolumeJson<'a> {
    device: &'a str,
    aliases: &'a [String],
    #[serde(rename = "type")]
    fs_type: Option<&'a str>,
    label: Option<&'a str>,
    uuid: Option<&'a str>,
    partuuid: Option<&'a str>,
    partlabel: Option<&'a str>,
    partition_type: Option<imsprep_probe::PartitionKind>,
    size: u64,
    mounted_at: Vec<String>,
    state: Vec<String>,
    not_read: Option<NotReadJson<'a>>,
}

#[derive(Serialize)]
struct NotReadJson<'a> {
    what: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct RootJson<'a> {
    device: &'a str,
    subvolume: Option<&'a str>,
    os: &'static str,
    evidence: &'a str,
}

#[derive(Serialize)]
struct MountJson<'a> {
    mount_point: String,
    device: &'a str,
    subvolume: Option<&'a str>,
    fstab_line: Option<usize>,
    source: &'a str,
    options: &'a [String],
    evidence: &'a str,
}

#[derive(Serialize)]
struct NotMountedJson<'a> {
    fstab_line: usize,
    source: &'a str,
    mount_point: &'a str,
    #[serde(rename = "type")]
    fs_type: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Report<'a> {
    volumes: Vec<VolumeJson<'a>>,
    root: Option<RootJson<'a>>,
    other_roots: Vec<RootJson<'a>>,
    mounts: Vec<MountJson<'a>>,
    not_mounted: Vec<NotMountedJson<'a>>,
}

fn state_name(state: &FsState) -> String {
    match state {
        FsState::Dirty => "dirty".to_owned(),
        FsState::NeedsRecovery => "needs_recovery".to_owned(),
        FsState::Errors => "errors".to_owned(),
        FsState::Hibernated => "hibernated".to_owned(),
        FsState::Other(text) => text.clone(),
    }
}

fn os_name(os: OsFamily) -> &'static str {
    match os {
        OsFamily::Linux => "linux",
        OsFamily::Windows => "windows",
    }
}

fn report(guest: &Guest) -> Report<'_> {
    let volumes = guest
        .volumes()
        .iter()
        .map(|v| VolumeJson {
            device: &v.name,
            aliases: &v.aliases,
            fs_type: v.fs_type(),
            label: v.label.as_deref(),
            uuid: v.uuid.as_deref(),
            partuuid: v.partuuid.as_deref(),
            partlabel: v.partlabel.as_deref(),
            partition_type: v.partition_kind,
            size: v.size,
            mounted_at: guest
                .mount_points_of(&v.name)
                .iter()
                .map(|m| String::from_utf8_lossy(&m.mount_point).into_owned())
                .collect(),
            state: v
                .info()
                .map(|i| i.state.iter().map(state_name).collect())
                .unwrap_or_default(),
            not_read: match &v.content {
                Content::Unread { what, reason } => Some(NotReadJson { what, reason }),
                _ => None,
            },
        })
        .collect();
    let roots: Vec<RootJson<'_>> = guest
        .root_candidates()
        .iter()
        .map(|r| RootJson {
            device: &r.device,
            subvolume: r.subvolume.as_deref(),
            os: os_name(r.os),
            evidence: &r.evidence,
        })
        .collect();
    let mut roots = roots.into_iter();
    Report {
        volumes,
        root: roots.next(),
        other_roots: roots.collect(),
        mounts: guest
            .mounts()
            .iter()
            .map(|m| MountJson {
                mount_point: String::from_utf8_lossy(&m.mount_point).into_owned(),
                device: &m.device,
                subvolume: m.subvolume.as_deref(),
                fstab_line: m.line,
                source: &m.source,
                options: &m.options,
                evidence: &m.evidence,
            })
            .collect(),
        not_mounted: guest
            .not_mounted()
            .iter()
            .map(|n| NotMountedJson {
                fstab_line: n.line,
                source: &n.source,
                mount_point: &n.mount_point,
                fs_type: &n.fs_type,
                reason: &n.reason,
            })
            .collect(),
    }
}

/// Prints the volumes, the root and the mounts.
pub fn run(args: FsArgs) -> anyhow::Result<Outcome> {
    let guest = open_guest(&args.image, "fs")?;
    let report = report(&guest);
    if args.json {
        print_json(&report)?;
        return Ok(Outcome::Clean);
    }
    let dash = |s: Option<&str>| s.unwrap_or("-").to_owned();
    let rows: Vec<[String; 6]> = report
        .volumes
        .iter()
        .map(|v| {
            [
                v.device.to_owned(),
                dash(v.fs_type),
                dash(v.label),
                dash(v.uuid),
                if v.size > 0 {
                    human_size(v.size)
                } else {
                    "-".to_owned()
                },
                if v.not_read.is_some() {
                    "(not read)".to_owned()
                } else if v.fs_type == Some("swap") {
                    "(swap)".to_owned()
                } else if v.mounted_at.is_empty() {
                    "-".to_owned()
                } else {
                    v.mounted_at.join(", ")
                },
            ]
        })
        .collect();
    let header = ["DEVICE", "TYPE", "LABEL", "UUID", "SIZE", "MOUNTED AT"].map(str::to_owned);
    let mut widths = [0usize; 6];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    for v in &report.volumes {
        if !v.state.is_empty() {
            println!("{}: {}", v.device, v.state.join(", "));
        }
        if !v.aliases.is_empty() {
            println!("{} is also {}", v.device, v.aliases.join(", "));
        }
    }
    match &report.root {
        Some(r) => println!(
            "root: {}{} ({}): {}",
            r.device,
            r.subvolume
                .map(|s| format!(" subvolume {s}"))
                .unwrap_or_default(),
            r.os,
            r.evidence
        ),
        None => println!("root: none found (no /etc/fstab with an init, no Windows system hive)"),
    }
    for r in &report.other_roots {
        println!(
            "another system: {}{} ({}): {}",
            r.device,
            r.subvolume
                .map(|s| format!(" subvolume {s}"))
                .unwrap_or_default(),
            r.os,
            r.evidence
        );
    }
    for m in &report.mounts {
        println!("mount {} <- {}: {}", m.mount_point, m.device, m.evidence);
    }
    for n in &report.not_mounted {
        println!(
            "not mounted: fstab line {}: {} {}: {}",
            n.fstab_line, n.source, n.mount_point, n.reason
        );
    }
    for v in &report.volumes {
        if let Some(n) = &v.not_read {
            println!("not read: {} ({}): {}", v.device, n.what, n.reason);
        }
    }
    Ok(Outcome::Clean)
}
