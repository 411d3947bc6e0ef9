//! Read-only reader of Windows registry hive files ("regf"), for offline
//! inspection of the `SYSTEM`, `SOFTWARE` and BCD hives of a disk image.
//!
//! # What is read
//! - the base block (signature `regf`, sequence numbers, version 1.1 to
//!   1.6, root cell, hive bins size, XOR-32 checksum);
//! - hive bins (`hbin`: signature, offset and size checked, indexed once
//!   so that no cell can straddle two bins);
//! - cells: key nodes (`nk`, names in Latin-1 or UTF-16 by flag,
//!   last-write time, class name), values (`vk`, data resident in the
//!   offset field up to 4 bytes, in one cell, or in big-data `db` segments
//!   of up to 16344 bytes for hive versions 1.4 and later), security
//!   (`sk`: the descriptor bytes), subkey lists `li`, `lf`, `lh` and `ri`;
//! - every value type: strings, numbers (DWORD in both byte orders,
//!   QWORD), REG_MULTI_SZ, REG_LINK, and the rest as raw bytes;
//! - transaction logs `.LOG1`/`.LOG2`, new (`HvLE`) and old (`DIRT`)
//!   formats, replayed in memory when a dirty hive is opened with
//!   [`Hive::open_with_logs`]. Nothing is ever written.
//!
//! # Dirty hives and checksums
//! A hive whose sequence numbers differ, or whose base block checksum is
//! wrong, was not flushed cleanly (the kernel treats both the same way).
//! Without logs that bring it up to date it still opens, as
//! [`HiveState::Stale`], because the data on disk is usually nearly right
//! and the caller decides how far to trust it (the guest checks warn). A
//! wrong checksum therefore does not refuse the hive; every other base
//! block field is still checked and the hive bins and cells are checked
//! as always.
//!
//! # What is refused, and why
//! Hostile or damaged hives yield [`RegfError::Malformed`] naming the
//! structure and its file offset, never a panic: every offset is checked
//! to fall inside one hive bin past its header and to point to an
//! allocated cell; every count is checked against its cell before use;
//! value data larger than the hive bins is refused before allocating;
//! subkey lists reached twice (a cycle) and `ri` nesting deeper than 2 are
//! refused; big-data segments listed twice (a loop) are refused; a key's
//! subkey count must match its lists. Format versions other than 1.x and
//! files over [`MAX_HIVE_SIZE`] are refused.
//!
//! # Reading everything
//! [`walk_all`] visits every key and value and decodes all data, visiting
//! each key node once and at most [`MAX_KEY_DEPTH`] levels deep: the entry
//! point for consistency checks and fuzzing. Lookups by path
//! ([`Hive::key`]) compare names case-insensitively against every
//! subkey; the `lf`/`lh` hints are not trusted to skip any.
//!
//! # Why a reader of its own
//! `notatin` (Apache-2.0) reads hives and logs, but follows `ri` lists by
//! unbounded recursion with no cycle check (a self-referencing `ri` list
//! overflows the stack), needs `&mut` for traversal, and pulls in a
//! terminal library, two hash crates, regex, chrono and serde_json with
//! open-ended version ranges. `nt-hive` is GPL. The format is small
//! enough that a bounded reader over a byte buffer is the safer choice.

mod base_block;
mod bytes;
mod error;
mod hive;
mod key;
mod log;
mod marvin;
mod names;
mod subkeys;
#[cfg(feature = "test-support")]
pub mod test_support;
mod time;
mod value;
mod walk;

pub use base_block::{checksum, BaseBlock, BASE_BLOCK_SIZE};
pub use error::{RegfError, Result};
pub use hive::{Hive, HiveState, MAX_HIVE_SIZE};
pub use key::Key;
pub use marvin::log_entry_hash;
pub use time::FileTime;
pub use value::{decode, Value, ValueData, ValueType, BIG_DATA_SEGMENT};
pub use walk::{walk_all, WalkStats, MAX_KEY_DEPTH};
