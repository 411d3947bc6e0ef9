//! Helpers shared by the probe's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Is `tool` on PATH (or in /sbin, /usr/sbin)? Prints a note when it is not.
pub fn tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.push("/sbin".into());
    dirs.push("/usr/sbin".into());
    let found = dirs.into_iter().map(|d| d.join(tool)).find(|p| p.is_file());
    if found.is_none() {
        eprintln!("note: {tool} not installed, case skipped");
    }
    found
}

/// Run a command and require success.
pub fn run(program: &Path, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{} failed to start: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {:?} failed: {}",
        program.display(),
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run a command with `stdin` fed from a string.
pub fn run_stdin(program: &Path, args: &[&str], stdin: &str) {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} failed to start: {e}", program.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{} {:?} failed: {}",
        program.display(),
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A zero-filled file of `size` bytes.
pub fn zero_file(path: &Path, size: u64) {
    let f = std::fs::File::create(path).expect("create");
    f.set_len(size).expect("set_len");
}

/// Copy `src` into `dst` at byte `offset` without truncating `dst`.
pub fn copy_into(src: &Path, dst: &Path, offset: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let data = std::fs::read(src).expect("read src");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(dst)
        .expect("open dst");
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.write_all(&data).expect("write");
}

/// Write `bytes` into `path` at `offset`.
pub fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.write_all(bytes).expect("write");
}

/// A path inside `dir`, as a string for command lines.
pub fn p(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// Lossy string of a path.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}
