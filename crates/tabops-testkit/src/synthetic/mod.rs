//! The seeded synthetic site: a reproducible description of a large Tableau Cloud site, written both as a tabops
//! manifest (with small content files) and as the emulator's state file, so a benchmark or a test starts from a
//! populated site that already matches the manifest (a plan against it is a no-op) without thousands of publishes.
//! The same scale and seed always give the same bytes (`tabops-bench generate` writes exactly this).

mod desired;
pub mod fixture;
mod manifest;
mod state;

use std::path::{Path, PathBuf};

use crate::rng::Rng;

pub use manifest::{WEEKDAYS, refresh_slot};
pub use state::StateError;

/// How big the synthetic site is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Scale {
    pub projects: usize,
    /// Deepest project nesting (1 = top level only).
    pub max_depth: usize,
    pub workbooks: usize,
    pub datasources: usize,
    pub users: usize,
    pub groups: usize,
    pub members_per_group: usize,
    /// Extract-refresh tasks (on the first data sources).
    pub refresh_tasks: usize,
}

impl Scale {
    /// The scale S: 500 projects up to 4 deep, 10,000 workbooks, 2,000 data sources, 2,000 users,
    /// 300 groups of 50 members, 1,000 refresh tasks, permissions on every project.
    pub const DEFAULT: Scale = Scale {
        projects: 500,
        max_depth: 4,
        workbooks: 10_000,
        datasources: 2_000,
        users: 2_000,
        groups: 300,
        members_per_group: 50,
        refresh_tasks: 1_000,
    };

    /// S multiplied by `factor` (each count at least 1; members and tasks bounded by users and data sources).
    pub fn scaled(factor: f64) -> Scale {
        let s = Scale::DEFAULT;
        let f = |n: usize| ((n as f64 * factor).round() as usize).max(1);
        let users = f(s.users).max(2);
        let datasources = f(s.datasources);
        Scale {
            projects: f(s.projects),
            max_depth: s.max_depth,
            workbooks: f(s.workbooks),
            datasources,
            users,
            groups: f(s.groups).max(2),
            members_per_group: s.members_per_group.min(users),
            refresh_tasks: f(s.refresh_tasks).min(datasources),
        }
    }
}

/// One generated project.
#[derive(Debug, Clone)]
pub struct GenProject {
    pub id: String,
    pub name: String,
    pub parent: Option<usize>,
    pub depth: usize,
    /// Indexes of the groups granted `Viewer` and `Publisher` on it.
    pub viewer_group: usize,
    pub publisher_group: usize,
}

/// One generated workbook or data source.
#[derive(Debug, Clone)]
pub struct GenContent {
    pub id: String,
    pub name: String,
    pub project: usize,
    /// Path of its content file, relative to the manifest root.
    pub file: String,
    pub team: usize,
}

#[derive(Debug, Clone)]
pub struct GenUser {
    pub id: String,
    pub name: String,
    pub site_role: &'static str,
}

#[derive(Debug, Clone)]
pub struct GenGroup {
    pub id: String,
    pub name: String,
    pub members: Vec<usize>,
}

/// The whole synthetic site, before it is written anywhere.
#[derive(Debug, Clone)]
pub struct SyntheticSite {
    pub seed: u64,
    pub scale: Scale,
    pub site_id: String,
    pub admin_id: String,
    pub default_project_id: String,
    pub projects: Vec<GenProject>,
    pub users: Vec<GenUser>,
    pub groups: Vec<GenGroup>,
    pub workbooks: Vec<GenContent>,
    pub datasources: Vec<GenContent>,
    /// Ids of the refresh tasks, one per data source `0..refresh_tasks`.
    pub task_ids: Vec<String>,
}

/// Site content URL of the synthetic site (the emulator's default site).
pub const SITE: &str = tabops_emulator::DEFAULT_SITE;

const ROLES: [&str; 3] = ["Viewer", "Explorer", "Creator"];

impl SyntheticSite {
    /// The site for `scale` and `seed`; the same inputs always give the same site.
    pub fn new(scale: Scale, seed: u64) -> SyntheticSite {
        let mut rng = Rng::new(seed);
        let site_id = rng.luid();
        let admin_id = rng.luid();
        let default_project_id = rng.luid();
        let users: Vec<GenUser> = (0..scale.users)
            .map(|i| GenUser { id: rng.luid(), name: format!("user{i:05}@bench.example"), site_role: ROLES[i % 3] })
            .collect();
        let groups: Vec<GenGroup> = (0..scale.groups)
            .map(|g| {
                // 41 is coprime with every user count that is not a multiple of 41, so members are distinct;
                // dedup guards the other counts.
                let mut members: Vec<usize> =
                    (0..scale.members_per_group).map(|k| (g * 37 + k * 41) % scale.users).collect();
                members.sort_unstable();
                members.dedup();
                GenGroup { id: rng.luid(), name: format!("Group {g:03}"), members }
            })
            .collect();
        let top_level = (scale.projects / 20).max(1);
        let mut projects: Vec<GenProject> = Vec::with_capacity(scale.projects);
        for i in 0..scale.projects {
            let parent = if i < top_level {
                None
            } else {
                let candidates: Vec<usize> = (0..i).filter(|&p| projects[p].depth < scale.max_depth).collect();
                candidates.get(rng.below(candidates.len())).copied()
            };
            let depth = parent.map_or(1, |p| projects[p].depth + 1);
            let viewer_group = rng.below(scale.groups);
            let publisher_group = (viewer_group + 1 + rng.below(scale.groups - 1)) % scale.groups;
            projects.push(GenProject {
                id: rng.luid(),
                name: format!("Project {i:03}"),
                parent,
                depth,
                viewer_group,
                publisher_group,
            });
        }
        let mut content = |count: usize, label: &str, dir: &str, ext: &str| -> Vec<GenContent> {
            (0..count)
                .map(|i| GenContent {
                    id: rng.luid(),
                    name: format!("{label} {i:05}"),
                    project: rng.below(scale.projects),
                    file: format!("content/{dir}/{i:05}.{ext}"),
                    team: i % 10,
                })
                .collect()
        };
        let workbooks = content(scale.workbooks, "Workbook", "wb", "twb");
        let datasources = content(scale.datasources, "Datasource", "ds", "tds");
        let task_ids = (0..scale.refresh_tasks).map(|_| rng.luid()).collect();
        SyntheticSite {
            seed,
            scale,
            site_id,
            admin_id,
            default_project_id,
            projects,
            users,
            groups,
            workbooks,
            datasources,
            task_ids,
        }
    }

    /// `Parent/Child/...` path of project `index`.
    pub fn project_path(&self, index: usize) -> String {
        let mut names = Vec::new();
        let mut at = Some(index);
        while let Some(i) = at {
            names.push(self.projects[i].name.as_str());
            at = self.projects[i].parent;
        }
        names.reverse();
        names.join("/")
    }
}

/// Where a generated site was written.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The manifest directory (pass it as `-f`).
    pub manifest_dir: PathBuf,
    /// The emulator state file (pass it as `EmulatorConfig::state_file`).
    pub state_file: PathBuf,
    /// Total bytes of content files.
    pub content_bytes: u64,
}

/// Writes `site` under `out`: `out/manifest/` and `out/state/acme.json`.
pub fn write(site: &SyntheticSite, out: &Path) -> Result<Generated, StateError> {
    let manifest_dir = out.join("manifest");
    let content_bytes = manifest::write(site, &manifest_dir)?;
    let state_file = out.join("state").join(format!("{SITE}.json"));
    state::write(site, &manifest_dir, &state_file)?;
    Ok(Generated { manifest_dir, state_file, content_bytes })
}

/// The body of a workbook content file (a small but valid `.twb`); `revision` changes its bytes.
pub fn workbook_file(name: &str, revision: u32) -> String {
    format!(
        "<?xml version='1.0' encoding='utf-8' ?>\n<workbook version='18.1'><!-- {name} r{revision} -->\
         <datasources><datasource name='ds'><connection class='postgres' server='db.bench.example' port='5432' \
         username='svc'/></datasource></datasources><worksheets><worksheet name='Sheet 1'/></worksheets></workbook>\n"
    )
}

/// The body of a data source content file (a small `.tds` with an extract: data sources carry the refresh tasks,
/// and Tableau refuses refreshes of content without an extract, 409090).
pub fn datasource_file(name: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='utf-8' ?>\n<datasource version='18.1'><!-- {name} -->\
         <connection class='postgres' server='db.bench.example' port='5432' username='svc'/>\
         <extract enabled='true'/></datasource>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scale_is_s_and_nesting_is_bounded() {
        let site = SyntheticSite::new(Scale::scaled(0.1), 42);
        assert_eq!(site.projects.len(), 50);
        assert!(site.projects.iter().all(|p| p.depth <= 4));
        assert!(site.projects.iter().any(|p| p.depth == 4));
        assert!(site.projects.iter().all(|p| p.viewer_group != p.publisher_group));
        assert!(site.groups.iter().all(|g| g.members.len() == 50));
        assert_eq!(Scale::scaled(1.0), Scale::DEFAULT);
        let again = SyntheticSite::new(Scale::scaled(0.1), 42);
        assert_eq!(site.workbooks[7].id, again.workbooks[7].id);
        assert_eq!(site.project_path(49).split('/').count(), site.projects[49].depth);
    }
}
