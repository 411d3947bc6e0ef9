//! A full disk, simulated with RLIMIT_FSIZE (writes past the limit fail
//! with EFBIG once SIGXFSZ is ignored): exit code 3, one error line naming
//! the file, and nothing left in the folder.

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use common::*;

/// Runs `imsprep ARGS` in `dir` with files limited to `limit` bytes.
fn run_limited(dir: &Path, limit: u64, args: &[&str]) -> Output {
    let mut cmd = Command::new(imsprep_path());
    cmd.current_dir(dir).args(args);
    // SAFETY: the closure only makes two async-signal-safe system calls.
    unsafe {
        cmd.pre_exec(move || {
            let rlim = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rlim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("run imsprep")
}

/// Checks a run that hit the limit: exit 3, one line naming `file`, and
/// the folder as it was.
fn assert_failed_cleanly(dir: &Path, out: &Output, file: &str, before: &[String]) {
    assert_eq!(code(out), 3, "{out:?}");
    assert_one_error_line(&out.stderr, file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("File too large"), "{stderr}");
    assert_eq!(names(dir), before, "partial output left behind");
}

#[test]
fn convert_to_zvhd2_on_a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    sparse_file(&dir.path().join("in.raw"), 8 * MIB, &[(0, 8 * MIB)], 11);
    let before = names(dir.path());
    let out = run_limited(
        dir.path(),
        MIB,
        &["convert", "--level", "1", "in.raw", "out.zvhd2"],
    );
    assert_failed_cleanly(dir.path(), &out, "out.zvhd2", &before);
}

#[test]
fn convert_to_raw_on_a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path(), "mixed.zvhd2");
    let before = names(dir.path());
    let out = run_limited(dir.path(), MIB, &["convert", "mixed.zvhd2", "out.raw"]);
    assert_failed_cleanly(dir.path(), &out, "out.raw", &before);
}

#[test]
fn bitmap_on_a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    // 1 GiB at 4 KiB blocks: a 32 KiB bitmap, over the 4 KiB limit.
    sparse_file(&dir.path().join("big.raw"), 1 << 30, &[(0, MIB)], 5);
    let before = names(dir.path());
    let out = run_limited(dir.path(), 4096, &["bitmap", "-g", "4K", "big.raw"]);
    assert_failed_cleanly(dir.path(), &out, "big.mf", &before);
}

#[test]
fn prepare_on_a_full_disk_removes_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    sparse_file(&dir.path().join("d.raw"), 64 * MIB, &[(0, MIB)], 9);
    let before = names(dir.path());
    let args = [
        "prepare",
        "d.raw",
        "--name",
        "d",
        "--os-type",
        "Linux",
        "--bucket",
        BUCKET,
        "--out",
        "set",
    ];
    // The bitmap (68 bytes) and request.json fit in 512 bytes, the manifest
    // does not: the files written before it must go again.
    let out = run_limited(dir.path(), 512, &args);
    assert_failed_cleanly(dir.path(), &out, "manifest.json", &before);

    let mut zvhd2 = args.to_vec();
    zvhd2.push("--zvhd2");
    sparse_file(&dir.path().join("d.raw"), 64 * MIB, &[(0, 8 * MIB)], 9);
    let out = run_limited(dir.path(), MIB, &zvhd2);
    assert_failed_cleanly(dir.path(), &out, "d.zvhd2", &before);

    // The same runs succeed without the limit.
    imsprep()
        .current_dir(dir.path())
        .args(zvhd2)
        .assert()
        .code(0);
}
