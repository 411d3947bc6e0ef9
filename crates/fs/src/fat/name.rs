//! Names: 8.3 short names in the OEM code page, the long-name checksum,
//! and the case folding lookups use.

/// Code page 437 (the IBM PC's, Linux's default `codepage=437`) above
/// 0x7F. Short names and labels are stored in the OEM code page of the
/// system that wrote them, which the volume does not record.
const CP437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

/// One OEM (code page 437) byte as a character.
fn oem_char(byte: u8) -> char {
    match byte.checked_sub(0x80) {
        None => char::from(byte),
        Some(high) => CP437_HIGH
            .get(usize::from(high))
            .copied()
            .unwrap_or('\u{FFFD}'),
    }
}

/// OEM bytes as text.
pub(super) fn oem_text(raw: &[u8]) -> String {
    raw.iter().map(|&b| oem_char(b)).collect()
}

/// `NTRes` bit: the base name is shown in lower case (Windows NT and
/// later write 8.3 names that are all lower case this way, without a long
/// name).
const LOWER_BASE: u8 = 0x08;
/// `NTRes` bit: the extension is shown in lower case.
const LOWER_EXT: u8 = 0x10;

/// The name an 8.3 entry shows: `BASE.EXT` (no dot without an extension),
/// a first byte 0x05 read as 0xE5, lower case where `nt_flags` says.
pub(super) fn short_name(raw: &[u8; 11], nt_flags: u8) -> String {
    let mut bytes = *raw;
    if bytes[0] == 0x05 {
        bytes[0] = 0xE5;
    }
    let (base, ext) = bytes.split_at(8);
    let part = |field: &[u8], lower: bool| -> String {
        let end = field
            .iter()
            .rposition(|&b| b != b' ')
            .map_or(0, |last| last + 1);
        let text = oem_text(field.get(..end).unwrap_or(&[]));
        if lower {
            text.chars().map(single_lower).collect()
        } else {
            text
        }
    };
    let base = part(base, nt_flags & LOWER_BASE != 0);
    let ext = part(ext, nt_flags & LOWER_EXT != 0);
    if ext.is_empty() {
        base
    } else {
        format!("{base}.{ext}")
    }
}

/// The checksum of an 8.3 name that each of its long-name entries
/// carries (Microsoft's FAT specification, `ChkSum`).
pub(super) fn lfn_checksum(raw: &[u8; 11]) -> u8 {
    raw.iter()
        .fold(0u8, |sum, &b| sum.rotate_right(1).wrapping_add(b))
}

/// `c` in lower case when that is one character, else `c`.
fn single_lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `c` in upper case when that is one character, else `c`.
fn single_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// `name` case-folded, one character for one, as a key for lookups that
/// ignore case the way Windows and UEFI firmware do.
///
/// Simple (one-to-one) case folding is upper-casing then lower-casing
/// each character where each step maps to one character: this folds
/// `ς`/`σ`/`Σ`, `ſ`/`s`/`S` and Kelvin `K`/`k` together, like the Unicode
/// `C`+`S` folding, and leaves `ß` and `İ` (whose mappings are several
/// characters) as they are, as Windows' per-character upcase table does.
pub(super) fn fold(name: &str) -> String {
    name.chars()
        .map(|c| single_lower(single_upper(c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(short_name(b"HELLO   TXT", 0x18), "hello.txt");
        assert_eq!(short_name(b"HELLO   TXT", 0x08), "hello.TXT");
        assert_eq!(short_name(b"README     ", 0), "README");
        assert_eq!(short_name(b"\x05BC     TXT", 0), "σBC.TXT");
    }

    #[test]
    fn checksum_and_fold() {
        // The checksum of "BOOTX64 EFI" as Windows writes it.
        let sum = lfn_checksum(b"BOOTX64 EFI");
        assert_eq!(sum, lfn_checksum(b"BOOTX64 EFI"));
        assert_ne!(sum, lfn_checksum(b"BOOTX65 EFI"));
        assert_eq!(fold("BootX64.EFI"), fold("bootx64.efi"));
        assert_eq!(fold("ΣΊΣΥΦΟΣ"), fold("σίσυφος"));
        assert_eq!(fold("Ünïcödé"), fold("üNÏCÖDÉ"));
        assert_ne!(fold("a"), fold("b"));
    }
}
