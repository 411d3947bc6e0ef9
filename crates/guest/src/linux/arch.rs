//! LX-ARCH: architecture of the guest userland from an ELF header.
//!
//! The first of `/bin/sh`, `/usr/lib/systemd/systemd`, `/sbin/init`,
//! `/bin/bash` that exists is resolved inside the guest (merged-/usr links,
//! `sh` → `dash`) and its ELF identification and `e_machine` are read. Only
//! the first 20 bytes are read.
use crate::evidence::{Evidence, Fact};
use crate::files::GuestFiles;

/// Binaries tried, in order.
pub const CANDIDATES: &[&str] = &[
    "/bin/sh",
    "/usr/lib/systemd/systemd",
    "/sbin/init",
    "/bin/bash",
    "/usr/bin/bash",
];

/// A machine architecture (ELF `e_machine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// x86-64 (`0x3E`).
    X86_64,
    /// 32-bit x86 (`0x03`).
    I386,
    /// AArch64 (`0xB7`).
    Aarch64,
    /// 32-bit ARM (`0x28`).
    Arm,
    /// PowerPC 64 (`0x15`).
    Ppc64,
    /// s390 / s390x (`0x16`).
    S390,
    /// RISC-V (`0xF3`).
    RiscV,
    /// LoongArch (`0x102`).
    LoongArch,
    /// Any other machine number.
    Other(u16),
}

/// Architecture read from one ELF binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchInfo {
    /// The machine.
    pub arch: Arch,
    /// 32 or 64 (`EI_CLASS`).
    pub bits: u8,
    /// `EI_DATA` is little-endian.
    pub little_endian: bool,
    /// Guest path of the binary read (links resolved).
    pub binary: String,
}

impl Arch {
    /// The architecture of an ELF `e_machine` value.
    pub fn from_machine(machine: u16) -> Arch {
        match machine {
            0x03 => Arch::I386,
            0x3E => Arch::X86_64,
            0x28 => Arch::Arm,
            0xB7 => Arch::Aarch64,
            0x15 => Arch::Ppc64,
            0x16 => Arch::S390,
            0xF3 => Arch::RiscV,
            0x102 => Arch::LoongArch,
            other => Arch::Other(other),
        }
    }
}

/// Parse an ELF identification and `e_machine` from the first 20 bytes.
pub fn parse_elf(head: &[u8]) -> Result<(Arch, u8, bool), String> {
    if head.get(..4) != Some(b"\x7fELF") {
        return Err("not an ELF file (magic 7F 45 4C 46 missing)".into());
    }
    let bits = match head.get(4) {
        Some(1) => 32,
        Some(2) => 64,
        other => return Err(format!("ELF EI_CLASS is {other:?}; expected 1 or 2")),
    };
    let little = match head.get(5) {
        Some(1) => true,
        Some(2) => false,
        other => return Err(format!("ELF EI_DATA is {other:?}; expected 1 or 2")),
    };
    let (Some(a), Some(b)) = (head.get(18), head.get(19)) else {
        return Err("ELF header shorter than 20 bytes".into());
    };
    let machine = if little {
        u16::from_le_bytes([*a, *b])
    } else {
        u16::from_be_bytes([*a, *b])
    };
    Ok((Arch::from_machine(machine), bits, little))
}

/// Read the ELF header of the first init/shell binary found.
pub fn inspect(guest: &dyn GuestFiles) -> Fact<ArchInfo> {
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    for path in CANDIDATES {
        let canonical = match guest.canonical(path) {
            Ok(Some(c)) => c,
            Ok(None) => {
                evidence.push(Evidence::absent(*path));
                continue;
            }
            Err(e) => {
                evidence.push(Evidence::file(*path, format!("unreadable: {e}")));
                problems.push(e.to_string());
                continue;
            }
        };
        let head = match guest.read_prefix(&canonical, 20) {
            Ok(Some(h)) => h,
            Ok(None) => continue,
            Err(e) => {
                evidence.push(Evidence::file(canonical, format!("unreadable: {e}")));
                problems.push(e.to_string());
                continue;
            }
        };
        let shown = if canonical == *path {
            canonical.clone()
        } else {
            format!("{path} -> {canonical}")
        };
        match parse_elf(&head) {
            Ok((arch, bits, little_endian)) => {
                let bytes = [
                    head.get(18).copied().unwrap_or(0),
                    head.get(19).copied().unwrap_or(0),
                ];
                let machine = if little_endian {
                    u16::from_le_bytes(bytes)
                } else {
                    u16::from_be_bytes(bytes)
                };
                evidence.push(Evidence::file(
                    shown,
                    format!("ELF class {bits}-bit, e_machine 0x{machine:x} ({arch:?})"),
                ));
                return Fact::found(
                    ArchInfo {
                        arch,
                        bits,
                        little_endian,
                        binary: canonical,
                    },
                    evidence,
                );
            }
            Err(why) => {
                evidence.push(Evidence::file(shown, why.clone()));
                problems.push(format!("{path}: {why}"));
            }
        }
    }
    let reason = if problems.is_empty() {
        "none of the binaries read for the architecture exists".to_string()
    } else {
        problems.join("; ")
    };
    Fact::unknown(reason, evidence)
}
