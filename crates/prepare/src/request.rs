//! The fields of a quick-import request, as a caller gives them.

use imsprep_ims::{Architecture, Firmware, ImageRequest, ImageType, Intent, RequestBuilder};

use crate::error::PrepareError;

/// Everything of the request except where the image is and `min_disk`,
/// which the pipeline works out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// Image name.
    pub name: String,
    /// OS version string of a system-disk image.
    pub os_version: Option<String>,
    /// OS type of a data-disk image (Linux or Windows).
    pub os_type: Option<String>,
    /// Image description.
    pub description: Option<String>,
    /// Tags as `KEY=VALUE`.
    pub tags: Vec<String>,
    /// Enterprise project ID.
    pub enterprise_project_id: Option<String>,
    /// License type of a Windows image.
    pub license_type: Option<String>,
    /// The image type; a data disk when only `os_type` is given.
    pub image_type: Option<ImageType>,
    /// Guest CPU architecture.
    pub architecture: Architecture,
    /// Boot firmware, when the user chose one.
    pub firmware: Option<Firmware>,
}

impl Default for RequestSpec {
    fn default() -> Self {
        RequestSpec {
            name: String::new(),
            os_version: None,
            os_type: None,
            description: None,
            tags: Vec::new(),
            enterprise_project_id: None,
            license_type: None,
            image_type: None,
            architecture: Architecture::X86,
            firmware: None,
        }
    }
}

impl RequestSpec {
    /// The image type: as given, else a data disk when only `os_type` says
    /// what the OS is (it makes sense only there), else a system disk.
    pub fn image_type(&self) -> ImageType {
        self.image_type.unwrap_or(if self.os_type.is_some() {
            ImageType::DataImage
        } else {
            ImageType::Ecs
        })
    }

    /// The intent the image checks judge against.
    pub fn intent(&self) -> Intent {
        Intent {
            image_type: self.image_type(),
            architecture: self.architecture,
            firmware: self.firmware,
            ..Intent::default()
        }
    }

    /// The request body for an image at `image_url` (`BUCKET:OBJECT`).
    pub fn build(&self, image_url: &str, min_disk: u32) -> Result<ImageRequest, PrepareError> {
        let mut builder = RequestBuilder::new(&self.name, image_url, min_disk)
            .image_type(self.image_type())
            .architecture(self.architecture);
        if let Some(version) = &self.os_version {
            builder = builder.os_version(version);
        }
        if let Some(os_type) = &self.os_type {
            builder = builder.os_type(os_type);
        }
        if let Some(description) = &self.description {
            builder = builder.description(description);
        }
        if let Some(fw) = self.firmware {
            builder = builder.firmware(fw);
        }
        if let Some(license) = &self.license_type {
            builder = builder.license_type(license);
        }
        if let Some(project) = &self.enterprise_project_id {
            builder = builder.enterprise_project_id(project);
        }
        for tag in &self.tags {
            builder = builder
                .tag_arg(tag)
                .map_err(|e| PrepareError::Usage(format!("--tag {tag}: {e}")))?;
        }
        Ok(builder.build())
    }
}
