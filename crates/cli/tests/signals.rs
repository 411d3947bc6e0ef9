//! SIGINT and SIGTERM in the middle of a conversion: exit code 130 and no
//! file left behind, not even a temporary one.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread::sleep;
use std::time::Duration;

use common::*;

/// Sends `signal` to the child process `pid`.
fn send(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits");
    // SAFETY: kill has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
}

/// Starts `imsprep ARGS` in `dir`, waits until it has put something in the
/// folder (so its work and its signal handler are under way), signals it
/// and returns what it did. `None` when it finished before the signal came.
fn interrupt(dir: &Path, args: &[&str], signal: libc::c_int) -> Option<Output> {
    let entries_before = names(dir).len();
    let mut child = Command::new(imsprep_path())
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn imsprep");
    // No deadline: the loop ends when the output appears or the child ends.
    while names(dir).len() == entries_before {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        sleep(Duration::from_millis(5));
    }
    sleep(Duration::from_millis(150));
    let finished = child.try_wait().expect("try_wait").is_some();
    if !finished {
        send(child.id(), signal);
    }
    let out = child.wait_with_output().expect("wait");
    if finished || out.status.success() {
        eprintln!("note: imsprep finished before the signal; trying a larger input");
        return None;
    }
    Some(out)
}

/// Interrupts the command `args(input)` on ever larger inputs until the
/// signal lands mid-work, then checks the exit code and the folder.
fn check(signal: libc::c_int, args: fn(&str) -> Vec<String>) {
    // zstd at level 15 takes about 0.1 s of CPU per 2 MiB block of noise in a
    // debug build: time for the signal to land mid-conversion, and a short
    // wait for the blocks in flight when it does.
    let mut data = 16 * MIB;
    for _ in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.raw");
        sparse_file(&input, data + 4 * MIB, &[(0, data)], data);
        let before = print(&input);
        let argv = args("in.raw");
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let Some(out) = interrupt(dir.path(), &argv, signal) else {
            data *= 4;
            continue;
        };
        assert_eq!(
            out.status.code(),
            Some(130),
            "{argv:?}: {out:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("interrupted"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(names(dir.path()), ["in.raw"], "{argv:?} left files behind");
        assert_eq!(print(&input), before, "the input changed");
        return;
    }
    panic!("imsprep always finished before the signal; the test proves nothing");
}

fn convert(input: &str) -> Vec<String> {
    ["convert", "--level", "15", input, "out.zvhd2"]
        .map(String::from)
        .to_vec()
}

fn prepare(input: &str) -> Vec<String> {
    [
        "prepare",
        input,
        "--zvhd2",
        "--level",
        "15",
        "--name",
        "d",
        "--os-type",
        "Linux",
        "--bucket",
        BUCKET,
        "--out",
        "set",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn sigint_during_convert_leaves_nothing() {
    check(libc::SIGINT, convert);
}

#[test]
fn sigterm_during_convert_leaves_nothing() {
    check(libc::SIGTERM, convert);
}

#[test]
fn sigint_during_prepare_removes_the_set() {
    check(libc::SIGINT, prepare);
}
