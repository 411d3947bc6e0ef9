//! Helpers shared by the `imsprep` integration tests: running the binary,
//! making images, and fingerprints of files that must not change.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::SystemTime;

use assert_cmd::Command;
use serde_json::Value;

/// 1 MiB.
pub const MIB: u64 = 1 << 20;

/// An OS version string the service's lists know.
pub const OS_VERSION: &str = "Ubuntu 18.04 server 64bit";

/// A bucket name that passes the bucket rules.
pub const BUCKET: &str = "imsprep-test";

/// The `imsprep` binary, ready for arguments.
pub fn imsprep() -> Command {
    let mut cmd = Command::cargo_bin("imsprep").expect("the imsprep binary is built");
    cmd.env_remove("RUST_BACKTRACE").env_remove("RUST_LOG");
    cmd
}

/// Path of the `imsprep` binary, for tests that spawn it themselves.
pub fn imsprep_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("imsprep")
}

/// A fixture of `fixtures/zvhd2/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/zvhd2")
        .join(name)
}

/// Copies a fixture into `dir` (so its mtime and bytes are ours to watch).
pub fn copy_fixture(dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    fs::copy(fixture(name), &to).expect("copy fixture");
    to
}

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

/// Runs an external tool and requires success; `stdin` is fed when given.
pub fn run_tool(program: &Path, args: &[&str], stdin: Option<&str>) {
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} failed to start: {e}", program.display()));
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The text of a path, for argument lists.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Sector where the ESP of [`gpt_disk`] starts.
pub const ESP_START: u64 = 2048;
/// Sectors of the ESP.
pub const ESP_SECTORS: u64 = 16384;
/// Sector where the root partition starts.
pub const ROOT_START: u64 = 18432;
/// Sectors of the root partition.
pub const ROOT_SECTORS: u64 = 106496;

/// A 64 MiB sparse RAW system disk: GPT with a FAT32 ESP and an ext4 root,
/// the file systems made on files of their own and `dd`'d in at the
/// partition offsets. `None` when sfdisk or mkfs is missing.
pub fn gpt_disk(dir: &Path, name: &str) -> Option<PathBuf> {
    let (Some(sfdisk), Some(vfat), Some(ext4), Some(dd)) = (
        tool("sfdisk"),
        tool("mkfs.vfat"),
        tool("mkfs.ext4"),
        tool("dd"),
    ) else {
        return None;
    };
    let disk = dir.join(name);
    File::create(&disk)
        .and_then(|f| f.set_len(64 * MIB))
        .expect("create disk");
    let table = format!(
        "label: gpt\n\
         start={ESP_START}, size={ESP_SECTORS}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI System\"\n\
         start={ROOT_START}, size={ROOT_SECTORS}, type=0FC63DAF-8483-4772-8E79-3D69DE4779E4, name=\"root\"\n"
    );
    run_tool(&sfdisk, &["-q", s(&disk)], Some(&table));
    let esp = dir.join(format!("{name}.esp"));
    File::create(&esp)
        .and_then(|f| f.set_len(ESP_SECTORS * 512))
        .expect("create esp");
    run_tool(&vfat, &["-F", "32", s(&esp)], None);
    let root = dir.join(format!("{name}.root"));
    File::create(&root)
        .and_then(|f| f.set_len(ROOT_SECTORS * 512))
        .expect("create root");
    run_tool(&ext4, &["-q", "-F", s(&root)], None);
    for (part, start) in [(&esp, ESP_START), (&root, ROOT_START)] {
        run_tool(
            &dd,
            &[
                &format!("if={}", s(part)),
                &format!("of={}", s(&disk)),
                "bs=512",
                &format!("seek={start}"),
                "conv=notrunc,sparse",
                "status=none",
            ],
            None,
        );
        fs::remove_file(part).expect("remove partition file");
    }
    Some(disk)
}

/// A fast deterministic byte stream (xorshift64*), for data that does not
/// compress.
pub struct Noise(u64);

impl Noise {
    /// A stream from `seed` (any value; zero is remapped).
    pub fn new(seed: u64) -> Noise {
        Noise(seed | 1)
    }

    /// Fills `buf` with the next bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let word = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// A sparse file of `size` bytes with noise in each `(offset, length)`
/// range and holes elsewhere.
pub fn sparse_file(path: &Path, size: u64, data: &[(u64, u64)], seed: u64) {
    let file = File::create(path).expect("create");
    file.set_len(size).expect("set_len");
    let mut noise = Noise::new(seed);
    let mut buf = vec![0u8; MIB as usize];
    for &(offset, length) in data {
        let mut done = 0;
        while done < length {
            let n = (length - done).min(MIB) as usize;
            noise.fill(&mut buf[..n]);
            file.write_all_at(&buf[..n], offset + done).expect("write");
            done += n as u64;
        }
    }
}

/// Overwrites `bytes` at `offset` of an existing file.
pub fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    let file = OpenOptions::new().write(true).open(path).expect("open");
    file.write_all_at(bytes, offset).expect("patch");
}

/// CRC-32 of a whole file, computed here, independently of imsprep.
pub fn crc32_of(path: &Path) -> u32 {
    let mut file = File::open(path).expect("open");
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; MIB as usize];
    loop {
        let n = file.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hasher.finalize()
}

/// What must stay the same about a file: size, CRC-32 of every byte, mtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Print {
    /// Size in bytes.
    pub len: u64,
    /// CRC-32 of the content.
    pub crc: u32,
    /// Modification time.
    pub mtime: SystemTime,
}

/// The fingerprint of `path`.
pub fn print(path: &Path) -> Print {
    let meta = fs::metadata(path).expect("metadata");
    Print {
        len: meta.len(),
        crc: crc32_of(path),
        mtime: meta.modified().expect("mtime"),
    }
}

/// Fingerprints of every file directly in `dir`, by name.
pub fn prints(dir: &Path) -> BTreeMap<String, Print> {
    names(dir)
        .into_iter()
        .map(|name| {
            let p = print(&dir.join(&name));
            (name, p)
        })
        .collect()
}

/// Names of the entries of `dir`, sorted (hidden ones too).
pub fn names(dir: &Path) -> Vec<String> {
    let mut all: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    all.sort();
    all
}

/// Parses stdout of a finished command as JSON.
pub fn json(stdout: &[u8]) -> Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(stdout)
        )
    })
}

/// Exit code of a finished command (panics when killed by a signal).
pub fn code(out: &std::process::Output) -> i32 {
    out.status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {:?}", out.status))
}

/// Requires stderr to be exactly one `imsprep: error:` line holding
/// `needle`, with no panic text.
pub fn assert_one_error_line(stderr: &[u8], needle: &str) {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected on stderr:\n{text}");
    assert!(
        lines[0].starts_with("imsprep: error: "),
        "stderr line must start with `imsprep: error: `: {text}"
    );
    assert!(lines[0].contains(needle), "{needle:?} not in: {text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(!text.contains("RUST_BACKTRACE"), "{text}");
}

/// The codes of a JSON findings array.
pub fn codes(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["code"].as_str().expect("code string").to_owned())
        .collect()
}
