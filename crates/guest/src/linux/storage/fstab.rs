//! `/etc/fstab` lines: fields, octal escapes, options and what the
//! boot does when an entry's device is missing.

use super::source::{classify_source, resolve, Resolution, SourceKind};
use crate::{Evidence, VolumeInfo};

/// Most fstab entries kept.
pub const MAX_FSTAB_ENTRIES: usize = 1024;

/// One `/etc/fstab` line (or one systemd `.mount` unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabEntry {
    /// The file read: `/etc/fstab` or the unit file.
    pub file: String,
    /// 1-based line number (0 for a mount unit).
    pub line: usize,
    /// Source as written (escapes decoded).
    pub source: String,
    /// Mount point (escapes decoded); `none`/`swap` for swap.
    pub mount_point: String,
    /// File-system type.
    pub fs_type: String,
    /// Options, split at commas.
    pub options: Vec<String>,
    /// What kind of name the source is.
    pub kind: SourceKind,
    /// Whether the identifier exists in the image.
    pub resolution: Resolution,
}

impl FstabEntry {
    /// Has `option` (exact name, or `name=value`).
    pub fn has_option(&self, option: &str) -> bool {
        self.options
            .iter()
            .any(|o| o == option || o.split_once('=').is_some_and(|(k, _)| k == option))
    }
    /// `nofail` is set.
    pub fn nofail(&self) -> bool {
        self.has_option("nofail")
    }
    /// `noauto` is set.
    pub fn noauto(&self) -> bool {
        self.has_option("noauto")
    }
    /// `_netdev` is set.
    pub fn netdev(&self) -> bool {
        self.has_option("_netdev")
    }
    /// `x-systemd.*` options.
    pub fn systemd_options(&self) -> Vec<&str> {
        self.options
            .iter()
            .filter(|o| o.starts_with("x-systemd."))
            .map(String::as_str)
            .collect()
    }
    /// A swap entry.
    pub fn is_swap(&self) -> bool {
        self.fs_type == "swap"
    }
    /// The boot waits for this entry's device and drops to emergency mode
    /// when it never appears: not the root (systemd takes the root from
    /// `root=`), not swap (a failed swap unit does not stop the boot), not
    /// `nofail`/`noauto`, and the device is an identifier missing from the
    /// image or a name from other hardware (`/dev/sdX`, `/dev/xvdX`,
    /// `/dev/disk/by-id/…`).
    pub fn would_stall_boot(&self) -> bool {
        let absent = matches!(
            self.kind,
            SourceKind::ForeignName(_) | SourceKind::ByIdOrPath(_)
        ) || self.resolution == Resolution::Missing;
        absent && self.mount_point != "/" && !self.is_swap() && !self.nofail() && !self.noauto()
    }
    /// Evidence: the line as read.
    pub fn evidence(&self) -> Evidence {
        if self.line == 0 {
            return Evidence::file(
                &self.file,
                format!(
                    "What={} Where={} Type={} Options={}",
                    self.source,
                    self.mount_point,
                    self.fs_type,
                    self.options.join(",")
                ),
            );
        }
        Evidence::file(
            &self.file,
            format!(
                "line {}: {} {} {} {}",
                self.line,
                self.source,
                self.mount_point,
                self.fs_type,
                self.options.join(",")
            ),
        )
    }
}

/// Decodes fstab octal escapes (`\040` space, `\011` tab, `\134` backslash).
pub fn unescape_fstab(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' {
            if let Some(digits) = bytes.get(i + 1..i + 4) {
                if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    let v = digits
                        .iter()
                        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                    if let Ok(v) = u8::try_from(v) {
                        out.push(v);
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses fstab text and resolves every source against `volumes`.
pub fn parse_fstab(text: &str, volumes: &[VolumeInfo]) -> Vec<FstabEntry> {
    let mut out = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(source), Some(mount), Some(fs_type)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let options = fields.next().unwrap_or("defaults");
        out.push(entry(
            "/etc/fstab",
            idx + 1,
            &unescape_fstab(source),
            &unescape_fstab(mount),
            fs_type,
            options,
            volumes,
        ));
        if out.len() >= MAX_FSTAB_ENTRIES {
            break;
        }
    }
    out
}

/// Builds one entry: classifies the source and looks it up.
pub(crate) fn entry(
    file: &str,
    line: usize,
    source: &str,
    mount_point: &str,
    fs_type: &str,
    options: &str,
    volumes: &[VolumeInfo],
) -> FstabEntry {
    let options: Vec<String> = options.split(',').map(String::from).collect();
    let kind = if options.iter().any(|o| o == "bind" || o == "rbind") {
        SourceKind::Bind(source.to_string())
    } else {
        classify_source(source, fs_type)
    };
    FstabEntry {
        file: file.to_string(),
        line,
        source: source.to_string(),
        mount_point: mount_point.to_string(),
        fs_type: fs_type.to_string(),
        resolution: resolve(&kind, volumes),
        options,
        kind,
    }
}
