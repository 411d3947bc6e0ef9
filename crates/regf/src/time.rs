//! Windows FILETIME stamps.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 100-nanosecond intervals between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// A Windows FILETIME: 100-nanosecond intervals since 1601-01-01 UTC, as
/// stored in the hive (key last-write times, base block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileTime(pub u64);

impl FileTime {
    /// Seconds since the Unix epoch (negative before 1970).
    pub fn unix_seconds(self) -> i64 {
        let since = i128::from(self.0) - i128::from(FILETIME_UNIX_EPOCH);
        // FILETIME is u64, so the quotient always fits in i64.
        i64::try_from(since.div_euclid(10_000_000)).unwrap_or(i64::MAX)
    }

    /// As a `SystemTime`; `None` before 1970 (never seen for real keys).
    pub fn to_system_time(self) -> Option<SystemTime> {
        let since = self.0.checked_sub(FILETIME_UNIX_EPOCH)?;
        let d = Duration::new(since / 10_000_000, ((since % 10_000_000) * 100) as u32);
        UNIX_EPOCH.checked_add(d)
    }
}
