//! The `prepare` pipeline as a library: from a disk image to a checked,
//! ready-to-upload set for IMS fast import.
//!
//! [`prepare`] runs every check that needs no long work first (what the
//! image is, its layout, the request's fields, `min_disk`), so a mistake
//! costs milliseconds; then the one long pass (a scan for the bitmap, a
//! conversion to ZVHD2, a sparse RAW copy, or the verification of a ZVHD2);
//! then the small files (`request.json`, `manifest.json`). Whatever a run
//! wrote is removed again if it fails or is cancelled.
//!
//! It never prints: progress, warnings and cancellation go through a
//! [`Reporter`], results come back as values ([`Prepared`]) and errors as
//! [`PrepareError`]. The `imsprep` binary is one caller; a program embedding
//! imsprep is another.

mod error;
mod guest;
mod inspect;
mod passes;
mod plan;
mod prepare;
mod reporter;
mod request;
mod set;

pub use error::PrepareError;
pub use guest::{check_guest, GuestCheck, GuestSummary};
pub use inspect::{add_guest_checks, inspect_image, Inspection};
pub use passes::{disk_to_zvhd2, scan_disk, scan_path, verify_zvhd2};
pub use plan::{stream_file_name, Names, Plan};
pub use prepare::{prepare, Mode, PrepareOptions, Prepared, PreparedSet, Source};
pub use reporter::{Quiet, Reporter};
pub use request::RequestSpec;
pub use set::write_atomically;
