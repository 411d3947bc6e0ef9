//! Listing one registry key of a guest, as `imsprep reg` shows it: the key
//! path is split into its hive (`HKLM\SYSTEM`) and the path inside it.

use imsprep_regf::ValueData;

use super::hives::{load_hive, state_text, system_root};
use crate::files::GuestFiles;

/// The hives of `System32\config` a key path may start with.
const HIVES: [&str; 7] = [
    "SYSTEM",
    "SOFTWARE",
    "SAM",
    "SECURITY",
    "DEFAULT",
    "COMPONENTS",
    "DRIVERS",
];

/// One value of a listed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedValue {
    /// The value's name (empty for the default value).
    pub name: String,
    /// `REG_SZ`, `REG_DWORD`...
    pub kind: String,
    /// The data as text: strings as they are, numbers in decimal and hex,
    /// multi-strings one per line, bytes in hex.
    pub data: String,
}

/// A key with its subkeys and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyListing {
    /// The hive file read (guest path).
    pub hive_path: String,
    /// Whether the hive was clean, stale or recovered from its logs.
    pub hive_state: String,
    /// The key as asked for, normalised (`HKLM\SYSTEM\Select`).
    pub key: String,
    /// Subkey names with their last-write time (Unix seconds).
    pub subkeys: Vec<(String, i64)>,
    /// The key's values.
    pub values: Vec<ListedValue>,
}

/// Splits `HKLM\SYSTEM\Select` (also `HKEY_LOCAL_MACHINE\...` or a bare
/// `SYSTEM\...`) into the hive name and the path inside it.
pub fn split_key(path: &str) -> Result<(&'static str, String), String> {
    let parts: Vec<&str> = path.split(['\\', '/']).filter(|p| !p.is_empty()).collect();
    let rest = match parts.first() {
        Some(first)
            if first.eq_ignore_ascii_case("HKLM")
                || first.eq_ignore_ascii_case("HKEY_LOCAL_MACHINE") =>
        {
            &parts[1..]
        }
        _ => &parts[..],
    };
    let Some((hive, inside)) = rest.split_first() else {
        return Err(format!(
            "{path:?} names no hive; start with HKLM\\SYSTEM or HKLM\\SOFTWARE"
        ));
    };
    let hive = HIVES
        .iter()
        .find(|h| h.eq_ignore_ascii_case(hive))
        .ok_or_else(|| {
            format!(
                "{hive:?} is not a hive of System32\\config; one of {}",
                HIVES.join(", ")
            )
        })?;
    Ok((hive, inside.join("\\")))
}

/// Lists the key at `path` of the Windows guest.
pub fn list_key(guest: &dyn GuestFiles, path: &str) -> Result<KeyListing, String> {
    let (hive_name, inside) = split_key(path)?;
    let root = system_root(guest);
    let Some(root) = root.get() else {
        return Err(root
            .unknown
            .clone()
            .unwrap_or_else(|| "no Windows directory found in the image".to_string()));
    };
    let loaded = load_hive(guest, &root.config_dir, hive_name).map_err(|(why, _)| why)?;
    let hive = &loaded.hive;
    let key = hive
        .key(&inside)
        .map_err(|e| format!("{}: {e}", loaded.path))?
        .ok_or_else(|| format!("{}: no key {inside:?}", loaded.path))?;
    let subkeys = hive
        .subkeys(&key)
        .map_err(|e| format!("{}: {e}", loaded.path))?
        .into_iter()
        .map(|k| (k.name().to_string(), k.last_write().unix_seconds()))
        .collect();
    let values = hive
        .values(&key)
        .map_err(|e| format!("{}: {e}", loaded.path))?
        .into_iter()
        .map(|v| ListedValue {
            name: v.name().to_string(),
            kind: v.value_type().name().into_owned(),
            data: match v.decoded() {
                Ok(data) => shown(&data),
                Err(e) => format!("(unreadable: {e})"),
            },
        })
        .collect();
    let key_name = if inside.is_empty() {
        format!("HKLM\\{hive_name}")
    } else {
        format!("HKLM\\{hive_name}\\{inside}")
    };
    Ok(KeyListing {
        hive_path: loaded.path.clone(),
        hive_state: state_text(loaded.state),
        key: key_name,
        subkeys,
        values,
    })
}

/// Value data as text.
fn shown(data: &ValueData) -> String {
    let hex = |bytes: &[u8]| -> String {
        bytes
            .iter()
            .take(256)
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
            + if bytes.len() > 256 { " ..." } else { "" }
    };
    match data {
        ValueData::String(s) | ValueData::ExpandString(s) | ValueData::Link(s) => s.clone(),
        ValueData::Dword(n) => format!("{n} (0x{n:08x})"),
        ValueData::Qword(n) => format!("{n} (0x{n:016x})"),
        ValueData::MultiString(list) => list.join("\n"),
        ValueData::None(b) | ValueData::Binary(b) | ValueData::Raw(_, b) => hex(b),
    }
}

#[cfg(test)]
mod tests {
    use super::split_key;

    #[test]
    fn key_paths_name_their_hive() {
        assert_eq!(
            split_key("HKLM\\SYSTEM\\Select").unwrap(),
            ("SYSTEM", "Select".to_string())
        );
        assert_eq!(
            split_key("HKEY_LOCAL_MACHINE\\software\\Microsoft\\Windows NT").unwrap(),
            ("SOFTWARE", "Microsoft\\Windows NT".to_string())
        );
        assert_eq!(split_key("SYSTEM").unwrap(), ("SYSTEM", String::new()));
        assert!(split_key("HKLM").is_err());
        assert!(split_key("HKCU\\Software").is_err());
    }
}
