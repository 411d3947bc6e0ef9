//! Parsing the guest's `/etc/fstab` as `mount(8)` and systemd read it.
//!
//! One entry a line: `source mount-point type options [freq [passno]]`,
//! fields split on blanks, `#` starting a comment line, and the octal
//! escapes `\040` (space), `\011` (tab), `\012`, `\134` (backslash) inside
//! fields. A missing type is `auto`, missing options `defaults`.

/// Lines read at most: a real fstab has a few dozen.
pub const MAX_LINES: usize = 10_000;

/// One line of the fstab that names a mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabEntry {
    /// 1-based line number.
    pub line: usize,
    /// The source (`UUID=...`, `/dev/vda1`, `server:/export`), unescaped.
    pub source: String,
    /// The mount point, unescaped (`none` or `swap` for swap).
    pub mount_point: Vec<u8>,
    /// The file-system type (`auto` when missing).
    pub fs_type: String,
    /// The options, split on commas (`defaults` when missing).
    pub options: Vec<String>,
}

impl FstabEntry {
    /// The value of option `key=` (`subvol`, `subvolid`), if given.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find_map(|o| o.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
    }

    /// Whether the flag option `name` (`bind`, `noauto`) is given.
    pub fn has(&self, name: &str) -> bool {
        self.options.iter().any(|o| o == name)
    }
}

/// A line that is neither an entry, a comment nor blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabProblem {
    /// 1-based line number.
    pub line: usize,
    /// The line, lossily decoded.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

/// The entries of an fstab and the lines that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fstab {
    /// Entries, in file order.
    pub entries: Vec<FstabEntry>,
    /// Lines that are not entries.
    pub problems: Vec<FstabProblem>,
}

/// Undoes fstab's octal escapes (`\040`); a backslash not followed by
/// three octal digits stays as it is, as libmount leaves it.
pub fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while let Some(&b) = field.get(i) {
        if b == b'\\' {
            if let Some(digits) = field.get(i + 1..i + 4) {
                if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    let value = digits
                        .iter()
                        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                    if let Ok(byte) = u8::try_from(value) {
                        out.push(byte);
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Parses the bytes of an fstab.
pub fn parse(text: &[u8]) -> Fstab {
    let mut fstab = Fstab::default();
    for (index, raw) in text.split(|&b| b == b'\n').enumerate().take(MAX_LINES) {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let fields: Vec<&[u8]> = raw
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty())
            .collect();
        let Some(first) = fields.first() else {
            continue;
        };
        if first.starts_with(b"#") {
            continue;
        }
        let text_of = |f: &[u8]| String::from_utf8_lossy(&unescape(f)).into_owned();
        let Some(mount_point) = fields.get(1) else {
            fstab.problems.push(FstabProblem {
                line,
                text: String::from_utf8_lossy(raw).into_owned(),
                reason: "one field only; an entry needs a source and a mount point".to_owned(),
            });
            continue;
        };
        let fs_type = fields
            .get(2)
            .map_or_else(|| "auto".to_owned(), |f| text_of(f));
        let options = fields
            .get(3)
            .map_or_else(|| "defaults".to_owned(), |f| text_of(f));
        fstab.entries.push(FstabEntry {
            line,
            source: text_of(first),
            mount_point: unescape(mount_point),
            fs_type,
            options: options
                .split(',')
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
        });
    }
    fstab
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_comments_escapes_and_defaults() {
        let text = b"# comment\n\n  UUID=ab-cd\t/  ext4 defaults,errors=remount-ro 0 1\r\n\
            LABEL=my\\040data /srv/my\\040data xfs subvol=/@x,noatime\n\
            /dev/sdb1 /mnt\nlonely\n  # indented comment\n";
        let f = parse(text);
        assert_eq!(f.entries.len(), 3);
        let root = &f.entries[0];
        assert_eq!((root.line, root.source.as_str()), (3, "UUID=ab-cd"));
        assert_eq!(root.mount_point, b"/");
        assert_eq!(root.options, ["defaults", "errors=remount-ro"]);
        let data = &f.entries[1];
        assert_eq!(data.source, "LABEL=my data");
        assert_eq!(data.mount_point, b"/srv/my data");
        assert_eq!(data.option("subvol"), Some("/@x"));
        assert!(data.has("noatime"));
        assert_eq!(f.entries[2].fs_type, "auto");
        assert_eq!(f.entries[2].options, ["defaults"]);
        assert_eq!(f.problems.len(), 1);
        assert_eq!(f.problems[0].line, 6);
    }

    #[test]
    fn odd_escapes_stay() {
        assert_eq!(unescape(b"a\\09b\\"), b"a\\09b\\");
        assert_eq!(unescape(b"\\134\\011"), b"\\\t");
        assert_eq!(unescape(b"\\777"), b"\\777");
    }
}
