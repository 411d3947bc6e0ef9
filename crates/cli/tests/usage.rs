//! Usage errors (exit code 2), error lines, completions, and output to a
//! closed pipe.

mod common;

use std::fs;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use common::*;

#[test]
fn usage_errors_exit_2() {
    let raw = fixture("exact-two-blocks.raw");
    let raw = s(&raw);
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["inspect"],
        vec!["inspect", raw, "--no-such-flag"],
        vec!["inspect", raw, "--type", "desktop"],
        vec!["map", raw, "--granularity", "3K"],
        vec!["map", raw, "--granularity", "64M"],
        vec!["map", raw, "--granularity", "1K"],
        vec!["map", raw, "-g", "lots"],
        vec!["bitmap", raw, "--granularity", "0"],
        vec!["convert", raw],
        vec!["convert", "--level", "0", raw, "x.zvhd2"],
        vec!["convert", "--level", "20", raw, "x.zvhd2"],
        vec!["verify"],
        vec!["verify", raw, "--against", raw, "--bitmap", "x.mf"],
        vec!["request", "--name", "x", "--image-url", "b:x.raw"],
        vec![
            "request",
            "--name",
            "x",
            "--min-disk",
            "many",
            "--image-url",
            "b:x.raw",
        ],
        vec!["prepare", raw, "--name", "x"],
        vec!["completions", "powershell-9000"],
    ];
    let dir = tempfile::tempdir().unwrap();
    for args in cases {
        let out = imsprep()
            .current_dir(dir.path())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn a_bad_granularity_is_one_error_line() {
    let out = imsprep()
        .args(["map", s(&fixture("zeros.raw")), "--granularity", "3K"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert_one_error_line(&out.stderr, "--granularity 3K");
}

#[test]
fn missing_files_exit_3_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such.raw");
    let m = s(&missing);
    let manifest = dir.path().join("no-such.json");
    let cases: Vec<Vec<&str>> = vec![
        vec!["inspect", m],
        vec!["map", m],
        vec!["bitmap", m],
        vec!["convert", m, "out.zvhd2"],
        vec!["verify", m],
        vec!["lint", m],
        vec!["verify", "--manifest", s(&manifest)],
        vec![
            "prepare",
            m,
            "--name",
            "x",
            "--os-type",
            "Linux",
            "--bucket",
            BUCKET,
        ],
    ];
    for args in cases {
        let out = imsprep()
            .current_dir(dir.path())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(code(&out), 3, "{args:?}: {out:?}");
        assert_one_error_line(&out.stderr, "no-such.");
    }
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn a_file_that_is_no_manifest_is_reported_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("manifest.json");
    fs::write(&file, "{\"files\": 3}").unwrap();
    let out = imsprep()
        .args(["verify", "--manifest", s(&file)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    assert_one_error_line(&out.stderr, "not an imsprep manifest");
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish"] {
        let out = imsprep().args(["completions", shell]).output().unwrap();
        assert_eq!(code(&out), 0, "{shell}: {out:?}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.len() > 500, "{shell}: {script}");
        for word in ["imsprep", "prepare", "granularity"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
}

#[test]
fn help_lists_the_exit_codes() {
    let out = imsprep().arg("--help").output().unwrap();
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for line in ["0 ", "1 ", "2 ", "3 ", "130"] {
        assert!(text.contains(line), "{text}");
    }
    imsprep().arg("--version").assert().code(0);
}

#[test]
fn a_closed_stdout_is_no_panic() {
    // A pipe whose reading end is closed before imsprep writes: the first
    // write fails with EPIPE.
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe() writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: pipe() just returned these descriptors; each is owned once.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    let out = Command::new(imsprep_path())
        .args(["inspect", s(&fixture("mixed.zvhd2"))])
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Ended by SIGPIPE, as other tools whose reader went away.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{out:?}");
}

#[test]
fn an_image_locked_by_a_writer_is_an_io_failure() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("busy.raw");
    sparse_file(&raw, 4 * MIB, &[(0, MIB)], 1);
    let file = fs::File::open(&raw).unwrap();
    // SAFETY: flock on a descriptor this test owns for the whole call.
    let rc = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) };
    assert_eq!(rc, 0);
    let out = imsprep().args(["bitmap", s(&raw)]).output().unwrap();
    assert_eq!(code(&out), 3, "{out:?}");
    assert_one_error_line(&out.stderr, "lock");
    assert_eq!(names(dir.path()), ["busy.raw"]);
    drop(file);
    imsprep().args(["bitmap", s(&raw)]).assert().code(0);
}
