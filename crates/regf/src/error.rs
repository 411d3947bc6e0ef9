//! What can go wrong reading a hive.

use crate::value::ValueType;

/// An error reading a registry hive. Structural errors name the structure
/// and its byte offset in the hive file (not relative to the hive bins),
/// and say what was expected.
#[derive(Debug, thiserror::Error)]
pub enum RegfError {
    /// A structure that cannot be right.
    #[error("registry hive: {structure} at file offset {offset:#x}: {problem}")]
    Malformed {
        /// The structure, e.g. "base block field root cell offset",
        /// "key node (nk)", "subkey list".
        structure: &'static str,
        /// Byte offset of the structure in the hive file.
        offset: u64,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// A valid structure using a feature that is not read.
    #[error("registry hive: {feature} is not supported")]
    Unsupported {
        /// The feature, e.g. "hive format version 2.0".
        feature: String,
    },
    /// The hive file is larger than this reader accepts.
    #[error("registry hive: the file is larger than {limit} bytes")]
    TooLarge {
        /// The largest hive accepted, in bytes.
        limit: u64,
    },
    /// A value was asked for as a type it does not have.
    #[error("registry value {name:?} is {found}, not {expected}")]
    WrongType {
        /// The value's name ("" for the default value).
        name: String,
        /// What the caller asked for, e.g. "REG_DWORD".
        expected: &'static str,
        /// The value's stored type.
        found: ValueType,
    },
    /// Reading the hive from its reader failed.
    #[error("registry hive: read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Result of a hive read.
pub type Result<T> = std::result::Result<T, RegfError>;

impl RegfError {
    /// A malformed-structure error at `offset` in the file.
    pub(crate) fn malformed(
        structure: &'static str,
        offset: u64,
        problem: impl Into<String>,
    ) -> Self {
        RegfError::Malformed {
            structure,
            offset,
            problem: problem.into(),
        }
    }
}
