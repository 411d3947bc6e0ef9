//! How a range of a virtual disk is stored.

/// What the format's metadata says about a range of the virtual disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Allocation {
    /// Stored: it may hold non-zero bytes and must be read to know.
    Data,
    /// Recorded as zeros (a qcow2 zero cluster, a VMDK zeroed grain, a VHDX
    /// block in the zero state); reads as zeros without any data read.
    Zero,
    /// Not stored in any layer (a hole, an unallocated cluster or block);
    /// reads as zeros.
    Unallocated,
}

impl Allocation {
    /// Whether the range must be read to know its bytes.
    pub fn is_data(self) -> bool {
        self == Allocation::Data
    }
}

/// A run `start..end` of the virtual disk with one [`Allocation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// First byte.
    pub start: u64,
    /// One past the last byte; always greater than `start`.
    pub end: u64,
    /// How the run is stored.
    pub allocation: Allocation,
}

impl Extent {
    /// Bytes in the run.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Never true: an extent holds at least one byte.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}
