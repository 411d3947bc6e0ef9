//! LX-ARCH: architecture of the guest userland from an ELF header.
use crate::evidence::Fact;
use crate::files::GuestFiles;

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

/// Read the ELF header of the first init/shell binary found.
pub fn inspect(guest: &dyn GuestFiles) -> Fact<ArchInfo> {
    let _ = guest;
    Fact::unknown("not inspected", Vec::new())
}
