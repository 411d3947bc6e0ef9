//! Block sizes the allocation map may use, and parsing them from text.

use thiserror::Error;

/// Smallest block size: one page, the unit file systems report holes in.
pub const MIN_GRANULARITY: u64 = 4 << 10;
/// Largest block size.
pub const MAX_GRANULARITY: u64 = 32 << 20;
/// Block size used when the caller has no preference (the ZVHD2 block size).
pub const DEFAULT_GRANULARITY: u64 = 2 << 20;

/// A block size that is not usable, or text that is not a size.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GranularityError {
    /// The text is not a number with an optional binary suffix.
    #[error("granularity {input:?} is not a size: expected bytes (\"4096\") or a number with K, M or G (\"4K\", \"2MiB\")")]
    Syntax {
        /// The text as given.
        input: String,
    },
    /// The size is not a power of two.
    #[error("granularity {value} is not a power of two")]
    NotPowerOfTwo {
        /// The size in bytes.
        value: u64,
    },
    /// The size is a power of two outside 4 KiB..=32 MiB.
    #[error("granularity {value} is outside the range 4 KiB (4096) to 32 MiB (33554432)")]
    OutOfRange {
        /// The size in bytes.
        value: u64,
    },
}

/// Checks that `value` is a power of two from 4 KiB to 32 MiB and returns it.
pub fn validate_granularity(value: u64) -> Result<u64, GranularityError> {
    if !value.is_power_of_two() {
        return Err(GranularityError::NotPowerOfTwo { value });
    }
    if !(MIN_GRANULARITY..=MAX_GRANULARITY).contains(&value) {
        return Err(GranularityError::OutOfRange { value });
    }
    Ok(value)
}

/// Parses a block size given on a command line.
///
/// Accepts a byte count (`"4096"`) or a number followed by a binary suffix,
/// case-insensitive: `K`, `M`, `G`, each optionally followed by `iB` or `B`
/// (`"4k"`, `"2M"`, `"2MiB"`, `"1mb"`). Suffixes are always powers of 1024:
/// a decimal megabyte is never a power of two, so reading `MB` as 10^6 could
/// only ever produce an error. A bare `B` suffix means bytes. The result is
/// validated with [`validate_granularity`].
pub fn parse_granularity(text: &str) -> Result<u64, GranularityError> {
    let syntax = || GranularityError::Syntax {
        input: text.to_owned(),
    };
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, suffix) = trimmed.split_at(digits_end);
    if digits.is_empty() {
        return Err(syntax());
    }
    let number: u64 = digits.parse().map_err(|_| syntax())?;
    let shift = match suffix.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(syntax()),
    };
    let value = number
        .checked_mul(1u64 << shift)
        .ok_or(GranularityError::OutOfRange { value: u64::MAX })?;
    validate_granularity(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bytes_and_suffixes() {
        assert_eq!(parse_granularity("4096"), Ok(4096));
        assert_eq!(parse_granularity("4K"), Ok(4096));
        assert_eq!(parse_granularity("4k"), Ok(4096));
        assert_eq!(parse_granularity("2M"), Ok(2 << 20));
        assert_eq!(parse_granularity("2MiB"), Ok(2 << 20));
        assert_eq!(parse_granularity("2mib"), Ok(2 << 20));
        assert_eq!(parse_granularity(" 32 MB "), Ok(32 << 20));
        assert_eq!(parse_granularity("65536B"), Ok(65536));
    }

    #[test]
    fn rejects_bad_sizes() {
        assert!(matches!(
            parse_granularity("3M"),
            Err(GranularityError::NotPowerOfTwo { .. })
        ));
        assert!(matches!(
            parse_granularity("2K"),
            Err(GranularityError::OutOfRange { value: 2048 })
        ));
        assert!(matches!(
            parse_granularity("64M"),
            Err(GranularityError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_granularity("1G"),
            Err(GranularityError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_granularity("99999999999999999999G"),
            Err(GranularityError::Syntax { .. })
        ));
        assert!(matches!(
            parse_granularity("16777216T"),
            Err(GranularityError::Syntax { .. })
        ));
        assert!(matches!(
            parse_granularity("18014398509481984G"),
            Err(GranularityError::OutOfRange { .. })
        ));
        for bad in ["", "M", "-4K", "4 KK", "0x1000", "4.5M"] {
            assert!(
                matches!(parse_granularity(bad), Err(GranularityError::Syntax { .. })),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_granularity("0"),
            Err(GranularityError::NotPowerOfTwo { value: 0 })
        ));
    }
}
