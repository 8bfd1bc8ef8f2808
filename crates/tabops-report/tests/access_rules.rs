//! The tricky cases of Tableau's permission evaluation, pinned by a table written by hand from the documentation
//! (help.tableau.com permission_effective.htm "Evaluate permission rules", permission_license_siterole.htm,
//! permissions_project_lock.htm; see docs/reports.md), over a small site built by hand.
//!
//! The site: `Open` (managed by owner, owned by the administrator) with the workbook `Report` (owned by Olga) and
//! the data source `Orders` (owned by Cara); `Top` (locked to the project, nested projects too, owned by Pete) with
//! `Top/Nested` and the workbook `Locked Book` in it (owned by Olga; `Nested` is the administrator's). Under the lock, the server answers the
//! nested project's and the workbook's permissions with the locking project's rules and names it as `<parent>`
//! (the `controlled` entries below).

use std::collections::BTreeMap;

use tabops_manifest::model::{Capability, ContentPermissions, Mode};
use tabops_plan::inventory::{GranteeKind, Inventory, LiveGrantee, LiveGroup, LiveProject, LiveRule};
use tabops_report::access::{AccessFilter, Effect, Reason, evaluate};
use tabops_testkit::model::{live_content, live_user};

use Capability::*;
use Mode::{Allow, Deny};

fn rule(kind: GranteeKind, id: &str, caps: &[(Capability, Mode)]) -> LiveRule {
    LiveRule {
        grantee: LiveGrantee { kind, id: id.into() },
        capabilities: caps.iter().copied().collect::<BTreeMap<_, _>>(),
    }
}

fn group(id: &str, caps: &[(Capability, Mode)]) -> LiveRule {
    rule(GranteeKind::Group, id, caps)
}

fn user(id: &str, caps: &[(Capability, Mode)]) -> LiveRule {
    rule(GranteeKind::User, id, caps)
}

fn project(id: &str, name: &str, parent: Option<&str>, lock: ContentPermissions, owner: &str) -> LiveProject {
    LiveProject {
        id: id.into(),
        name: name.into(),
        parent_id: parent.map(Into::into),
        description: None,
        content_permissions: Some(lock),
        owner_id: Some(owner.into()),
        updated_at: None,
    }
}

fn site() -> Inventory {
    let users = [
        ("admin", "SiteAdministratorCreator"),
        ("vera", "Viewer"),
        ("ed", "Explorer"),
        ("cara", "Creator"),
        ("olga", "Creator"),
        ("leo", "ExplorerCanPublish"),
        ("pete", "Creator"),
        ("una", "Unlicensed"),
    ];
    let all: Vec<String> = users.iter().map(|(id, _)| (*id).to_owned()).collect();
    let groups = [
        ("all", "All Users", all),
        ("analysts", "Analysts", vec!["ed".into(), "cara".into(), "vera".into()]),
        ("contractors", "Contractors", vec!["cara".into(), "vera".into()]),
    ];
    let mut inventory = Inventory {
        users: users.iter().map(|(id, role)| live_user(id, &format!("{id}@acme.com"), role)).collect(),
        groups: groups
            .into_iter()
            .map(|(id, name, members)| LiveGroup {
                id: id.into(),
                name: name.into(),
                minimum_site_role: None,
                members: Some(members),
            })
            .collect(),
        projects: vec![
            project("open", "Open", None, ContentPermissions::ManagedByOwner, "admin"),
            project("top", "Top", None, ContentPermissions::LockedToProject, "pete"),
            project("nested", "Nested", Some("top"), ContentPermissions::ManagedByOwner, "admin"),
        ],
        ..Default::default()
    };
    let mut report = live_content("report", "Report", "open");
    report.owner_id = Some("olga".into());
    let mut locked = live_content("locked", "Locked Book", "nested");
    locked.owner_id = Some("olga".into());
    let mut orders = live_content("orders", "Orders", "open");
    orders.owner_id = Some("cara".into());
    inventory.workbooks = vec![report, locked];
    inventory.datasources = vec![orders];

    let top_rules = vec![group("analysts", &[(Read, Allow)]), user("leo", &[(Read, Allow), (ProjectLeader, Allow)])];
    let permissions = [
        (
            "open",
            vec![
                group("analysts", &[(Read, Allow), (Write, Allow)]),
                group("contractors", &[(Read, Deny)]),
                user("cara", &[(Read, Allow)]),
                user("ed", &[(ProjectLeader, Allow)]),
            ],
        ),
        ("top", top_rules.clone()),
        ("nested", top_rules),
        (
            "report",
            vec![
                group("analysts", &[(Read, Allow), (ExportData, Allow), (ViewUnderlyingData, Allow), (Write, Allow)]),
                group("contractors", &[(ExportData, Deny)]),
                group("all", &[(Read, Allow)]),
                user("cara", &[(ExportData, Allow)]),
                user("ed", &[(ViewUnderlyingData, Deny)]),
            ],
        ),
        ("locked", vec![group("analysts", &[(Read, Allow), (ChangePermissions, Allow)])]),
        ("orders", vec![group("analysts", &[(Read, Allow), (Connect, Allow)])]),
    ];
    inventory.permissions = permissions.into_iter().map(|(id, rules)| (id.to_owned(), rules)).collect();
    inventory.controlled = [("nested", "top"), ("locked", "top")]
        .into_iter()
        .map(|(object, locker)| (object.to_owned(), locker.to_owned()))
        .collect();
    inventory
}

fn groups(mode: Mode, names: &[&str]) -> Reason {
    Reason::GroupRule { mode, groups: names.iter().map(|n| (*n).to_owned()).collect() }
}

fn role(site_role: &str) -> Reason {
    Reason::SiteRole { site_role: site_role.to_owned() }
}

#[test]
fn the_tricky_cases_decide_as_tableau_documents() {
    let report = evaluate(&site(), &AccessFilter::default()).unwrap();
    let find = |user: &str, object: &str, capability: Capability| {
        let user = format!("{user}@acme.com");
        report.rows.iter().find(|r| r.user == user && r.object == object && r.capability == capability)
    };
    let report_wb = "workbook:Open/Report";
    let locked_wb = "workbook:Top/Nested/Locked Book";
    // (user, object, capability, effect, the step that decided), each written from the documented order.
    let table: Vec<(&str, &str, Capability, Effect, Reason)> = vec![
        // A user's own Allow beats a Deny on one of their groups...
        ("cara", report_wb, ExportData, Effect::Allowed, Reason::UserRule { mode: Allow }),
        ("cara", "project:Open", Read, Effect::Allowed, Reason::UserRule { mode: Allow }),
        // ...and a user's own Deny beats an Allow on one of their groups.
        ("ed", report_wb, ViewUnderlyingData, Effect::Denied, Reason::UserRule { mode: Deny }),
        // Between groups, a Deny beats an Allow.
        ("vera", "project:Open", Read, Effect::Denied, groups(Deny, &["Contractors"])),
        ("vera", report_wb, ExportData, Effect::Denied, groups(Deny, &["Contractors"])),
        ("ed", "project:Open", Read, Effect::Allowed, groups(Allow, &["Analysts"])),
        ("vera", report_wb, Read, Effect::Allowed, groups(Allow, &["All Users", "Analysts"])),
        // A Viewer in a group with a Publisher rule: the site role takes away what the role cannot have.
        ("vera", report_wb, Write, Effect::Denied, role("Viewer")),
        ("vera", report_wb, ViewUnderlyingData, Effect::Denied, role("Viewer")),
        ("vera", "project:Open", Write, Effect::Denied, role("Viewer")),
        // An Explorer cannot lead a project, whatever the rule says.
        ("ed", "project:Open", ProjectLeader, Effect::Denied, role("Explorer")),
        ("una", report_wb, Read, Effect::Denied, role("Unlicensed")),
        // Locked parent, nested project: the nested project carries the parent's rules, so Leo leads both.
        ("leo", "project:Top/Nested", Write, Effect::Allowed, Reason::ProjectLeader { project: "Top/Nested".into() }),
        ("leo", locked_wb, Delete, Effect::Allowed, Reason::ProjectLeader { project: "Top/Nested".into() }),
        ("leo", "project:Top", ProjectLeader, Effect::Allowed, Reason::ProjectLeader { project: "Top".into() }),
        // The content owner keeps everything but setting permissions under the lock; so does any rule.
        ("olga", locked_wb, Write, Effect::Allowed, Reason::ContentOwner),
        ("olga", locked_wb, ChangePermissions, Effect::Denied, Reason::LockedProject { project: "Top".into() }),
        ("cara", locked_wb, ChangePermissions, Effect::Denied, Reason::LockedProject { project: "Top".into() }),
        ("olga", report_wb, ChangePermissions, Effect::Allowed, Reason::ContentOwner),
        // The owner of the locking project may set permissions anywhere below it.
        ("pete", locked_wb, ChangePermissions, Effect::Allowed, Reason::ProjectOwner { project: "Top".into() }),
        ("pete", "project:Top/Nested", Write, Effect::Allowed, Reason::ProjectOwner { project: "Top".into() }),
        // Site administrators: everything.
        ("admin", locked_wb, Delete, Effect::Allowed, Reason::SiteAdministrator),
        ("admin", "datasource:Open/Orders", ChangePermissions, Effect::Allowed, Reason::SiteAdministrator),
        // The data source's owner owns it; an Explorer connects through the group rule.
        ("cara", "datasource:Open/Orders", Delete, Effect::Allowed, Reason::ContentOwner),
        ("ed", "datasource:Open/Orders", Connect, Effect::Allowed, groups(Allow, &["Analysts"])),
        ("vera", "datasource:Open/Orders", Connect, Effect::Denied, role("Viewer")),
    ];
    let mut wrong = Vec::new();
    for (user, object, capability, effect, reason) in table {
        match find(user, object, capability) {
            Some(row) if row.effect == effect && row.reason == reason => {}
            found => wrong.push(format!(
                "{user} {object} {capability:?}: expected {effect:?} by {reason}, got {:?}",
                found.map(|r| (r.effect, r.reason.to_string()))
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // A capability no rule or scenario gives is denied and not listed.
    assert!(find("leo", "datasource:Open/Orders", Read).is_none());
    assert!(find("ed", report_wb, Delete).is_none());
    // The locking project is named on the rows of the objects it controls, and only there.
    assert_eq!(find("olga", locked_wb, Write).unwrap().rules_from.as_deref(), Some("Top"));
    assert_eq!(find("olga", report_wb, Write).unwrap().rules_from, None);
}

#[test]
fn who_can_see_an_item_lists_exactly_the_users_allowed_to_read_it() {
    let filter =
        AccessFilter { item: Some("workbook:Open/Report".into()), capability: Some(Read), ..Default::default() };
    let report = evaluate(&site(), &filter).unwrap();
    let allowed: Vec<&str> =
        report.rows.iter().filter(|r| r.effect == Effect::Allowed).map(|r| r.user.as_str()).collect();
    assert_eq!(
        allowed,
        // Leo and Pete read it through All Users' rule.
        [
            "admin@acme.com",
            "cara@acme.com",
            "ed@acme.com",
            "leo@acme.com",
            "olga@acme.com",
            "pete@acme.com",
            "vera@acme.com"
        ],
        "{:#?}",
        report.rows
    );
    let denied: Vec<&str> =
        report.rows.iter().filter(|r| r.effect == Effect::Denied).map(|r| r.user.as_str()).collect();
    assert_eq!(denied, ["una@acme.com"]);
    assert_eq!(report.objects, 1);
}

#[test]
fn what_a_user_can_do_lists_only_that_user_and_the_filters_name_what_the_site_lacks() {
    let filter = AccessFilter { users: vec!["LEO@acme.com".into()], ..Default::default() };
    let report = evaluate(&site(), &filter).unwrap();
    assert!(report.rows.iter().all(|r| r.user == "leo@acme.com"));
    let objects: std::collections::BTreeSet<&str> = report.rows.iter().map(|r| r.object.as_str()).collect();
    assert_eq!(
        objects.into_iter().collect::<Vec<_>>(),
        ["project:Top", "project:Top/Nested", "workbook:Open/Report", "workbook:Top/Nested/Locked Book"]
    );

    let by_group =
        evaluate(&site(), &AccessFilter { groups: vec!["contractors".into()], ..Default::default() }).unwrap();
    let users: std::collections::BTreeSet<&str> = by_group.rows.iter().map(|r| r.user.as_str()).collect();
    assert_eq!(users.into_iter().collect::<Vec<_>>(), ["cara@acme.com", "vera@acme.com"]);

    let in_top = evaluate(
        &site(),
        &AccessFilter { project: Some(tabops_manifest::model::ProjectPath::parse("Top")), ..Default::default() },
    )
    .unwrap();
    assert!(in_top.rows.iter().all(|r| r.object.contains(":Top")), "{:#?}", in_top.rows);
    assert_eq!(in_top.objects, 3);

    for (filter, message) in [
        (AccessFilter { users: vec!["nobody".into()], ..Default::default() }, "the site has no user 'nobody'"),
        (AccessFilter { groups: vec!["Nobody".into()], ..Default::default() }, "the site has no group 'Nobody'"),
        (
            AccessFilter { item: Some("workbook:Open/Gone".into()), ..Default::default() },
            "no item 'workbook:Open/Gone'",
        ),
        (
            AccessFilter { project: Some(tabops_manifest::model::ProjectPath::parse("Gone")), ..Default::default() },
            "the site has no project 'Gone'",
        ),
    ] {
        let err = evaluate(&site(), &filter).unwrap_err();
        assert!(err.to_string().contains(message), "{err}");
        assert!(err.hint().is_some());
    }
}
