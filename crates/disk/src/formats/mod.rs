//! The image formats other than RAW, one module each.
//!
//! Every reader checks each header field and table entry it uses against
//! the file's size and the format's limits before it trusts it, and bounds
//! every allocation by what the file can hold.

pub(crate) mod bytes;
pub mod ova;
pub mod qcow2;
pub mod vdi;
pub mod vhd;
pub mod vhdx;
pub mod vmdk;
