//! The JSON Schema of a manifest file, generated from the raw types so editors can complete and check keys.

/// The JSON Schema (draft 2020-12) for one manifest file.
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(crate::raw::RawFile);
    schema.insert("$id".into(), "https://github.com/tabops/tabops/schemas/tabops.schema.json".into());
    schema.to_value()
}

/// The keys the loader accepts at the top of a file.
pub fn top_level_keys() -> &'static [&'static str] {
    crate::raw::RawFile::KEYS
}

/// `(schema definition name, keys the loader accepts)` for every map type, so a test can check that the schema
/// and the loader agree.
pub fn schema_key_table() -> Vec<(&'static str, &'static [&'static str])> {
    use crate::raw::*;
    vec![
        ("RawSite", RawSite::KEYS),
        ("RawSiteSettings", RawSiteSettings::KEYS),
        ("RawSiteOverride", RawSiteOverride::KEYS),
        ("RawEnvironment", RawEnvironment::KEYS),
        ("RawConnectionOverride", RawConnectionOverride::KEYS),
        ("RawSettings", RawSettings::KEYS),
        ("RawPreviewSettings", RawPreviewSettings::KEYS),
        ("RawUser", RawUser::KEYS),
        ("RawGroup", RawGroup::KEYS),
        ("RawProject", RawProject::KEYS),
        ("RawDefaultPermissions", RawDefaultPermissions::KEYS),
        ("RawRule", RawRule::KEYS),
        ("RawDatasource", RawDatasource::KEYS),
        ("RawWorkbook", RawWorkbook::KEYS),
        ("RawConnection", RawConnection::KEYS),
        ("RawRefresh", RawRefresh::KEYS),
        ("RawMovedFrom", RawMovedFrom::KEYS),
        ("RawSubscription", RawSubscription::KEYS),
        ("RawSchedule", RawSchedule::KEYS),
    ]
}
