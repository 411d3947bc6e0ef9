//! Building a request from command-line style inputs (`imsprep request`).

use crate::model::{Architecture, Firmware, ImageRequest, ImageType};

/// A `--tag` argument that is not `KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tag `{0}` is not KEY=VALUE")]
pub struct TagArgError(pub String);

/// Splits a `KEY=VALUE` argument at the first `=`.
pub fn parse_tag_arg(arg: &str) -> Result<(String, String), TagArgError> {
    match arg.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(TagArgError(arg.to_owned())),
    }
}

/// Builds an [`ImageRequest`]; validate the result with [`crate::validate()`].
///
/// The builder does not judge values: a bad name still ends up in the request
/// so that validation can report it with a code.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    req: ImageRequest,
    image_type: Option<ImageType>,
    architecture: Option<Architecture>,
    firmware: Option<Firmware>,
}

impl RequestBuilder {
    /// Starts a request from the three fields every image needs.
    pub fn new(name: impl Into<String>, image_url: impl Into<String>, min_disk: u32) -> Self {
        RequestBuilder {
            req: ImageRequest {
                name: Some(name.into()),
                image_url: Some(image_url.into()),
                min_disk: Some(min_disk),
                ..ImageRequest::default()
            },
            image_type: None,
            architecture: None,
            firmware: None,
        }
    }

    /// Sets `os_version` (system-disk images).
    pub fn os_version(mut self, v: impl Into<String>) -> Self {
        self.req.os_version = Some(v.into());
        self
    }

    /// Sets `os_type` (data-disk images); unless a type is set explicitly, the type becomes `DataImage`.
    pub fn os_type(mut self, v: impl Into<String>) -> Self {
        self.req.os_type = Some(v.into());
        self
    }

    /// Sets `description`.
    pub fn description(mut self, v: impl Into<String>) -> Self {
        self.req.description = Some(v.into());
        self
    }

    /// Adds a tag, written as `key.value` in `tags`.
    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.req.tags.push(format!("{key}.{value}"));
        self
    }

    /// Adds a tag from a `KEY=VALUE` argument.
    pub fn tag_arg(self, arg: &str) -> Result<Self, TagArgError> {
        let (k, v) = parse_tag_arg(arg)?;
        Ok(self.tag(&k, &v))
    }

    /// Sets `type`.
    pub fn image_type(mut self, t: ImageType) -> Self {
        self.image_type = Some(t);
        self
    }

    /// Sets `architecture`; x86, the default, is left out of the body.
    pub fn architecture(mut self, a: Architecture) -> Self {
        self.architecture = Some(a);
        self
    }

    /// Sets `hw_firmware_type`.
    pub fn firmware(mut self, f: Firmware) -> Self {
        self.firmware = Some(f);
        self
    }

    /// Sets `license_type`.
    pub fn license_type(mut self, v: impl Into<String>) -> Self {
        self.req.license_type = Some(v.into());
        self
    }

    /// Sets `enterprise_project_id`.
    pub fn enterprise_project_id(mut self, v: impl Into<String>) -> Self {
        self.req.enterprise_project_id = Some(v.into());
        self
    }

    /// The request body.
    pub fn build(self) -> ImageRequest {
        let mut req = self.req;
        let t = self.image_type.unwrap_or(if req.os_type.is_some() {
            ImageType::DataImage
        } else {
            ImageType::Ecs
        });
        req.image_type = Some(t.as_str().to_owned());
        req.architecture = match self.architecture {
            Some(Architecture::Arm) => Some(Architecture::Arm.as_str().to_owned()),
            _ => None,
        };
        req.hw_firmware_type = self.firmware.map(|f| f.as_str().to_owned());
        req
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;

    #[test]
    fn system_request_is_valid_and_stable() {
        let r = RequestBuilder::new("web-01", "bucket-1:images/web.zvhd2", 40)
            .os_version("Ubuntu 18.04 server 64bit")
            .tag_arg("env=prod")
            .map(|b| b.tag("team", "ops").build());
        let r = r.unwrap_or_default();
        assert_eq!(r.tags, vec!["env.prod", "team.ops"]);
        assert_eq!(r.image_type.as_deref(), Some("ECS"));
        let s = serde_json::to_string(&r).unwrap_or_default();
        assert_eq!(
            s,
            r#"{"name":"web-01","image_url":"bucket-1:images/web.zvhd2","os_version":"Ubuntu 18.04 server 64bit","min_disk":40,"type":"ECS","tags":["env.prod","team.ops"]}"#
        );
        let errs: Vec<_> = validate(&r).into_iter().filter(|f| f.is_error()).collect();
        assert!(errs.is_empty(), "{errs:?}");
    }

    #[test]
    fn os_type_implies_data_image() {
        let r = RequestBuilder::new("d", "bkt:d.raw", 10)
            .os_type("Linux")
            .build();
        assert_eq!(r.image_type.as_deref(), Some("DataImage"));
        assert!(validate(&r).iter().all(|f| !f.is_error()));
    }

    #[test]
    fn arm_and_firmware() {
        let r = RequestBuilder::new("a", "bkt:a.zvhd2", 10)
            .os_version("EulerOS 2.9 64bit")
            .architecture(Architecture::Arm)
            .firmware(Firmware::Uefi)
            .build();
        assert_eq!(r.architecture.as_deref(), Some("arm"));
        assert_eq!(r.hw_firmware_type.as_deref(), Some("uefi"));
        let x = RequestBuilder::new("a", "bkt:a.zvhd2", 10)
            .architecture(Architecture::X86)
            .build();
        assert_eq!(x.architecture, None);
    }

    #[test]
    fn tag_args() {
        assert_eq!(parse_tag_arg("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_tag_arg("a="), Ok(("a".into(), String::new())));
        assert!(parse_tag_arg("=b").is_err());
        assert!(parse_tag_arg("ab").is_err());
    }
}
