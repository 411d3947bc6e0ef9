//! The quick-import request body and the small enumerations its fields take.
//!
//! Enumerated fields are kept as strings in [`ImageRequest`] so that any body a
//! user wrote can be represented and every bad value reported as a finding,
//! instead of failing deserialization on the first one. The typed enums are
//! for building requests and for the image checks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Body of `POST /v2/cloudimages/quickimport/action`.
///
/// Serializes in declaration order, leaving out absent fields and empty tag
/// lists, so the output is stable and has no nulls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRequest {
    /// Image name (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `bucket:object` of the image file (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// OS version string; required for system-disk images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// `Linux` or `Windows`; data-disk images only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    /// Smallest disk in GiB that can hold the image (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_disk: Option<u32>,
    /// `ECS` (default), `BMS` or `DataImage`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub image_type: Option<String>,
    /// `x86` (default) or `arm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// `bios` or `uefi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hw_firmware_type: Option<String>,
    /// `platform` or `byol`; Windows only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
    /// `"0"` for the default enterprise project, or a project UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    /// Tags as `key.value` strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Tags as key/value objects; never together with `tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_tags: Vec<ImageTag>,
}

/// One entry of `image_tags`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageTag {
    /// Tag key.
    pub key: String,
    /// Tag value; may be empty.
    #[serde(default)]
    pub value: String,
}

/// The top-level field names of [`ImageRequest`], in serialization order.
pub const REQUEST_FIELDS: &[&str] = &[
    "name",
    "description",
    "image_url",
    "os_version",
    "os_type",
    "min_disk",
    "type",
    "architecture",
    "hw_firmware_type",
    "license_type",
    "enterprise_project_id",
    "tags",
    "image_tags",
];

/// Error for a string that is not one of an enumeration's exact spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of {expected}")]
pub struct ParseEnumError {
    /// The rejected text.
    pub value: String,
    /// The accepted spellings, for the message.
    pub expected: &'static str,
}

/// Defines a string-backed enum with exact wire spellings.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident, $expected:literal { $($(#[$vm:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];

            /// The exact spelling the API uses.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),* }
            }

            /// The value whose spelling matches `s` ignoring case, for suggestions.
            pub fn from_str_ignore_case(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s))
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$v),)*
                    _ => Err(ParseEnumError { value: s.to_owned(), expected: $expected }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// The request's `type`.
    ImageType, "`ECS`, `BMS`, `DataImage`" {
        /// System disk of an elastic cloud server (the default).
        Ecs = "ECS",
        /// System disk of a bare-metal server.
        Bms = "BMS",
        /// A data disk.
        DataImage = "DataImage",
    }
}

impl ImageType {
    /// True for the system-disk types (ECS, BMS).
    pub fn is_system_disk(self) -> bool {
        !matches!(self, ImageType::DataImage)
    }
}

wire_enum! {
    /// The request's `architecture`.
    Architecture, "`x86`, `arm`" {
        /// x86-64 (the default).
        X86 = "x86",
        /// AArch64.
        Arm = "arm",
    }
}

wire_enum! {
    /// The request's `hw_firmware_type`.
    Firmware, "`bios`, `uefi`" {
        /// Legacy BIOS boot.
        Bios = "bios",
        /// UEFI boot.
        Uefi = "uefi",
    }
}

wire_enum! {
    /// The request's `os_type` (data-disk images).
    OsType, "`Linux`, `Windows`" {
        /// Linux.
        Linux = "Linux",
        /// Windows.
        Windows = "Windows",
    }
}

wire_enum! {
    /// The request's `license_type` (Windows images).
    LicenseType, "`platform`, `byol`" {
        /// License provided by the cloud platform.
        Platform = "platform",
        /// Bring your own license.
        Byol = "byol",
    }
}

impl ImageRequest {
    /// The request as pretty-printed JSON.
    pub fn to_json_pretty(&self) -> String {
        // Serializing plain strings, numbers and vectors cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The `type`, defaulting to ECS when absent; `None` when the value is not valid.
    pub fn effective_type(&self) -> Option<ImageType> {
        match &self.image_type {
            None => Some(ImageType::Ecs),
            Some(t) => t.parse().ok(),
        }
    }

    /// The architecture, defaulting to x86 when absent; `None` when the value is not valid.
    pub fn effective_architecture(&self) -> Option<Architecture> {
        match &self.architecture {
            None => Some(Architecture::X86),
            Some(a) => a.parse().ok(),
        }
    }

    /// The object part of `image_url` (after the first `:`), if any.
    pub fn object_name(&self) -> Option<&str> {
        self.image_url
            .as_deref()
            .and_then(|u| u.split_once(':'))
            .map(|(_, o)| o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialization_order_and_no_nulls() {
        let r = ImageRequest {
            name: Some("n".into()),
            image_url: Some("b:o".into()),
            min_disk: Some(40),
            image_type: Some("ECS".into()),
            tags: vec!["a.b".into()],
            ..Default::default()
        };
        let s = serde_json::to_string(&r).unwrap_or_default();
        assert_eq!(
            s,
            r#"{"name":"n","image_url":"b:o","min_disk":40,"type":"ECS","tags":["a.b"]}"#
        );
        assert!(!s.contains("null"));
    }

    #[test]
    fn request_fields_match_serialization() {
        let r = ImageRequest {
            name: Some("n".into()),
            description: Some("d".into()),
            image_url: Some("b:o".into()),
            os_version: Some("v".into()),
            os_type: Some("Linux".into()),
            min_disk: Some(1),
            image_type: Some("ECS".into()),
            architecture: Some("x86".into()),
            hw_firmware_type: Some("bios".into()),
            license_type: Some("byol".into()),
            enterprise_project_id: Some("0".into()),
            tags: vec!["a.b".into()],
            image_tags: vec![ImageTag {
                key: "k".into(),
                value: "v".into(),
            }],
        };
        let s = serde_json::to_string(&r).unwrap_or_default();
        let mut last = 0;
        for f in REQUEST_FIELDS {
            let pos = s.find(&format!("\"{f}\":")).unwrap_or(0);
            assert!(
                pos > last || (last == 0 && pos > 0),
                "{f} out of order in {s}"
            );
            last = pos;
        }
    }

    #[test]
    fn enums_parse_exactly() {
        assert_eq!("ECS".parse::<ImageType>(), Ok(ImageType::Ecs));
        assert!("ecs".parse::<ImageType>().is_err());
        assert_eq!(
            ImageType::from_str_ignore_case("dataimage"),
            Some(ImageType::DataImage)
        );
        assert_eq!("arm".parse::<Architecture>(), Ok(Architecture::Arm));
        assert_eq!(Firmware::Uefi.to_string(), "uefi");
        assert!(!ImageType::DataImage.is_system_disk());
    }
}
