//! From raw files to the resolved [`crate::model::Desired`]: merges the files of a directory manifest, applies
//! the selected environment, substitutes variables, and checks every cross-reference (users, groups, projects),
//! collecting all problems.

mod content;
mod locks;
pub mod permissions;
mod preview;
mod principals;
mod projects;
pub mod schedule;
mod site_settings;
mod subscriptions;
pub mod vars;
mod view_permissions;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::diag::did_you_mean;
use crate::model::{Address, Desired, Grantee, Server, Settings, SiteRole, SiteTarget};
use crate::node::Pos;
use crate::raw::{Located, Problem, RawConnectionOverride, RawFile};
use crate::source::Source;
use vars::Vars;

/// One parsed manifest file.
pub struct FileInput {
    pub raw: RawFile,
    /// The directory holding the file (content paths are relative to it).
    pub dir: PathBuf,
}

/// Everything the resolver needs besides the files.
pub struct Context<'a> {
    pub files: &'a [FileInput],
    /// Display names of the files, by index, then the manifest path itself (for problems of the whole manifest).
    pub names: &'a [String],
    pub root: &'a Path,
    pub env: Option<&'a str>,
    pub environment: &'a BTreeMap<String, String>,
    /// `--var NAME=VALUE` from the command line: above the environment's and the manifest's `vars`.
    pub cli_vars: &'a BTreeMap<String, String>,
    /// Leave `cli_vars` the manifest does not define alone instead of reporting them (an older revision).
    pub ignore_undefined_vars: bool,
    pub source: &'a dyn Source,
    /// False when some file could not be read at all (syntax error, no version): whole-manifest checks such as
    /// "no file defines `site`" are skipped then, as the missing part may be in that file.
    pub complete: bool,
}

impl Context<'_> {
    /// The index in [`Context::names`] of the manifest itself, where problems of the whole manifest point.
    fn whole_manifest(&self) -> usize {
        self.names.len() - 1
    }
}

/// Shared state while resolving: variables, known principals and projects, and the problems found so far.
pub struct Cx<'a> {
    pub vars: Vars<'a>,
    /// The top-level `vars` without the environment's overrides (connection overrides match against these).
    pub base_vars: BTreeMap<String, String>,
    pub problems: Vec<Problem>,
    /// Connection passwords whose `${env:NAME}` is not set: not errors (only `apply` needs them), reported by
    /// `validate` as warnings.
    pub unset_secrets: Vec<Problem>,
    names: &'a [String],
    /// lower-case name -> name as declared.
    users: HashMap<String, String>,
    groups: HashMap<String, String>,
    /// lower-case user name -> the site role the manifest gives them.
    pub user_roles: HashMap<String, crate::model::SiteRole>,
    /// `file:line` of entries plan-time checks may blame (see [`Desired::locations`]).
    pub locations: BTreeMap<String, String>,
    /// Where the manifest sets permissions, for the locked-project check ([`locks::check`]).
    pub permission_sites: Vec<locks::PermissionSite>,
    /// Projects the manifest locks, with where.
    pub locks: HashMap<crate::model::ProjectPath, locks::Lock>,
}

impl Cx<'_> {
    /// Substitute variables, recording a problem on failure.
    pub fn expand(&mut self, text: &Located<String>) -> Option<String> {
        match self.vars.expand(text) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.problems.push(problem);
                None
            }
        }
    }
    pub fn expand_opt(&mut self, text: &Option<Located<String>>) -> Option<String> {
        text.as_ref().and_then(|t| self.expand(t))
    }
    /// `file:line` for "first defined at" notes.
    pub fn at(&self, pos: Pos) -> String {
        let name = self.names.get(pos.file).map(String::as_str).unwrap_or("?");
        format!("{name}:{}", pos.line)
    }
    /// Check a user reference; returns the declared spelling.
    pub fn user(&mut self, name: &Located<String>) -> Option<String> {
        let value = self.expand(name)?;
        if let Some(found) = self.users.get(&value.to_lowercase()) {
            return Some(found.clone());
        }
        let hint = did_you_mean(&value, self.users.values().map(String::as_str))
            .or_else(|| Some("every user named anywhere must be listed under `users:`".into()));
        self.problems.push(name.problem(format!("user `{value}` is not defined under `users:`"), hint));
        None
    }
    /// Records where an owner is named, as `owner:<address>`, for the plan's check of the owner's site role
    /// (help: owner.htm). Not checked here: Tableau keeps a user as owner after a demotion, so a manifest (an export)
    /// may rightly name a Viewer who already owns a project; only setting such an owner is refused, by `plan`.
    pub fn check_owner(&mut self, at: &Located<String>, address: &Address) {
        let location = self.at(at.pos);
        self.locations.insert(Desired::owner_key(address), location);
    }
    pub fn known_grantee(&mut self, grantee: &Grantee, at: &Located<String>) -> bool {
        let (table, name, what) = match grantee {
            Grantee::Group(n) => (&self.groups, n, "group"),
            Grantee::User(n) => (&self.users, n, "user"),
        };
        if table.contains_key(&name.to_lowercase()) {
            return true;
        }
        let hint = did_you_mean(name, table.values().map(String::as_str))
            .or_else(|| Some(format!("define it under `{what}s:`")));
        let message = format!("{what} `{name}` is not defined under `{what}s:`");
        self.problems.push(at.problem(message, hint));
        false
    }
    /// Record `key` as seen at `at`; a second sighting is a duplicate problem.
    pub fn unique(&mut self, seen: &mut HashMap<String, Pos>, key: String, at: &Located<String>, what: &str) -> bool {
        if let Some(first) = seen.get(&key) {
            let first = self.at(*first);
            self.problems.push(at.problem(
                format!("duplicate {what} `{}` (names compare case-insensitively); first defined at {first}", at.value),
                None,
            ));
            return false;
        }
        seen.insert(key, at.pos);
        true
    }
}

/// What [`resolve`] found: the desired state (content files not yet hashed) unless a problem prevents it, every
/// problem, and the connection passwords whose variable is unset (warnings).
pub struct Resolved {
    pub desired: Option<Desired>,
    pub problems: Vec<Problem>,
    pub unset_secrets: Vec<Problem>,
}

/// The resolved desired state (content files not yet hashed) and every problem found.
pub fn resolve(input: &Context<'_>) -> Resolved {
    let mut problems = Vec::new();
    let whole_file = |file: usize, message: String, hint: Option<String>| Problem {
        pos: Pos { file, line: 0, column: 0 },
        field: String::new(),
        message,
        hint,
    };

    // Variables and the selected environment.
    let mut base_vars: BTreeMap<String, String> = BTreeMap::new();
    let mut var_pos: HashMap<String, Pos> = HashMap::new();
    let mut environments: BTreeMap<String, &Located<crate::raw::RawEnvironment>> = BTreeMap::new();
    for file in input.files {
        for (name, value) in file.raw.vars.iter().flatten() {
            if let Some(first) = var_pos.get(name) {
                let first = format!("{}:{}", input.names.get(first.file).map_or("?", |s| s.as_str()), first.line);
                problems.push(value.problem(format!("variable `{name}` is defined twice; first at {first}"), None));
            } else {
                var_pos.insert(name.clone(), value.pos);
                base_vars.insert(name.clone(), value.value.clone());
            }
        }
        for (name, env) in file.raw.environments.iter().flatten() {
            if let Some(first) = environments.get(name) {
                let first =
                    format!("{}:{}", input.names.get(first.pos.file).map_or("?", |s| s.as_str()), first.pos.line);
                problems.push(env.problem(format!("environment `{name}` is defined twice; first at {first}"), None));
            } else {
                environments.insert(name.clone(), env);
            }
        }
    }
    let selected = match input.env {
        None => None,
        Some(name) => match environments.get(name) {
            Some(env) => Some(*env),
            None => {
                let hint = did_you_mean(name, environments.keys().map(String::as_str)).or_else(|| {
                    Some(if environments.is_empty() {
                        "the manifest defines no `environments:`".to_owned()
                    } else {
                        format!("defined environments: {}", environments.keys().cloned().collect::<Vec<_>>().join(", "))
                    })
                });
                problems.push(whole_file(
                    input.whole_manifest(),
                    format!("environment `{name}` (from --env) is not defined"),
                    hint,
                ));
                None
            }
        },
    };
    let mut vars = base_vars.clone();
    if let Some(env) = selected {
        for (name, value) in env.value.vars.iter().flatten() {
            vars.insert(name.clone(), value.value.clone());
        }
    }
    for (name, value) in input.cli_vars {
        if vars.contains_key(name) {
            vars.insert(name.clone(), value.clone());
        } else if input.complete && !input.ignore_undefined_vars {
            // Like an undeclared Terraform variable: a typo in a CI job's `--var` must not pass unnoticed.
            let hint = did_you_mean(name, vars.keys().map(String::as_str))
                .or_else(|| Some(format!("define `{name}` under `vars:` in the manifest")));
            problems.push(whole_file(
                input.files.len(),
                format!("variable `{name}` (from --var) is not defined under `vars:`"),
                hint,
            ));
        }
    }
    let overrides: Vec<&Located<RawConnectionOverride>> =
        selected.map(|env| env.value.connections.iter().flatten().collect()).unwrap_or_default();

    let mut cx = Cx {
        vars: Vars { vars, environment: input.environment },
        base_vars,
        problems,
        unset_secrets: Vec::new(),
        names: input.names,
        users: HashMap::new(),
        groups: HashMap::new(),
        user_roles: HashMap::new(),
        locations: BTreeMap::new(),
        permission_sites: Vec::new(),
        locks: HashMap::new(),
    };

    // Site and settings: at most one file each; `site` is required.
    let mut site = None;
    let mut site_settings = BTreeMap::new();
    let mut settings = Settings::default();
    let mut site_at: Option<Pos> = None;
    let mut settings_at: Option<Pos> = None;
    let mut heir: Option<&Located<String>> = None;
    for file in input.files {
        if let Some(raw_site) = &file.raw.site {
            if let Some(first) = site_at {
                let first = cx.at(first);
                cx.problems.push(raw_site.problem(
                    format!("`site` is defined in more than one file; first at {first}"),
                    Some("define `site` in exactly one file of a directory manifest".into()),
                ));
                continue;
            }
            site_at = Some(raw_site.pos);
            site = resolve_site(&mut cx, raw_site, selected);
            site_settings = site_settings::site_settings(&mut cx, raw_site);
        }
        if let Some(raw) = &file.raw.settings {
            if let Some(first) = settings_at {
                let first = cx.at(first);
                cx.problems
                    .push(raw.problem(format!("`settings` is defined in more than one file; first at {first}"), None));
                continue;
            }
            settings_at = Some(raw.pos);
            settings = Settings {
                prune_groups: raw.value.prune_groups.as_ref().is_some_and(|b| b.value),
                prune_users: raw.value.prune_users.as_ref().is_some_and(|b| b.value),
                max_deletes: raw.value.max_deletes.as_ref().map(|m| m.value),
                reassign_content_to: None,
                prune_subscriptions: raw.value.prune_subscriptions.as_ref().is_some_and(|b| b.value),
                preview: raw.value.preview.as_ref().map(|p| preview::settings(&mut cx, p)),
                prune_webhooks: raw.value.prune_webhooks.as_ref().is_some_and(|b| b.value),
            };
            heir = raw.value.reassign_content_to.as_ref();
        }
    }
    if site_at.is_none() && input.complete {
        cx.problems.push(whole_file(
            input.whole_manifest(),
            "no file defines `site`".into(),
            Some("add `site: { server: local, content_url: NAME }`".into()),
        ));
    }

    let users = principals::users(&mut cx, input.files);
    if let Some(heir) = heir {
        settings.reassign_content_to = cx.user(heir);
        if let Some(role) = settings.reassign_content_to.as_ref().and_then(|h| cx.user_roles.get(&h.to_lowercase()))
            && !role.may_own_projects()
        {
            cx.problems.push(heir.problem(
                format!("`reassign_content_to` names a {} user, who may not own projects", role.as_str()),
                Some(format!(
                    "removed users' projects go to this user; Tableau lets only {} own a project (help: owner.htm)",
                    SiteRole::project_owner_roles()
                )),
            ));
        }
        let at = cx.at(heir.pos);
        cx.locations.insert("settings.reassign_content_to".into(), at);
    }
    let groups = principals::groups(&mut cx, input.files);
    let projects = projects::projects(&mut cx, input.files);
    let (datasources, workbooks) = content::content(&mut cx, input, &projects, &overrides);
    let subscriptions = subscriptions::subscriptions(&mut cx, input, &workbooks);
    let webhooks = webhooks::webhooks(&mut cx, input.files);
    locks::check(&mut cx);

    let (problems, unset_secrets) = (cx.problems, cx.unset_secrets);
    let locations = cx.locations;
    let desired = site.map(|site| Desired {
        site,
        site_settings,
        settings,
        projects,
        groups,
        users,
        datasources,
        workbooks,
        subscriptions,
        webhooks,
        manifest_digest: String::new(),
        locations,
    });
    Resolved { desired, problems, unset_secrets }
}

/// Whether `value` is a site content URL as Tableau allows it: ASCII letters, digits, `-` and `_`, possibly empty
/// (Tableau Server's default site). The rule is tableauserverclient's (`VALID_CONTENT_URL_RE` in
/// `models/site_item.py`). It also makes the name safe as a file name: the embedded site keeps its state in
/// `local/<content_url>.json`, so `../x` or `/etc/x` must never get through.
pub fn valid_content_url(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `value` as a server address copied from the browser (a page, a site path, an API call), if it is one; a base
/// URL (with or without a path prefix behind a proxy) is not.
fn browser_address(value: &str) -> Option<crate::ServerAddress> {
    let has_scheme = value.starts_with("https://") || value.starts_with("http://");
    has_scheme.then(|| crate::ServerAddress::parse(value).ok()).flatten().filter(|address| address.pasted)
}

fn resolve_site(
    cx: &mut Cx<'_>,
    raw: &Located<crate::raw::RawSite>,
    env: Option<&Located<crate::raw::RawEnvironment>>,
) -> Option<SiteTarget> {
    let over = env.and_then(|e| e.value.site.as_ref());
    let pick = |base: &Option<Located<String>>, o: Option<&Option<Located<String>>>| -> Option<Located<String>> {
        o.and_then(|o| o.clone()).or_else(|| base.clone())
    };
    let server = pick(&raw.value.server, over.map(|o| &o.value.server));
    let content_url = over.and_then(|o| o.value.content_url.clone()).unwrap_or_else(|| raw.value.content_url.clone());
    let api_version = pick(&raw.value.api_version, over.map(|o| &o.value.api_version));
    let server = match &server {
        None => Some(Server::Local),
        Some(text) => cx.expand(text).and_then(|value| {
            if value.eq_ignore_ascii_case("local") {
                Some(Server::Local)
            } else if let Some(pasted) = browser_address(&value) {
                let (base, content_url) = (pasted.url, pasted.site.map(|s| format!(" and `content_url: {s}`")));
                let content_url = content_url.unwrap_or_default();
                cx.problems.push(text.problem(
                    format!("server `{value}` is an address from the browser, not the server's base URL"),
                    Some(format!("write `server: {base}`{content_url}")),
                ));
                None
            } else if value.starts_with("https://") || value.starts_with("http://") {
                Some(Server::Url(value.trim_end_matches('/').to_owned()))
            } else {
                cx.problems.push(text.problem(
                    format!("server `{value}` is neither `local` nor an http(s) URL"),
                    Some("e.g. `server: https://10ax.online.tableau.com`".into()),
                ));
                None
            }
        }),
    };
    let content_url = cx.expand(&content_url).and_then(|value| {
        if valid_content_url(&value) {
            Some(value)
        } else {
            cx.problems.push(content_url.problem(
                format!("site content URL `{value}` may contain only ASCII letters, digits, `-` and `_`"),
                Some("the content URL is the site's id in its URLs (`/#/site/NAME/`), e.g. `content_url: acme`".into()),
            ));
            None
        }
    });
    let api_version = match &api_version {
        None => Some(None),
        Some(text) => cx.expand(text).and_then(|v| {
            let ok = v.split('.').count() == 2
                && v.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            if ok {
                Some(Some(v))
            } else {
                cx.problems.push(text.problem(
                    format!("`{v}` is not a REST API version"),
                    Some("write it quoted, e.g. \"3.25\"".into()),
                ));
                None
            }
        }),
    };
    Some(SiteTarget { server: server?, content_url: content_url?, api_version: api_version? })
}

#[cfg(test)]
mod tests {
    use super::browser_address;

    #[test]
    fn browser_addresses_are_told_from_base_urls() {
        let pasted = |host: &str, site: Option<&str>| Some((host.to_owned(), site.map(str::to_owned)));
        let browser_address = |value: &str| browser_address(value).map(|a| (a.url, a.site));
        let cloud = "https://10ax.online.tableau.com";
        assert_eq!(browser_address(&format!("{cloud}/#/site/acme/home")), pasted(cloud, Some("acme")));
        assert_eq!(browser_address(&format!("{cloud}/t/acme/views/Sales/Overview")), pasted(cloud, Some("acme")));
        assert_eq!(browser_address(&format!("{cloud}/api/3.25/auth/signin")), pasted(cloud, None));
        assert_eq!(browser_address(&format!("{cloud}/?ref=home")), pasted(cloud, None));
        assert_eq!(browser_address(cloud), None);
        assert_eq!(browser_address(&format!("{cloud}/")), None);
        assert_eq!(browser_address("https://bi.acme.com/tableau"), None, "a path prefix behind a proxy is a base URL");
        assert_eq!(browser_address("tableau.acme.com"), None);
    }
}
