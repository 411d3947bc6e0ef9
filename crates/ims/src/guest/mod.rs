//! Guest-readiness rules: the facts `imsprep-guest` read from a guest,
//! turned into findings.
//!
//! [`check_windows`] runs every Windows (WIN-*) check and IMG-OS-SUPPORTED
//! for a Windows guest.

pub mod windows;

pub use windows::{check_windows, windows_os_version, WindowsOsVersion};
