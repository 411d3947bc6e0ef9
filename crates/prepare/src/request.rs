//! The fields of a quick-import request, as a caller gives them.

use imsprep_ims::{Architecture, Cloud, Firmware, ImageRequest, ImageType, Intent, RequestBuilder};

use crate::error::PrepareError;

/// Everything of the request except where the image is and `min_disk`,
/// which the pipeline works out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// Guest CPU architecture, when the user gave it (else the guest's,
    /// else x86).
    pub architecture: Option<Architecture>,
    /// Boot firmware, when the user chose one.
    pub firmware: Option<Firmware>,
    /// The cloud the image goes to, when known.
    pub cloud: Option<Cloud>,
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
            architecture: self.architecture.unwrap_or(Architecture::X86),
            firmware: self.firmware,
            cloud: self.cloud,
            ..Intent::default()
        }
    }

    /// The request body for an image at `image_url` (`BUCKET:OBJECT`).
    pub fn build(&self, image_url: &str, min_disk: u32) -> Result<ImageRequest, PrepareError> {
        let mut builder = RequestBuilder::new(&self.name, image_url, min_disk)
            .image_type(self.image_type())
            .architecture(self.architecture.unwrap_or(Architecture::X86));
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
