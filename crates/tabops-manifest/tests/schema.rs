//! The committed `schemas/tabops.schema.json` must match the schema generated from the raw types.

use std::path::Path;

#[test]
fn committed_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/tabops.schema.json");
    let generated = serde_json::to_string_pretty(&tabops_manifest::json_schema()).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/tabops.schema.json is stale; regenerate it with `UPDATE_SCHEMA=1 cargo test -p tabops-manifest --test schema`"
    );
}

#[test]
fn schema_keys_match_what_the_loader_accepts() {
    let schema = tabops_manifest::json_schema();
    let props = |value: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> =
            value["properties"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        keys.sort();
        keys
    };
    let mut top = props(&schema);
    top.sort();
    let mut expected = tabops_manifest::top_level_keys().iter().map(|s| s.to_string()).collect::<Vec<_>>();
    expected.sort();
    assert_eq!(top, expected);
    for (name, keys) in tabops_manifest::schema_key_table() {
        let def = &schema["$defs"][name];
        assert!(def.is_object(), "no $defs/{name} in the schema");
        let mut expected: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(props(def), expected, "keys of {name}");
        assert_eq!(def["additionalProperties"], serde_json::Value::Bool(false), "{name} must deny unknown keys");
    }
}
