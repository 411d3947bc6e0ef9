//! Name comparison. Windows compares key and value names without regard
//! to case, using its own uppercase table; Unicode simple uppercase agrees
//! with it for the names met in practice.

/// True when `a` and `b` are equal ignoring case.
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}
