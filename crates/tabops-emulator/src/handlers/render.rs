//! XML renderings of the site's entities and their filter/sort fields.

use crate::query::{Field, Queryable};
use crate::store::{Content, Datasource, Group, Job, Project, State, Task, User, View, Workbook};
use crate::xml::Elem;

fn text(value: &str) -> Option<Field> {
    Some(Field::Text(value.to_owned()))
}

pub fn project(state: &State, p: &Project) -> Elem {
    Elem::new("project")
        .attr("id", &p.id)
        .attr("name", &p.name)
        .attr("description", &p.description)
        .attr("contentPermissions", &p.content_permissions)
        .opt_attr("parentProjectId", p.parent_id.as_ref())
        .attr("topLevelProject", p.parent_id.is_none())
        .attr("writeable", true)
        .attr("createdAt", &p.created_at)
        .attr("updatedAt", &p.updated_at)
        .child(owner(state, &p.owner_id))
}

fn owner(state: &State, id: &str) -> Elem {
    Elem::new("owner").attr("id", id).opt_attr("name", state.user_name(id))
}

pub struct ProjectRow<'a>(pub &'a State, pub &'a Project);

impl Queryable for ProjectRow<'_> {
    fn field(&self, name: &str) -> Option<Field> {
        let p = self.1;
        match name {
            "name" => text(&p.name),
            "parentProjectId" => text(p.parent_id.as_deref().unwrap_or("")),
            "topLevelProject" => text(if p.parent_id.is_none() { "true" } else { "false" }),
            "createdAt" => text(&p.created_at),
            "updatedAt" => text(&p.updated_at),
            "ownerName" => text(self.0.user_name(&p.owner_id).unwrap_or("")),
            "ownerEmail" | "ownerDomain" => text(""),
            _ => None,
        }
    }
}

fn content_attrs(elem: Elem, c: &Content) -> Elem {
    elem.attr("id", &c.id)
        .attr("name", &c.name)
        .attr("description", &c.description)
        .attr("contentUrl", &c.content_url)
        .attr("size", c.size.div_ceil(1024 * 1024).max(1))
        .attr("createdAt", &c.created_at)
        .attr("updatedAt", &c.updated_at)
        .attr("hasExtracts", c.has_extracts)
}

fn content_children(state: &State, elem: Elem, c: &Content) -> Elem {
    let project_name = state.project(&c.project_id).map(|p| p.name.as_str()).unwrap_or("");
    elem.child(Elem::new("project").attr("id", &c.project_id).attr("name", project_name))
        .child(owner(state, &c.owner_id))
        .child(Elem::new("tags").children(c.tags.iter().map(|t| Elem::new("tag").attr("label", t))))
}

pub fn view(v: &View, workbook_id: Option<&str>) -> Elem {
    Elem::new("view")
        .attr("id", &v.id)
        .attr("name", &v.name)
        .attr("contentUrl", &v.content_url)
        .attr("sheetType", &v.sheet_type)
        .opt_child(workbook_id.map(|id| Elem::new("workbook").attr("id", id)))
}

pub fn workbook(state: &State, w: &Workbook, with_views: bool) -> Elem {
    let default_view = w.views.iter().find(|v| !v.hidden).map(|v| v.id.as_str());
    let elem = content_attrs(Elem::new("workbook"), &w.content)
        .attr("webpageUrl", format!("http://localhost/#/site/{}/workbooks/{}", state.site.content_url, w.content.id))
        .attr("showTabs", w.show_tabs)
        .attr("sheetCount", w.views.iter().filter(|v| !v.hidden).count())
        .opt_attr("defaultViewId", default_view);
    let elem = content_children(state, elem, &w.content);
    if with_views {
        elem.child(Elem::new("views").children(w.views.iter().filter(|v| !v.hidden).map(|v| view(v, None))))
    } else {
        elem
    }
}

pub fn datasource(state: &State, d: &Datasource) -> Elem {
    let elem = content_attrs(Elem::new("datasource"), &d.content)
        .attr("type", &d.ds_type)
        .attr("isCertified", d.is_certified)
        .opt_attr("certificationNote", d.certification_note.as_ref())
        .opt_attr("encryptExtracts", d.encrypt_extracts.as_ref())
        .attr("useRemoteQueryAgent", d.use_remote_query_agent)
        .attr("webpageUrl", format!("http://localhost/#/site/{}/datasources/{}", state.site.content_url, d.content.id));
    content_children(state, elem, &d.content)
}

pub struct ContentRow<'a> {
    pub state: &'a State,
    pub content: &'a Content,
    pub kind_type: &'a str,
    /// Position in the state's list of workbooks or data sources (whichever the row is).
    pub index: usize,
}

impl Queryable for ContentRow<'_> {
    fn field(&self, name: &str) -> Option<Field> {
        let c = self.content;
        match name {
            "name" => text(&c.name),
            "contentUrl" => text(&c.content_url),
            "createdAt" => text(&c.created_at),
            "updatedAt" => text(&c.updated_at),
            "projectName" => text(self.state.project(&c.project_id).map(|p| p.name.as_str()).unwrap_or("")),
            "projectId" => text(&c.project_id),
            "ownerName" => text(self.state.user_name(&c.owner_id).unwrap_or("")),
            "ownerEmail" | "ownerDomain" => text(""),
            "tags" => Some(Field::List(c.tags.clone())),
            "size" => text(&c.size.to_string()),
            "hasExtracts" => text(if c.has_extracts { "true" } else { "false" }),
            "type" => text(self.kind_type),
            _ => None,
        }
    }
}

pub fn user(u: &User) -> Elem {
    Elem::new("user")
        .attr("id", &u.id)
        .attr("name", &u.name)
        .opt_attr("fullName", u.full_name.as_ref())
        .opt_attr("email", u.email.as_ref())
        .attr("siteRole", &u.site_role)
        .attr("authSetting", &u.auth_setting)
        .opt_attr("lastLogin", u.last_login.as_ref())
        .opt_attr("idpConfigurationId", u.idp_configuration_id.as_ref())
        .attr("externalAuthUserId", "")
        .child(Elem::new("domain").attr("name", "local"))
}

impl Queryable for User {
    fn field(&self, name: &str) -> Option<Field> {
        match name {
            "name" => text(&self.name),
            "siteRole" => text(&self.site_role),
            "email" => text(self.email.as_deref().unwrap_or("")),
            "friendlyName" => text(self.full_name.as_deref().unwrap_or("")),
            "luid" => text(&self.id),
            "lastLogin" => text(self.last_login.as_deref().unwrap_or("")),
            "domainName" => text("local"),
            "isLocal" => text("true"),
            _ => None,
        }
    }
}

/// A group as Tableau answers it: the minimum site role is not an attribute of `<group>` but the `siteRole` of an
/// `<import domainName=… siteRole=… grantLicenseMode=…/>` child, for local groups too (TSC `models/group_item.py`:
/// "Import element is returned for both local and AD groups"; TSC asset `group_update.xml`). A local group's
/// license is granted when a member signs in, so its mode is `onLogin`. A group without a minimum role has no
/// `import` child (TSC asset `group_get.xml`).
pub fn group(g: &Group) -> Elem {
    let mut elem = Elem::new("group")
        .attr("id", &g.id)
        .attr("name", &g.name)
        .attr("userCount", g.members.len())
        .child(Elem::new("domain").attr("name", "local"));
    if let Some(role) = &g.minimum_site_role {
        elem = elem.child(
            Elem::new("import").attr("domainName", "local").attr("siteRole", role).attr("grantLicenseMode", "onLogin"),
        );
    }
    elem
}

impl Queryable for Group {
    fn field(&self, name: &str) -> Option<Field> {
        match name {
            "name" => text(&self.name),
            "luid" => text(&self.id),
            "userCount" => text(&self.members.len().to_string()),
            "minimumSiteRole" => text(self.minimum_site_role.as_deref().unwrap_or("")),
            "domainName" | "domainNickname" => text("local"),
            "isLocal" => text("true"),
            _ => None,
        }
    }
}

pub fn job(j: &Job) -> Elem {
    let done = j.completed_at.is_some();
    let target = j.target.as_ref().map(|(kind, id, name)| {
        let notes = j.notes.as_ref().map(|n| Elem::new("notes").text(n));
        Elem::new("extractRefreshJob")
            .child(Elem::new(kind.element()).attr("id", id).attr("name", name))
            .opt_child(notes)
    });
    Elem::new("job")
        .attr("id", &j.id)
        .attr("mode", "Asynchronous")
        .attr("type", &j.job_type)
        .attr("progress", if done { 100 } else { 0 })
        .attr("createdAt", &j.created_at)
        .attr("startedAt", &j.created_at)
        .opt_attr("completedAt", j.completed_at.as_ref())
        .opt_attr("finishCode", done.then_some(j.finish_code))
        .opt_child(target.filter(|_| j.job_type == "RefreshExtract"))
}

/// A job's `status` as the job list shows it and its `status` filter matches it (TSC `BackgroundJobItem.Status`:
/// Pending, InProgress, Success, Failed, Cancelled; finishCode 0 success, 1 failure, 2 cancelled).
fn job_status(j: &Job) -> &'static str {
    match (&j.completed_at, j.finish_code) {
        (None, _) => "InProgress",
        (Some(_), 0) => "Success",
        (Some(_), 2) => "Cancelled",
        _ => "Failed",
    }
}

pub fn background_job(j: &Job) -> Elem {
    Elem::new("backgroundJob")
        .attr("id", &j.id)
        .attr("status", job_status(j))
        .attr("createdAt", &j.created_at)
        .attr("startedAt", &j.created_at)
        .opt_attr("endedAt", j.completed_at.as_ref())
        .attr("priority", 50)
        .attr("jobType", &j.job_type)
}

impl Queryable for Job {
    fn field(&self, name: &str) -> Option<Field> {
        match name {
            "jobType" => text(&self.job_type),
            "createdAt" | "startedAt" => text(&self.created_at),
            "completedAt" => text(self.completed_at.as_deref().unwrap_or("")),
            "status" => text(job_status(self)),
            "progress" => text(if self.completed_at.is_some() { "100" } else { "0" }),
            "priority" => text("50"),
            _ => None,
        }
    }
}

/// The task as list/get responses show it: schedule nested inside `extractRefresh`.
/// The type name a task carries when listed or read: the repository's task type, `RefreshExtractTask` for a full
/// refresh (TSC assets `tasks_with_*.xml`, TSC `task_item.py` `_TASK_TYPE_MAPPING`) and `IncrementExtractTask`
/// for an incremental one (inferred: the repository's `tasks.type` values, which list responses expose, as used by
/// Tableau Online clients such as keboola's extract trigger). Create and update responses use the request names
/// `FullRefresh`/`IncrementalRefresh` instead (TSC asset `tasks_create_extract_task.xml`).
pub fn listed_task_type(refresh_type: &str) -> &'static str {
    if refresh_type == "IncrementalRefresh" { "IncrementExtractTask" } else { "RefreshExtractTask" }
}

pub fn task(t: &Task) -> Elem {
    Elem::new("task").child(
        Elem::new("extractRefresh")
            .attr("id", &t.id)
            .attr("priority", t.priority)
            .attr("consecutiveFailedCount", 0)
            .attr("type", listed_task_type(&t.refresh_type))
            .child(t.schedule.to_elem())
            .child(Elem::new(t.target_kind.element()).attr("id", &t.target_id)),
    )
}

/// The task as create/update responses show it: `extractRefresh` and `schedule` siblings.
pub fn task_siblings(t: &Task) -> Vec<Elem> {
    vec![
        Elem::new("extractRefresh")
            .attr("id", &t.id)
            .attr("type", &t.refresh_type)
            .child(Elem::new(t.target_kind.element()).attr("id", &t.target_id)),
        t.schedule.to_elem().attr("createdAt", &t.created_at).attr("updatedAt", crate::store::now()),
    ]
}
