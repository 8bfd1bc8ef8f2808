//! Builders for desired states and live inventories, shared by the planner, renderer and performance tests (and
//! by [`crate::synthetic::SyntheticSite::desired`]). `converged(&desired)` builds the inventory a successful
//! apply of `desired` leaves behind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use tabops_manifest::model::*;
use tabops_plan::inventory::*;
use tabops_plan::{marker_tag, publish_fingerprint};

pub fn path(text: &str) -> ProjectPath {
    ProjectPath::parse(text)
}

pub fn project(p: &str) -> ProjectSpec {
    ProjectSpec {
        path: path(p),
        description: None,
        content_permissions: None,
        owner: None,
        prune: false,
        protect: false,
        renamed_from: None,
        permissions: None,
        default_permissions: DefaultPermissions::default(),
    }
}

pub fn user(name: &str, role: Option<SiteRole>) -> UserSpec {
    UserSpec {
        name: name.into(),
        site_role: role,
        auth_setting: None,
        identity_provider: None,
        full_name: None,
        email: None,
    }
}

pub fn group(name: &str, members: Option<&[&str]>) -> GroupSpec {
    GroupSpec {
        name: name.into(),
        minimum_site_role: None,
        members: members.map(|m| m.iter().map(|s| s.to_string()).collect()),
        protect: false,
        renamed_from: None,
    }
}

pub fn file(name: &str, sha: &str, size: u64) -> ContentFile {
    let ext = name.rsplit('.').next().unwrap_or("");
    ContentFile {
        path: PathBuf::from(format!("/manifest/content/{name}")),
        display: format!("content/{name}"),
        file_type: FileType::from_extension(ext).expect("known extension"),
        size,
        sha256: sha.repeat(64 / sha.len().max(1)),
        file_sha256: sha.repeat(64 / sha.len().max(1)),
    }
}

pub fn content(kind: ContentKind, name: &str, project: &str, f: ContentFile) -> ContentSpec {
    ContentSpec {
        kind,
        name: name.into(),
        project: path(project),
        file: f,
        description: None,
        tags: None,
        owner: None,
        show_tabs: None,
        hidden_views: BTreeSet::new(),
        connections: vec![],
        permissions: None,
        view_permissions: BTreeMap::new(),
        refresh: Some(vec![]),
        protect: false,
        renamed_from: None,
    }
}

pub fn rule(grantee: Grantee, caps: &[(Capability, Mode)]) -> GranteeRules {
    GranteeRules { grantee, capabilities: caps.iter().copied().collect() }
}

pub fn viewer_wb(group: &str) -> GranteeRules {
    use Capability::*;
    rule(
        Grantee::Group(group.into()),
        &[(Read, Mode::Allow), (Filter, Mode::Allow), (ViewComments, Mode::Allow), (ExportImage, Mode::Allow)],
    )
}

pub fn daily(hour: u8, days: &[Weekday]) -> Schedule {
    Schedule {
        frequency: Frequency::Daily,
        start: TimeOfDay { hour, minute: 0 },
        end: None,
        every: None,
        weekdays: days.iter().copied().collect(),
        month_days: BTreeSet::new(),
    }
}

pub fn weekdays() -> Vec<Weekday> {
    vec![Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday]
}

pub fn empty_desired() -> Desired {
    Desired {
        site: SiteTarget { server: Server::Local, content_url: "acme".into(), api_version: None },
        site_settings: Default::default(),
        settings: Settings::default(),
        projects: vec![],
        groups: vec![],
        users: vec![],
        datasources: vec![],
        workbooks: vec![],
        subscriptions: vec![],
        webhooks: vec![],
        manifest_digest: "d".repeat(64),
        locations: Default::default(),
    }
}

/// A realistic manifest: three users (one reference-only), two groups, a pruning protected project tree, a data
/// source with an embedded connection and a refresh task, a workbook with tags, hidden views and permissions.
pub fn enterprise() -> Desired {
    use Capability::*;
    let mut d = empty_desired();
    d.users = vec![
        UserSpec {
            name: "alice@acme.com".into(),
            site_role: Some(SiteRole::Creator),
            auth_setting: Some(AuthSetting::SAML),
            identity_provider: None,
            full_name: Some("Alice Adams".into()),
            email: Some("alice@acme.com".into()),
        },
        user("bob@acme.com", Some(SiteRole::Viewer)),
        user("carol@acme.com", None),
    ];
    d.groups = vec![
        GroupSpec {
            minimum_site_role: Some(SiteRole::Viewer),
            ..group("Sales Analysts", Some(&["alice@acme.com", "bob@acme.com"]))
        },
        group("Sales Leads", None),
    ];
    let mut sales = project("Sales");
    sales.description = Some("Sales analytics".into());
    sales.content_permissions = Some(ContentPermissions::LockedToProject);
    sales.owner = Some("alice@acme.com".into());
    sales.prune = true;
    sales.protect = true;
    sales.permissions = Some(vec![
        rule(Grantee::Group("Sales Analysts".into()), &[(Read, Mode::Allow)]),
        rule(Grantee::Group("Sales Leads".into()), &[(Read, Mode::Allow), (Write, Mode::Allow)]),
    ]);
    sales.default_permissions.workbooks = Some(vec![viewer_wb("Sales Analysts")]);
    let mut emea = project("Sales/EMEA");
    emea.description = Some("Europe".into());
    let finance = project("Finance");
    d.projects = vec![finance, sales, emea];

    let mut orders = content(ContentKind::Datasource, "Orders", "Sales", file("orders.tdsx", "ab", 2048));
    orders.description = Some("Order lines".into());
    orders.tags = Some(["certified".to_string(), "finance".to_string()].into());
    orders.connections = vec![ConnectionSpec {
        server: Some("db.acme.com".into()),
        port: Some(5432),
        database: Some("sales".into()),
        username: Some("svc_tableau".into()),
        password: Some(Secret::from_env("ORDERS_DB_PASSWORD", "hunter2-planted-secret")),
        embed: true,
    }];
    orders.refresh = Some(vec![RefreshSpec { refresh_type: RefreshType::Full, schedule: daily(6, &weekdays()) }]);
    orders.permissions =
        Some(vec![rule(Grantee::Group("Sales Analysts".into()), &[(Read, Mode::Allow), (Connect, Mode::Allow)])]);
    d.datasources = vec![orders];

    let mut revenue = content(ContentKind::Workbook, "Revenue", "Sales/EMEA", file("revenue.twbx", "cd", 4096));
    revenue.show_tabs = Some(true);
    revenue.tags = Some(["finance".to_string()].into());
    revenue.owner = Some("alice@acme.com".into());
    revenue.hidden_views = ["Scratch".to_string()].into();
    revenue.description = Some("Revenue by region".into());
    revenue.permissions = Some(vec![viewer_wb("Sales Analysts")]);
    let budget = content(ContentKind::Workbook, "Budget", "Finance", file("budget.twb", "ef", 512));
    d.workbooks = vec![budget, revenue];
    d
}

pub fn id_of(prefix: &str, name: &str) -> String {
    format!("{prefix}-{}", name.to_lowercase().replace([' ', '/', '@', '.'], "_"))
}

fn grantee_id(g: &Grantee) -> LiveGrantee {
    match g {
        Grantee::Group(n) => LiveGrantee { kind: GranteeKind::Group, id: id_of("g", n) },
        Grantee::User(n) => LiveGrantee { kind: GranteeKind::User, id: id_of("u", n) },
    }
}

fn live_rules(rules: &[GranteeRules]) -> Vec<LiveRule> {
    rules.iter().map(|r| LiveRule { grantee: grantee_id(&r.grantee), capabilities: r.capabilities.clone() }).collect()
}

/// The site after applying `desired` successfully.
pub fn converged(desired: &Desired) -> Inventory {
    let mut inv = Inventory {
        site: LiveSite { id: "site-1".into(), content_url: "acme".into(), settings: None },
        ..Default::default()
    };
    inv.projects.push(LiveProject {
        id: "p-default".into(),
        name: "default".into(),
        parent_id: None,
        description: None,
        content_permissions: None,
        owner_id: None,
        updated_at: None,
    });
    inv.groups.push(LiveGroup { id: "g-all".into(), name: "All Users".into(), minimum_site_role: None, members: None });
    for u in &desired.users {
        inv.users.push(LiveUser {
            id: id_of("u", &u.name),
            name: u.name.clone(),
            site_role: u.site_role.unwrap_or(SiteRole::Viewer).as_str().into(),
            auth_setting: u.auth_setting.map(|a| a.as_str().to_string()),
            full_name: u.full_name.clone(),
            email: u.email.clone(),
            idp_configuration_id: None,
        });
    }
    for g in &desired.groups {
        inv.groups.push(LiveGroup {
            id: id_of("g", &g.name),
            name: g.name.clone(),
            minimum_site_role: g.minimum_site_role.map(|r| r.as_str().to_string()),
            members: g.members.as_ref().map(|m| m.iter().map(|n| id_of("u", n)).collect()),
        });
    }
    for p in &desired.projects {
        let id = id_of("p", &p.path.to_string());
        inv.projects.push(LiveProject {
            id: id.clone(),
            name: p.path.name().into(),
            parent_id: p.path.parent().map(|pp| id_of("p", &pp.to_string())),
            description: p.description.clone(),
            content_permissions: p.content_permissions,
            owner_id: p.owner.as_ref().map(|o| id_of("u", o)),
            updated_at: Some("2026-01-01T00:00:00Z".into()),
        });
        if let Some(rules) = &p.permissions {
            inv.permissions.insert(id.clone(), live_rules(rules));
        }
        let defaults = LiveDefaultPermissions {
            workbooks: p.default_permissions.workbooks.as_deref().map(live_rules),
            datasources: p.default_permissions.datasources.as_deref().map(live_rules),
        };
        if defaults.workbooks.is_some() || defaults.datasources.is_some() {
            inv.default_permissions.insert(id, defaults);
        }
    }
    for c in desired.datasources.iter().chain(&desired.workbooks) {
        let id = id_of(c.kind.as_str(), &c.address().to_string());
        let mut tags: Vec<String> = c.tags.clone().unwrap_or_default().into_iter().collect();
        tags.push(marker_tag(&publish_fingerprint(c)));
        let item = LiveContent {
            id: id.clone(),
            name: c.name.clone(),
            project_id: id_of("p", &c.project.to_string()),
            description: c.description.clone(),
            owner_id: c.owner.as_ref().map(|o| id_of("u", o)),
            tags,
            show_tabs: if c.kind == ContentKind::Workbook { Some(c.show_tabs.unwrap_or(false)) } else { None },
            updated_at: Some("2026-01-01T00:00:00Z".into()),
            size: Some(c.file.size),
            content_url: None,
            visible_views: None,
            has_extracts: None,
            connections: None,
        };
        match c.kind {
            ContentKind::Workbook => inv.workbooks.push(item),
            ContentKind::Datasource => inv.datasources.push(item),
        }
        if let Some(rules) = &c.permissions {
            inv.permissions.insert(id.clone(), live_rules(rules));
        }
        for (i, r) in c.refresh.iter().flatten().enumerate() {
            inv.refresh_tasks.push(LiveRefreshTask {
                id: format!("t-{id}-{i}"),
                target: TaskTarget { kind: c.kind, id: id.clone() },
                refresh_type: r.refresh_type,
                schedule: Some(r.schedule.clone()),
                schedule_text: r.schedule.to_string(),
            });
        }
    }
    inv
}

/// A live user with only a site role.
pub fn live_user(id: &str, name: &str, site_role: &str) -> LiveUser {
    LiveUser {
        id: id.into(),
        name: name.into(),
        site_role: site_role.into(),
        auth_setting: None,
        full_name: None,
        email: None,
        idp_configuration_id: None,
    }
}

pub fn live_content(id: &str, name: &str, project_id: &str) -> LiveContent {
    LiveContent {
        id: id.into(),
        name: name.into(),
        project_id: project_id.into(),
        description: None,
        owner_id: None,
        tags: vec![],
        show_tabs: None,
        updated_at: None,
        size: Some(100),
        content_url: None,
        visible_views: None,
        has_extracts: None,
        connections: None,
    }
}

pub fn by_id<'p>(plan: &'p tabops_plan::Plan, id: &str) -> &'p tabops_plan::PlannedAction {
    plan.actions.iter().find(|a| a.id == id).unwrap_or_else(|| {
        let ids: Vec<_> = plan.actions.iter().map(|a| (&a.id, a.action)).collect();
        panic!("no action {id}; actions: {ids:?}")
    })
}

pub fn changed_ids(plan: &tabops_plan::Plan) -> Vec<String> {
    plan.changes().map(|a| format!("{} {}", a.action.glyph(), a.id)).collect()
}
