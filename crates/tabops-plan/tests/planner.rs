//! Planner behaviour on plain values: every action kind, safety refusals, idempotency, ordering and waves, stale
//! detection and determinism.

use tabops_testkit::model as common;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::inventory::*;
use tabops_plan::plan::{Action, ObjectRef, Operation, ParentChange, PlanErrorKind};
use tabops_plan::{PlanOptions, plan, render};

fn opts() -> PlanOptions {
    PlanOptions::default()
}

#[test]
fn converged_site_plans_no_changes() {
    let desired = enterprise();
    let live = converged(&desired);
    let p = plan(&desired, &live, &opts());
    assert_eq!(changed_ids(&p), Vec::<String>::new());
    assert!(p.applyable, "{:?}", p.errors);
    assert_eq!(p.summary.line(), "No changes. The site matches the manifest.");
    assert!(p.waves().is_empty());
    // Content is reported as a no-op with its reason, for verbose output.
    let noop = by_id(&p, "workbook:Sales/EMEA/Revenue");
    assert_eq!(noop.action, Action::NoOp);
    assert_eq!(noop.reason, "checksum unchanged: skip publish");
    assert_eq!(p.summary.upload_bytes, 0);
}

#[test]
fn empty_site_creates_everything_in_dependency_order() {
    let desired = enterprise();
    let mut live = Inventory::default();
    live.users.push(live_user("u-carol", "carol@acme.com", "Viewer"));
    let p = plan(&desired, &live, &opts());
    assert!(p.applyable, "{:?}", p.errors);
    let ids: Vec<&str> = p.changes().map(|a| a.id.as_str()).collect();
    let pos = |id: &str| ids.iter().position(|x| *x == id).unwrap_or_else(|| panic!("{id} missing in {ids:?}"));
    assert!(pos("user:alice@acme.com") < pos("project:Finance"));
    assert!(pos("project:Sales") < pos("project:Sales/EMEA"));
    assert!(pos("project:Sales/EMEA") < pos("group:Sales Analysts"));
    assert!(pos("group:Sales Analysts") < pos("membership:Sales Analysts/alice@acme.com"));
    assert!(pos("membership:Sales Analysts/bob@acme.com") < pos("datasource:Sales/Orders"));
    assert!(pos("datasource:Sales/Orders") < pos("workbook:Sales/EMEA/Revenue"));
    assert!(pos("workbook:Sales/EMEA/Revenue") < pos("permissions:project:Sales/group:Sales Analysts"));
    assert!(
        pos("default_permissions:workbooks:project:Sales/group:Sales Analysts")
            < pos("refresh:datasource:Sales/Orders#daily-06:00")
    );
    // Everything is created, except that Tableau copies rules onto each new object with a managed permission set:
    // one update per set revokes them first, and the set's grants wait for it.
    for a in p.changes() {
        match &a.operation {
            Operation::RevokeCopiedPermissions { .. } => assert_eq!(a.action, Action::Update, "{}", a.id),
            _ => assert_eq!(a.action, Action::Create, "{}", a.id),
        }
    }
    let revoke = by_id(&p, "permissions:project:Sales");
    assert!(matches!(revoke.operation, Operation::RevokeCopiedPermissions { .. }), "{revoke:?}");
    assert!(revoke.depends_on.contains(&"project:Sales".to_string()), "{:?}", revoke.depends_on);
    assert!(
        by_id(&p, "permissions:project:Sales/group:Sales Analysts")
            .depends_on
            .contains(&"permissions:project:Sales".to_string())
    );
    assert!(matches!(
        by_id(&p, "default_permissions:workbooks:project:Sales").operation,
        Operation::RevokeCopiedPermissions { default_for: Some(ContentKind::Workbook), .. }
    ));
    assert_eq!(p.summary.upload_bytes, 2048 + 4096 + 512);

    // The EMEA project refers to its parent as planned, and waits for it and for the rules it copies from it.
    let emea = by_id(&p, "project:Sales/EMEA");
    assert_eq!(emea.depends_on[0], "project:Sales");
    assert!(
        emea.depends_on[1..].iter().all(|d| d.contains("permissions") && d.contains("project:Sales")),
        "{:?}",
        emea.depends_on
    );
    match &emea.operation {
        Operation::CreateProject { parent, .. } => {
            assert_eq!(parent, &Some(ObjectRef::Planned("project:Sales".into())))
        }
        other => panic!("unexpected {other:?}"),
    }
    // Waves: every dependency lies in an earlier wave.
    let waves = p.waves();
    let wave_of = |id: &str| waves.iter().position(|w| w.iter().any(|a| a.id == id)).expect("in a wave");
    for (i, wave) in waves.iter().enumerate() {
        for a in wave {
            for d in &a.depends_on {
                assert!(wave_of(d) < i, "{} depends on {d} in a later wave", a.id);
            }
        }
    }
    // Sales waits for its owner, alice, who is created in the first wave; EMEA waits for Sales and for Sales'
    // rules (the copied ones removed in wave 2, the manifest's granted in wave 3), which Tableau copies into it.
    assert_eq!(wave_of("user:alice@acme.com"), 0);
    assert_eq!(wave_of("project:Finance"), 0);
    assert_eq!(wave_of("project:Sales"), 1);
    assert_eq!(wave_of("permissions:project:Sales"), 2);
    assert_eq!(wave_of("project:Sales/EMEA"), 4);
    assert!(wave_of("workbook:Sales/EMEA/Revenue") >= 2);
    assert!(wave_of("refresh:datasource:Sales/Orders#daily-06:00") > wave_of("datasource:Sales/Orders"));
    assert_eq!(waves.iter().map(Vec::len).sum::<usize>(), p.changes().count());
}

#[test]
fn project_fields_are_updated_in_place() {
    let desired = enterprise();
    let mut live = converged(&desired);
    live.projects.iter_mut().find(|p| p.name == "Sales").unwrap().description = Some("old".into());
    let p = plan(&desired, &live, &opts());
    assert_eq!(changed_ids(&p), vec!["~ project:Sales"]);
    let a = by_id(&p, "project:Sales");
    assert_eq!(a.changes.len(), 1);
    assert_eq!(a.changes[0].field, "description");
    assert_eq!(a.changes[0].before, Some("old".into()));
    assert_eq!(a.changes[0].after, Some("Sales analytics".into()));
    assert_eq!(p.summary.line(), "Plan: 0 to add, 1 to change, 0 to destroy.");
}

#[test]
fn project_rename_and_move_via_renamed_from_keep_the_project() {
    let mut desired = enterprise();
    let live = converged(&desired);
    // Rename Sales/EMEA -> Finance/Europe (a move and a rename).
    let emea = desired.projects.iter_mut().find(|p| p.path == path("Sales/EMEA")).unwrap();
    emea.path = path("Finance/Europe");
    emea.renamed_from = Some(path("Sales/EMEA"));
    desired.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap().project = path("Finance/Europe");
    let p = plan(&desired, &live, &opts());
    assert!(p.applyable, "{:?}", p.errors);
    assert_eq!(changed_ids(&p), vec!["~ project:Finance/Europe"]);
    let a = by_id(&p, "project:Finance/Europe");
    match &a.operation {
        Operation::UpdateProject { project, name, parent, .. } => {
            assert_eq!(project, "p-sales_emea");
            assert_eq!(name.as_deref(), Some("Europe"));
            assert_eq!(parent, &Some(ParentChange::Project(ObjectRef::Live("p-finance".into()))));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        a.reason.contains("renamed from 'EMEA'") && a.reason.contains("moved from 'Sales' to 'Finance'"),
        "{}",
        a.reason
    );
}

#[test]
fn workbook_move_and_rename_update_in_place_without_upload() {
    let mut desired = enterprise();
    let live = converged(&desired);
    let wb = desired.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap();
    wb.name = "Revenue 2026".into();
    wb.project = path("Sales");
    wb.renamed_from = Some((path("Sales/EMEA"), "Revenue".into()));
    let p = plan(&desired, &live, &opts());
    // The publish fingerprint does not depend on name or project: no upload.
    assert_eq!(changed_ids(&p), vec!["~ workbook:Sales/Revenue 2026"]);
    let a = by_id(&p, "workbook:Sales/Revenue 2026");
    match &a.operation {
        Operation::UpdateContent(op) => {
            assert_eq!(op.name.as_deref(), Some("Revenue 2026"));
            assert_eq!(op.project, Some(ObjectRef::Live("p-sales".into())));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(p.summary.upload_bytes, 0);
    assert!(a.reason.contains("checksum unchanged: skip publish"));
}

#[test]
fn content_change_republishes_over_the_existing_item() {
    let mut desired = enterprise();
    let live = converged(&desired);
    let old_marker = marker_of(&live, "Revenue");
    let file = &mut desired.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap().file;
    (file.sha256, file.file_sha256) = ("9".repeat(64), "9".repeat(64));
    let p = plan(&desired, &live, &opts());
    assert_eq!(changed_ids(&p), vec!["~ workbook:Sales/EMEA/Revenue"]);
    let a = by_id(&p, "workbook:Sales/EMEA/Revenue");
    assert_eq!(a.action, Action::Republish);
    let Operation::Publish(op) = &a.operation else { panic!("not a publish") };
    let short = |marker: &str| format!("{}…", &marker["tabops.sha256.".len()..][..4]);
    assert_eq!(
        a.reason,
        format!(
            "republish: content changed (content/revenue.twbx, sha256 999999999999…; marker {} -> {})",
            short(&old_marker),
            short(&op.marker_tag)
        )
    );
    let Operation::Publish(op) = &a.operation else { panic!("not a publish") };
    assert!(op.overwrite);
    assert_eq!(op.existing.as_deref(), Some(a.live_id.as_deref().unwrap()));
    assert!(op.tags_add.contains(&op.marker_tag));
    assert_eq!(op.tags_remove, vec![old_marker]);
    assert_eq!(p.summary.upload_bytes, 4096);
    assert_eq!(p.summary.line(), "Plan: 0 to add, 1 to change, 0 to destroy.");
}

fn marker_of(live: &Inventory, name: &str) -> String {
    live.workbooks
        .iter()
        .find(|w| w.name == name)
        .unwrap()
        .tags
        .iter()
        .find(|t| t.starts_with("tabops.sha256."))
        .unwrap()
        .clone()
}

/// A package's sha256 differs from `sha256sum`'s whenever it is re-zipped, so the plan compares (and names) the
/// digest of its entries, and says so; a plain file's reason shows the digest `sha256sum` prints.
#[test]
fn a_republished_package_names_its_canonical_digest_and_says_which_it_is() {
    let mut desired = enterprise();
    let live = converged(&desired);
    let file = &mut desired.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap().file;
    (file.sha256, file.file_sha256) = ("ab".repeat(32), "ef".repeat(32));
    let p = plan(&desired, &live, &opts());
    let a = by_id(&p, "workbook:Sales/EMEA/Revenue");
    assert!(
        a.reason.starts_with(
            "republish: content changed (content/revenue.twbx, package content sha256 abababababab… (entries only, zip \
             timestamps ignored); marker "
        ),
        "{}",
        a.reason
    );
}

/// A first publish lists everything the item will have: file digest as `sha256sum` prints it, the package's
/// canonical digest, project, owner, show_tabs, tags, hidden views and each connection (password by reference).
#[test]
fn a_new_workbook_shows_every_field_its_publish_sets() {
    let mut desired = enterprise();
    let live = converged(&desired);
    let mut wb = desired.workbooks.iter().find(|w| w.name == "Revenue").unwrap().clone();
    wb.name = "Forecast".into();
    (wb.file.sha256, wb.file.file_sha256) = ("ab".repeat(32), "ef".repeat(32));
    wb.owner = Some("alice@acme.com".into());
    wb.show_tabs = Some(false);
    wb.tags = Some(["finance".to_string()].into());
    wb.connections = vec![ConnectionSpec {
        server: Some("db.acme.com".into()),
        port: Some(5432),
        database: None,
        username: Some("report".into()),
        password: Some(Secret::unresolved("DB_PASSWORD")),
        embed: true,
    }];
    desired.workbooks.push(wb);
    let p = plan(&desired, &live, &opts());
    let a = by_id(&p, "workbook:Sales/EMEA/Forecast");
    assert_eq!(a.action, Action::Create);
    let rows: Vec<(String, String)> = a
        .changes
        .iter()
        .map(|c| {
            assert_eq!(c.before, None, "{}", c.field);
            (c.field.clone(), c.after.as_ref().map(ToString::to_string).unwrap_or_default())
        })
        .collect();
    let expected = [
        ("file", "\"content/revenue.twbx\""),
        ("sha256", &format!("\"{}\"", "ef".repeat(32))),
        ("package_sha256", &format!("\"{}\"", "ab".repeat(32))),
        ("project", "\"Sales/EMEA\""),
        ("owner", "\"alice@acme.com\""),
        ("description", "\"Revenue by region\""),
        ("show_tabs", "false"),
        ("tags", "[\"finance\"]"),
        ("hidden_views", "[\"Scratch\"]"),
        ("connections[0].server", "\"db.acme.com\""),
        ("connections[0].port", "5432"),
        ("connections[0].username", "\"report\""),
        ("connections[0].password", "\"${env:DB_PASSWORD}\""),
        ("connections[0].embed", "true"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect();
    assert_eq!(rows, expected);
}

#[test]
fn unhidden_view_on_the_site_requires_republish() {
    let desired = enterprise();
    let mut live = converged(&desired);
    live.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap().visible_views =
        Some(vec!["Overview".into(), "Scratch".into()]);
    let p = plan(&desired, &live, &opts());
    let a = by_id(&p, "workbook:Sales/EMEA/Revenue");
    assert_eq!(a.action, Action::Republish);
    assert_eq!(a.reason, "republish: hidden views changed (Tableau sets them only when publishing)");
}

#[test]
fn marker_tags_are_never_managed_tags() {
    let desired = enterprise();
    let mut live = converged(&desired);
    let wb = live.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap();
    wb.tags.push("tabops.commit.0123456789ab".into());
    wb.tags.push("stray".into());
    let p = plan(&desired, &live, &opts());
    assert_eq!(changed_ids(&p), vec!["~ workbook:Sales/EMEA/Revenue"]);
    let Operation::UpdateContent(op) = &by_id(&p, "workbook:Sales/EMEA/Revenue").operation else { panic!() };
    assert_eq!(op.tags_remove, vec!["stray".to_string()]);
    assert!(op.tags_add.is_empty());
}

#[test]
fn permissions_converge_grant_revoke_and_mode_flip() {
    use Capability::*;
    let desired = enterprise();
    let mut live = converged(&desired);
    let sales = live.permissions.get_mut("p-sales").unwrap();
    // Sales Leads: Write flipped to Deny on the site; Read missing.
    let leads = sales.iter_mut().find(|r| r.grantee.id == "g-sales_leads").unwrap();
    leads.capabilities = [(Write, Mode::Deny)].into();
    // An extra grantee the manifest does not list.
    sales.push(LiveRule {
        grantee: LiveGrantee { kind: GranteeKind::User, id: "u-bob_acme_com".into() },
        capabilities: [(Read, Mode::Allow)].into(),
    });
    let p = plan(&desired, &live, &opts());
    assert_eq!(
        changed_ids(&p),
        vec!["~ permissions:project:Sales/group:Sales Leads", "- permissions:project:Sales/user:bob@acme.com"]
    );
    let Operation::SetPermissions { grant, revoke, .. } =
        &by_id(&p, "permissions:project:Sales/group:Sales Leads").operation
    else {
        panic!()
    };
    assert_eq!(grant, &[(Read, Mode::Allow), (Write, Mode::Allow)].into());
    assert_eq!(revoke, &[(Write, Mode::Deny)].into());
    let Operation::SetPermissions { grant, revoke, .. } =
        &by_id(&p, "permissions:project:Sales/user:bob@acme.com").operation
    else {
        panic!()
    };
    assert!(grant.is_empty());
    assert_eq!(revoke, &[(Read, Mode::Allow)].into());
}

#[test]
fn owner_rules_can_be_ignored() {
    use Capability::*;
    let desired = enterprise();
    let mut live = converged(&desired);
    live.permissions.get_mut("p-sales").unwrap().push(LiveRule {
        grantee: LiveGrantee { kind: GranteeKind::User, id: "u-alice_acme_com".into() },
        capabilities: [(Read, Mode::Allow), (Write, Mode::Allow)].into(),
    });
    assert_eq!(changed_ids(&plan(&desired, &live, &opts())), vec!["- permissions:project:Sales/user:alice@acme.com"]);
    let ignoring = PlanOptions { ignore_owner_permissions: true, ..opts() };
    assert!(!plan(&desired, &live, &ignoring).has_changes());
}

#[test]
fn default_permissions_are_complete_sets() {
    use Capability::*;
    let desired = enterprise();
    let mut live = converged(&desired);
    let defaults = live.default_permissions.get_mut("p-sales").unwrap();
    defaults.workbooks.as_mut().unwrap()[0].capabilities.remove(&Filter);
    let p = plan(&desired, &live, &opts());
    assert_eq!(changed_ids(&p), vec!["~ default_permissions:workbooks:project:Sales/group:Sales Analysts"]);
    let a = by_id(&p, "default_permissions:workbooks:project:Sales/group:Sales Analysts");
    let Operation::SetPermissions { default_for, grant, .. } = &a.operation else { panic!() };
    assert_eq!(*default_for, Some(ContentKind::Workbook));
    assert_eq!(grant, &[(Filter, Mode::Allow)].into());
}

/// "Daily every 2 hours, 12:00-20:00" (the schedule PSTableauREST's Cloud integration test creates) is not "daily
/// at 12:00": the planner updates the task when only the interval and the end differ, and is converged once equal.
#[test]
fn daily_every_n_hours_differs_from_once_a_day_at_the_same_time() {
    let mut desired = enterprise();
    let live = converged(&desired);
    let once = desired.datasources[0].refresh.as_mut().unwrap()[0].schedule.clone();
    let repeating = Schedule {
        every: Some(Every::Hours(2)),
        end: Some(TimeOfDay { hour: 20, minute: once.start.minute }),
        ..once.clone()
    };
    desired.datasources[0].refresh.as_mut().unwrap()[0].schedule = repeating.clone();
    let p = plan(&desired, &live, &opts());
    let changed = changed_ids(&p);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].starts_with("~ refresh:datasource:Sales/Orders#daily-"), "{changed:?}");
    let converged_live = converged(&desired);
    assert!(changed_ids(&plan(&desired, &converged_live, &opts())).is_empty(), "equal schedules plan nothing");
    assert_ne!(repeating, once);
}

#[test]
fn schedule_change_updates_the_task() {
    let mut desired = enterprise();
    let live = converged(&desired);
    desired.datasources[0].refresh.as_mut().unwrap()[0].schedule = daily(7, &weekdays());
    let p = plan(&desired, &live, &opts());
    assert_eq!(changed_ids(&p), vec!["~ refresh:datasource:Sales/Orders#daily-07:00"]);
    let a = by_id(&p, "refresh:datasource:Sales/Orders#daily-07:00");
    let Operation::UpdateRefreshTask { task, schedule, .. } = &a.operation else { panic!() };
    assert_eq!(task, &live.refresh_tasks[0].id);
    assert_eq!(schedule.start, TimeOfDay { hour: 7, minute: 0 });
    // An extra live task for a managed item is deleted; an added desired one created.
    let mut live2 = converged(&desired);
    let mut extra = live2.refresh_tasks[0].clone();
    extra.id = "t-extra".into();
    extra.schedule = Some(daily(22, &weekdays()));
    live2.refresh_tasks.push(extra);
    let p2 = plan(&desired, &live2, &opts());
    assert_eq!(changed_ids(&p2), vec!["- refresh:datasource:Sales/Orders#daily-22:00"]);
}

/// An item without a `refresh:` key does not manage its extract-refresh tasks: the live task is left alone and
/// listed as unmanaged, like any other object the manifest does not name (issue 11 item 6).
#[test]
fn item_without_refresh_key_leaves_its_live_tasks_unmanaged() {
    let mut desired = enterprise();
    let live = converged(&desired);
    desired.datasources[0].refresh = None;
    let p = plan(&desired, &live, &opts());
    assert_eq!(changed_ids(&p), Vec::<String>::new());
    assert_eq!(p.summary.line(), "No changes. The site matches the manifest.");
    let tasks: Vec<(&str, &str)> = p
        .unmanaged
        .iter()
        .filter(|u| u.kind == tabops_plan::plan::ObjectKind::RefreshTask)
        .map(|u| (u.address.as_str(), u.id.as_str()))
        .collect();
    assert_eq!(tasks, vec![("refresh:datasource:Sales/Orders#daily-06:00", live.refresh_tasks[0].id.as_str())]);
}

/// `refresh: []` says the item has no tasks: its live task is deleted, and that delete counts toward the deletion
/// limit like any other.
#[test]
fn empty_refresh_list_deletes_live_tasks_and_counts_toward_max_deletes() {
    let mut desired = enterprise();
    let live = converged(&desired);
    desired.datasources[0].refresh = Some(vec![]);
    let p = plan(&desired, &live, &opts());
    assert!(p.applyable, "{:?}", p.errors);
    assert_eq!(changed_ids(&p), vec!["- refresh:datasource:Sales/Orders#daily-06:00"]);
    assert!(p.unmanaged.iter().all(|u| u.kind != tabops_plan::plan::ObjectKind::RefreshTask));
    let refused = plan(&desired, &live, &PlanOptions { max_deletes: Some(0), ..opts() });
    assert!(!refused.applyable);
    assert_eq!(refused.errors[0].kind, PlanErrorKind::TooManyDeletes);
    assert_eq!(refused.errors[0].message, "the plan deletes 1 objects, more than the limit of 0");
}

/// Tableau deletes a content item's refresh tasks with it; a pruned item's delete names them and counts them.
#[test]
fn pruned_item_delete_shows_and_counts_its_refresh_tasks() {
    let desired = enterprise();
    let mut live = converged(&desired);
    live.workbooks.push(live_content("wb-stray", "Stray", "p-sales"));
    live.refresh_tasks.push(LiveRefreshTask {
        id: "t-stray".into(),
        target: TaskTarget { kind: ContentKind::Workbook, id: "wb-stray".into() },
        refresh_type: RefreshType::Full,
        schedule: Some(daily(6, &weekdays())),
        schedule_text: daily(6, &weekdays()).to_string(),
    });
    let p = plan(&desired, &live, &opts());
    assert_eq!(changed_ids(&p), vec!["- workbook:Sales/Stray"]);
    let stray = by_id(&p, "workbook:Sales/Stray");
    assert_eq!(
        stray.reason,
        "not in manifest and project 'Sales' prunes (its 1 extract-refresh task(s) are deleted with it)"
    );
    let fields: Vec<&str> = stray.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, vec!["name", "refresh_task"]);
    assert!(p.applyable, "{:?}", p.errors);
    let refused = plan(&desired, &live, &PlanOptions { max_deletes: Some(1), ..opts() });
    assert_eq!(refused.errors[0].message, "the plan deletes 2 objects, more than the limit of 1");

    // Inside a pruned project, the tasks are named in the project's delete and counted too.
    live.projects.push(LiveProject {
        id: "p-old".into(),
        name: "Old".into(),
        parent_id: Some("p-sales".into()),
        description: None,
        content_permissions: None,
        owner_id: None,
        updated_at: None,
    });
    live.workbooks.iter_mut().find(|w| w.id == "wb-stray").unwrap().project_id = "p-old".into();
    let p = plan(&desired, &live, &PlanOptions { allow_empty_project: true, ..opts() });
    assert_eq!(changed_ids(&p), vec!["- project:Sales/Old"]);
    assert_eq!(
        by_id(&p, "project:Sales/Old").reason,
        "not in manifest and project 'Sales' prunes (deletes 2 object(s) inside: 1 content item(s), 1 \
         extract-refresh task(s))"
    );
    let refused = plan(&desired, &live, &PlanOptions { max_deletes: Some(2), ..opts() });
    assert_eq!(refused.errors[0].message, "the plan deletes 3 objects, more than the limit of 2");
}

#[test]
fn prune_deletes_unmanaged_content_only_under_pruning_projects() {
    let desired = enterprise();
    let mut live = converged(&desired);
    live.workbooks.push(live_content("wb-stray", "Stray", "p-sales"));
    live.workbooks.push(live_content("wb-other", "Other", "p-finance"));
    live.projects.push(LiveProject {
        id: "p-old".into(),
        name: "Old".into(),
        parent_id: Some("p-sales".into()),
        description: None,
        content_permissions: None,
        owner_id: None,
        updated_at: None,
    });
    live.workbooks.push(live_content("wb-in-old", "Inside", "p-old"));
    live.projects.push(LiveProject {
        id: "p-top".into(),
        name: "Elsewhere".into(),
        parent_id: None,
        description: None,
        content_permissions: None,
        owner_id: None,
        updated_at: None,
    });
    let p = plan(&desired, &live, &opts());
    assert!(p.applyable, "{:?}", p.errors);
    assert_eq!(changed_ids(&p), vec!["- workbook:Sales/Stray", "- project:Sales/Old"]);
    let old = by_id(&p, "project:Sales/Old");
    assert_eq!(
        old.reason,
        "not in manifest and project 'Sales' prunes (deletes 1 object(s) inside: 1 content item(s))"
    );
    let unmanaged: Vec<&str> = p.unmanaged.iter().map(|u| u.address.as_str()).collect();
    assert_eq!(unmanaged, vec!["project:Elsewhere", "workbook:Finance/Other"]);
    assert_eq!(p.summary.line(), "Plan: 0 to add, 0 to change, 2 to destroy.");
    // Top-level pruning only on request; never `default`.
    let top = plan(&desired, &live, &PlanOptions { prune_top_level_projects: true, ..opts() });
    assert!(changed_ids(&top).contains(&"- project:Elsewhere".to_string()));
    assert!(!changed_ids(&top).iter().any(|a| a.contains("default")));
}

#[test]
fn protected_delete_is_refused() {
    let desired = enterprise();
    let mut live = converged(&desired);
    live.workbooks.push(live_content("wb-keep", "Keep Me", "p-sales"));
    let options = PlanOptions { protected: ["workbook:sales/keep me".parse().unwrap()].into(), ..opts() };
    let p = plan(&desired, &live, &options);
    assert!(!p.applyable);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].kind, PlanErrorKind::Protected);
    assert_eq!(p.errors[0].address, "workbook:Sales/Keep Me");
    // Still rendered, with the error.
    let text = render::text(&p, false, false);
    assert!(
        text.contains("refusing to delete workbook:Sales/Keep Me: the manifest at the base revision protects it"),
        "{text}"
    );
    // The `protect: true` line is only in the base revision: the advice is to merge `protect: false` first, not to
    // remove a line the manifest no longer has.
    let hint = p.errors[0].hint.as_deref().unwrap_or_default();
    assert!(hint.contains("protect: false") && !hint.contains("remove `protect: true`"), "{hint}");
}

#[test]
fn too_many_deletes_are_refused() {
    let mut desired = enterprise();
    let mut live = converged(&desired);
    for i in 0..3 {
        live.workbooks.push(live_content(&format!("wb-{i}"), &format!("Stray {i}"), "p-sales"));
    }
    assert!(plan(&desired, &live, &opts()).applyable);
    let p = plan(&desired, &live, &PlanOptions { max_deletes: Some(2), ..opts() });
    assert!(!p.applyable);
    assert_eq!(p.errors[0].kind, PlanErrorKind::TooManyDeletes);
    assert_eq!(p.errors[0].message, "the plan deletes 3 objects, more than the limit of 2");
    // The manifest's setting applies when the CLI gives none.
    desired.settings.max_deletes = Some(1);
    assert!(!plan(&desired, &live, &opts()).applyable);
}

#[test]
fn emptying_a_project_needs_the_flag() {
    let mut desired = enterprise();
    let live = converged(&desired);
    desired.datasources.clear(); // Orders was the only item in Sales, which prunes.
    let p = plan(&desired, &live, &opts());
    assert_eq!(p.errors.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![PlanErrorKind::EmptiesProject]);
    let allowed = plan(&desired, &live, &PlanOptions { allow_empty_project: true, ..opts() });
    assert!(allowed.applyable, "{:?}", allowed.errors);
    assert_eq!(changed_ids(&allowed), vec!["- datasource:Sales/Orders"]);
}

#[test]
fn a_move_without_renamed_from_suggests_it_and_with_it_moves_the_item_in_place() {
    let mut desired = enterprise();
    let live = converged(&desired);
    // Only the project changes: Sales/EMEA (which does not prune) -> Finance.
    let wb = desired.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap();
    wb.project = path("Finance");
    let p = plan(&desired, &live, &opts());
    // A new item (its permission set is granted anew), and the live one left alone.
    let content: Vec<String> = changed_ids(&p).into_iter().filter(|id| id.contains(" workbook:")).collect();
    assert_eq!(content, vec!["+ workbook:Finance/Revenue"]);
    let created = by_id(&p, "workbook:Finance/Revenue");
    assert!(
        created.reason.ends_with(
            "; looks like a move/rename of workbook:Sales/EMEA/Revenue (same content): add `renamed_from: { project: \
             Sales/EMEA, name: Revenue }` to move it in place and keep its id"
        ),
        "{}",
        created.reason
    );
    let unmanaged: Vec<&str> = p.unmanaged.iter().map(|u| u.address.as_str()).collect();
    assert_eq!(unmanaged, vec!["workbook:Sales/EMEA/Revenue"]);

    // What the suggestion says: the live item is moved by an update (its id kept, nothing uploaded).
    desired.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap().renamed_from =
        Some((path("Sales/EMEA"), "Revenue".into()));
    let p = plan(&desired, &live, &opts());
    assert_eq!(changed_ids(&p), vec!["~ workbook:Finance/Revenue"]);
    let moved = by_id(&p, "workbook:Finance/Revenue");
    assert_eq!(
        moved.live_id.as_deref(),
        Some(live.workbooks.iter().find(|w| w.name == "Revenue").unwrap().id.as_str())
    );
    assert!(!moved.reason.contains("looks like"), "{}", moved.reason);
    let Operation::UpdateContent(op) = &moved.operation else { panic!("not an update: {:?}", moved.operation) };
    assert_eq!(op.project, Some(ObjectRef::Live("p-finance".into())));
    assert_eq!(op.name, None);
    assert!(p.unmanaged.is_empty(), "{:?}", p.unmanaged);
    assert_eq!(p.summary.upload_bytes, 0);
}

#[test]
fn a_rename_under_a_pruning_project_suggests_renamed_from_and_the_project_keeps_content() {
    let mut desired = enterprise();
    let live = converged(&desired);
    // Orders is the only item of Sales, which prunes: renamed in git only, it is a delete and a create.
    desired.datasources[0].name = "Orders 2026".into();
    let p = plan(&desired, &live, &opts());
    let content: Vec<String> = changed_ids(&p).into_iter().filter(|id| id.contains(" datasource:")).collect();
    assert_eq!(content, vec!["+ datasource:Sales/Orders 2026", "- datasource:Sales/Orders"]);
    // The project gets an item back, so the plan does not empty it.
    assert!(p.applyable, "{:?}", p.errors);
    let created = by_id(&p, "datasource:Sales/Orders 2026");
    assert!(
        created.reason.ends_with(
            "; looks like a move/rename of datasource:Sales/Orders (same content): add `renamed_from: Orders` to \
             move it in place and keep its id"
        ),
        "{}",
        created.reason
    );
    let deleted = by_id(&p, "datasource:Sales/Orders");
    assert!(
        deleted.reason.ends_with("; looks like a move/rename to datasource:Sales/Orders 2026 (same content)"),
        "{}",
        deleted.reason
    );
    // Targeting only the delete leaves the project without content: refused.
    let only_delete = PlanOptions { targets: ["datasource:Sales/Orders".parse().unwrap()].into(), ..opts() };
    let p = plan(&desired, &live, &only_delete);
    assert_eq!(changed_ids(&p), vec!["- datasource:Sales/Orders"]);
    assert_eq!(p.errors.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![PlanErrorKind::EmptiesProject]);
    // Without the new item the project is emptied: still refused.
    desired.datasources.clear();
    let p = plan(&desired, &live, &opts());
    assert_eq!(p.errors.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![PlanErrorKind::EmptiesProject]);

    // Moved out of Sales (not renamed): Sales is left empty, and that is still refused, with the suggestion.
    let mut desired = enterprise();
    desired.datasources[0].project = path("Finance");
    let p = plan(&desired, &live, &opts());
    assert_eq!(p.errors.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![PlanErrorKind::EmptiesProject]);
    assert!(
        by_id(&p, "datasource:Finance/Orders").reason.contains("add `renamed_from: { project: Sales, name: Orders }`")
    );
}

#[test]
fn a_move_or_rename_is_suggested_only_for_the_same_content_and_one_clear_candidate() {
    let mut desired = enterprise();
    let live = converged(&desired);
    let suggestion = |p: &tabops_plan::Plan, id: &str| by_id(p, id).reason.contains("looks like a move/rename");
    // New content in the new place: a different publish fingerprint, no suggestion.
    let wb = desired.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap();
    wb.project = path("Finance");
    wb.file.sha256 = "9".repeat(64);
    let p = plan(&desired, &live, &opts());
    assert!(!suggestion(&p, "workbook:Finance/Revenue"), "{}", by_id(&p, "workbook:Finance/Revenue").reason);

    // Two unclaimed live copies of the same content: the one of the same name is meant.
    let mut desired = enterprise();
    let mut live = converged(&desired);
    let mut copy = live.workbooks.iter().find(|w| w.name == "Revenue").unwrap().clone();
    copy.id = "wb-copy".into();
    copy.name = "Revenue (copy)".into();
    live.workbooks.push(copy);
    desired.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap().project = path("Finance");
    let p = plan(&desired, &live, &opts());
    let reason = &by_id(&p, "workbook:Finance/Revenue").reason;
    assert!(reason.contains("move/rename of workbook:Sales/EMEA/Revenue (same content)"), "{reason}");
    // Renamed as well, neither name matches: two candidates, no suggestion.
    desired.workbooks.iter_mut().find(|w| w.name == "Revenue").unwrap().name = "Revenue by Region".into();
    let p = plan(&desired, &live, &opts());
    assert!(!suggestion(&p, "workbook:Finance/Revenue by Region"));
}

#[test]
fn targeting_an_object_plans_it_and_what_it_depends_on_and_marks_the_plan_partial() {
    let mut desired = enterprise();
    let mut live = converged(&desired);
    // A new workbook in a new project, an unrelated change, a delete and an unmanaged item elsewhere.
    desired.projects.push(project("Marketing"));
    desired.workbooks.push(content(ContentKind::Workbook, "Campaigns", "Marketing", file("c.twbx", "77", 99)));
    desired.projects.iter_mut().find(|p| p.path == path("Finance")).unwrap().description = Some("Money".into());
    live.workbooks.push(live_content("wb-stray", "Stray", "p-sales"));
    live.workbooks.push(live_content("wb-other", "Other", "p-finance"));
    let limited = PlanOptions { max_deletes: Some(0), ..opts() };
    let whole = plan(&desired, &live, &limited);
    for id in ["~ project:Finance", "+ project:Marketing", "+ workbook:Marketing/Campaigns", "- workbook:Sales/Stray"] {
        assert!(changed_ids(&whole).contains(&id.to_string()), "{id} in {:?}", changed_ids(&whole));
    }
    assert_eq!(whole.errors.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![PlanErrorKind::TooManyDeletes]);
    assert!(whole.targets.is_empty());

    let targeted = PlanOptions { targets: ["workbook:marketing/campaigns".parse().unwrap()].into(), ..limited.clone() };
    let p = plan(&desired, &live, &targeted);
    // The workbook, and the project it goes into; the deletion limit counts only what is left.
    assert_eq!(changed_ids(&p), vec!["+ project:Marketing", "+ workbook:Marketing/Campaigns"]);
    assert!(p.applyable, "{:?}", p.errors);
    assert!(p.unmanaged.is_empty(), "{:?}", p.unmanaged);
    assert_eq!(p.targets, vec!["workbook:marketing/campaigns".to_string()]);
    assert_eq!(p.summary.line(), "Plan: 2 to add, 0 to change, 0 to destroy.");
    let text = render::text(&p, false, false);
    assert!(text.contains("Warning: targeting is in effect (--target workbook:marketing/campaigns)"), "{text}");
    let markdown = render::markdown(&p, &Default::default());
    assert!(markdown.contains("> [!WARNING]\n> **targeting is in effect"), "{markdown}");
    assert!(!render::text(&whole, false, false).contains("targeting"));

    // A targeted delete brings its own errors back: the limit of none refuses it.
    let stray = PlanOptions { targets: ["workbook:Sales/Stray".parse().unwrap()].into(), ..limited };
    let p = plan(&desired, &live, &stray);
    assert_eq!(changed_ids(&p), vec!["- workbook:Sales/Stray"]);
    assert_eq!(p.errors.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![PlanErrorKind::TooManyDeletes]);
}

#[test]
fn missing_reference_only_user_is_an_error() {
    let desired = enterprise();
    let mut live = converged(&desired);
    live.users.retain(|u| u.name != "carol@acme.com");
    let p = plan(&desired, &live, &opts());
    assert!(!p.applyable);
    assert_eq!(p.errors[0].kind, PlanErrorKind::MissingUser);
    assert_eq!(p.errors[0].address, "user:carol@acme.com");
}

#[test]
fn users_groups_and_memberships() {
    let mut desired = enterprise();
    let mut live = converged(&desired);
    live.users.iter_mut().find(|u| u.name == "bob@acme.com").unwrap().site_role = "Explorer".into();
    live.users.push(live_user("u-zed", "zed@acme.com", "Viewer"));
    live.groups.push(LiveGroup { id: "g-old".into(), name: "Old Team".into(), minimum_site_role: None, members: None });
    let analysts = live.groups.iter_mut().find(|g| g.name == "Sales Analysts").unwrap();
    analysts.members = Some(vec!["u-alice_acme_com".into(), "u-zed".into()]);
    desired.groups[1].renamed_from = Some("Sales Team".into());
    live.groups.iter_mut().find(|g| g.name == "Sales Leads").unwrap().name = "Sales Team".into();
    let p = plan(&desired, &live, &opts());
    assert_eq!(
        changed_ids(&p),
        vec![
            "~ user:bob@acme.com",
            "~ group:Sales Leads",
            "+ membership:Sales Analysts/bob@acme.com",
            "- membership:Sales Analysts/zed@acme.com",
        ]
    );
    assert_eq!(by_id(&p, "group:Sales Leads").reason, "renamed from 'Sales Team'");
    let unmanaged: Vec<&str> = p.unmanaged.iter().map(|u| u.address.as_str()).collect();
    assert_eq!(unmanaged, vec!["user:zed@acme.com", "group:Old Team"]);

    desired.settings.prune_users = true;
    desired.settings.prune_groups = true;
    let pruned = plan(&desired, &live, &opts());
    let ids = changed_ids(&pruned);
    assert!(
        ids.contains(&"- user:zed@acme.com".to_string()) && ids.contains(&"- group:Old Team".to_string()),
        "{ids:?}"
    );
    assert!(!ids.iter().any(|i| i.contains("All Users")));
    // Deletes come last, users after groups.
    assert_eq!(ids.last().map(String::as_str), Some("- user:zed@acme.com"));
}

#[test]
fn all_users_spelt_in_another_case_is_the_same_group_and_never_renamed() {
    // Tableau's own group cannot be renamed (help: to_add_users_groups.htm); names compare case-insensitively.
    let mut desired = enterprise();
    desired.groups.push(group("all users", None));
    let live = converged(&enterprise());
    let p = plan(&desired, &live, &opts());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert!(!changed_ids(&p).iter().any(|i| i.to_lowercase().contains("all users")), "{:?}", changed_ids(&p));
}

#[test]
fn stale_plans_are_detected() {
    let mut desired = enterprise();
    desired.projects[1].description = Some("new text".into());
    let live = converged(&enterprise());
    let p = plan(&desired, &live, &opts());
    assert!(p.check_fresh(&live).is_ok());
    // An unrelated object changing does not make the plan stale.
    let mut unrelated = live.clone();
    unrelated.workbooks.push(live_content("wb-x", "Elsewhere", "p-default"));
    assert!(p.check_fresh(&unrelated).is_ok());
    // The project it updates changing does.
    let mut changed = live.clone();
    changed.projects.iter_mut().find(|p| p.name == "Sales").unwrap().updated_at = Some("2026-02-02T00:00:00Z".into());
    let stale = p.check_fresh(&changed).unwrap_err();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].key, "p-sales");
    // A permission row it depends on changing does too.
    let mut perms = live.clone();
    perms.permissions.get_mut("p-sales").unwrap().pop();
    assert_eq!(p.check_fresh(&perms).unwrap_err()[0].key, "permissions:p-sales");
}

#[test]
fn plans_are_deterministic_and_round_trip() {
    let desired = enterprise();
    let mut live = converged(&desired);
    live.workbooks.push(live_content("wb-stray", "Stray", "p-sales"));
    live.projects.reverse();
    let a = render::json(&plan(&desired, &live, &opts()));
    live.users.reverse();
    live.workbooks.reverse();
    let p = plan(&desired, &live, &opts());
    let b = render::json(&p);
    assert_eq!(a, b);
    let loaded = tabops_plan::Plan::from_json(&b).expect("loads");
    assert_eq!(render::json(&loaded), b);
    assert_eq!(loaded.digest(), p.digest());
    assert!(tabops_plan::Plan::from_json(&b.replace("\"format_version\": 1", "\"format_version\": 99")).is_err());
}

#[test]
fn secrets_never_reach_the_plan_file() {
    let desired = enterprise();
    let p = plan(&desired, &Inventory::default(), &opts());
    let json = render::json(&p);
    assert!(!json.contains("hunter2-planted-secret"));
    assert!(json.contains("${env:ORDERS_DB_PASSWORD}"));
    let loaded = tabops_plan::Plan::from_json(&json).unwrap();
    let Operation::Publish(op) = &by_id(&loaded, "datasource:Sales/Orders").operation else { panic!() };
    let secret = op.connections[0]
        .password
        .as_ref()
        .unwrap()
        .resolve(|name| (name == "ORDERS_DB_PASSWORD").then(|| "s3cret".into()));
    assert_eq!(secret.map(|s| s.expose().to_string()), Some("s3cret".into()));
    assert!(!format!("{p:?}").contains("hunter2-planted-secret"));
    for text in [render::text(&p, false, true), render::markdown(&p, &render::MarkdownOptions::default())] {
        assert!(!text.contains("hunter2-planted-secret"));
    }
}

#[test]
fn publish_fingerprint_covers_publish_settings_but_not_passwords() {
    let base = enterprise().datasources[0].clone();
    let fp = tabops_plan::publish_fingerprint(&base);
    let mut other_password = base.clone();
    other_password.connections[0].password = Some(Secret::from_env("X", "different"));
    assert_eq!(tabops_plan::publish_fingerprint(&other_password), fp);
    let mut other_server = base.clone();
    other_server.connections[0].server = Some("db2.acme.com".into());
    assert_ne!(tabops_plan::publish_fingerprint(&other_server), fp);
    let mut renamed = base.clone();
    renamed.name = "Renamed".into();
    assert_eq!(tabops_plan::publish_fingerprint(&renamed), fp);
    let tag = tabops_plan::marker_tag(&fp);
    assert_eq!(tag.len(), "tabops.sha256.".len() + 32);
}

#[test]
fn project_delete_waits_for_managed_content_moving_out_and_respects_protection() {
    let mut desired = enterprise();
    let mut live = converged(&desired);
    live.projects.push(LiveProject {
        id: "p-old".into(),
        name: "Old".into(),
        parent_id: Some("p-sales".into()),
        description: None,
        content_permissions: None,
        owner_id: None,
        updated_at: None,
    });
    live.workbooks.push(live_content("wb-keep", "Keeper", "p-old"));
    live.workbooks.push(live_content("wb-junk", "Junk", "p-old"));
    // The manifest moves Keeper out of Old (which is not in the manifest and gets pruned).
    let mut keeper = content(ContentKind::Workbook, "Keeper", "Sales", file("keeper.twb", "12", 10));
    keeper.renamed_from = Some((path("Sales/Old"), "Keeper".into()));
    desired.workbooks.push(keeper);
    let p = plan(&desired, &live, &opts());
    assert!(p.applyable, "{:?}", p.errors);
    let old = by_id(&p, "project:Sales/Old");
    assert_eq!(old.action, Action::Delete);
    assert_eq!(old.depends_on, vec!["workbook:Sales/Keeper".to_string()]);
    assert!(old.reason.contains("1 content item(s)"), "{}", old.reason);
    let waves = p.waves();
    let wave_of = |id: &str| waves.iter().position(|w| w.iter().any(|a| a.id == id)).unwrap();
    assert!(wave_of("workbook:Sales/Keeper") < wave_of("project:Sales/Old"));
    // Something protected inside the pruned project refuses the delete.
    let options = PlanOptions { protected: ["workbook:sales/old/junk".parse().unwrap()].into(), ..opts() };
    let refused = plan(&desired, &live, &options);
    assert_eq!(refused.errors.len(), 1);
    assert_eq!(refused.errors[0].kind, PlanErrorKind::Protected);
    assert!(
        refused.errors[0].message.contains("it contains workbook:sales/old/junk, which the manifest at the base"),
        "{}",
        refused.errors[0].message
    );
}

#[test]
fn content_into_a_new_project_and_tasks_of_new_content_wait_for_their_parents() {
    let mut desired = enterprise();
    let live = converged(&desired);
    desired.projects.push(project("Marketing"));
    let mut wb = content(ContentKind::Workbook, "Campaigns", "Marketing", file("c.twbx", "77", 99));
    wb.refresh = Some(vec![RefreshSpec { refresh_type: RefreshType::Incremental, schedule: daily(5, &weekdays()) }]);
    desired.workbooks.push(wb);
    let p = plan(&desired, &live, &opts());
    assert_eq!(
        changed_ids(&p),
        vec![
            "+ project:Marketing",
            "+ workbook:Marketing/Campaigns",
            "+ refresh:workbook:Marketing/Campaigns#daily-05:00-incremental"
        ]
    );
    assert_eq!(by_id(&p, "workbook:Marketing/Campaigns").depends_on, vec!["project:Marketing".to_string()]);
    let task = by_id(&p, "refresh:workbook:Marketing/Campaigns#daily-05:00-incremental");
    assert_eq!(task.depends_on, vec!["workbook:Marketing/Campaigns".to_string()]);
    let Operation::CreateRefreshTask { item, .. } = &task.operation else { panic!() };
    assert_eq!(item, &ObjectRef::Planned("workbook:Marketing/Campaigns".into()));
    assert_eq!(p.waves().len(), 3);
}

#[test]
fn unknown_grantee_is_an_error() {
    let mut desired = enterprise();
    let live = converged(&desired);
    desired.workbooks[0].permissions = Some(vec![viewer_wb("Nobody")]);
    let p = plan(&desired, &live, &opts());
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].kind, PlanErrorKind::MissingGroup);
}

#[test]
fn renamed_from_with_both_names_on_the_site_is_a_conflict() {
    let mut desired = enterprise();
    let mut live = converged(&desired);
    live.projects.push(LiveProject {
        id: "p-old-fin".into(),
        name: "Old Finance".into(),
        parent_id: None,
        description: None,
        content_permissions: None,
        owner_id: None,
        updated_at: None,
    });
    desired.projects.iter_mut().find(|p| p.path == path("Finance")).unwrap().renamed_from = Some(path("Old Finance"));
    let p = plan(&desired, &live, &opts());
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert_eq!(p.errors[0].kind, PlanErrorKind::Conflict);
    assert_eq!(p.errors[0].message, "both 'Finance' and its renamed_from 'Old Finance' exist on the site");
}

#[test]
fn empty_and_absent_descriptions_are_equal() {
    let mut desired = enterprise();
    desired.projects[0].description = Some(String::new());
    let live = converged(&enterprise());
    assert!(!plan(&desired, &live, &opts()).has_changes());
}

fn identity_providers() -> Vec<LiveIdentityProvider> {
    ["Initial SAML", "Okta"]
        .iter()
        .enumerate()
        .map(|(i, name)| LiveIdentityProvider {
            id: format!("idp-{i}"),
            name: (*name).into(),
            auth_setting: Some("SAML".into()),
            enabled: true,
        })
        .collect()
}

#[test]
fn identity_providers_are_resolved_by_name_and_compared_by_id() {
    let mut desired = empty_desired();
    let mut dana = user("dana@acme.com", Some(SiteRole::Viewer));
    dana.identity_provider = Some("okta".into());
    let mut erin = user("erin@acme.com", Some(SiteRole::Viewer));
    erin.identity_provider = Some("Initial SAML".into());
    desired.users = vec![dana, erin];
    let mut live = Inventory { identity_providers: Some(identity_providers()), ..Default::default() };
    live.users.push(LiveUser {
        auth_setting: Some("SAML".into()),
        idp_configuration_id: Some("idp-1".into()),
        ..live_user("u-erin", "erin@acme.com", "Viewer")
    });
    let p = plan(&desired, &live, &opts());
    assert!(p.applyable, "{:?}", p.errors);
    let Operation::AddUser { idp_configuration_id, auth_setting, .. } = &by_id(&p, "user:dana@acme.com").operation
    else {
        panic!("expected an add")
    };
    assert_eq!((idp_configuration_id.as_deref(), *auth_setting), (Some("idp-1"), None));
    let erin = by_id(&p, "user:erin@acme.com");
    let Operation::UpdateUser { idp_configuration_id, .. } = &erin.operation else { panic!("expected an update") };
    assert_eq!(idp_configuration_id.as_deref(), Some("idp-0"));
    let change = erin.changes.iter().find(|c| c.field == "identity_provider").unwrap();
    assert_eq!(
        (change.before.as_ref().unwrap(), change.after.as_ref().unwrap()),
        (&"Okta".into(), &"Initial SAML".into())
    );

    // Once the site agrees, nothing is planned.
    live.users[0].idp_configuration_id = Some("idp-0".into());
    live.users.push(LiveUser {
        id: "u-dana".into(),
        name: "dana@acme.com".into(),
        idp_configuration_id: Some("idp-1".into()),
        ..live.users[0].clone()
    });
    assert_eq!(changed_ids(&plan(&desired, &live, &opts())), Vec::<String>::new());
}

#[test]
fn an_identity_provider_the_site_does_not_have_is_a_plan_error() {
    let mut desired = empty_desired();
    let mut dana = user("dana@acme.com", Some(SiteRole::Viewer));
    dana.identity_provider = Some("Azure AD".into());
    desired.users = vec![dana];
    let live = Inventory { identity_providers: Some(identity_providers()), ..Default::default() };
    let p = plan(&desired, &live, &opts());
    assert!(!p.applyable);
    let error = p.errors.iter().find(|e| e.kind == PlanErrorKind::UnknownIdentityProvider).expect("an error");
    assert_eq!(error.address, "user:dana@acme.com");
    assert!(error.hint.as_deref().unwrap().contains("'Initial SAML', 'Okta'"), "{error:?}");
    assert!(changed_ids(&p).is_empty(), "no action for a user whose provider is unknown");
}

/// Tableau copies permissions when it creates something: a nested project gets its parent's rules and defaults,
/// published content its project's defaults for its kind. So a create or publish waits for this plan's changes to
/// what it copies, and never for a nested project's own rules.
#[test]
fn creates_and_publishes_wait_for_the_permissions_they_copy() {
    let mut desired = enterprise();
    desired.workbooks.push(content(ContentKind::Workbook, "Pipeline", "Sales", file("pipeline.twb", "aa", 100)));
    let mut live = Inventory::default();
    live.users.push(live_user("u-carol", "carol@acme.com", "Viewer"));
    let p = plan(&desired, &live, &opts());
    assert!(p.applyable, "{:?}", p.errors);
    assert!(p.actions.iter().any(|a| a.id == "workbook:Sales/Pipeline" && a.operation.uploads()));
    let ids = |prefix: &str| -> Vec<String> {
        p.actions.iter().filter(|a| a.id.starts_with(prefix)).map(|a| a.id.clone()).collect()
    };
    let parent_sets = ids("permissions:project:Sales");
    let parent_sets: Vec<&String> = parent_sets.iter().filter(|id| !id.contains("EMEA")).collect();
    assert!(!parent_sets.is_empty());
    let emea = by_id(&p, "project:Sales/EMEA");
    for id in &parent_sets {
        assert!(emea.depends_on.contains(id), "EMEA's create waits for {id}: {:?}", emea.depends_on);
    }
    let defaults = ids("default_permissions:workbooks:project:Sales/");
    assert!(!defaults.is_empty());
    for workbook in p.actions.iter().filter(|a| a.id.starts_with("workbook:Sales/") && a.operation.uploads()) {
        let in_sales = !workbook.id.starts_with("workbook:Sales/EMEA/");
        for id in &defaults {
            assert_eq!(
                workbook.depends_on.contains(id),
                in_sales,
                "{} and {id}: {:?}",
                workbook.id,
                workbook.depends_on
            );
        }
    }
    // Still a plan that can run: every dependency is an action of the plan, and the waves cover every action.
    let waves = p.waves();
    assert_eq!(waves.iter().map(Vec::len).sum::<usize>(), changed_ids(&p).len());
}

/// A nested project created under a parent this plan also creates copies the parent's rules as they are at that
/// moment. When it keeps all of the parent's new rules (or leaves its own unmanaged), it is created after them and
/// copies them; otherwise the parent's rule changes wait for it, so it copies only what the new parent copied (in a
/// bootstrap, the `All Users` rule) and fewer copied rules are revoked. A locked parent keeps the first order.
#[test]
fn a_nested_create_copies_its_new_parents_rules_only_when_it_keeps_them() {
    use Capability::*;
    let analysts = || rule(Grantee::Group("Sales Analysts".into()), &[(Read, Mode::Allow)]);
    let leads = || rule(Grantee::Group("Sales Leads".into()), &[(Read, Mode::Allow)]);
    let build = |lock: Option<ContentPermissions>| {
        let mut desired = enterprise();
        let mut ops = project("Ops");
        ops.content_permissions = lock;
        ops.permissions = Some(vec![analysts()]);
        let mut other = project("Ops/Other");
        other.permissions = Some(vec![leads()]);
        let mut same = project("Ops/Same");
        same.permissions = Some(vec![analysts(), leads()]);
        desired.projects.extend([ops, other, same, project("Ops/Free")]);
        let mut live = Inventory::default();
        live.users.push(live_user("u-carol", "carol@acme.com", "Viewer"));
        plan(&desired, &live, &opts())
    };
    let p = build(None);
    assert!(p.applyable, "{:?}", p.errors);
    let ops_sets: Vec<String> = p
        .actions
        .iter()
        .filter(|a| a.id == "permissions:project:Ops" || a.id.starts_with("permissions:project:Ops/group:"))
        .map(|a| a.id.clone())
        .collect();
    assert_eq!(ops_sets, ["permissions:project:Ops", "permissions:project:Ops/group:Sales Analysts"]);
    for id in &ops_sets {
        let set = by_id(&p, id);
        assert!(set.depends_on.contains(&"project:Ops/Other".to_string()), "{id}: {:?}", set.depends_on);
        for keeps in ["project:Ops/Same", "project:Ops/Free"] {
            assert!(!set.depends_on.contains(&keeps.to_string()), "{id}: {:?}", set.depends_on);
            assert!(by_id(&p, keeps).depends_on.contains(id), "{keeps} waits for {id}");
        }
        assert!(!by_id(&p, "project:Ops/Other").depends_on.contains(id));
    }
    assert_eq!(p.waves().iter().map(Vec::len).sum::<usize>(), changed_ids(&p).len());

    let locked = build(Some(ContentPermissions::LockedToProjectWithoutNested));
    for id in &ops_sets {
        assert!(by_id(&locked, "project:Ops/Other").depends_on.contains(id), "locked parent: created after {id}");
        assert!(!by_id(&locked, id).depends_on.contains(&"project:Ops/Other".to_string()));
    }
}

/// Changing a project's lock changes who controls the rules below it (Tableau refuses changing rules a locked
/// project controls, 403004): permission changes below the project wait for the lock change.
#[test]
fn permission_changes_below_a_project_wait_for_its_lock_change() {
    let desired = enterprise();
    let mut live = converged(&desired);
    live.projects.iter_mut().find(|p| p.name == "Sales").unwrap().content_permissions =
        Some(ContentPermissions::ManagedByOwner);
    let orders = live.datasources.iter().find(|d| d.name == "Orders").unwrap().id.clone();
    live.permissions.insert(orders, Vec::new());
    let p = plan(&desired, &live, &opts());
    assert!(by_id(&p, "project:Sales").changes.iter().any(|c| c.field == "content_permissions"));
    let grants: Vec<_> = p.actions.iter().filter(|a| a.id.starts_with("permissions:datasource:Sales/Orders")).collect();
    assert!(!grants.is_empty(), "{:?}", changed_ids(&p));
    for grant in grants {
        assert!(grant.depends_on.contains(&"project:Sales".to_string()), "{}: {:?}", grant.id, grant.depends_on);
    }
    let waves = p.waves();
    assert_eq!(waves.iter().map(Vec::len).sum::<usize>(), changed_ids(&p).len());
}

/// Rules a project locked on the site controls cannot be changed (403004): the manifest setting them is a plan
/// error naming the project, unless the same plan changes that project's lock.
#[test]
fn rules_a_project_locked_on_the_site_controls_are_a_plan_error() {
    let desired = enterprise();
    let mut live = converged(&desired);
    let sales = live.projects.iter().find(|p| p.name == "Sales").unwrap().id.clone();
    let orders = live.datasources.iter().find(|d| d.name == "Orders").unwrap().id.clone();
    live.permissions.insert(orders.clone(), Vec::new());
    live.controlled.insert(orders, sales);
    let p = plan(&desired, &live, &opts());
    assert!(!p.applyable);
    let error = p.errors.iter().find(|e| e.kind == PlanErrorKind::LockedByProject).expect("a lock error");
    assert_eq!(error.address, "permissions:datasource:Sales/Orders");
    assert!(error.message.contains("controlled by project 'Sales'"), "{}", error.message);
    assert!(!p.actions.iter().any(|a| a.id.starts_with("permissions:datasource:Sales/Orders/")));

    // The plan changes Sales' lock: the rules wait for it instead.
    live.projects.iter_mut().find(|p| p.name == "Sales").unwrap().content_permissions =
        Some(ContentPermissions::ManagedByOwner);
    let p = plan(&desired, &live, &opts());
    assert!(p.applyable, "{:?}", p.errors);
    assert!(p.actions.iter().any(|a| a.id.starts_with("permissions:datasource:Sales/Orders/")));
}

/// A `/` inside a project's name is not a level of nesting: a new top-level project named `R/D` gets the default
/// project's rules copied onto it (Tableau help, permissions_projects.htm), not a parent's, and its address writes
/// the slash escaped.
#[test]
fn a_slash_in_a_new_top_level_project_name_is_not_a_parent() {
    let mut desired = empty_desired();
    desired.groups.push(group("Analysts", None));
    let mut top = project("R\\/D");
    top.permissions = Some(vec![viewer_wb("Analysts")]);
    desired.projects.push(top);
    let p = plan(&desired, &Inventory::default(), &opts());
    assert!(p.applyable, "{:?}", p.errors);
    assert!(p.actions.iter().any(|a| a.id == "project:R\\/D"), "{:?}", changed_ids(&p));
    let revoke = by_id(&p, "permissions:project:R\\/D");
    assert!(revoke.reason.contains("copies the default project's permissions"), "{}", revoke.reason);
}

/// Revoking every rule of a grantee is a delete, kept apart from the other actions; it waits for a lock change above
/// it like any other permission change. And when the plan unlocks a project, its own rule changes wait for the
/// unlock: the objects below keep the rules the lock applied at that moment (enterprisetableau.com 2018-02, "Lock
/// Project Permission"), which is what this plan read as their live rules.
#[test]
fn whole_grantee_revokes_and_an_unlocked_projects_own_rules_wait_for_the_unlock() {
    use Capability::*;
    let mut live = converged(&enterprise());
    let mut desired = enterprise();
    desired.projects.iter_mut().find(|p| p.path.to_string() == "Sales").unwrap().content_permissions =
        Some(ContentPermissions::ManagedByOwner);
    let leads = LiveGrantee { kind: GranteeKind::Group, id: id_of("g", "Sales Leads") };
    let orders = live.datasources.iter().find(|d| d.name == "Orders").unwrap().id.clone();
    live.permissions
        .entry(orders)
        .or_default()
        .push(LiveRule { grantee: leads.clone(), capabilities: [(Read, Mode::Allow)].into() });
    let defaults = live.default_permissions.get_mut("p-sales").unwrap().workbooks.as_mut().unwrap();
    defaults.push(LiveRule { grantee: leads, capabilities: [(Filter, Mode::Allow)].into() });
    let p = plan(&desired, &live, &opts());
    assert!(p.applyable, "{:?}", p.errors);
    let unlock = by_id(&p, "project:Sales");
    assert!(unlock.changes.iter().any(|c| c.field == "content_permissions"), "{unlock:?}");
    for id in [
        "permissions:datasource:Sales/Orders/group:Sales Leads",
        "default_permissions:workbooks:project:Sales/group:Sales Leads",
    ] {
        let revoke = by_id(&p, id);
        assert_eq!(revoke.action, Action::Delete, "{revoke:?}");
        assert!(revoke.depends_on.contains(&"project:Sales".to_string()), "{id}: {:?}", revoke.depends_on);
    }
    let waves = p.waves();
    assert_eq!(waves.iter().map(Vec::len).sum::<usize>(), changed_ids(&p).len());
}
