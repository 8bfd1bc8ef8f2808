//! Data sources and workbooks: publish when new or when the publish fingerprint differs from the live marker,
//! otherwise update in place (description, show_tabs, owner, tags, project moves, renames) with zero upload.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use tabops_manifest::model::{Address, ContentKind, ContentSpec};

use crate::connections::plan_connections;
use crate::inventory::LiveContent;
use crate::marker::{is_marker, marker_tag, publish_fingerprint, sha_markers, short_marker};
use crate::origin::content_digest;
use crate::plan::{
    Action, Aspect, ConnectionUpdateOp, ContentInput, FieldChange, ObjectKind, ObjectRef, Operation, Origin,
    PlanErrorKind, PlannedAction, PlannedConnection, PublishOp, Relocate, UpdateContentOp, tag_list,
};

use super::projects::Projects;
use super::{
    ContentState, Ctx, Draft, MovedOut, Principals, Referenced, deps_of, project_ref, rename_conflict, user_display,
    val,
};

/// What the content phase produces.
#[derive(Default)]
pub(crate) struct Contents<'a> {
    /// Each manifest data source, then each workbook, and what it matched.
    pub states: Vec<ContentState<'a>>,
    /// The content files the plan was made from (a saved plan is stale when one changes).
    pub inputs: Vec<ContentInput>,
    /// Live items matched by a manifest item.
    pub claimed: HashSet<&'a str>,
    /// Live projects used as containers without being listed.
    pub referenced: Referenced<'a>,
    pub moved_out: MovedOut<'a>,
}

/// Data sources, then workbooks: each matched in its project by name or `renamed_from`.
pub(super) fn plan_content<'a>(
    cx: &Ctx<'a>,
    principals: &Principals,
    projects: &Projects<'a>,
    draft: &mut Draft,
) -> Contents<'a> {
    let mut phase = Phase { cx, principals, projects, draft, out: Contents::default() };
    for spec in cx.desired.datasources.iter().chain(&cx.desired.workbooks) {
        phase.plan_one_content(spec);
    }
    phase.out
}

/// The content phase's inputs and what it has produced so far.
struct Phase<'p, 'a> {
    cx: &'p Ctx<'a>,
    principals: &'p Principals,
    projects: &'p Projects<'a>,
    draft: &'p mut Draft,
    out: Contents<'a>,
}

/// In-place differences between a content spec and its live item.
#[derive(Default)]
struct FieldDiff {
    changes: Vec<FieldChange>,
    reasons: Vec<String>,
    name: Option<String>,
    project: Option<ObjectRef>,
    description: Option<String>,
    show_tabs: Option<bool>,
    owner: Option<ObjectRef>,
    tags_add: BTreeSet<String>,
    tags_remove: BTreeSet<String>,
    connections: Vec<ConnectionUpdateOp>,
}

impl FieldDiff {
    fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

fn kind_of(kind: ContentKind) -> ObjectKind {
    match kind {
        ContentKind::Workbook => ObjectKind::Workbook,
        ContentKind::Datasource => ObjectKind::Datasource,
    }
}

impl<'a> Phase<'_, 'a> {
    fn find_live_content(&mut self, spec: &ContentSpec, project: &ObjectRef) -> Option<&'a LiveContent> {
        let unclaimed = |project_id: &str, name: &str| {
            self.cx
                .idx
                .content_by_location
                .get(&(spec.kind, project_id, name.to_lowercase()))
                .copied()
                .filter(|c| !self.out.claimed.contains(c.id.as_str()))
        };
        let here = match project {
            ObjectRef::Live(id) => unclaimed(id, &spec.name),
            ObjectRef::Planned(_) => None,
        };
        let old = spec.renamed_from.as_ref().and_then(|(old_project, old_name)| {
            let old = self.cx.idx.projects_by_path.get(&old_project.key())?;
            unclaimed(&old.id, old_name)
        });
        if let (Some(new), Some(old)) = (here, old)
            && new.id != old.id
        {
            let old_address = self.cx.idx.content_address(spec.kind, old);
            let address = spec.address();
            rename_conflict(self.draft, &address, &address, &old_address);
        }
        here.or(old)
    }

    fn plan_one_content(&mut self, spec: &'a ContentSpec) {
        let address = spec.address();
        self.out.inputs.push(ContentInput {
            address: address.to_string(),
            sha256: spec.file.sha256.clone(),
            size: spec.file.size,
        });
        let Some(project) = project_ref(&self.cx.idx, &self.projects.refs, &mut self.out.referenced, &spec.project)
        else {
            self.draft.error(
                PlanErrorKind::MissingProject,
                &address,
                format!("project '{}' is neither in the manifest nor on the site", spec.project),
                None,
            );
            return;
        };
        let owner = self.principals.owner(&self.cx.idx, self.draft, spec.owner.as_deref(), &address);
        let live = self.find_live_content(spec, &project);
        let (action, changed) = match live {
            None => (publish_new(spec, &address, project, owner), true),
            Some(live) => {
                self.out.claimed.insert(&live.id);
                self.draft.record_row(&live.id, live);
                self.update_existing(spec, live, &address, project, owner)
            }
        };
        let object = match live {
            None => ObjectRef::Planned(address.to_string()),
            Some(l) => ObjectRef::Live(l.id.clone()),
        };
        self.draft.push(action);
        self.out.states.push(ContentState { spec, live, object, address, changed });
    }

    /// An item the site has: republished when its file changed (or a hidden view is visible on the site), updated
    /// in place when only fields differ, otherwise a no-op. Returns the action and whether it changes the item.
    fn update_existing(
        &mut self,
        spec: &ContentSpec,
        live: &'a LiveContent,
        address: &Address,
        project: ObjectRef,
        owner: Option<ObjectRef>,
    ) -> (PlannedAction, bool) {
        let kind = kind_of(spec.kind);
        let fingerprint = publish_fingerprint(spec);
        let marker = marker_tag(&fingerprint);
        let diff = self.content_field_diff(spec, live, &project, owner);
        let live_markers = sha_markers(&live.tags);
        let marker_matches = live_markers.iter().any(|m| m.eq_ignore_ascii_case(&marker));
        let hidden_conflict = live
            .visible_views
            .as_ref()
            .is_some_and(|visible| visible.iter().any(|v| spec.hidden_views.iter().any(|h| h.eq_ignore_ascii_case(v))));
        if diff.project.is_some()
            && let Some(old_project) = self.cx.idx.projects_by_id.get(live.project_id.as_str())
        {
            self.out.moved_out.entry(old_project.id.as_str()).or_default().push(address.to_string());
        }
        let fields_origin = || Origin {
            address: address.clone(),
            aspect: Aspect::Fields,
            digest: Some(content_digest(spec, Aspect::Fields)),
        };
        match (marker_matches && !hidden_conflict, diff.is_empty()) {
            (false, _) => (republish(spec, live, address, project, diff, live_markers, hidden_conflict), true),
            (true, true) => {
                let noop = PlannedAction {
                    id: address.to_string(),
                    kind,
                    action: Action::NoOp,
                    reason: "checksum unchanged: skip publish".into(),
                    changes: vec![],
                    depends_on: vec![],
                    live_id: Some(live.id.clone()),
                    origin: fields_origin(),
                    operation: Operation::None,
                };
                (noop, false)
            }
            (true, false) => {
                let depends_on = deps_of([Some(&project), diff.owner.as_ref()]);
                let mut reasons = diff.reasons;
                reasons.push("checksum unchanged: skip publish".into());
                let update = PlannedAction {
                    id: address.to_string(),
                    kind,
                    action: Action::Update,
                    reason: reasons.join("; "),
                    changes: diff.changes,
                    depends_on,
                    live_id: Some(live.id.clone()),
                    origin: fields_origin(),
                    operation: Operation::UpdateContent(Box::new(UpdateContentOp {
                        kind: spec.kind,
                        item: live.id.clone(),
                        name: diff.name,
                        project: diff.project,
                        description: diff.description,
                        show_tabs: diff.show_tabs,
                        owner: diff.owner,
                        tags_add: tag_list(diff.tags_add),
                        tags_remove: tag_list(diff.tags_remove),
                        connections: diff.connections,
                    })),
                };
                (update, true)
            }
        }
    }

    fn content_field_diff(
        &self,
        spec: &ContentSpec,
        live: &LiveContent,
        project: &ObjectRef,
        owner: Option<ObjectRef>,
    ) -> FieldDiff {
        let mut d = FieldDiff::default();
        if live.name != spec.name {
            d.changes.push(FieldChange::new("name", val(&live.name), val(&spec.name)));
            if !live.name.eq_ignore_ascii_case(&spec.name) {
                d.reasons.push(format!("renamed from '{}'", live.name));
            }
            d.name = Some(spec.name.clone());
        }
        let moved = match project {
            ObjectRef::Live(id) => *id != live.project_id,
            ObjectRef::Planned(_) => true,
        };
        if moved {
            let before = self.cx.idx.path_of(&live.project_id).to_string();
            d.changes.push(FieldChange::new("project", val(&before), val(spec.project.to_string())));
            d.reasons.push(format!("moved from '{before}' to '{}'", spec.project));
            d.project = Some(project.clone());
        }
        if let Some(desc) =
            spec.description.as_ref().filter(|desc| live.description.as_deref().unwrap_or("") != desc.as_str())
        {
            d.changes.push(FieldChange::new("description", val(&live.description), val(desc)));
            d.description = Some(desc.clone());
        }
        if spec.kind == ContentKind::Workbook
            && let Some(show) = spec.show_tabs.filter(|s| live.show_tabs != Some(*s))
        {
            d.changes.push(FieldChange::new("show_tabs", val(live.show_tabs), val(show)));
            d.show_tabs = Some(show);
        }
        if let Some(o) = owner.filter(|o| match o {
            ObjectRef::Live(id) => live.owner_id.as_deref() != Some(id.as_str()),
            ObjectRef::Planned(_) => true,
        }) {
            let before = live.owner_id.as_deref().map(|id| user_display(&self.cx.idx, id));
            d.changes.push(FieldChange::new("owner", val(before), spec.owner.as_ref().and_then(val)));
            d.owner = Some(o);
        }
        if let Some(wanted) = &spec.tags {
            let live_tags: BTreeMap<String, &String> =
                live.tags.iter().filter(|t| !is_marker(t)).map(|t| (t.to_lowercase(), t)).collect();
            let wanted_tags: BTreeMap<String, &String> =
                wanted.iter().filter(|t| !is_marker(t)).map(|t| (t.to_lowercase(), t)).collect();
            d.tags_add =
                wanted_tags.iter().filter(|(k, _)| !live_tags.contains_key(*k)).map(|(_, t)| (*t).clone()).collect();
            d.tags_remove =
                live_tags.iter().filter(|(k, _)| !wanted_tags.contains_key(*k)).map(|(_, t)| (*t).clone()).collect();
            if !d.tags_add.is_empty() || !d.tags_remove.is_empty() {
                let before: BTreeSet<&String> = live_tags.values().copied().collect();
                let after: BTreeSet<&String> = wanted_tags.values().copied().collect();
                d.changes.push(FieldChange::new("tags", val(before), val(after)));
            }
        }
        if let Some(live_connections) = live.connections.as_deref().filter(|_| !spec.connections.is_empty()) {
            let desired: Vec<PlannedConnection> = spec.connections.iter().map(PlannedConnection::from).collect();
            for diff in plan_connections(&desired, live_connections).diffs {
                d.changes.extend(diff.changes);
                d.connections.push(diff.update);
            }
        }
        if !d.changes.is_empty() && d.reasons.is_empty() {
            d.reasons.push("site differs from the manifest".into());
        }
        d
    }
}

/// The content aspect's origin: its digest is the publish fingerprint (see `content_digest`).
fn content_origin(spec: &ContentSpec, address: &Address) -> Origin {
    Origin { address: address.clone(), aspect: Aspect::Content, digest: Some(publish_fingerprint(spec)) }
}

/// A manifest item the site does not have: published for the first time.
fn publish_new(spec: &ContentSpec, address: &Address, project: ObjectRef, owner: Option<ObjectRef>) -> PlannedAction {
    let marker = marker_tag(&publish_fingerprint(spec));
    let mut tags: BTreeSet<String> = spec.tags.clone().unwrap_or_default();
    tags.insert(marker.clone());
    let changes = first_publish_fields(spec);
    PlannedAction {
        id: address.to_string(),
        kind: kind_of(spec.kind),
        action: Action::Create,
        reason: format!("not on the site: publish {} ({} bytes)", spec.file.display, spec.file.size),
        changes,
        depends_on: deps_of([Some(&project), owner.as_ref()]),
        live_id: None,
        origin: content_origin(spec, address),
        operation: Operation::Publish(Box::new(PublishOp {
            owner,
            tags_add: tag_list(tags),
            ..new_publish(spec, project, marker)
        })),
    }
}

/// A manifest item whose file differs from what the site has (by its marker), or whose hidden views are visible
/// on the site: published over the live item, with the in-place differences folded in.
fn republish(
    spec: &ContentSpec,
    live: &LiveContent,
    address: &Address,
    project: ObjectRef,
    diff: FieldDiff,
    live_markers: Vec<String>,
    hidden_conflict: bool,
) -> PlannedAction {
    let marker = marker_tag(&publish_fingerprint(spec));
    let reason = republish_reason(spec, live_markers.first().map(String::as_str), &marker, hidden_conflict);
    let mut depends_on = deps_of([Some(&project), diff.owner.as_ref()]);
    let mut changes = vec![FieldChange::new(
        "marker",
        live_markers.first().map(|m| serde_json::Value::String(m.clone())),
        val(&marker),
    )];
    changes.extend(diff.changes);
    let mut tags_add = diff.tags_add;
    tags_add.insert(marker.clone());
    let mut tags_remove = diff.tags_remove;
    tags_remove.extend(live_markers.into_iter().filter(|m| !m.eq_ignore_ascii_case(&marker)));
    let relocate = (diff.name.is_some() || diff.project.is_some())
        .then(|| Relocate { name: diff.name.clone(), project: diff.project.clone() });
    let mut reasons = vec![reason];
    reasons.extend(diff.reasons);
    depends_on.sort();
    depends_on.dedup();
    PlannedAction {
        id: address.to_string(),
        kind: kind_of(spec.kind),
        action: Action::Republish,
        reason: reasons.join("; "),
        changes,
        depends_on,
        live_id: Some(live.id.clone()),
        origin: content_origin(spec, address),
        operation: Operation::Publish(Box::new(PublishOp {
            overwrite: true,
            existing: Some(live.id.clone()),
            relocate,
            owner: diff.owner,
            tags_add: tag_list(tags_add),
            tags_remove: tag_list(tags_remove),
            // An overwrite publish takes its description and showTabs from the request (TSC #1590; REST
            // reference, Publish Workbook): where the manifest leaves them alone, send what the item has.
            description: spec.description.clone().or_else(|| live.description.clone()),
            show_tabs: spec.show_tabs.or(live.show_tabs),
            ..new_publish(spec, project, marker)
        })),
    }
}

/// A publish of `spec`'s file as a new item in `project`, marked with `marker_tag`; a publish over an existing item
/// overrides what differs.
/// Every field a first publish sets, as plan rows: a reviewer approves all the item will have, not only its file.
/// Connection passwords appear as their `${env:NAME}` reference, never as a value.
fn first_publish_fields(spec: &ContentSpec) -> Vec<FieldChange> {
    let mut changes = vec![FieldChange::new("file", None, val(&spec.file.display))];
    changes.push(FieldChange::new("sha256", None, val(file_digest(spec))));
    if let Some(canonical) = package_digest(spec) {
        changes.push(FieldChange::new("package_sha256", None, val(canonical)));
    }
    let fields = [
        ("project", val(spec.project.to_string())),
        ("owner", spec.owner.as_ref().and_then(val)),
        ("description", spec.description.as_ref().and_then(val)),
        ("show_tabs", spec.show_tabs.and_then(val)),
        ("tags", spec.tags.as_ref().and_then(val)),
        ("hidden_views", (!spec.hidden_views.is_empty()).then(|| val(&spec.hidden_views)).flatten()),
    ];
    changes.extend(fields.into_iter().filter_map(|(field, value)| Some(FieldChange::new(field, None, Some(value?)))));
    for (index, c) in spec.connections.iter().enumerate() {
        let field = |name: &str| format!("connections[{index}].{name}");
        let values = [
            ("server", c.server.as_ref().and_then(val)),
            ("port", c.port.and_then(val)),
            ("database", c.database.as_ref().and_then(val)),
            ("username", c.username.as_ref().and_then(val)),
            ("password", c.password.as_ref().and_then(val)),
            ("embed", val(c.embed)),
        ];
        changes.extend(
            values.into_iter().filter_map(|(name, value)| Some(FieldChange::new(field(name), None, Some(value?)))),
        );
    }
    changes
}

/// The file's sha256 as `sha256sum` prints it (saved plans from before the field existed have only `sha256`).
fn file_digest(spec: &ContentSpec) -> &str {
    if spec.file.file_sha256.is_empty() { &spec.file.sha256 } else { &spec.file.file_sha256 }
}

/// For a `.twbx`/`.tdsx` package, the canonical digest tabops compares: sha256 over the package's entries, so
/// re-zipping the same files (new timestamps, another compressor) is not a change. `None` for plain files.
fn package_digest(spec: &ContentSpec) -> Option<&str> {
    (spec.file.sha256 != file_digest(spec)).then_some(spec.file.sha256.as_str())
}

/// Why an item is published over: its digest as `sha256sum` prints it (or, for a package, the canonical digest,
/// said as such), and the markers that differ.
fn republish_reason(spec: &ContentSpec, old_marker: Option<&str>, new_marker: &str, hidden_conflict: bool) -> String {
    if hidden_conflict {
        return "republish: hidden views changed (Tableau sets them only when publishing)".to_owned();
    }
    let digest = match package_digest(spec) {
        Some(canonical) => {
            format!("package content sha256 {} (entries only, zip timestamps ignored)", short_digest(canonical))
        }
        None => format!("sha256 {}", short_digest(file_digest(spec))),
    };
    let file = &spec.file.display;
    match old_marker {
        Some(old) => format!(
            "republish: content changed ({file}, {digest}; marker {} -> {})",
            short_marker(old),
            short_marker(new_marker)
        ),
        None => format!(
            "republish: no tabops marker on the live item ({file}, {digest}); publish to record {}",
            short_marker(new_marker)
        ),
    }
}

/// The first 12 hex digits of a digest: enough to compare with `sha256sum`'s output by eye.
fn short_digest(hex: &str) -> String {
    format!("{}…", hex.get(..12).unwrap_or(hex))
}

fn new_publish(spec: &ContentSpec, project: ObjectRef, marker_tag: String) -> PublishOp {
    PublishOp {
        kind: spec.kind,
        name: spec.name.clone(),
        project,
        file: spec.file.clone(),
        overwrite: false,
        existing: None,
        relocate: None,
        description: spec.description.clone(),
        show_tabs: spec.show_tabs,
        hidden_views: spec.hidden_views.iter().cloned().collect(),
        connections: spec.connections.iter().map(PlannedConnection::from).collect(),
        owner: None,
        marker_tag,
        tags_add: Vec::new(),
        tags_remove: Vec::new(),
    }
}
