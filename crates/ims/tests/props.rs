//! Properties: no input makes the rules panic, and a built request lints the
//! same as it validates.

use imsprep_ims::{lint_json, validate, ImageRequest, ImageTag, RequestBuilder};
use proptest::prelude::*;

fn opt_string() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any::<String>())
}

prop_compose! {
    fn any_request()(
        name in opt_string(),
        description in opt_string(),
        image_url in opt_string(),
        os_version in opt_string(),
        os_type in opt_string(),
        min_disk in proptest::option::of(any::<u32>()),
        image_type in opt_string(),
        architecture in opt_string(),
        hw_firmware_type in opt_string(),
        license_type in opt_string(),
        enterprise_project_id in opt_string(),
        tags in proptest::collection::vec(any::<String>(), 0..4),
        image_tags in proptest::collection::vec((any::<String>(), any::<String>()), 0..4),
    ) -> ImageRequest {
        ImageRequest {
            name, description, image_url, os_version, os_type, min_disk, image_type,
            architecture, hw_firmware_type, license_type, enterprise_project_id, tags,
            image_tags: image_tags.into_iter().map(|(key, value)| ImageTag { key, value }).collect(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn lint_never_panics(text in any::<String>()) {
        let _ = lint_json(&text);
    }

    #[test]
    fn lint_equals_validate_for_serialized_requests(req in any_request()) {
        let text = serde_json::to_string(&req).unwrap_or_default();
        prop_assert_eq!(lint_json(&text), validate(&req));
    }

    #[test]
    fn serialization_round_trips(req in any_request()) {
        let text = serde_json::to_string(&req).unwrap_or_default();
        prop_assert!(!text.contains(":null"));
        let back: ImageRequest = serde_json::from_str(&text).unwrap_or_default();
        prop_assert_eq!(back, req);
    }

    #[test]
    fn builder_with_plain_values_is_error_free(
        name in "[A-Za-z0-9][A-Za-z0-9 ._-]{0,126}[A-Za-z0-9]",
        bucket in "[a-z0-9][a-z0-9-]{1,61}[a-z0-9]",
        object in "[a-z0-9_/-]{1,40}\\.zvhd2",
        min_disk in 1u32..=1024,
        key in "[A-Za-z0-9_-]{1,36}",
        value in "[A-Za-z0-9_-]{0,43}",
    ) {
        let req = RequestBuilder::new(name, format!("{bucket}:{object}"), min_disk)
            .os_version("CentOS 7.0 64bit")
            .tag(&key, &value)
            .build();
        let errors: Vec<_> = validate(&req).into_iter().filter(|f| f.is_error()).collect();
        prop_assert!(errors.is_empty(), "{:?}", errors);
    }
}
