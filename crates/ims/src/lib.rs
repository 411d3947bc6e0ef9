//! The rules of Huawei Cloud IMS fast import (`POST /v2/cloudimages/quickimport/action`),
//! checked offline.
//!
//! - [`model`]: the request body, and [`RequestBuilder`] to make one.
//! - [`validate()`]: every rule about the request's fields, all findings at once.
//! - [`lint_json`]: the same for a JSON file, plus unknown fields and wrong JSON types.
//! - [`os`]: the known `os_version` strings of Huawei Cloud and Open Telekom Cloud.
//! - [`image`]: checks of an image file ([`ImageFacts`]) against what the user intends ([`Intent`]).
//! - [`manifest`]: the upload set's manifest, object names, and checking files against it.
//! - [`guest`]: guest-readiness checks of the system inside an image, from `imsprep-guest` facts.
//! - [`finding`]: [`Finding`] and the catalogue of every finding code ([`CATALOGUE`]).

pub mod builder;
pub mod finding;
pub mod guest;
pub mod image;
pub mod lint;
pub mod manifest;
pub mod model;
pub mod os;
mod shown;
pub mod validate;

pub use builder::{parse_tag_arg, RequestBuilder, TagArgError};
pub use finding::{catalogue_markdown, has_errors, Code, CodeInfo, Finding, Severity, CATALOGUE};
pub use guest::{check_declared, check_linux, os_version_for, OsVersionChoice};
pub use image::{check_image, smallest_min_disk, ImageFacts, Intent, LayoutFacts};
pub use lint::lint_json;
pub use model::{
    Architecture, Firmware, ImageRequest, ImageTag, ImageType, LicenseType, OsType, ParseEnumError,
};
pub use os::Cloud;
pub use validate::validate;
