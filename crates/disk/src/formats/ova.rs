//! OVA archives: a tar holding an OVF descriptor and the VMDK disks it
//! names, as VMware, VirtualBox and others export a virtual machine.
//!
//! The disk is read in place, as a byte range of the archive: nothing is
//! extracted. The tar headers (ustar, with POSIX pax `path`/`size` records
//! and GNU long names and base-256 sizes) are read here rather than with
//! the `tar` crate, whose archive reader walks members through `Read` (a
//! whole pass over a multi-gigabyte archive to list it) and does not give
//! the strict per-field checks wanted for hostile input; the format needs
//! only a few fields.
//!
//! The disks are the members whose name ends in `.vmdk`. One disk is
//! opened directly; with several, [`crate::OpenOptions::ova_disk`] names
//! the one to read, and without it the error lists them. Disks of other
//! formats in an OVA (`.img`, `.raw`, `.qcow2`, ...) are refused: OVF
//! packages carry VMDK, and the others are read once extracted.

use crate::backing::Chain;
use crate::disk::Disk;
use crate::error::DiskError;
use crate::formats::vmdk;
use crate::io::ReadAt;

/// Bytes in a tar block: headers are one block, data is padded to blocks.
const BLOCK: u64 = 512;

/// Most members read: an OVA holds a descriptor, a manifest, a
/// certificate and a few disks.
const MAX_MEMBERS: usize = 65_536;

/// Largest pax extended header or GNU long name read.
const MAX_META_BYTES: u64 = 1 << 20;

/// Extensions of disks in other formats, refused by name.
const OTHER_DISKS: &[&str] = &[".img", ".raw", ".qcow2", ".vhd", ".vhdx", ".vdi", ".iso"];

/// One regular file of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    /// Its path in the archive.
    name: String,
    /// Where its bytes start in the archive.
    offset: u64,
    /// How many bytes it holds.
    size: u64,
}

/// Opens the disk of an OVA: the only VMDK in it, or the one
/// `chain.options.ova_disk` names.
pub(crate) fn open(src: ReadAt, chain: &Chain<'_>) -> Result<Box<dyn Disk>, DiskError> {
    let members = members(&src)?;
    let disks: Vec<&Member> = members
        .iter()
        .filter(|m| m.name.to_ascii_lowercase().ends_with(".vmdk"))
        .collect();
    let names = |list: &[&Member]| {
        list.iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if disks.is_empty() {
        let others: Vec<&Member> = members
            .iter()
            .filter(|m| {
                let lower = m.name.to_ascii_lowercase();
                OTHER_DISKS.iter().any(|ext| lower.ends_with(ext))
            })
            .collect();
        if !others.is_empty() {
            return Err(DiskError::unsupported(
                src.path(),
                "ova",
                format!("disks other than VMDK in an OVA ({})", names(&others)),
                Some("extract the disk with tar and open that file".to_string()),
            ));
        }
        let all: Vec<&Member> = members.iter().collect();
        return Err(DiskError::malformed(
            src.path(),
            "ova",
            "tar members",
            0,
            format!("expected a .vmdk disk; the archive holds: {}", names(&all)),
        ));
    }
    let chosen = match (&chain.options.ova_disk, disks.as_slice()) {
        (Some(wanted), _) => *disks
            .iter()
            .find(|m| m.name == *wanted || base_name(&m.name) == wanted)
            .ok_or_else(|| {
                DiskError::unsupported(
                    src.path(),
                    "ova",
                    format!(
                        "reading the disk {wanted:?}, which the OVA does not hold (its disks: {})",
                        names(&disks)
                    ),
                    Some("choose one of its disks with --disk NAME".to_string()),
                )
            })?,
        (None, [only]) => *only,
        (None, _) => {
            return Err(DiskError::unsupported(
                src.path(),
                "ova",
                format!(
                    "reading an OVA of several disks ({}) without naming one",
                    names(&disks)
                ),
                Some("choose one with --disk NAME".to_string()),
            ))
        }
    };
    vmdk::open_in_ova(
        src.sub(chosen.offset, chosen.size),
        chain,
        base_name(&chosen.name),
    )
}

/// The last component of a member's path.
fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The regular files of the tar `src`, each checked to lie inside it.
fn members(src: &ReadAt) -> Result<Vec<Member>, DiskError> {
    let mut members = Vec::new();
    let mut pos = 0u64;
    // Names and sizes a pax header or GNU long name gives the next member.
    let mut next_name: Option<String> = None;
    let mut next_size: Option<u64> = None;
    let mut headers = 0usize;
    while pos < src.len() {
        headers += 1;
        if headers > MAX_MEMBERS {
            return Err(malformed(
                src,
                "tar headers",
                pos,
                format!("more than {MAX_MEMBERS} entries; an OVA holds a few files"),
            ));
        }
        if src.len() - pos < BLOCK {
            return Err(malformed(
                src,
                "tar header",
                pos,
                "the file ends inside a 512-byte header",
            ));
        }
        let mut block = [0u8; BLOCK as usize];
        src.read_exact_at(pos, &mut block)?;
        if block.iter().all(|&b| b == 0) {
            break; // The end-of-archive blocks.
        }
        check_checksum(src, &block, pos)?;
        let header_name = header_name(&block);
        let size = match next_size.take() {
            Some(size) => size,
            None => parse_size(field(&block, 124, 12)).ok_or_else(|| {
                malformed(
                    src,
                    &format!("tar header field size of {header_name:?}"),
                    pos + 124,
                    format!(
                        "expected an octal or base-256 number; found {:?}",
                        String::from_utf8_lossy(field(&block, 124, 12))
                    ),
                )
            })?,
        };
        let data = pos + BLOCK;
        let inside = data.checked_add(size).is_some_and(|end| end <= src.len());
        if !inside {
            return Err(malformed(
                src,
                &format!("tar header field size of {header_name:?}"),
                pos + 124,
                format!(
                    "{size} bytes from offset {data} end past the end of the {}-byte file",
                    src.len()
                ),
            ));
        }
        let typeflag = block.get(156).copied().unwrap_or_default();
        match typeflag {
            b'x' | b'L' => {
                if size > MAX_META_BYTES {
                    return Err(malformed(
                        src,
                        &format!("tar extended header of {header_name:?}"),
                        pos + 124,
                        format!("expected at most {MAX_META_BYTES} bytes; found {size}"),
                    ));
                }
                let bytes = src.read_vec(data, size)?;
                if typeflag == b'L' {
                    next_name = Some(c_string(&bytes));
                } else {
                    let (name, pax_size) = parse_pax(&bytes).ok_or_else(|| {
                        malformed(
                            src,
                            "tar pax extended header",
                            data,
                            "expected records `LENGTH key=value\\n`",
                        )
                    })?;
                    next_name = name.or(next_name);
                    next_size = pax_size;
                }
            }
            b'0' | 0 | b'7' => {
                let name = next_name.take().unwrap_or(header_name);
                members.push(Member {
                    name,
                    offset: data,
                    size,
                });
            }
            // Directories, links, global pax headers and the rest: nothing
            // to read, and the pending name was theirs.
            _ => next_name = None,
        }
        // `data + size` fits (checked above); rounding up stays under
        // 2^64 with at most 511 more.
        pos = (data + size).saturating_add(BLOCK - 1) / BLOCK * BLOCK;
    }
    Ok(members)
}

/// `len` bytes at `at` of a header block.
fn field(block: &[u8], at: usize, len: usize) -> &[u8] {
    block.get(at..at + len).unwrap_or_default()
}

/// Bytes up to the first NUL, as text.
fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned()
}

/// A member's path from its header: ustar's prefix and name.
fn header_name(block: &[u8]) -> String {
    let name = c_string(field(block, 0, 100));
    let ustar = field(block, 257, 6) == b"ustar\0";
    let prefix = c_string(field(block, 345, 155));
    if ustar && !prefix.is_empty() {
        format!("{prefix}/{name}")
    } else {
        name
    }
}

/// A numeric field: octal digits (space or NUL padded), or base-256 when
/// the first byte has its high bit set (GNU, for sizes of 8 GiB or more).
fn parse_size(raw: &[u8]) -> Option<u64> {
    let first = *raw.first()?;
    if first & 0x80 != 0 {
        let mut value: u64 = u64::from(first & 0x7f);
        for &b in raw.get(1..)? {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let text = std::str::from_utf8(raw).ok()?;
    let digits = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// Checks the header checksum: the sum of its bytes with the checksum
/// field counted as spaces (old tars summed signed bytes; both are taken).
fn check_checksum(src: &ReadAt, block: &[u8], pos: u64) -> Result<(), DiskError> {
    let stored = parse_size(field(block, 148, 8));
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    let ok = stored.is_some_and(|s| s == unsigned || i64::try_from(s).is_ok_and(|s| s == signed));
    if !ok {
        return Err(malformed(
            src,
            "tar header checksum",
            pos + 148,
            format!(
                "expected {unsigned}; found {:?}: not a tar archive, or a damaged one",
                String::from_utf8_lossy(field(block, 148, 8)).trim_matches(['\0', ' '])
            ),
        ));
    }
    Ok(())
}

/// The `path` and `size` of pax records `LENGTH key=value\n`.
fn parse_pax(bytes: &[u8]) -> Option<(Option<String>, Option<u64>)> {
    let mut rest = bytes;
    let mut path = None;
    let mut size = None;
    while !rest.is_empty() && rest.first() != Some(&0) {
        let space = rest.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(rest.get(..space)?).ok()?.parse().ok()?;
        let record = rest.get(space + 1..len)?;
        let record = record.strip_suffix(b"\n")?;
        let eq = record.iter().position(|&b| b == b'=')?;
        let (key, value) = (record.get(..eq)?, record.get(eq + 1..)?);
        match key {
            b"path" => path = Some(String::from_utf8_lossy(value).into_owned()),
            b"size" => size = Some(std::str::from_utf8(value).ok()?.parse().ok()?),
            _ => {}
        }
        rest = rest.get(len..)?;
    }
    Some((path, size))
}

/// A [`DiskError::Malformed`] of the archive.
fn malformed(src: &ReadAt, structure: &str, offset: u64, problem: impl Into<String>) -> DiskError {
    DiskError::malformed(src.path(), "ova", structure, offset, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_octal_and_base_256() {
        assert_eq!(parse_size(b"00000001750\0"), Some(1000));
        assert_eq!(parse_size(b"     1750 \0\0"), Some(1000));
        assert_eq!(
            parse_size(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0]),
            Some(2 << 16)
        );
        assert_eq!(parse_size(&[0xff; 12]), None);
        assert_eq!(parse_size(b"9\0"), None);
    }

    #[test]
    fn pax_records() {
        let (path, size) = parse_pax(b"23 path=dir/disk1.vmdk\n17 size=12345678\n").unwrap();
        assert_eq!(path.as_deref(), Some("dir/disk1.vmdk"));
        assert_eq!(size, Some(12_345_678));
        assert!(parse_pax(b"999 path=x\n").is_none());
        assert!(parse_pax(b"3 x").is_none());
    }
}
