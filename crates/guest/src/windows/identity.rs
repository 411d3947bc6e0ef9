//! WIN-OS-ID and WIN-ARCH.
//!
//! Identity: `SOFTWARE\Microsoft\Windows NT\CurrentVersion` — the values
//! libguestfs reads too. Architecture: `PROCESSOR_ARCHITECTURE` in the
//! control set's `Session Manager\Environment`, and the PE header of
//! `System32\ntoskrnl.exe` (`MZ`, `e_lfanew` at 0x3C, `PE\0\0`, Machine):
//! only the first 4 KiB of the file are read.

use super::paths::find_file_ci;
use super::registry::Reg;
use crate::evidence::{Evidence, Fact};
use crate::files::GuestFiles;

/// Key of the version values in SOFTWARE.
pub const CURRENT_VERSION: &str = "Microsoft\\Windows NT\\CurrentVersion";

/// What `CurrentVersion` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowsIdentity {
    /// `ProductName` (`Windows Server 2019 Standard`).
    pub product_name: Option<String>,
    /// `EditionID` (`ServerStandard`, `Professional`, ...).
    pub edition_id: Option<String>,
    /// `InstallationType` (`Server`, `Server Core`, `Client`).
    pub installation_type: Option<String>,
    /// `CurrentMajorVersionNumber` (Windows 10 and later).
    pub major: Option<u32>,
    /// `CurrentMinorVersionNumber`.
    pub minor: Option<u32>,
    /// `CurrentVersion` (`6.3`; frozen at 6.3 since Windows 10).
    pub current_version: Option<String>,
    /// `CurrentBuild`, else `CurrentBuildNumber`, as a number.
    pub build: Option<u32>,
    /// `DisplayVersion` (`21H2`), else `ReleaseId`.
    pub display_version: Option<String>,
    /// `UBR` (update build revision).
    pub ubr: Option<u32>,
}

impl WindowsIdentity {
    /// True for a server installation (`InstallationType` `Server*`, else
    /// an `EditionID` starting `Server`, else a product name with "Server").
    pub fn is_server(&self) -> bool {
        if let Some(t) = &self.installation_type {
            return t.to_ascii_lowercase().starts_with("server");
        }
        if let Some(e) = &self.edition_id {
            return e.to_ascii_lowercase().starts_with("server");
        }
        self.product_name
            .as_deref()
            .is_some_and(|p| p.to_ascii_lowercase().contains("server"))
    }
}

/// Reads the identity values.
pub fn identity(software: Reg<'_>) -> Fact<WindowsIdentity> {
    let mut ev = Vec::new();
    let k = CURRENT_VERSION;
    if !software.exists(k, &mut ev) {
        return Fact::absent(ev);
    }
    let build_text = software
        .string(k, "CurrentBuild", &mut ev)
        .or_else(|| software.string(k, "CurrentBuildNumber", &mut ev));
    let display_version = software
        .string(k, "DisplayVersion", &mut ev)
        .or_else(|| software.string(k, "ReleaseId", &mut ev));
    let id = WindowsIdentity {
        product_name: software.string(k, "ProductName", &mut ev),
        edition_id: software.string(k, "EditionID", &mut ev),
        installation_type: software.string(k, "InstallationType", &mut ev),
        major: software.dword(k, "CurrentMajorVersionNumber", &mut ev),
        minor: software.dword(k, "CurrentMinorVersionNumber", &mut ev),
        current_version: software.string(k, "CurrentVersion", &mut ev),
        build: build_text.and_then(|b| b.trim().parse().ok()),
        display_version,
        ubr: software.dword(k, "UBR", &mut ev),
    };
    if id.product_name.is_none() && id.build.is_none() {
        return Fact::absent(ev);
    }
    Fact::found(id, ev)
}

/// A Windows machine type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WinArch {
    /// x64 (`AMD64`, PE machine 0x8664).
    Amd64,
    /// 32-bit x86 (`x86`, 0x014C).
    X86,
    /// ARM64 (`ARM64`, 0xAA64).
    Arm64,
    /// Anything else: the raw name or machine number.
    Other,
}

impl WinArch {
    /// From a `PROCESSOR_ARCHITECTURE` value.
    pub fn from_name(name: &str) -> WinArch {
        match name.trim().to_ascii_uppercase().as_str() {
            "AMD64" | "X64" => WinArch::Amd64,
            "X86" => WinArch::X86,
            "ARM64" => WinArch::Arm64,
            _ => WinArch::Other,
        }
    }

    /// From a PE Machine field.
    pub fn from_machine(m: u16) -> WinArch {
        match m {
            0x8664 => WinArch::Amd64,
            0x014C => WinArch::X86,
            0xAA64 => WinArch::Arm64,
            _ => WinArch::Other,
        }
    }
}

/// Architecture as the registry and the kernel image say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsArch {
    /// The decided architecture: the kernel image's when readable, else
    /// the registry's.
    pub arch: WinArch,
    /// `PROCESSOR_ARCHITECTURE`, as stored.
    pub registry: Option<String>,
    /// PE Machine of `ntoskrnl.exe`.
    pub pe_machine: Option<u16>,
}

/// PE Machine field of a file's first bytes.
pub fn pe_machine(head: &[u8]) -> Result<u16, String> {
    if head.get(0..2) != Some(b"MZ".as_slice()) {
        return Err("no MZ signature".into());
    }
    let lfanew = head
        .get(0x3C..0x40)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or("file ends before e_lfanew")?;
    let at = usize::try_from(lfanew).map_err(|_| "e_lfanew out of range")?;
    if head.get(at..at.saturating_add(4)) != Some(b"PE\0\0".as_slice()) {
        return Err(format!("no PE signature at e_lfanew {lfanew:#x}"));
    }
    head.get(at.saturating_add(4)..at.saturating_add(6))
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(u16::from_le_bytes)
        .ok_or_else(|| "file ends before the PE Machine field".into())
}

/// Reads the architecture.
pub fn arch(
    guest: &dyn GuestFiles,
    system: Reg<'_>,
    control_set: Option<&str>,
    root: &str,
) -> Fact<WindowsArch> {
    let mut ev = Vec::new();
    let registry = control_set.and_then(|cs| {
        system.string(
            &format!("{cs}\\Control\\Session Manager\\Environment"),
            "PROCESSOR_ARCHITECTURE",
            &mut ev,
        )
    });
    let kernel = format!("{root}/System32/ntoskrnl.exe");
    let mut pe = None;
    match find_file_ci(guest, &kernel) {
        Ok(Some(path)) => match guest.read_prefix(&path, 4096) {
            Ok(Some(head)) => match pe_machine(&head) {
                Ok(m) => {
                    ev.push(Evidence::file(&path, format!("PE Machine {m:#06x}")));
                    pe = Some(m);
                }
                Err(e) => ev.push(Evidence::file(&path, format!("not a PE image: {e}"))),
            },
            Ok(None) => ev.push(Evidence::absent(&path)),
            Err(e) => ev.push(Evidence::file(&path, format!("unreadable: {e}"))),
        },
        Ok(None) => ev.push(Evidence::absent(&kernel)),
        Err(e) => ev.push(Evidence::file(&kernel, format!("unreadable: {e}"))),
    }
    let arch = match (pe, &registry) {
        (Some(m), _) => WinArch::from_machine(m),
        (None, Some(r)) => WinArch::from_name(r),
        (None, None) => {
            return Fact::unknown(
                "neither PROCESSOR_ARCHITECTURE nor a readable ntoskrnl.exe",
                ev,
            )
        }
    };
    Fact::found(
        WindowsArch {
            arch,
            registry,
            pe_machine: pe,
        },
        ev,
    )
}
