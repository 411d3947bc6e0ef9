//! The text descriptor of a VMDK: the disk's type, its extents in order,
//! and its parent for a delta disk.
//!
//! ```text
//! # Disk DescriptorFile
//! version=1
//! CID=fffffffe
//! parentCID=ffffffff
//! createType="twoGbMaxExtentFlat"
//! RW 4192256 FLAT "disk-f001.vmdk" 0
//! RW 2 ZERO
//! ddb.adapterType = "lsilogic"
//! ```
//!
//! Keys other than `createType`, `parentCID` and `parentFileNameHint` are
//! not used (`ddb.*` is the virtual machine's, not the disk's), except that
//! `encryption.*` keys mark an encrypted disk, which is refused.

/// Most extent lines read: a 2 TiB disk in 2 GiB pieces has 1024.
pub(super) const MAX_EXTENTS: usize = 4096;

/// `parentCID` of a disk that has no parent.
const NO_PARENT_CID: &str = "ffffffff";

/// Who may access an extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Read and write.
    ReadWrite,
    /// Read only.
    ReadOnly,
    /// `NOACCESS`: the extent cannot be read.
    Denied,
}

/// How an extent stores its sectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ExtentType {
    /// The sectors as they are, from an offset of a file (`FLAT`, `VMFS`).
    Flat,
    /// A hosted sparse extent file (`SPARSE`).
    Sparse,
    /// Sectors of zeros, stored nowhere (`ZERO`).
    Zero,
    /// A type that is not read: `VMFSSPARSE`, `SESPARSE`, `VMFSRDM`, ...
    Other(String),
}

/// One extent line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExtentLine {
    /// Line number in the descriptor, from 1, for messages.
    pub line: usize,
    /// Who may access it.
    pub access: Access,
    /// Its size in sectors.
    pub sectors: u64,
    /// How it is stored.
    pub kind: ExtentType,
    /// The file holding it (none for `ZERO`).
    pub file: Option<String>,
    /// Where it starts in its file, in sectors (`FLAT` only).
    pub offset: u64,
}

/// What a descriptor says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Descriptor {
    /// `createType`, when given.
    pub create_type: Option<String>,
    /// `parentFileNameHint` of a delta disk whose `parentCID` names a
    /// parent.
    pub parent_hint: Option<String>,
    /// The extents, in the order they make up the disk.
    pub extents: Vec<ExtentLine>,
    /// An `encryption.*` key is present.
    pub encrypted: bool,
}

/// A descriptor line that cannot be read: its number and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LineError {
    /// Line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// Parses descriptor text (already bounded in size by the caller).
pub(super) fn parse(text: &str) -> Result<Descriptor, LineError> {
    let mut descriptor = Descriptor::default();
    let mut parent_cid = None;
    let mut parent_hint = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let first = content.split_whitespace().next().unwrap_or_default();
        if matches!(first, "RW" | "RDONLY" | "NOACCESS") {
            if descriptor.extents.len() >= MAX_EXTENTS {
                return Err(LineError {
                    line,
                    problem: format!("more than {MAX_EXTENTS} extent lines"),
                });
            }
            descriptor.extents.push(parse_extent(content, line)?);
            continue;
        }
        // Lines that are neither are ignored, as QEMU and VMware do.
        let Some((key, value)) = content.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let value = unquote(value.trim());
        match key {
            "createType" => descriptor.create_type = Some(value.to_string()),
            "parentCID" => parent_cid = Some(value.to_ascii_lowercase()),
            "parentFileNameHint" => parent_hint = Some(value.to_string()),
            _ if key.starts_with("encryption.") => descriptor.encrypted = true,
            _ => {}
        }
    }
    // As QEMU does, the hint is followed unless the parent CID says there
    // is no parent.
    if parent_cid.as_deref() != Some(NO_PARENT_CID) {
        descriptor.parent_hint = parent_hint.filter(|h| !h.is_empty());
    }
    Ok(descriptor)
}

/// `"value"` without its quotes.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// `ACCESS SECTORS TYPE ["FILE" [OFFSET]]`.
fn parse_extent(content: &str, line: usize) -> Result<ExtentLine, LineError> {
    let fail = |problem: String| LineError { line, problem };
    let mut rest = content;
    let mut word = || {
        let trimmed = rest.trim_start();
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let (w, r) = trimmed.split_at(end);
        rest = r;
        w
    };
    let access = match word() {
        "RW" => Access::ReadWrite,
        "RDONLY" => Access::ReadOnly,
        _ => Access::Denied,
    };
    let size = word();
    let sectors = size
        .parse::<u64>()
        .map_err(|_| fail(format!("extent size {size:?} is not a number of sectors")))?;
    let kind = match word() {
        "FLAT" | "VMFS" => ExtentType::Flat,
        "SPARSE" => ExtentType::Sparse,
        "ZERO" => ExtentType::Zero,
        "" => return Err(fail("the extent line has no type".to_string())),
        other => ExtentType::Other(other.to_string()),
    };
    let tail = rest.trim();
    let (file, after) = if tail.is_empty() {
        (None, "")
    } else {
        let Some(quoted) = tail.strip_prefix('"') else {
            return Err(fail(format!(
                "expected the extent's file name in double quotes; found {tail:?}"
            )));
        };
        let Some((name, after)) = quoted.split_once('"') else {
            return Err(fail(
                "the extent's file name has no closing quote".to_string(),
            ));
        };
        (Some(name.to_string()), after.trim())
    };
    let offset = if after.is_empty() {
        0
    } else {
        after.parse::<u64>().map_err(|_| {
            fail(format!(
                "extent offset {after:?} is not a number of sectors"
            ))
        })?
    };
    if file.is_none() && kind != ExtentType::Zero {
        return Err(fail("the extent names no file".to_string()));
    }
    Ok(ExtentLine {
        line,
        access,
        sectors,
        kind,
        file,
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_type_extents_and_parent() {
        let text = "# Disk DescriptorFile\nversion=1\nCID=1234abcd\nparentCID=1234abcd\n\
                    createType=\"twoGbMaxExtentFlat\"\nparentFileNameHint=\"base.vmdk\"\n\
                    RW 100 FLAT \"a b-f001.vmdk\" 7\nRDONLY 8 ZERO\nNOACCESS 4 SPARSE \"s.vmdk\"\n\
                    ddb.adapterType = \"ide\"\n";
        let d = parse(text).unwrap();
        assert_eq!(d.create_type.as_deref(), Some("twoGbMaxExtentFlat"));
        assert_eq!(d.parent_hint.as_deref(), Some("base.vmdk"));
        assert_eq!(d.extents.len(), 3);
        assert_eq!(d.extents[0].file.as_deref(), Some("a b-f001.vmdk"));
        assert_eq!(d.extents[0].offset, 7);
        assert_eq!(d.extents[1].kind, ExtentType::Zero);
        assert_eq!(d.extents[2].access, Access::Denied);
        assert!(!d.encrypted);
    }

    #[test]
    fn no_parent_when_the_cid_says_so_and_bad_lines_are_named() {
        let d = parse("parentCID=ffffffff\nparentFileNameHint=\"x.vmdk\"\n").unwrap();
        assert_eq!(d.parent_hint, None);
        let e = parse("version=1\nRW lots FLAT \"x\" 0\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse("RW 1 FLAT x.vmdk").is_err());
        assert!(parse("RW 1 FLAT \"x.vmdk").is_err());
        assert!(parse("RW 1 FLAT").is_err());
        assert!(parse("encryption.keySafe = \"x\"").unwrap().encrypted);
    }
}
