//! The manifest writer: the YAML documents `tabops export` writes, as dedicated serde structs, and their rendering
//! (the reader is [`crate::load`]).
//!
//! Why dedicated structs instead of serialising the resolved model: the manifest's file format (templates, list
//! project paths, `every: 4`, `month_days: [last]`) is not the model's shape, and every string that came from the
//! site must be escaped for variable substitution ([`Lit`]) before the serializer quotes it for YAML.

use std::collections::BTreeMap;

use serde::Serialize;

/// A literal string from the site. The manifest substitutes `${...}` in every string value, so a literal `${`
/// is written `$${`; the YAML quoting itself is left to the serializer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lit(pub String);

impl Lit {
    pub fn new(text: impl Into<String>) -> Lit {
        Lit(text.into())
    }
}

impl Serialize for Lit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.replace("${", "$${"))
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// `site.yaml`.
#[derive(Debug, Serialize)]
pub struct SiteFile {
    pub version: u32,
    pub site: SiteDoc,
    pub settings: SettingsDoc,
}

#[derive(Debug, Serialize)]
pub struct SiteDoc {
    pub server: Lit,
    pub content_url: Lit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<Lit>,
    /// `site.settings:`, by manifest key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, crate::site_settings::SettingValue>,
}

#[derive(Debug, Serialize)]
pub struct SettingsDoc {
    pub prune_groups: bool,
    pub prune_users: bool,
}

/// `people.yaml`.
#[derive(Debug, Serialize)]
pub struct PeopleFile {
    pub version: u32,
    pub users: Vec<UserDoc>,
    pub groups: Vec<GroupDoc>,
}

#[derive(Debug, Serialize)]
pub struct UserDoc {
    pub name: Lit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_setting: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Lit>,
}

#[derive(Debug, Serialize)]
pub struct GroupDoc {
    pub name: Lit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_site_role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<Lit>>,
}

/// `webhooks.yaml`: the site's webhooks (written only when it has some).
#[derive(Debug, Serialize)]
pub struct WebhooksFile {
    pub version: u32,
    pub webhooks: Vec<WebhookDoc>,
}

#[derive(Debug, Serialize)]
pub struct WebhookDoc {
    pub name: Lit,
    /// The API event name (`DatasourceRefreshFailed`).
    pub event: &'static str,
    pub url: Lit,
    /// Written only for a disabled webhook (`enabled` defaults to true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `projects/<slug>.yaml`: one top-level project tree and the content under it.
#[derive(Debug, Serialize)]
pub struct ProjectFile {
    pub version: u32,
    pub projects: Vec<ProjectDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub datasources: Vec<ContentDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workbooks: Vec<ContentDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<SubscriptionDoc>,
}

/// One subscription (`export --with-subscriptions`): only the values that differ from the manifest's defaults.
#[derive(Debug, Serialize)]
pub struct SubscriptionDoc {
    pub subject: Lit,
    pub user: Lit,
    pub project: Vec<Lit>,
    pub workbook: Lit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Lit>,
    pub attach: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_orientation: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_if_empty: Option<bool>,
    #[serde(skip_serializing_if = "is_false")]
    pub suspended: bool,
    pub schedule: ScheduleDoc,
}

/// A schedule: a refresh task's keys without `type`.
#[derive(Debug, Serialize)]
pub struct ScheduleDoc {
    pub frequency: &'static str,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<EveryDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub month_days: Vec<MonthDayDoc>,
}

#[derive(Debug, Serialize)]
pub struct ProjectDoc {
    pub name: Lit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_permissions: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<RuleDoc>>,
    #[serde(skip_serializing_if = "DefaultsDoc::is_empty")]
    pub default_permissions: DefaultsDoc,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<ProjectDoc>,
}

#[derive(Debug, Default, Serialize)]
pub struct DefaultsDoc {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workbooks: Option<Vec<RuleDoc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasources: Option<Vec<RuleDoc>>,
}

impl DefaultsDoc {
    pub fn is_empty(&self) -> bool {
        self.workbooks.is_none() && self.datasources.is_none()
    }
}

/// One permission rule: a grantee and either the template it equals or its explicit capabilities.
#[derive(Debug, Serialize)]
pub struct RuleDoc {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<BTreeMap<&'static str, &'static str>>,
}

/// A data source or workbook.
#[derive(Debug, Serialize)]
pub struct ContentDoc {
    pub name: Lit,
    /// The project path in list form, so names with `/` need no escaping.
    pub project: Vec<Lit>,
    pub file: Lit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_tabs: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden_views: Vec<Lit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Lit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<ConnectionDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<RuleDoc>>,
    /// Workbooks without tabs: sheet name -> the view's explicit rules (views with none are left out).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub view_permissions: BTreeMap<Lit, Vec<RuleDoc>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refresh: Vec<RefreshDoc>,
}

/// A connection without its password (the API never returns one).
#[derive(Debug, Serialize)]
pub struct ConnectionDoc {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<Lit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<Lit>,
    #[serde(skip_serializing_if = "is_false")]
    pub embed: bool,
}

#[derive(Debug, Serialize)]
pub struct RefreshDoc {
    #[serde(rename = "type")]
    pub refresh_type: &'static str,
    #[serde(flatten)]
    pub schedule: ScheduleDoc,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum EveryDoc {
    Hours(u8),
    Text(String),
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum MonthDayDoc {
    Day(u8),
    Last(&'static str),
}

/// The first line(s) of every file: the editor schema line, then a note on where the file came from.
pub fn header(schema: Option<&str>, note: &str) -> String {
    let schema_line = match schema {
        Some(path) => format!("# yaml-language-server: $schema={path}\n"),
        None => "# Schema: tabops.schema.json (the tabops manifest, version 1; `tabops` prints it with its docs)\n"
            .to_owned(),
    };
    format!("{schema_line}#\n# {note}\n")
}

/// `header` followed by the document serialised as YAML.
pub fn render<T: Serialize>(header: &str, doc: &T) -> Result<String, serde_saphyr::SerializeError> {
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    let body = serde_saphyr::to_string_with_options(doc, options)?;
    Ok(format!("{header}{body}"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Writes a minimal manifest naming one project, group, user, workbook and tag with the given strings, and loads
    /// it back with the real loader.
    fn round_trip(project: &str, workbook: &str, tag: &str, description: &str) -> crate::model::Desired {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("projects")).unwrap();
        std::fs::write(dir.path().join("w.twb"), "<workbook/>").unwrap();
        let site = SiteFile {
            version: 1,
            site: SiteDoc {
                server: Lit::new("local"),
                content_url: Lit::new("acme"),
                api_version: None,
                settings: BTreeMap::new(),
            },
            settings: SettingsDoc { prune_groups: false, prune_users: false },
        };
        let people = PeopleFile {
            version: 1,
            users: vec![UserDoc {
                name: Lit::new(workbook),
                site_role: Some("Viewer"),
                auth_setting: None,
                full_name: Some(Lit::new(description)),
                email: None,
            }],
            groups: vec![GroupDoc {
                name: Lit::new(tag),
                minimum_site_role: None,
                members: Some(vec![Lit::new(workbook)]),
            }],
        };
        let rule = |group: &str| RuleDoc {
            group: Some(Lit::new(group)),
            user: None,
            template: None,
            capabilities: Some([("Read", "Allow")].into()),
        };
        let projects = ProjectFile {
            version: 1,
            projects: vec![ProjectDoc {
                name: Lit::new(project),
                description: Some(Lit::new(description)),
                content_permissions: None,
                owner: Some(Lit::new(workbook)),
                permissions: Some(vec![rule(tag)]),
                default_permissions: DefaultsDoc::default(),
                projects: vec![],
            }],
            datasources: vec![],
            workbooks: vec![ContentDoc {
                name: Lit::new(workbook),
                project: vec![Lit::new(project)],
                file: Lit::new("../w.twb"),
                description: Some(Lit::new(description)),
                show_tabs: Some(true),
                hidden_views: vec![Lit::new(tag)],
                tags: vec![Lit::new(tag)],
                owner: Some(Lit::new(workbook)),
                connections: vec![],
                permissions: None,
                view_permissions: BTreeMap::new(),
                refresh: vec![],
            }],
            subscriptions: vec![],
        };
        let head = header(None, "test");
        std::fs::write(dir.path().join("site.yaml"), render(&head, &site).unwrap()).unwrap();
        std::fs::write(dir.path().join("people.yaml"), render(&head, &people).unwrap()).unwrap();
        let text = render(&head, &projects).unwrap();
        std::fs::write(dir.path().join("projects/p.yaml"), &text).unwrap();
        let options = crate::LoadOptions::default();
        match crate::load(dir.path(), &options) {
            Ok(loaded) => loaded.desired,
            Err(crate::LoadError::Invalid(d)) => panic!("does not load back:\n{d}\n{text}"),
            Err(other) => panic!("does not load back: {other}"),
        }
    }

    /// A name Tableau could hold: any characters, not blank.
    fn name() -> impl Strategy<Value = String> {
        let tricky = prop::sample::select(vec![
            "yes",
            "No",
            "null",
            "~",
            "2024",
            "0x1F",
            "1e3",
            ".inf",
            "06:00",
            "- item",
            "a: b",
            "#x",
            "[a]",
            "{b}",
            "&a",
            "*a",
            "!tag",
            "|",
            ">",
            "'q'",
            "\"d\"",
            "%p",
            "@x",
            "`x`",
            "${x}",
            "$${x}",
            "$",
            "a\\b",
            "A/B",
            " pad ",
            "tab\there",
            "line\nbreak",
            "é ü 日本",
            "\u{85}",
            "\u{feff}x",
            "\u{7f}",
            "true",
            "=",
        ]);
        prop_oneof![
            tricky.prop_map(str::to_owned),
            "\\PC{1,24}",
            prop::collection::vec(any::<char>(), 1..12).prop_map(|c| c.into_iter().collect()),
        ]
        .prop_filter("not blank", |s: &String| !s.trim().is_empty() && !s.contains('\0'))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn names_written_as_yaml_load_back_unchanged(project in name(), workbook in name(), tag in name(), description in name()) {
            let desired = round_trip(&project, &workbook, &tag, &description);
            prop_assert_eq!(desired.projects[0].path.segments(), &[project.clone()][..]);
            prop_assert_eq!(desired.projects[0].description.as_deref(), Some(description.as_str()));
            let w = &desired.workbooks[0];
            prop_assert_eq!(&w.name, &workbook);
            prop_assert_eq!(w.project.segments(), &[project][..]);
            prop_assert_eq!(w.tags.as_ref().map(|t| t.iter().cloned().collect::<Vec<_>>()), Some(vec![tag.clone()]));
            prop_assert_eq!(w.hidden_views.iter().cloned().collect::<Vec<_>>(), vec![tag.clone()]);
            prop_assert_eq!(w.owner.as_deref(), Some(workbook.as_str()));
            prop_assert_eq!(&desired.groups[0].name, &tag);
            prop_assert_eq!(&desired.users[0].name, &workbook);
            prop_assert_eq!(desired.users[0].full_name.as_deref(), Some(description.as_str()));
        }
    }

    #[test]
    fn literal_dollar_braces_are_escaped_for_substitution() {
        let text = render("", &vec![Lit::new("a${b}"), Lit::new("$${c")]).unwrap();
        assert!(text.contains("a$${b}") && text.contains("$$${c"), "{text}");
    }
}
