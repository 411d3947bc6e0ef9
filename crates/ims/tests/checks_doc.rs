//! `docs/checks.md` must equal the catalogue rendered as markdown.
//! Run with `IMSPREP_BLESS=1` to rewrite the file after changing the catalogue.

use std::path::PathBuf;

#[test]
fn checks_md_matches_catalogue() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/checks.md");
    let want = imsprep_ims::catalogue_markdown();
    if std::env::var_os("IMSPREP_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).expect("write docs/checks.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/checks.md is out of date; run `IMSPREP_BLESS=1 cargo test -p imsprep-ims --test checks_doc`"
    );
}

#[test]
fn every_code_is_in_the_doc() {
    let md = imsprep_ims::catalogue_markdown();
    for info in imsprep_ims::CATALOGUE {
        assert!(
            md.contains(&format!("| `{}` | {} |", info.id, info.severity)),
            "{}",
            info.id
        );
        if let Some(svc) = info.service_code {
            assert!(md.contains(svc));
        }
    }
}
