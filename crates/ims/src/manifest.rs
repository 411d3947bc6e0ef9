//! The upload set's `manifest.json`: what to upload, under which object
//! names, with sizes and CRC-32s to check the files against later.

use serde::{Deserialize, Serialize};

use crate::finding::{Code, Finding};

/// What a file of the upload set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    /// The disk image (RAW or ZVHD2).
    Image,
    /// The bitmap file of a RAW image.
    Bitmap,
}

/// One file to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// What the file is.
    pub role: FileRole,
    /// Where the file is: relative to the manifest's folder, or absolute
    /// (a RAW image is referred to where it is, not copied).
    pub path: String,
    /// Object name in the bucket.
    pub object: String,
    /// Size in bytes.
    pub size: u64,
    /// CRC-32 (IEEE) of the whole file, 8 lowercase hex digits.
    pub crc32: String,
}

/// The manifest of an upload set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of imsprep that wrote it.
    pub imsprep_version: String,
    /// Format of the image: `raw` or `zvhd2`.
    pub format: String,
    /// Size of the disk the image becomes, in bytes (RAW: file size; ZVHD2: curr_size).
    pub disk_size: u64,
    /// The request's `image_url`, `bucket:object`.
    pub image_url: String,
    /// The request's `min_disk` in GiB.
    pub min_disk: u32,
    /// Why that `min_disk`.
    pub min_disk_reason: String,
    /// The request body's file, relative to the manifest's folder.
    pub request: String,
    /// The files to upload, the image first.
    pub files: Vec<ManifestFile>,
    /// Warnings and notices found while preparing (errors stop `prepare`).
    #[serde(default, skip_deserializing)]
    pub findings: Vec<Finding>,
    /// Findings the user judged and let pass with `--accept CODE`, errors
    /// included, so the set records what was known when it was made.
    #[serde(default, skip_deserializing)]
    pub accepted: Vec<Finding>,
}

/// Lowercase 8-digit hex, the way manifests write CRC-32s.
pub fn crc32_hex(crc: u32) -> String {
    format!("{crc:08x}")
}

/// An object name for a local file name: white space (which the service
/// refuses in object names, IMG.0175) becomes `-`, under `prefix/` when given.
pub fn object_name(prefix: Option<&str>, file_name: &str) -> String {
    let name: String = file_name
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect();
    match prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(prefix) => format!("{prefix}/{name}"),
        None => name,
    }
}

/// The bitmap object for a RAW image object: the same base name with `.mf`
/// (`image01.raw` -> `image01.mf`), as the service requires.
pub fn bitmap_object_for(image_object: &str) -> String {
    let base_start = image_object.rfind('/').map_or(0, |i| i + 1);
    let stem = match image_object.rfind('.') {
        Some(dot) if dot > base_start => image_object.get(..dot).unwrap_or(image_object),
        _ => image_object,
    };
    format!("{stem}.mf")
}

/// Compares a file with its manifest entry; `actual` is its size and CRC-32,
/// or `None` when it could not be found.
pub fn check_file(entry: &ManifestFile, actual: Option<(u64, u32)>) -> Option<Finding> {
    let path = format!("files[{}]", entry.path);
    let Some((size, crc)) = actual else {
        return Some(Finding::new(
            Code::ManifestMismatch,
            path,
            format!("{} is missing", entry.path),
        ));
    };
    if size != entry.size {
        return Some(Finding::new(
            Code::ManifestMismatch,
            path,
            format!(
                "{} has {size} bytes, the manifest says {}",
                entry.path, entry.size
            ),
        ));
    }
    let crc = crc32_hex(crc);
    if !crc.eq_ignore_ascii_case(&entry.crc32) {
        return Some(Finding::new(
            Code::ManifestMismatch,
            path,
            format!(
                "{} has CRC-32 {crc}, the manifest says {}",
                entry.path, entry.crc32
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> ManifestFile {
        ManifestFile {
            role: FileRole::Image,
            path: "disk.zvhd2".into(),
            object: "disk.zvhd2".into(),
            size: 10,
            crc32: "0000abcd".into(),
        }
    }

    #[test]
    fn object_names_have_no_spaces_and_take_the_prefix() {
        assert_eq!(object_name(None, "my disk.raw"), "my-disk.raw");
        assert_eq!(object_name(Some("/imgs/"), "a.raw"), "imgs/a.raw");
        assert_eq!(object_name(Some(""), "a.raw"), "a.raw");
    }

    #[test]
    fn bitmap_objects_share_the_base_name() {
        assert_eq!(bitmap_object_for("image01.raw"), "image01.mf");
        assert_eq!(bitmap_object_for("p.q/image01"), "p.q/image01.mf");
        assert_eq!(bitmap_object_for("dir/a.b.raw"), "dir/a.b.mf");
    }

    #[test]
    fn a_file_must_match_size_and_crc() {
        assert!(check_file(&entry(), Some((10, 0xabcd))).is_none());
        let size = check_file(&entry(), Some((11, 0xabcd))).expect("size differs");
        assert!(size.message.contains("11 bytes"));
        let crc = check_file(&entry(), Some((10, 0xabce))).expect("crc differs");
        assert!(crc.message.contains("0000abce"));
        assert!(check_file(&entry(), None).is_some());
    }

    #[test]
    fn manifests_read_back_without_findings() {
        let manifest = Manifest {
            imsprep_version: "0.1.0".into(),
            format: "raw".into(),
            disk_size: 10,
            image_url: "b:disk.raw".into(),
            min_disk: 1,
            min_disk_reason: "covers the disk".into(),
            request: "request.json".into(),
            files: vec![entry()],
            findings: vec![Finding::new(Code::ManifestMismatch, "x", "y")],
            accepted: Vec::new(),
        };
        let text = serde_json::to_string(&manifest).expect("serialises");
        let back: Manifest = serde_json::from_str(&text).expect("parses");
        assert_eq!(back.files, manifest.files);
        assert!(back.findings.is_empty());
    }
}
