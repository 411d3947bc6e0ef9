//! How a value from the request appears inside a finding's text.
//!
//! Findings quote what the user wrote so they can find it. A value may be a
//! megabyte long; quoting all of it would bury the finding, so a long value
//! is shown by its start and its length (the finding's path still says
//! exactly where it is).

use std::fmt;

/// Values up to this many characters are quoted whole.
const WHOLE_UP_TO: usize = 80;
/// How many characters of a longer value are shown.
const SHOWN_START: usize = 60;

/// A value in double quotes, shortened when long: `"abc"`, or
/// `"abcd…" (1048576 characters)`.
pub(crate) fn quoted(value: &str) -> Shown<'_> {
    Shown { value, mark: '"' }
}

/// A JSON key in backticks, shortened the same way: `` `min_disk` ``.
pub(crate) fn ticked(key: &str) -> Shown<'_> {
    Shown {
        value: key,
        mark: '`',
    }
}

/// Whether a value is short enough to be written out whole, as a fix text
/// that the user copies does (a long one gets the fix's general wording).
pub(crate) fn is_short(value: &str) -> bool {
    value.chars().nth(WHOLE_UP_TO).is_none()
}

/// A value as it appears in a message; see [`quoted`] and [`ticked`].
pub(crate) struct Shown<'a> {
    value: &'a str,
    mark: char,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.mark;
        // Counting stops early: a short value is never walked twice.
        if is_short(self.value) {
            return write!(f, "{m}{}{m}", self.value);
        }
        let end = self
            .value
            .char_indices()
            .nth(SHOWN_START)
            .map_or(self.value.len(), |(i, _)| i);
        let chars = self.value.chars().count();
        write!(f, "{m}{}…{m} ({chars} characters)", &self.value[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_whole() {
        assert_eq!(
            quoted("CentOS 7.0 64bit").to_string(),
            "\"CentOS 7.0 64bit\""
        );
        assert_eq!(ticked("min_disk").to_string(), "`min_disk`");
        let edge = "x".repeat(WHOLE_UP_TO);
        assert_eq!(quoted(&edge).to_string(), format!("\"{edge}\""));
        assert!(is_short(&edge));
        assert!(!is_short(&format!("{edge}x")));
    }

    #[test]
    fn long_values_show_their_start_and_length() {
        let long = format!("Ubuntu 18.04 server 64bit{}", "é".repeat(100_000));
        let s = quoted(&long).to_string();
        assert!(s.starts_with("\"Ubuntu 18.04 server 64bitéé"), "{s}");
        assert!(s.ends_with("é…\" (100025 characters)"), "{s}");
        assert_eq!(
            s.chars().count(),
            1 + SHOWN_START + 2 + " (100025 characters)".len()
        );
    }
}
