//! Turning the site snapshot into manifest documents: one file per top-level project, `people.yaml` with the
//! groups and every user the other files name, `site.yaml`.
//!
//! Everything is expressed the way the planner compares it, so a plan of the export against the same site has
//! nothing to do: explicit permission sets (a template only when a rule equals it exactly), exact group
//! memberships, tags without tabops' markers, hidden views as the sheets the site does not show. What the manifest
//! cannot express (a `ProjectLeader: Deny`, a schedule Tableau Cloud would not accept) is left out with a warning.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use tabops_manifest::model::{
    Address, AuthSetting, Capability, ContentKind, ContentPermissions, Every, Frequency, Mode, MonthDay,
    PermissionTarget, RefreshType, Schedule, SiteRole,
};
use tabops_manifest::templates::{TEMPLATES, template};
use tabops_manifest::write::{
    ConnectionDoc, ContentDoc, DefaultsDoc, EveryDoc, GroupDoc, Lit, MonthDayDoc, PeopleFile, ProjectDoc, ProjectFile,
    RefreshDoc, RuleDoc, ScheduleDoc, SubscriptionDoc, UserDoc,
};
use tabops_plan::inventory::{Inventory, LiveContent, LiveGroup, LiveProject, LiveRefreshTask, LiveUser};
use tabops_plan::marker::is_marker;
use tabops_tableau as api;

use crate::content::{UniqueNames, manifest_reference, slug};
use crate::site::{Details, Tree};

/// The group every site has; exported only when a permission rule names it, and never with members.
pub const ALL_USERS: &str = "All Users";

/// A downloaded content file.
pub struct Downloaded {
    /// Relative to the export directory (`content/Sales/Orders.tdsx`).
    pub relative: PathBuf,
    /// Workbooks: the sheets in the file, when it could be read.
    pub sheets: Option<Vec<String>>,
}

/// What the builder reads: the site's lists and the exported objects' details, and what is exported.
pub struct Inputs<'a> {
    pub inventory: &'a Inventory,
    pub details: &'a Details,
    pub tree: &'a Tree<'a>,
    /// Projects exported in full.
    pub full: &'a BTreeSet<String>,
    /// Ancestors of exported subtrees, written with their names only.
    pub ancestors: &'a BTreeSet<String>,
    pub downloads: &'a HashMap<String, Downloaded>,
    pub with_permissions: bool,
    pub with_refresh: bool,
    /// Subscriptions to the exported workbooks (`inventory.subscriptions`, read when asked for).
    pub with_subscriptions: bool,
    /// Limited to some projects (`--project`): groups and users only where the exported projects reference them.
    /// Otherwise every group and every user is exported.
    pub scoped: bool,
}

/// The built documents.
pub struct Built {
    pub people: PeopleFile,
    /// `projects/<slug>.yaml` file name and document.
    pub projects: Vec<(String, ProjectFile)>,
    pub warnings: Vec<String>,
    /// Addresses of items with connections that need `password: ${env:...}` added.
    pub needs_password: Vec<String>,
    pub refresh_tasks: usize,
    /// Ids of the groups the exported projects and items name in a permission rule.
    pub referenced_groups: BTreeSet<String>,
    /// Groups and users not exported because no exported object references them (only when `scoped`), by name.
    pub left_out_groups: Vec<String>,
    pub left_out_users: Vec<String>,
}

struct Builder<'a> {
    inputs: &'a Inputs<'a>,
    users: HashMap<&'a str, &'a LiveUser>,
    groups: HashMap<&'a str, &'a LiveGroup>,
    referenced_users: BTreeSet<&'a str>,
    referenced_groups: BTreeSet<&'a str>,
    left_out_groups: Vec<String>,
    left_out_users: Vec<String>,
    all_users_referenced: bool,
    warnings: Vec<String>,
    needs_password: Vec<String>,
    refresh_tasks: usize,
}

/// Builds every document from what was read.
pub fn build(inputs: &Inputs<'_>) -> Built {
    let inventory = inputs.inventory;
    let mut b = Builder {
        inputs,
        users: inventory.users.iter().map(|u| (u.id.as_str(), u)).collect(),
        groups: inventory.groups.iter().map(|g| (g.id.as_str(), g)).collect(),
        referenced_users: BTreeSet::new(),
        referenced_groups: BTreeSet::new(),
        left_out_groups: Vec::new(),
        left_out_users: Vec::new(),
        all_users_referenced: false,
        warnings: Vec::new(),
        needs_password: Vec::new(),
        refresh_tasks: 0,
    };
    let mut names = UniqueNames::default();
    let mut projects = Vec::new();
    for root in inputs.tree.children_of(None) {
        let root_id = root.id.as_str();
        if !inputs.full.contains(root_id) && !inputs.ancestors.contains(root_id) {
            continue;
        }
        let Some(doc) = b.project(root) else { continue };
        let (mut datasources, mut workbooks) = (Vec::new(), Vec::new());
        for d in &inventory.datasources {
            if b.in_tree(&d.project_id, root_id) {
                datasources.push(b.content(ContentKind::Datasource, d));
            }
        }
        let mut subscriptions = Vec::new();
        for w in &inventory.workbooks {
            if b.in_tree(&w.project_id, root_id) {
                let doc = b.content(ContentKind::Workbook, w);
                if let Some((address, doc)) = &doc
                    && inputs.with_subscriptions
                {
                    subscriptions.extend(b.subscriptions(w, address, doc));
                }
                workbooks.push(doc);
            }
        }
        let mut datasources: Vec<(String, ContentDoc)> = datasources.into_iter().flatten().collect();
        let mut workbooks: Vec<(String, ContentDoc)> = workbooks.into_iter().flatten().collect();
        datasources.sort_by(|a, b| a.0.cmp(&b.0));
        workbooks.sort_by(|a, b| a.0.cmp(&b.0));
        let file = names.claim("projects", &slug(&root.name), ".yaml");
        projects.push((
            file,
            ProjectFile {
                version: 1,
                projects: vec![doc],
                datasources: datasources.into_iter().map(|(_, d)| d).collect(),
                workbooks: workbooks.into_iter().map(|(_, d)| d).collect(),
                subscriptions: {
                    subscriptions.sort_by(|a, b| a.0.cmp(&b.0));
                    subscriptions.into_iter().map(|(_, d)| d).collect()
                },
            },
        ));
    }
    let people = b.people();
    // Deterministic output: the builder visits items in the server's list order.
    let mut warnings = b.warnings;
    warnings.sort();
    warnings.dedup();
    let mut needs_password = b.needs_password;
    needs_password.sort_by_cached_key(|a| a.to_lowercase());
    needs_password.dedup();
    Built {
        people,
        projects,
        warnings,
        needs_password,
        refresh_tasks: b.refresh_tasks,
        referenced_groups: b.referenced_groups.iter().map(|id| (*id).to_owned()).collect(),
        left_out_groups: b.left_out_groups,
        left_out_users: b.left_out_users,
    }
}

fn non_empty(text: Option<&str>) -> Option<Lit> {
    text.filter(|t| !t.is_empty()).map(Lit::new)
}

impl<'a> Builder<'a> {
    fn in_tree(&self, project: &str, root: &str) -> bool {
        self.inputs.full.contains(project) && self.inputs.tree.root_of(project) == root
    }

    fn user_name(&mut self, id: Option<&str>, subject: &str, role: &str) -> Option<Lit> {
        let id = id.filter(|i| !i.is_empty())?;
        match self.users.get(id) {
            Some(user) => {
                self.referenced_users.insert(user.id.as_str());
                Some(Lit::new(user.name.clone()))
            }
            None => {
                self.warnings.push(format!("{subject}: {role} {id} is not a user of the site; left out"));
                None
            }
        }
    }

    fn project(&mut self, project: &'a LiveProject) -> Option<ProjectDoc> {
        let inputs = self.inputs;
        let id = project.id.as_str();
        let full = inputs.full.contains(id);
        if !full && !inputs.ancestors.contains(id) {
            return None;
        }
        let children: Vec<ProjectDoc> =
            inputs.tree.children_of(Some(id)).iter().filter_map(|child| self.project(child)).collect();
        if !full {
            return Some(ProjectDoc {
                name: Lit::new(project.name.clone()),
                description: None,
                content_permissions: None,
                owner: None,
                permissions: None,
                default_permissions: DefaultsDoc::default(),
                projects: children,
            });
        }
        let address = Address::project(&inputs.tree.path(id)).to_string();
        let owner = self.user_name(project.owner_id.as_deref(), &address, "owner");
        let (permissions, default_permissions) = if inputs.with_permissions && !inputs.tree.locked_over(id, false) {
            let explicit =
                inputs.details.permissions.get(id).map(|rows| self.rules(rows, PermissionTarget::Project, &address));
            let defaults = DefaultsDoc {
                workbooks: inputs.details.defaults.get(&(id.to_owned(), ContentKind::Workbook)).map(|rows| {
                    self.rules(rows, PermissionTarget::Workbook, &format!("{address} (default workbooks)"))
                }),
                datasources: inputs.details.defaults.get(&(id.to_owned(), ContentKind::Datasource)).map(|rows| {
                    self.rules(rows, PermissionTarget::Datasource, &format!("{address} (default data sources)"))
                }),
            };
            (explicit, defaults)
        } else {
            (None, DefaultsDoc::default())
        };
        Some(ProjectDoc {
            name: Lit::new(project.name.clone()),
            description: non_empty(project.description.as_deref()),
            content_permissions: project.content_permissions.map(ContentPermissions::as_str),
            owner,
            permissions,
            default_permissions,
            projects: children,
        })
    }

    /// Live rules as manifest rules, groups first, each by name.
    fn rules(&mut self, rows: &'a [api::GranteeCapabilities], target: PermissionTarget, subject: &str) -> Vec<RuleDoc> {
        let mut out: Vec<((u8, String), RuleDoc)> = Vec::new();
        for row in rows {
            let (group, user) = match row.grantee.kind {
                api::GranteeKind::Group => match self.groups.get(row.grantee.id.as_str()) {
                    Some(g) => {
                        self.referenced_groups.insert(g.id.as_str());
                        if g.name.eq_ignore_ascii_case(ALL_USERS) {
                            self.all_users_referenced = true;
                        }
                        (Some(g.name.clone()), None)
                    }
                    None => {
                        self.warnings
                            .push(format!("{subject}: a rule for unknown group {} is left out", row.grantee.id));
                        continue;
                    }
                },
                api::GranteeKind::User => match self.users.get(row.grantee.id.as_str()) {
                    Some(u) => {
                        self.referenced_users.insert(u.id.as_str());
                        (None, Some(u.name.clone()))
                    }
                    None => {
                        self.warnings
                            .push(format!("{subject}: a rule for unknown user {} is left out", row.grantee.id));
                        continue;
                    }
                },
                api::GranteeKind::GroupSet => {
                    self.warnings.push(format!(
                        "{subject}: a rule for group set {} is left out (the manifest has no group sets)",
                        row.grantee.id
                    ));
                    continue;
                }
            };
            let mut capabilities: BTreeMap<Capability, Mode> = BTreeMap::new();
            for c in &row.capabilities {
                let mode = match c.mode {
                    api::CapabilityMode::Allow => Mode::Allow,
                    api::CapabilityMode::Deny => Mode::Deny,
                };
                match Capability::parse(&c.name) {
                    Some(Capability::ProjectLeader) if mode == Mode::Deny => self
                        .warnings
                        .push(format!("{subject}: `ProjectLeader: Deny` cannot be written in a manifest; left out")),
                    Some(cap) if cap.valid_for(target) => {
                        capabilities.insert(cap, mode);
                    }
                    _ => self
                        .warnings
                        .push(format!("{subject}: capability `{}` is not managed by tabops; left out", c.name)),
                }
            }
            if capabilities.is_empty() {
                continue;
            }
            let template = TEMPLATES.into_iter().find(|t| template(t, target).as_ref() == Some(&capabilities));
            let key = match (&group, &user) {
                (Some(g), _) => (0, g.to_lowercase()),
                (_, Some(u)) => (1, u.to_lowercase()),
                _ => (2, String::new()),
            };
            let capabilities =
                template.is_none().then(|| capabilities.iter().map(|(c, m)| (c.as_str(), m.as_str())).collect());
            out.push((key, RuleDoc { group: group.map(Lit), user: user.map(Lit), template, capabilities }));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.into_iter().map(|(_, rule)| rule).collect()
    }

    fn content(&mut self, kind: ContentKind, item: &'a LiveContent) -> Option<(String, ContentDoc)> {
        let inputs = self.inputs;
        let project_id = item.project_id.as_str();
        let path = inputs.tree.path(project_id);
        let address = inputs.tree.index.content_address(kind, item).to_string();
        let Some(download) = inputs.downloads.get(&item.id) else {
            self.warnings.push(format!("{address}: no content file was downloaded; left out"));
            return None;
        };
        let hidden_views = match (&download.sheets, kind) {
            (Some(sheets), ContentKind::Workbook) => {
                let visible: BTreeSet<String> =
                    item.visible_views.iter().flatten().map(|name| name.to_lowercase()).collect();
                let mut seen = BTreeSet::new();
                sheets
                    .iter()
                    .filter(|s| !visible.contains(&s.to_lowercase()) && seen.insert(s.to_lowercase()))
                    .map(|s| Lit::new(s.clone()))
                    .collect()
            }
            _ => Vec::new(),
        };
        let mut tags: BTreeMap<String, &String> = BTreeMap::new();
        for tag in item.tags.iter().filter(|t| !is_marker(t)) {
            tags.entry(tag.to_lowercase()).or_insert(tag);
        }
        let owner = self.user_name(item.owner_id.as_deref(), &address, "owner");
        let connections: Vec<ConnectionDoc> = inputs
            .details
            .connections
            .get(&item.id)
            .map(|list| list.iter().filter_map(connection).collect())
            .unwrap_or_default();
        if connections.iter().any(|c| c.username.is_some()) {
            self.needs_password.push(address.clone());
        }
        let target = match kind {
            ContentKind::Workbook => PermissionTarget::Workbook,
            ContentKind::Datasource => PermissionTarget::Datasource,
        };
        let permissions = if inputs.with_permissions && !inputs.tree.locked_over(project_id, true) {
            inputs.details.permissions.get(&item.id).map(|rows| self.rules(rows, target, &address))
        } else {
            None
        };
        let mut view_permissions = BTreeMap::new();
        let untabbed = kind == ContentKind::Workbook && item.show_tabs == Some(false);
        if untabbed && inputs.with_permissions && !inputs.tree.locked_over(project_id, true) {
            for (sheet, view_id) in inputs.details.views.get(&item.id).into_iter().flatten() {
                let Some(rows) = inputs.details.permissions.get(view_id).filter(|r| !r.is_empty()) else { continue };
                let subject = format!("view:{}/{}", address.trim_start_matches("workbook:"), sheet);
                view_permissions.insert(Lit::new(sheet.clone()), self.rules(rows, PermissionTarget::View, &subject));
            }
        }
        let refresh = self.refresh(kind, &item.id, &address);
        let doc = ContentDoc {
            name: Lit::new(item.name.clone()),
            project: path.segments().iter().map(|s| Lit::new(s.clone())).collect(),
            file: Lit::new(manifest_reference(&download.relative)),
            description: non_empty(item.description.as_deref()),
            show_tabs: item.show_tabs.filter(|_| kind == ContentKind::Workbook),
            hidden_views,
            tags: tags.into_values().map(|t| Lit::new(t.clone())).collect(),
            owner,
            connections,
            permissions,
            view_permissions,
            refresh,
        };
        Some((address.to_lowercase(), doc))
    }

    /// The subscriptions to an exported workbook and its views, keyed for a stable order; those whose schedule the
    /// manifest cannot express, or whose subscriber is unknown, are left out with a warning.
    fn subscriptions(&mut self, w: &LiveContent, address: &str, doc: &ContentDoc) -> Vec<(String, SubscriptionDoc)> {
        let inventory = self.inputs.inventory;
        let mut out = Vec::new();
        for s in inventory.subscriptions.iter().flatten().filter(|s| s.workbook_id.as_deref() == Some(w.id.as_str())) {
            let what = format!("{address}: subscription {}", s.id);
            let Some(schedule) = s.schedule.as_ref() else {
                self.warnings.push(format!("{what} has a schedule the manifest cannot express; left out"));
                continue;
            };
            if let Err(why) = expressible(schedule) {
                self.warnings.push(format!("{what} is left out: {why}"));
                continue;
            }
            let Some(user) = self.user_name(s.user_id.as_deref(), &what, "subscriber") else { continue };
            let mut attach = Vec::new();
            if s.attach_image {
                attach.push("image");
            }
            if s.attach_pdf {
                attach.push("pdf");
            }
            if attach.is_empty() {
                self.warnings.push(format!("{what} attaches nothing; left out"));
                continue;
            }
            let orientation = s
                .page_orientation
                .as_deref()
                .and_then(tabops_manifest::model::PageOrientation::parse)
                .filter(|_| s.attach_pdf)
                .map(|o| match o {
                    tabops_manifest::model::PageOrientation::Portrait => "portrait",
                    tabops_manifest::model::PageOrientation::Landscape => "landscape",
                });
            let size = s.page_size.as_deref().filter(|_| s.attach_pdf).and_then(|size| {
                tabops_manifest::model::PAGE_SIZES.iter().find(|p| p.eq_ignore_ascii_case(size)).map(|p| Lit::new(*p))
            });
            let key = format!("{}\u{0}{}\u{0}{}", s.view.as_deref().unwrap_or(""), user.0.to_lowercase(), s.id);
            out.push((
                key,
                SubscriptionDoc {
                    subject: Lit::new(s.subject.clone()),
                    user,
                    project: doc.project.clone(),
                    workbook: doc.name.clone(),
                    view: s.view.clone().map(Lit::new),
                    message: non_empty(s.message.as_deref()),
                    attach,
                    page_orientation: orientation,
                    page_size: size,
                    send_if_empty: (!s.send_if_empty).then_some(false),
                    suspended: s.suspended,
                    schedule: schedule_doc(schedule),
                },
            ));
        }
        out
    }

    fn refresh(&mut self, kind: ContentKind, id: &str, address: &str) -> Vec<RefreshDoc> {
        let tasks: Vec<&LiveRefreshTask> =
            self.inputs.inventory.refresh_tasks.iter().filter(|t| t.target.kind == kind && t.target.id == id).collect();
        if tasks.is_empty() {
            return Vec::new();
        }
        if !self.inputs.with_refresh {
            self.warnings.push(format!(
                "{address}: {} extract-refresh task(s) not exported (pass --with-refresh); without a `refresh:` key \
                 a plan of this manifest leaves them alone (listed as unmanaged)",
                tasks.len()
            ));
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut left_out = Vec::new();
        for task in tasks {
            match task.schedule.as_ref().map(|s| (s, expressible(s))) {
                Some((s, Ok(()))) => out.push((refresh_doc(task.refresh_type, s), s.to_string())),
                Some((_, Err(why))) => left_out.push(format!("{address}: refresh task {} is left out: {why}", task.id)),
                None => left_out
                    .push(format!("{address}: refresh task {} has a schedule the manifest cannot express", task.id)),
            }
        }
        // An item whose every task is left out gets no `refresh:` key, and a plan leaves its tasks alone; a listed
        // `refresh:` is the item's whole set, so a task missing from it is deleted.
        let outcome = if out.is_empty() {
            "without a `refresh:` key a plan of this manifest leaves it alone"
        } else {
            "a plan of this manifest would delete it"
        };
        self.warnings.extend(left_out.into_iter().map(|w| format!("{w}; {outcome}")));
        out.sort_by(|a, b| a.1.cmp(&b.1));
        self.refresh_tasks += out.len();
        out.into_iter().map(|(doc, _)| doc).collect()
    }

    fn people(&mut self) -> PeopleFile {
        let inputs = self.inputs;
        // All Users (every site has it) only where a rule names it; under `--project`, only the groups a rule of
        // the exported projects names.
        let mut groups: Vec<&LiveGroup> = Vec::new();
        for group in &inputs.inventory.groups {
            let all_users = group.name.eq_ignore_ascii_case(ALL_USERS);
            if all_users && !self.all_users_referenced {
                continue;
            }
            if inputs.scoped && !self.referenced_groups.contains(group.id.as_str()) {
                self.left_out_groups.push(group.name.clone());
                continue;
            }
            groups.push(group);
        }
        self.left_out_groups.sort_by_cached_key(|n| n.to_lowercase());
        groups.sort_by_cached_key(|g| g.name.to_lowercase());
        let mut group_docs = Vec::new();
        for group in groups {
            let all_users = group.name.eq_ignore_ascii_case(ALL_USERS);
            let members = (!all_users).then(|| {
                let mut names: Vec<&'a LiveUser> = Vec::new();
                for id in inputs.details.members.get(&group.id).into_iter().flatten() {
                    match self.users.get(id.as_str()) {
                        Some(user) => names.push(user),
                        None => self.warnings.push(format!(
                            "group:{}: member {id} is not in the site's user list; left out",
                            group.name
                        )),
                    }
                }
                names.sort_by_cached_key(|u| u.name.to_lowercase());
                for user in &names {
                    self.referenced_users.insert(user.id.as_str());
                }
                names.into_iter().map(|u| Lit::new(u.name.clone())).collect()
            });
            group_docs.push(GroupDoc {
                name: Lit::new(group.name.clone()),
                minimum_site_role: (!all_users)
                    .then(|| group.minimum_site_role.as_deref().and_then(SiteRole::parse).map(SiteRole::as_str))
                    .flatten(),
                members,
            });
        }
        // Every user of the site, so that a plan of a whole-site export manages them all (a user nobody references
        // is still a licence and a sign-in); under `--project`, only the users the exported projects reference.
        let mut users: Vec<&LiveUser> = if inputs.scoped {
            let mut left_out: Vec<String> = inputs
                .inventory
                .users
                .iter()
                .filter(|u| !self.referenced_users.contains(u.id.as_str()))
                .map(|u| u.name.clone())
                .collect();
            left_out.sort_by_cached_key(|n| n.to_lowercase());
            self.left_out_users = left_out;
            self.referenced_users.iter().filter_map(|id| self.users.get(id).copied()).collect()
        } else {
            inputs.inventory.users.iter().collect()
        };
        users.sort_by_cached_key(|u| u.name.to_lowercase());
        let mut user_docs = Vec::new();
        for user in users {
            let site_role = SiteRole::parse(&user.site_role);
            if site_role.is_none() {
                self.warnings.push(format!(
                    "user:{}: site role {:?} is not a Tableau Cloud role; exported as a reference only",
                    user.name, user.site_role
                ));
            }
            user_docs.push(UserDoc {
                name: Lit::new(user.name.clone()),
                site_role: site_role.map(SiteRole::as_str),
                auth_setting: user.auth_setting.as_deref().and_then(AuthSetting::parse).map(AuthSetting::as_str),
                full_name: non_empty(user.full_name.as_deref()),
                email: non_empty(user.email.as_deref()),
            });
        }
        PeopleFile { version: 1, users: user_docs, groups: group_docs }
    }
}

/// A connection without a password; connections through a published data source carry no credentials of their
/// own and are left out.
fn connection(c: &api::Connection) -> Option<ConnectionDoc> {
    if c.datasource_id.is_some() {
        return None;
    }
    let server = c.server_address.as_deref().filter(|s| !s.is_empty())?;
    Some(ConnectionDoc {
        server: Some(Lit::new(server)),
        port: c.server_port.as_deref().and_then(|p| p.parse().ok()),
        username: non_empty(c.user_name.as_deref()),
        embed: c.embed_password.unwrap_or(false),
    })
}

/// Whether the manifest accepts the schedule (Tableau Cloud's rules, as the loader checks them).
fn expressible(s: &Schedule) -> Result<(), String> {
    let on_boundary = |t: tabops_manifest::model::TimeOfDay| t.minute.is_multiple_of(5);
    if !on_boundary(s.start) || s.end.is_some_and(|e| !on_boundary(e)) {
        return Err("its times are not on a 5-minute boundary".into());
    }
    match s.frequency {
        Frequency::Hourly => {
            if s.end.is_none_or(|end| end <= s.start) {
                return Err("its hourly window does not end after it starts".into());
            }
            if s.end.is_some_and(|end| end.minute != s.start.minute) {
                return Err("its hourly window ends on another minute of the hour than it starts".into());
            }
            let every_ok = match s.every {
                None => true,
                Some(Every::Hours(h)) => matches!(h, 1 | 2 | 4 | 6 | 8 | 12),
                Some(Every::Minutes(m)) => matches!(m, 15 | 30),
            };
            if !every_ok {
                return Err("its interval is not one Tableau Cloud offers".into());
            }
            if s.weekdays.is_empty() {
                return Err("it runs on no weekday".into());
            }
        }
        Frequency::Daily if s.every.is_some() => {
            let every_ok = matches!(s.every, Some(Every::Hours(2 | 4 | 6 | 8 | 12)));
            if !every_ok {
                return Err("its interval is not one Tableau Cloud offers for a daily schedule".into());
            }
            if s.end.is_none_or(|end| end <= s.start || end.minute != s.start.minute) {
                return Err("its daily window does not end after it starts on the same minute".into());
            }
            if s.weekdays.is_empty() {
                return Err("it runs on no weekday".into());
            }
        }
        Frequency::Daily | Frequency::Weekly if s.weekdays.is_empty() => return Err("it runs on no weekday".into()),
        Frequency::Monthly if s.month_days.len() > 7 => {
            return Err("it runs on more than 7 days of the month".into());
        }
        Frequency::Monthly if s.month_days.is_empty() => return Err("it runs on no day of the month".into()),
        _ => {}
    }
    Ok(())
}

fn refresh_doc(refresh_type: RefreshType, s: &Schedule) -> RefreshDoc {
    let refresh_type = match refresh_type {
        RefreshType::Full => "full",
        RefreshType::Incremental => "incremental",
    };
    RefreshDoc { refresh_type, schedule: schedule_doc(s) }
}

/// A schedule in the manifest's words, for refresh tasks and subscriptions alike.
fn schedule_doc(s: &Schedule) -> ScheduleDoc {
    // Hourly schedules, and Daily ones that repeat every N hours, carry a window and an interval.
    let hourly = s.frequency == Frequency::Hourly || (s.frequency == Frequency::Daily && s.every.is_some());
    ScheduleDoc {
        frequency: match s.frequency {
            Frequency::Hourly => "hourly",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        },
        at: s.start.to_string(),
        until: s.end.filter(|_| hourly).map(|e| e.to_string()),
        every: s.every.filter(|_| hourly).map(|e| match e {
            Every::Hours(h) => EveryDoc::Hours(h),
            Every::Minutes(m) => EveryDoc::Text(format!("{m}m")),
        }),
        weekdays: if s.frequency == Frequency::Monthly {
            Vec::new()
        } else {
            s.weekdays.iter().map(|d| d.as_str().get(..3).unwrap_or(d.as_str())).collect()
        },
        month_days: s
            .month_days
            .iter()
            .map(|d| match d {
                MonthDay::Day(n) => MonthDayDoc::Day(*n),
                MonthDay::LastDay => MonthDayDoc::Last("last"),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live_content(id: &str, name: &str, project: &str, visible_views: Option<Vec<String>>) -> LiveContent {
        LiveContent {
            id: id.into(),
            name: name.into(),
            project_id: project.into(),
            description: None,
            owner_id: None,
            tags: Vec::new(),
            show_tabs: Some(true),
            updated_at: None,
            size: None,
            content_url: None,
            visible_views,
            has_extracts: None,
            connections: None,
        }
    }

    fn rule(kind: api::GranteeKind, id: &str, capabilities: &[&str]) -> api::GranteeCapabilities {
        api::GranteeCapabilities {
            grantee: api::Grantee { kind, id: id.into() },
            capabilities: capabilities
                .iter()
                .map(|name| api::Capability { name: (*name).into(), mode: api::CapabilityMode::Allow })
                .collect(),
        }
    }

    /// Export reads permission rows and connections as the server answered them, not in the planner's vocabulary
    /// (which drops group sets and unknown capabilities and keeps no published-data-source link): what the manifest
    /// cannot express is warned about, a connection through a published data source is left out, and the hidden
    /// views are the sheets of the file that the inventory's visible views do not name.
    #[test]
    fn what_the_planners_vocabulary_drops_is_warned_about_or_left_out() {
        let inventory = Inventory {
            projects: vec![LiveProject {
                id: "p".into(),
                name: "Sales".into(),
                parent_id: None,
                description: None,
                content_permissions: None,
                owner_id: None,
                updated_at: None,
            }],
            groups: vec![LiveGroup { id: "g".into(), name: "Analysts".into(), minimum_site_role: None, members: None }],
            workbooks: vec![live_content("w", "Rev/enue", "p", Some(vec!["overview".into()]))],
            ..Default::default()
        };
        let mut details = Details::default();
        details.permissions.insert(
            "w".into(),
            vec![
                rule(api::GranteeKind::GroupSet, "gs", &["Read"]),
                rule(api::GranteeKind::Group, "g", &["Read", "SomeFutureCapability"]),
            ],
        );
        details.connections.insert(
            "w".into(),
            vec![
                api::Connection {
                    id: "c1".into(),
                    server_address: Some("published.example".into()),
                    datasource_id: Some("d".into()),
                    ..Default::default()
                },
                api::Connection {
                    id: "c2".into(),
                    server_address: Some("db.acme.com".into()),
                    user_name: Some("etl".into()),
                    ..Default::default()
                },
            ],
        );
        let tree = Tree::new(&inventory);
        let full: BTreeSet<String> = ["p".to_owned()].into();
        let downloads: HashMap<String, Downloaded> = [(
            "w".to_owned(),
            Downloaded {
                relative: "content/Sales/Rev_enue.twb".into(),
                sheets: Some(vec!["Overview".into(), "Scratch".into()]),
            },
        )]
        .into();
        let built = build(&Inputs {
            inventory: &inventory,
            details: &details,
            tree: &tree,
            full: &full,
            ancestors: &BTreeSet::new(),
            downloads: &downloads,
            with_permissions: true,
            with_refresh: false,
            with_subscriptions: false,
            scoped: false,
        });
        // The address is the planner's (LiveIndex::content_address), `/` in a name escaped.
        let address = "workbook:Sales/Rev\\/enue";
        assert!(
            built
                .warnings
                .contains(&format!("{address}: a rule for group set gs is left out (the manifest has no group sets)")),
            "{:?}",
            built.warnings
        );
        assert!(
            built
                .warnings
                .contains(&format!("{address}: capability `SomeFutureCapability` is not managed by tabops; left out")),
            "{:?}",
            built.warnings
        );
        assert_eq!(built.needs_password, vec![address.to_owned()]);
        let workbook = &built.projects[0].1.workbooks[0];
        let servers: Vec<&str> =
            workbook.connections.iter().filter_map(|c| c.server.as_ref()).map(|s| s.0.as_str()).collect();
        assert_eq!(servers, vec!["db.acme.com"]);
        let hidden: Vec<&str> = workbook.hidden_views.iter().map(|v| v.0.as_str()).collect();
        assert_eq!(hidden, vec!["Scratch"]);
        let rules = workbook.permissions.as_ref().expect("permissions exported");
        assert_eq!(rules.len(), 1, "only the group's rule is written");
    }

    #[test]
    fn rules_that_equal_a_template_are_written_as_it() {
        let viewer = template("Viewer", PermissionTarget::Workbook).unwrap();
        assert_eq!(
            TEMPLATES.into_iter().find(|t| template(t, PermissionTarget::Workbook).as_ref() == Some(&viewer)),
            Some("Viewer")
        );
        let read_only: BTreeMap<Capability, Mode> = [(Capability::Read, Mode::Allow)].into();
        let found = TEMPLATES.into_iter().find(|t| template(t, PermissionTarget::Project).as_ref() == Some(&read_only));
        assert_eq!(found, Some("Viewer"));
        assert!(template("ProjectLeader", PermissionTarget::Workbook).is_none());
        let denied = template("Denied", PermissionTarget::Datasource).unwrap();
        assert!(denied.values().all(|m| *m == Mode::Deny) && denied.len() == 8);
    }

    #[test]
    fn schedules_outside_cloud_rules_are_not_expressible() {
        use tabops_manifest::model::{TimeOfDay, Weekday};
        let base = Schedule {
            frequency: Frequency::Daily,
            start: TimeOfDay { hour: 6, minute: 0 },
            end: None,
            every: None,
            weekdays: [Weekday::Monday].into(),
            month_days: BTreeSet::new(),
        };
        assert!(expressible(&base).is_ok());
        assert!(expressible(&Schedule { start: TimeOfDay { hour: 6, minute: 3 }, ..base.clone() }).is_err());
        assert!(expressible(&Schedule { weekdays: BTreeSet::new(), ..base.clone() }).is_err());
        let hourly = Schedule { frequency: Frequency::Hourly, every: Some(Every::Hours(4)), ..base.clone() };
        assert!(expressible(&hourly).is_err(), "hourly needs an end");
        let doc =
            refresh_doc(RefreshType::Incremental, &Schedule { end: Some(TimeOfDay { hour: 22, minute: 0 }), ..hourly });
        assert_eq!(
            (doc.refresh_type, doc.schedule.frequency, doc.schedule.at.as_str()),
            ("incremental", "hourly", "06:00")
        );
        assert_eq!(doc.schedule.until.as_deref(), Some("22:00"));
        assert_eq!(doc.schedule.weekdays, vec!["Mon"]);
    }
}
