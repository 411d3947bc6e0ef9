//! Which blocks of a file hold data.
//!
//! The building blocks every other imsprep crate uses to avoid reading or
//! compressing zeros: a fast zero test ([`is_zero`]) and the data extents of
//! a sparse file ([`data_extents`]), found with `SEEK_DATA`/`SEEK_HOLE`.

mod extents;
mod zero;

pub use extents::{data_extents, Extent};
pub use zero::is_zero;
