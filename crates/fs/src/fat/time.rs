//! FAT dates and times.
//!
//! A FAT timestamp is a local time of the machine that wrote it, with no
//! zone; it is reported as if it were UTC (what Linux shows with `tz=UTC`),
//! since the guest's zone is not known here.

use crate::Timestamp;

/// The time `date` and `time` (the packed FAT fields) name: years from
/// 1980, seconds in steps of two. Out-of-range months and days are read as
/// 1, as Linux does, so a damaged field still gives a time.
pub(super) fn timestamp(date: u16, time: u16) -> Timestamp {
    let year = 1980 + i64::from(date >> 9);
    let month = i64::from((date >> 5) & 0x0F).clamp(1, 12);
    let day = i64::from(date & 0x1F).max(1);
    let hours = i64::from(time >> 11);
    let minutes = i64::from((time >> 5) & 0x3F);
    let seconds = i64::from(time & 0x1F) * 2;
    let days = days_from_civil(year, month, day);
    Timestamp {
        secs: days * 86_400 + hours * 3_600 + minutes * 60 + seconds,
        nanos: 0,
    }
}

/// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian
/// calendar (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts() {
        // 1980-01-01 00:00:00.
        assert_eq!(timestamp(0x0021, 0).secs, 315_532_800);
        // 2024-02-29 13:45:58: year 44, month 2, day 29; 13:45:29*2.
        let date = (44 << 9) | (2 << 5) | 29;
        let time = (13 << 11) | (45 << 5) | 29;
        assert_eq!(timestamp(date, time).secs, 1_709_214_358);
        // A zero date reads as 1980-01-01.
        assert_eq!(timestamp(0, 0).secs, 315_532_800);
    }
}
