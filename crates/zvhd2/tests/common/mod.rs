//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The reference vectors' folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/zvhd2")
}

/// manifest.json, parsed.
pub fn manifest() -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Field `k` of a manifest entry as u64.
pub fn num(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64()
        .unwrap_or_else(|| panic!("manifest field {k}"))
}

/// Field `k` of a manifest entry as a string.
pub fn text(v: &serde_json::Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("manifest field {k}"))
        .to_string()
}

/// The vectors' text pattern: "imsprep vector <tag> line <i>\n" repeated,
/// cut to `n` bytes.
pub fn text_pattern(tag: &str, n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n + 64);
    let mut i = 0;
    while v.len() < n {
        v.extend_from_slice(format!("imsprep vector {tag} line {i}\n").as_bytes());
        i += 1;
    }
    v.truncate(n);
    v
}

/// The RAW of `gib-plus-one`, which is not stored: a sparse file of
/// 1 GiB + 1 bytes, text pattern "g" in bytes 0..4096, 0x01 at 1 GiB.
pub fn gib_plus_one_raw(dir: &Path) -> PathBuf {
    let path = dir.join("gib-plus-one.raw");
    let f = File::create(&path).unwrap();
    f.set_len((1 << 30) + 1).unwrap();
    f.write_all_at(&text_pattern("g", 4096), 0).unwrap();
    f.write_all_at(&[1], 1 << 30).unwrap();
    path
}

/// Path of the RAW source of vector `name` (regenerated into `tmp` if needed).
pub fn raw_source(name: &str, v: &serde_json::Value, tmp: &Path) -> PathBuf {
    if name == "gib-plus-one" {
        gib_plus_one_raw(tmp)
    } else {
        fixtures().join(text(v, "raw_source"))
    }
}

/// Hex SHA-256.
pub fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The file's bytes, zero-padded to a multiple of 512.
pub fn padded_raw(path: &Path) -> Vec<u8> {
    let mut v = std::fs::read(path).unwrap();
    v.resize(v.len().div_ceil(512) * 512, 0);
    v
}

/// SHA-256 of a long byte stream, computed by an external program
/// (`openssl dgst -sha256`, else `sha256sum`): the sha2 crate unoptimised
/// in test builds would need minutes for the vectors' gigabytes of
/// virtual disk.
pub struct ExternalSha256(std::process::Child);

impl ExternalSha256 {
    /// Starts the hashing program.
    pub fn new() -> ExternalSha256 {
        use std::process::{Command, Stdio};
        let spawn = |prog: &str, args: &[&str]| {
            Command::new(prog)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
        };
        let child = spawn("openssl", &["dgst", "-sha256", "-r"])
            .or_else(|_| spawn("sha256sum", &[]))
            .expect("openssl or sha256sum must be installed");
        ExternalSha256(child)
    }

    /// Hashes a file (read by the program itself: holes of a sparse file
    /// cost no pipe traffic).
    pub fn of_file(path: &Path) -> String {
        use std::process::Command;
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-r"])
            .arg(path)
            .output()
            .or_else(|_| Command::new("sha256sum").arg(path).output())
            .expect("openssl or sha256sum must be installed");
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        use std::io::Write;
        self.0.stdin.as_mut().unwrap().write_all(data).unwrap();
    }

    /// The lowercase hex digest.
    pub fn finish(mut self) -> String {
        drop(self.0.stdin.take());
        let out = self.0.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        text.split_whitespace()
            .next()
            .unwrap()
            .trim_start_matches("SHA2-256(stdin)=")
            .to_string()
    }
}
