//! Character classes and the name and description rules.

use crate::finding::{Code, Finding};

/// Longest image name, in characters.
pub const NAME_MAX: usize = 128;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 1024;

/// CJK unified ideographs (basic block, extensions A and B, compatibility
/// ideographs): what the Chinese cloud means by "Chinese characters".
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}')
}

/// Letters, digits, `_` and `-` (ASCII): the portable tag alphabet.
pub fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Lists characters for a message, each once, in order of appearance.
pub fn describe_chars(chars: impl IntoIterator<Item = char>) -> String {
    let mut seen: Vec<char> = Vec::new();
    for c in chars {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen.iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Name rules. CJK ideographs are accepted with a warning: the Chinese cloud
/// allows them, Open Telekom Cloud and the international site's docs do not.
pub fn check_name(name: &str, out: &mut Vec<Finding>) {
    let path = "$.name";
    let len = name.chars().count();
    if len == 0 || len > NAME_MAX {
        out.push(Finding::new(
            Code::ReqNameLength,
            path,
            format!("the name has {len} characters; 1 to {NAME_MAX} are allowed"),
        ));
    }
    let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.');
    let bad: Vec<char> = name
        .chars()
        .filter(|&c| !name_char(c) && !is_cjk(c))
        .collect();
    if !bad.is_empty() {
        out.push(Finding::new(
            Code::ReqNameChars,
            path,
            format!(
                "the name has characters that are not allowed: {}",
                describe_chars(bad)
            ),
        ));
    }
    if name.chars().any(is_cjk) {
        out.push(Finding::new(
            Code::ReqNameCjk,
            path,
            "the name has Chinese characters",
        ));
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        out.push(
            Finding::new(
                Code::ReqNameSpaceEdge,
                path,
                "the name starts or ends with a space",
            )
            .with_fix(format!("Use \"{}\".", name.trim_matches(' '))),
        );
    }
}

/// Description rules. A line feed counts as a line break as well as a
/// carriage return: the console's rule is about the Enter key.
pub fn check_description(desc: &str, out: &mut Vec<Finding>) {
    let path = "$.description";
    let len = desc.chars().count();
    if len > DESCRIPTION_MAX {
        out.push(Finding::new(
            Code::ReqDescriptionLength,
            path,
            format!("the description has {len} characters; at most {DESCRIPTION_MAX} are allowed"),
        ));
    }
    let bad: Vec<char> = desc
        .chars()
        .filter(|c| matches!(c, '\r' | '\n' | '<' | '>'))
        .collect();
    if !bad.is_empty() {
        out.push(Finding::new(
            Code::ReqDescriptionChars,
            path,
            format!("the description has {}", describe_chars(bad)),
        ));
    }
}
