//! How the image goes into the set, and the names of everything in it.

use std::path::{Path, PathBuf};

use imsprep_ims::manifest::{bitmap_object_for, object_name};
use serde::Serialize;

use crate::error::PrepareError;

/// How the image goes into the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// A RAW image with a bitmap file beside it.
    RawWithBitmap,
    /// A RAW image, a block device, a stream or another format converted
    /// to ZVHD2.
    ConvertToZvhd2,
    /// A block device, a stream or another format copied to a sparse RAW
    /// file in the set, with a bitmap file beside it.
    RawCopyWithBitmap,
    /// A ZVHD2 image, verified and used as it is.
    Zvhd2AsIs,
}

impl Plan {
    /// Whether the set uploads a RAW image (with its bitmap).
    pub fn is_raw(self) -> bool {
        matches!(self, Plan::RawWithBitmap | Plan::RawCopyWithBitmap)
    }

    /// Whether imsprep writes the image of the set from the input.
    pub fn writes_image(self) -> bool {
        matches!(self, Plan::ConvertToZvhd2 | Plan::RawCopyWithBitmap)
    }
}

/// The names of everything the set holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The output folder.
    pub out: PathBuf,
    /// The image's object name in the bucket (with the prefix).
    pub image_object: String,
    /// Where the image of the set is on this machine: in the folder, or the
    /// input itself when it is referred to in place.
    pub image_local: PathBuf,
    /// The bitmap's object name and local path, for a RAW set.
    pub bitmap: Option<(String, PathBuf)>,
    /// `request.json` in the folder.
    pub request: PathBuf,
    /// `manifest.json` in the folder.
    pub manifest: PathBuf,
}

impl Names {
    /// The names for an image called `file_name`, read from `image`;
    /// `in_set` when the image itself goes into the folder (`--link`, or a
    /// copy of a stream).
    pub(crate) fn new(
        image: &Path,
        file_name: &str,
        out: Option<&Path>,
        prefix: Option<&str>,
        plan: Plan,
        in_set: bool,
    ) -> Names {
        let stem = Path::new(file_name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| file_name.to_string());
        let out = out
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(format!("{stem}.upload")));
        let local_name = match plan {
            Plan::ConvertToZvhd2 => format!("{stem}.zvhd2"),
            Plan::RawCopyWithBitmap => format!("{stem}.raw"),
            _ => file_name.to_string(),
        };
        let image_object = object_name(prefix, &local_name);
        // Local files are named like their objects, without the folder.
        let base = |object: &str| object.rsplit('/').next().unwrap_or(object).to_string();
        let image_local = if plan.writes_image() || in_set {
            out.join(base(&image_object))
        } else {
            image.to_path_buf()
        };
        let bitmap = plan.is_raw().then(|| {
            let object = bitmap_object_for(&image_object);
            let local = out.join(base(&object));
            (object, local)
        });
        Names {
            request: out.join("request.json"),
            manifest: out.join("manifest.json"),
            out,
            image_object,
            image_local,
            bitmap,
        }
    }

    /// Every file this run will create in the output folder.
    pub(crate) fn targets(&self) -> Vec<PathBuf> {
        let mut all = vec![self.request.clone(), self.manifest.clone()];
        if let Some((_, bitmap)) = &self.bitmap {
            all.push(bitmap.clone());
        }
        if self.image_local.starts_with(&self.out) {
            all.push(self.image_local.clone());
        }
        all
    }
}

/// Refuses outputs that exist, unless `force`.
pub(crate) fn refuse_existing(targets: &[PathBuf], force: bool) -> Result<(), PrepareError> {
    if force {
        return Ok(());
    }
    let existing: Vec<String> = targets
        .iter()
        .filter(|p| p.symlink_metadata().is_ok())
        .map(|p| p.display().to_string())
        .collect();
    if existing.is_empty() {
        Ok(())
    } else {
        Err(PrepareError::Usage(format!(
            "{} already exist; pass --force to replace them",
            existing.join(", ")
        )))
    }
}

/// Refuses an output that is the input itself, whatever `force` says: the
/// input is never changed (the image may sit in the output folder under a
/// name the set uses).
pub(crate) fn refuse_input_as_output(input: &Path, output: &Path) -> Result<(), PrepareError> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize()) {
        if a == b {
            return Err(PrepareError::Usage(format!(
                "{} is the input file; choose another output",
                output.display()
            )));
        }
    }
    Ok(())
}

/// The file name a stream goes by in the set: the image's name (white
/// space and `/` made `-`), with the extension of what the stream holds.
pub fn stream_file_name(image_name: &str, format: imsprep_probe::Format) -> String {
    let stem: String = image_name
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '/' {
                '-'
            } else {
                c
            }
        })
        .collect();
    let ext = if format == imsprep_probe::Format::Zvhd2 {
        "zvhd2"
    } else {
        "raw"
    };
    format!("{stem}.{ext}")
}
