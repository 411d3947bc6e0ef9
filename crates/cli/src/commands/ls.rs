//! `imsprep ls`: a directory of the guest (or of one file system), like
//! `ls -l`; `-R` walks subdirectories without entering links, up to
//! [`MAX_ENTRIES`] entries and [`MAX_DEPTH`] levels. A subtree that
//! cannot be read is reported on stderr and the rest is listed.

use std::io::Write;

use anyhow::Context;
use imsprep_fs::guest::Guest;
use imsprep_fs::{FileKind, Metadata};
use serde::Serialize;

use crate::args::LsArgs;
use crate::exit::{Outcome, UsageError};

/// Entries listed at most with `-R`.
pub const MAX_ENTRIES: usize = 1_000_000;
/// Directory levels entered at most with `-R`.
pub const MAX_DEPTH: usize = 64;

/// One listed object as `--json` prints it.
#[derive(Serialize)]
struct Entry {
    path: String,
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    nlink: u64,
    mtime: i64,
    mtime_nsec: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::File => "file",
        FileKind::Dir => "dir",
        FileKind::Symlink => "symlink",
        FileKind::CharDevice => "char",
        FileKind::BlockDevice => "block",
        FileKind::Fifo => "fifo",
        FileKind::Socket => "socket",
        FileKind::Other => "other",
    }
}

fn kind_char(kind: FileKind) -> char {
    match kind {
        FileKind::File => '-',
        FileKind::Dir => 'd',
        FileKind::Symlink => 'l',
        FileKind::CharDevice => 'c',
        FileKind::BlockDevice => 'b',
        FileKind::Fifo => 'p',
        FileKind::Socket => 's',
        FileKind::Other => '?',
    }
}

/// `rwxr-xr-x` with setuid, setgid and sticky shown as `ls` shows them.
fn mode_string(mode: u32) -> String {
    let mut out = String::with_capacity(9);
    for (shift, special, set, unset) in [
        (6, 0o4000, 's', 'S'),
        (3, 0o2000, 's', 'S'),
        (0, 0o1000, 't', 'T'),
    ] {
        let bits = (mode >> shift) & 7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        out.push(match (bits & 1 != 0, mode & special != 0) {
            (true, true) => set,
            (false, true) => unset,
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    out
}

/// `YYYY-MM-DD HH:MM` in UTC (days to a civil date by H. Hinnant's
/// algorithm, valid for every i64 day count that fits).
fn time_string(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

fn child(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if p.last() != Some(&b'/') {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Lister<'a> {
    guest: &'a Guest,
    args: &'a LsArgs,
    out: std::io::StdoutLock<'static>,
    json: Vec<Entry>,
    listed: usize,
    broken: usize,
}

impl Lister<'_> {
    fn warn(&mut self, what: &str, e: &dyn std::fmt::Display) {
        self.broken += 1;
        eprintln!(
            "imsprep: warning: {}: {what}: {e}; the rest is listed",
            self.args.image.display()
        );
    }

    fn entry(&mut self, path: &[u8], name: &[u8], md: &Metadata) -> anyhow::Result<()> {
        let target = if md.kind == FileKind::Symlink {
            match self.guest.read_link(path) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.warn(&format!("link {}", lossy(path)), &e);
                    None
                }
            }
        } else {
            None
        };
        if self.args.json {
            self.json.push(Entry {
                path: lossy(path),
                name: lossy(name),
                kind: kind_name(md.kind),
                mode: md.mode,
                uid: md.uid,
                gid: md.gid,
                size: md.size,
                nlink: md.nlink,
                mtime: md.mtime.secs,
                mtime_nsec: md.mtime.nanos,
                target: target.as_deref().map(lossy),
            });
            return Ok(());
        }
        let out = &mut self.out;
        if self.args.long {
            write!(
                out,
                "{}{} {:>3} {:>5} {:>5} {:>12} {} ",
                kind_char(md.kind),
                mode_string(md.mode),
                md.nlink,
                md.uid,
                md.gid,
                md.size,
                time_string(md.mtime.secs)
            )?;
        }
        out.write_all(name)?;
        if let (true, Some(t)) = (self.args.long, &target) {
            out.write_all(b" -> ")?;
            out.write_all(t)?;
        }
        out.write_all(b"\n")?;
        Ok(())
    }

    /// Lists the directory `dir`; returns its subdirectories, sorted.
    fn list_dir(&mut self, dir: &[u8]) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut entries = match self.guest.read_dir_metadata(dir) {
            Ok(e) => e,
            Err(e) => {
                self.warn(&format!("directory {}", lossy(dir)), &e);
                return Ok(Vec::new());
            }
        };
        entries.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        let mut subdirs = Vec::new();
        for (e, md) in entries {
            if self.listed >= MAX_ENTRIES {
                anyhow::bail!(crate::exit::BadInput(format!(
                    "{}: more than {MAX_ENTRIES} entries under {}; list a smaller subtree",
                    self.args.image.display(),
                    self.args.path
                )));
            }
            self.listed += 1;
            let path = child(dir, &e.name);
            match md {
                Ok(md) => {
                    self.entry(&path, &e.name, &md)?;
                    if md.kind == FileKind::Dir {
                        subdirs.push(path);
                    }
                }
                Err(err) => self.warn(&lossy(&path), &err),
            }
        }
        Ok(subdirs)
    }
}

/// Lists `args.path`.
pub fn run(args: LsArgs) -> anyhow::Result<Outcome> {
    let guest = super::fs::open_view(&args.image, args.filesystem.as_deref(), "ls")?;
    if !args.path.starts_with('/') {
        return Err(UsageError(format!("{}: the path must be absolute", args.path)).into());
    }
    let path = args.path.as_bytes();
    let context = || format!("{}: {}", args.image.display(), args.path);
    let md = guest.metadata(path).with_context(context)?;
    let mut lister = Lister {
        guest: &guest,
        args: &args,
        out: std::io::stdout().lock(),
        json: Vec::new(),
        listed: 0,
        broken: 0,
    };
    // As `ls -l` does, a link named on the command line is shown itself
    // with -l, and followed to the directory it names without.
    let shown_itself = args.long
        && guest
            .symlink_metadata(path)
            .is_ok_and(|m| m.kind == FileKind::Symlink);
    if md.kind != FileKind::Dir || shown_itself {
        let lmd = guest.symlink_metadata(path).with_context(context)?;
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        lister.entry(path, name, &lmd)?;
    } else if !args.recursive {
        lister.list_dir(path)?;
    } else {
        // Depth first, each directory listed whole before its children,
        // as `ls -R` does.
        let mut stack: Vec<(Vec<u8>, usize)> = vec![(path.to_vec(), 0)];
        let mut first = true;
        while let Some((dir, depth)) = stack.pop() {
            if !args.json {
                if !first {
                    lister.out.write_all(b"\n")?;
                }
                lister.out.write_all(&dir)?;
                lister.out.write_all(b":\n")?;
            }
            first = false;
            let subdirs = lister.list_dir(&dir)?;
            if depth + 1 >= MAX_DEPTH && !subdirs.is_empty() {
                lister.warn(
                    &format!("directory {}", lossy(&dir)),
                    &format!("deeper than {MAX_DEPTH} levels; not entered"),
                );
                continue;
            }
            stack.extend(subdirs.into_iter().rev().map(|d| (d, depth + 1)));
        }
    }
    if args.json {
        let json = std::mem::take(&mut lister.json);
        serde_json::to_writer_pretty(&mut lister.out, &json).context("writing JSON to stdout")?;
        lister.out.write_all(b"\n")?;
    }
    lister.out.flush()?;
    Ok(if lister.broken > 0 {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
