//! The pipeline called as a library, as a program embedding imsprep would.

use std::fs;
use std::io::Write;
use std::path::Path;

use imsprep_prepare::{
    prepare, Mode, Plan, PrepareError, PrepareOptions, Prepared, Quiet, RequestSpec, Source,
};

/// A 16 MiB data disk with some data in it.
fn disk(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("data.raw");
    let mut f = fs::File::create(&path).unwrap();
    f.write_all(&vec![7u8; 3 << 20]).unwrap();
    f.set_len(16 << 20).unwrap();
    path
}

fn options(image: &Path, out: &Path, mode: Mode) -> PrepareOptions {
    PrepareOptions {
        image: image.to_owned(),
        file_name: "data.raw".to_string(),
        source: Source::File,
        shown: image.display().to_string(),
        request: RequestSpec {
            name: "data".to_string(),
            os_type: Some("Linux".to_string()),
            ..RequestSpec::default()
        },
        bucket: "my-bucket".to_string(),
        prefix: None,
        out: Some(out.to_owned()),
        mode,
        link: false,
        min_disk: None,
        level: 3,
        force: false,
        accept: Vec::new(),
    }
}

#[test]
fn writes_a_raw_set_and_a_zvhd2_set() {
    let dir = tempfile::tempdir().unwrap();
    let image = disk(dir.path());
    let quiet = Quiet::default();
    let out = dir.path().join("raw-set");
    let Prepared::Done(set) = prepare(&options(&image, &out, Mode::Auto), &quiet).unwrap() else {
        panic!("refused");
    };
    assert_eq!(set.plan, Plan::RawWithBitmap);
    assert_eq!(set.manifest.format, "raw");
    assert_eq!(set.manifest.files.len(), 2);
    assert!(out.join("data.mf").exists() && out.join("manifest.json").exists());
    assert_eq!(set.manifest.min_disk, 1);

    let out = dir.path().join("zvhd2-set");
    let Prepared::Done(set) = prepare(&options(&image, &out, Mode::Zvhd2), &quiet).unwrap() else {
        panic!("refused");
    };
    assert_eq!(set.plan, Plan::ConvertToZvhd2);
    assert!(out.join("data.zvhd2").exists());
    // The same run again needs force: outputs are never replaced silently.
    let again = prepare(&options(&image, &out, Mode::Zvhd2), &quiet);
    assert!(matches!(again, Err(PrepareError::Usage(_))), "{again:?}");
}

#[test]
fn a_request_with_errors_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let image = disk(dir.path());
    let out = dir.path().join("set");
    let mut opts = options(&image, &out, Mode::Auto);
    opts.bucket = "B".to_string();
    match prepare(&opts, &Quiet::default()).unwrap() {
        Prepared::Refused { findings, .. } => {
            assert!(findings.iter().any(|f| f.code.id() == "REQ-BUCKET-NAME"));
        }
        Prepared::Done(_) => panic!("prepared with a bad bucket"),
    }
    assert!(!out.exists());
}
