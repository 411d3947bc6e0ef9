//! Every real source and sink: block devices, standard input and output,
//! and file names that contradict their content.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

const MIB: u64 = 1 << 20;

/// A 64 MiB disk with data at its start, in its middle and at its end.
fn sample(dir: &Path) -> PathBuf {
    let path = dir.join("disk.raw");
    sparse_file(
        &path,
        64 * MIB,
        &[
            (0, MIB),
            (20 * MIB + 4096, 3 * MIB),
            (64 * MIB - 8192, 8192),
        ],
        7,
    );
    path
}

/// A read-only loop device over `file`, detached when dropped.
struct Loop(String);

impl Loop {
    fn attach(file: &Path) -> Option<Loop> {
        let out = Command::new("losetup")
            .args(["--find", "--show", "--read-only", s(file)])
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "note: loop devices cannot be made here ({}); case skipped",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(Loop(
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        ))
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn a_block_device_converts_both_ways_and_reads_like_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample(dir.path());
    let Some(dev) = Loop::attach(&raw) else {
        return;
    };
    let zvhd2 = dir.path().join("dev.zvhd2");
    let out = imsprep()
        .args(["convert", "--json", &dev.0, s(&zvhd2)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(json(&out.stdout)["input_size"], 64 * MIB);
    imsprep()
        .args(["verify", s(&zvhd2), "--against", s(&raw)])
        .assert()
        .code(0);
    let back = dir.path().join("back.raw");
    imsprep()
        .args(["convert", s(&zvhd2), s(&back)])
        .assert()
        .code(0);
    assert!(fs::read(&back).unwrap() == fs::read(&raw).unwrap());

    // The device straight to a sparse RAW copy.
    let copy = dir.path().join("copy.raw");
    imsprep()
        .args(["convert", &dev.0, s(&copy)])
        .assert()
        .code(0);
    assert!(fs::read(&copy).unwrap() == fs::read(&raw).unwrap());

    // map, inspect and bitmap agree with the same bytes as a file.
    for args in [&["map", "--json"][..], &["inspect", "--json"][..]] {
        let of_dev = imsprep().args(args).arg(&dev.0).output().unwrap();
        let of_file = imsprep().args(args).arg(s(&raw)).output().unwrap();
        let (mut a, mut b) = (json(&of_dev.stdout), json(&of_file.stdout));
        if args[0] == "inspect" {
            assert_eq!(a["disk_size"], b["disk_size"]);
            assert_eq!(a["file"]["layout"], b["file"]["layout"]);
            a = a["min_disk"].clone();
            b = b["min_disk"].clone();
        }
        assert_eq!(a, b, "{args:?}");
    }
    let (mf_dev, mf_file) = (dir.path().join("dev.mf"), dir.path().join("file.mf"));
    imsprep()
        .args(["bitmap", &dev.0, "-o", s(&mf_dev)])
        .assert()
        .code(0);
    imsprep()
        .args(["bitmap", s(&raw), "-o", s(&mf_file)])
        .assert()
        .code(0);
    assert_eq!(fs::read(&mf_dev).unwrap(), fs::read(&mf_file).unwrap());
    // Without -o the bitmap would go next to the device.
    imsprep().args(["bitmap", &dev.0]).assert().code(2);
}

#[test]
fn prepare_converts_a_block_device_or_copies_it_with_raw() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample(dir.path());
    let Some(dev) = Loop::attach(&raw) else {
        return;
    };
    let set = dir.path().join("set");
    let out = imsprep()
        .args([
            "prepare",
            &dev.0,
            "--name",
            "dev",
            "--os-type",
            "Linux",
            "--bucket",
            BUCKET,
            "--out",
            s(&set),
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let report = json(&out.stdout);
    assert_eq!(report["manifest"]["format"], "zvhd2");
    let object = report["manifest"]["files"][0]["object"]
        .as_str()
        .unwrap()
        .to_string();
    imsprep()
        .args(["verify", s(&set.join(&object)), "--against", s(&raw)])
        .assert()
        .code(0);

    let set = dir.path().join("set-raw");
    let out = imsprep()
        .args([
            "prepare",
            &dev.0,
            "--raw",
            "--name",
            "dev",
            "--os-type",
            "Linux",
            "--bucket",
            BUCKET,
            "--out",
            s(&set),
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let report = json(&out.stdout);
    assert_eq!(report["manifest"]["format"], "raw");
    let copy = set.join(report["manifest"]["files"][0]["object"].as_str().unwrap());
    assert!(fs::read(&copy).unwrap() == fs::read(&raw).unwrap());
    imsprep()
        .args(["verify", "--manifest", s(&set.join("manifest.json"))])
        .assert()
        .code(0);
}

/// Runs imsprep with `stdin_file` piped into it; returns its output.
fn piped(args: &[&str], stdin_file: &Path, cwd: &Path) -> std::process::Output {
    let mut child = Command::new(imsprep_path())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = fs::read(stdin_file).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The reader may stop early and close the pipe: not an error here.
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn a_pipe_in_and_a_pipe_out() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample(dir.path());
    let size = (64 * MIB).to_string();

    // cat disk.raw | imsprep convert - piped.zvhd2 --size 64M
    let piped_zvhd2 = dir.path().join("piped.zvhd2");
    let out = piped(
        &["convert", "-", s(&piped_zvhd2), "--size", &size],
        &raw,
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{out:?}");
    imsprep()
        .args(["verify", s(&piped_zvhd2), "--against", s(&raw)])
        .assert()
        .code(0);

    // Without --size the head footer cannot be written: a usage error.
    let out = piped(
        &["convert", "-", s(&dir.path().join("no-size.zvhd2"))],
        &raw,
        dir.path(),
    );
    assert_eq!(code(&out), 2, "{out:?}");
    assert!(!dir.path().join("no-size.zvhd2").exists());
    // A stream shorter than its stated size leaves nothing behind.
    let short = dir.path().join("short.zvhd2");
    let out = piped(
        &["convert", "-", s(&short), "--size", "65M"],
        &raw,
        dir.path(),
    );
    assert_ne!(code(&out), 0, "{out:?}");
    assert!(!short.exists());

    // imsprep convert disk.raw - > out.zvhd2, then back through a pipe.
    let out = Command::new(imsprep_path())
        .args(["convert", s(&raw), "-", "--quiet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let streamed = dir.path().join("streamed.zvhd2");
    fs::write(&streamed, &out.stdout).unwrap();
    imsprep()
        .args(["verify", s(&streamed), "--against", s(&raw)])
        .assert()
        .code(0);
    let back = Command::new(imsprep_path())
        .args(["convert", s(&streamed), "-", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(code(&back), 0);
    assert!(back.stdout == fs::read(&raw).unwrap());
    // No command ever makes a file named "-".
    assert!(!dir.path().join("-").exists());
    // Commands that read at random take a stream through a temporary copy.
    let out = piped(&["verify", "--json", "-"], &streamed, dir.path());
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(json(&out.stdout)["file"], "standard input");
}

#[test]
fn inspect_map_bitmap_and_prepare_read_a_stream_like_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample(dir.path());
    for args in [&["map", "--json"][..], &["inspect", "--json"][..]] {
        let of_stream = piped(&[args, &["-"][..]].concat(), &raw, dir.path());
        let of_file = imsprep().args(args).arg(s(&raw)).output().unwrap();
        assert_eq!(code(&of_stream), code(&of_file), "{of_stream:?}");
        let (a, b) = (json(&of_stream.stdout), json(&of_file.stdout));
        if args[0] == "inspect" {
            assert_eq!(a["file"]["path"], "standard input");
            assert_eq!(a["disk_size"], b["disk_size"]);
            assert_eq!(a["file"]["layout"], b["file"]["layout"]);
        } else {
            assert_eq!(a, b);
        }
    }
    let (mf_stream, mf_file) = (dir.path().join("s.mf"), dir.path().join("f.mf"));
    let out = piped(&["bitmap", "-", "-o", s(&mf_stream)], &raw, dir.path());
    assert_eq!(code(&out), 0, "{out:?}");
    imsprep()
        .args(["bitmap", s(&raw), "-o", s(&mf_file)])
        .assert()
        .code(0);
    assert_eq!(fs::read(&mf_stream).unwrap(), fs::read(&mf_file).unwrap());
    // Without -o there is no name to put the bitmap next to.
    let out = piped(&["bitmap", "-"], &raw, dir.path());
    assert_eq!(code(&out), 2, "{out:?}");

    // prepare converts a stream (it cannot be referred to in place).
    let set = dir.path().join("set");
    let out = piped(
        &[
            "prepare",
            "-",
            "--name",
            "from stdin",
            "--os-type",
            "Linux",
            "--bucket",
            BUCKET,
            "--out",
            s(&set),
            "--json",
        ],
        &raw,
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{out:?}");
    let report = json(&out.stdout);
    assert_eq!(report["manifest"]["format"], "zvhd2");
    assert_eq!(report["manifest"]["files"][0]["object"], "from-stdin.zvhd2");
    imsprep()
        .args([
            "verify",
            s(&set.join("from-stdin.zvhd2")),
            "--against",
            s(&raw),
        ])
        .assert()
        .code(0);
}

#[test]
fn verify_compares_with_a_source_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let Some(qemu_img) = tool("qemu-img") else {
        return;
    };
    let raw = sample(dir.path());
    let zvhd2 = dir.path().join("disk.zvhd2");
    imsprep()
        .args(["convert", s(&raw), s(&zvhd2)])
        .assert()
        .code(0);
    for (format, ext) in [
        ("qcow2", "qcow2"),
        ("vmdk", "vmdk"),
        ("vpc", "vhd"),
        ("vhdx", "vhdx"),
        ("vdi", "vdi"),
    ] {
        let image = dir.path().join(format!("disk.{ext}"));
        // A VHD otherwise grows to whole CHS cylinders.
        let mut args = vec!["convert", "-f", "raw", "-O", format];
        if format == "vpc" {
            args.extend(["-o", "force_size=on"]);
        }
        args.extend([s(&raw), s(&image)]);
        run_tool(&qemu_img, &args, None);
        let out = imsprep()
            .args(["verify", "--json", s(&zvhd2), "--against", s(&image)])
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{format}: {out:?}");
        assert_eq!(json(&out.stdout)["blocks_compared"], 32, "{format}");
    }
    // A source that differs is found out.
    let other = dir.path().join("other.raw");
    sparse_file(&other, 64 * MIB, &[(0, MIB)], 8);
    let other_qcow2 = dir.path().join("other.qcow2");
    run_tool(
        &qemu_img,
        &[
            "convert",
            "-f",
            "raw",
            "-O",
            "qcow2",
            s(&other),
            s(&other_qcow2),
        ],
        None,
    );
    imsprep()
        .args(["verify", s(&zvhd2), "--against", s(&other_qcow2)])
        .assert()
        .code(1);
}

#[test]
fn inputs_named_for_a_format_they_are_not_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real_qcow2 = dir.path().join("real.qcow2");
    let have_qemu = tool("qemu-img").is_some();
    if have_qemu {
        run_tool(
            Path::new("qemu-img"),
            &["create", "-f", "qcow2", s(&real_qcow2), "64M"],
            None,
        );
    }
    for ext in ["zvhd2", "qcow2", "vmdk", "vhd", "vhdx", "vdi"] {
        for (what, bytes) in [
            ("one byte", vec![b'x']),
            ("a short download", vec![0x5a; 1000]),
            ("a long file of text", b"not a disk image\n".repeat(4096)),
        ] {
            let input = dir.path().join(format!("in.{ext}"));
            fs::write(&input, &bytes).unwrap();
            let output = dir.path().join("out.zvhd2");
            let out = imsprep()
                .args(["convert", s(&input), s(&output)])
                .output()
                .unwrap();
            assert_eq!(code(&out), 1, ".{ext}, {what}: {out:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("IMAGE-NAME-CONTRADICTS"), "{stderr}");
            assert!(!output.exists(), ".{ext}, {what}: output written");
        }
    }
    // The user may say it is RAW after all.
    let input = dir.path().join("in.vhd");
    fs::write(&input, vec![7u8; 4096]).unwrap();
    let output = dir.path().join("declared.zvhd2");
    imsprep()
        .args(["convert", "--format", "raw", s(&input), s(&output)])
        .assert()
        .code(0);
    // Empty and sub-sector inputs are image errors, not empty outputs.
    for (name, len) in [("empty.raw", 0usize), ("tiny.raw", 100)] {
        let input = dir.path().join(name);
        fs::write(&input, vec![1u8; len]).unwrap();
        let output = dir.path().join(format!("{name}.zvhd2"));
        let out = imsprep()
            .args(["convert", s(&input), s(&output)])
            .output()
            .unwrap();
        assert_eq!(code(&out), 1, "{name}: {out:?}");
        assert!(!output.exists());
    }
    // A truncated real image (its magic is there, its tables are not).
    if have_qemu {
        let truncated = dir.path().join("cut.qcow2");
        fs::write(&truncated, &fs::read(&real_qcow2).unwrap()[..100]).unwrap();
        let output = dir.path().join("cut.zvhd2");
        let out = imsprep()
            .args(["convert", s(&truncated), s(&output)])
            .output()
            .unwrap();
        assert_eq!(code(&out), 1, "{out:?}");
        assert!(!output.exists());
    }
}

#[test]
fn outputs_named_for_another_format_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample(dir.path());
    let zvhd2 = dir.path().join("disk.zvhd2");
    imsprep()
        .args(["convert", s(&raw), s(&zvhd2)])
        .assert()
        .code(0);
    for (input, output, extra) in [
        (&raw, "out.qcow2", None),
        (&raw, "out.raw", None),
        (&raw, "out.raw", Some("zvhd2")),
        (&zvhd2, "out.zvhd2", Some("raw")),
        (&zvhd2, "out.zvhd2", None),
    ] {
        let output = dir.path().join(output);
        let mut cmd = imsprep();
        cmd.args(["convert", s(input), s(&output)]);
        if let Some(to) = extra {
            cmd.args(["--to", to]);
        }
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 2, "{input:?} -> {output:?} {extra:?}: {out:?}");
        assert!(!output.exists());
    }
}
