//! Helpers shared by the guest tests: build trees and archives with the
//! real tools.
#![allow(dead_code)]

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

/// Write a file, creating its parent directories.
pub fn write(root: &Path, path: &str, contents: impl AsRef<[u8]>) {
    let p = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, contents).unwrap();
}

/// Create a symbolic link `path` -> `target` inside `root`.
pub fn symlink(root: &Path, path: &str, target: &str) {
    let p = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, p).unwrap();
}

/// Make a newc cpio archive of everything under `dir` with `cpio -o -H newc`.
pub fn cpio_newc(dir: &Path) -> Vec<u8> {
    let find = Command::new("sh")
        .arg("-c")
        .arg("find . | LC_ALL=C sort | cpio -o -H newc --quiet")
        .current_dir(dir)
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(find.status.success(), "cpio failed");
    find.stdout
}

/// Run `tool args` with `input` on stdin and return stdout.
pub fn pipe(tool: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{tool} {args:?} failed");
    out.stdout
}
