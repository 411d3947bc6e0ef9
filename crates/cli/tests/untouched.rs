//! No command changes its input: bytes and modification time stay as they
//! were after every command that reads an image.

mod common;

use std::path::Path;

use common::*;

/// Runs `imsprep ARGS` in `dir` and requires exit code `want`.
fn run(dir: &Path, args: &[&str], want: i32) {
    let out = imsprep().current_dir(dir).args(args).output().unwrap();
    assert_eq!(code(&out), want, "{args:?}: {out:?}");
}

#[test]
fn every_command_leaves_its_input_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sparse_file(
        &d.join("in.raw"),
        12 * MIB,
        &[(0, MIB), (5 * MIB, 3 * MIB)],
        31,
    );
    let raw = print(&d.join("in.raw"));
    let ok = 0;
    let data = ["--name", "d", "--os-type", "Linux", "--bucket", BUCKET];

    let on_raw: Vec<(Vec<&str>, i32)> = vec![
        (vec!["inspect", "in.raw"], 1),
        (
            vec!["inspect", "--json", "in.raw", "--type", "DataImage"],
            ok,
        ),
        (vec!["map", "in.raw"], ok),
        (vec!["map", "--json", "-g", "4K", "in.raw"], ok),
        (vec!["bitmap", "in.raw", "-o", "b.mf"], ok),
        (vec!["verify", "in.raw", "--bitmap", "b.mf"], ok),
        (vec!["convert", "in.raw", "out.zvhd2"], ok),
        (vec!["verify", "out.zvhd2", "--against", "in.raw"], ok),
        (vec!["request", "--name", "d", "--os-type", "Linux"], ok),
        (vec!["lint", "body.json", "--image", "in.raw"], ok),
    ];
    std::fs::write(
        d.join("body.json"),
        r#"{"name": "d", "image_url": "my-bucket:in.raw", "os_type": "Linux",
            "type": "DataImage", "min_disk": 1}"#,
    )
    .unwrap();
    for (mut args, want) in on_raw {
        if args[0] == "request" {
            args.extend(["--image-url", "my-bucket:in.raw", "--image", "in.raw"]);
        }
        run(d, &args, want);
        assert_eq!(print(&d.join("in.raw")), raw, "{args:?} changed in.raw");
    }
    for extra in [
        &["--out", "s1"][..],
        &["--out", "s2", "--zvhd2"],
        &["--out", "s3", "--link"],
    ] {
        let mut args = vec!["prepare", "in.raw"];
        args.extend(data);
        args.extend(extra);
        run(d, &args, ok);
        assert_eq!(print(&d.join("in.raw")), raw, "{args:?} changed in.raw");
        let manifest = format!("{}/manifest.json", extra[1]);
        run(d, &["verify", "--manifest", &manifest], ok);
        assert_eq!(print(&d.join("in.raw")), raw);
    }

    let zvhd2 = print(&d.join("out.zvhd2"));
    let on_zvhd2: Vec<Vec<&str>> = vec![
        vec!["inspect", "--type", "DataImage", "out.zvhd2"],
        vec!["map", "out.zvhd2"],
        vec!["verify", "out.zvhd2"],
        vec!["convert", "out.zvhd2", "back.raw"],
        vec!["prepare", "out.zvhd2", "--out", "s4"],
    ];
    for mut args in on_zvhd2 {
        if args[0] == "prepare" {
            args.extend(data);
        }
        run(d, &args, ok);
        assert_eq!(
            print(&d.join("out.zvhd2")),
            zvhd2,
            "{args:?} changed out.zvhd2"
        );
    }
    assert_eq!(print(&d.join("in.raw")), raw);
}
