//! The synthetic site as the planner's input, built in memory: the users, groups, project tree and content that
//! [`super::write`] puts in the manifest, without touching the disk (each content file gets a made-up digest), for
//! tests that plan a big site in a pure function call. Project permissions are left out: the manifest states them
//! as templates, which only the manifest loader expands.

use tabops_manifest::model::{ContentKind, ContentSpec, Desired, SiteRole};

use super::{GenContent, SyntheticSite};
use crate::model;

impl SyntheticSite {
    /// The desired state of this site (see the module documentation for what it leaves out).
    pub fn desired(&self) -> Desired {
        let mut desired = model::empty_desired();
        desired.site.content_url = super::SITE.to_owned();
        desired.users = self.users.iter().map(|u| model::user(&u.name, SiteRole::parse(u.site_role))).collect();
        desired.groups = self
            .groups
            .iter()
            .map(|g| {
                let members: Vec<&str> = g.members.iter().map(|&m| self.users[m].name.as_str()).collect();
                model::group(&g.name, Some(&members))
            })
            .collect();
        desired.projects = (0..self.projects.len())
            .map(|i| {
                let mut project = model::project(&self.project_path(i));
                project.description = Some(format!("Synthetic project {i}"));
                project
            })
            .collect();
        desired.workbooks =
            self.workbooks.iter().enumerate().map(|(i, c)| self.spec(ContentKind::Workbook, i, c)).collect();
        desired.datasources =
            self.datasources.iter().enumerate().map(|(i, c)| self.spec(ContentKind::Datasource, i, c)).collect();
        desired
    }

    fn spec(&self, kind: ContentKind, index: usize, item: &GenContent) -> ContentSpec {
        let name = item.file.trim_start_matches("content/");
        let file = model::file(name, &format!("{:02x}", index % 256), 512);
        let mut spec = model::content(kind, &item.name, &self.project_path(item.project), file);
        spec.description = Some(format!("Synthetic {}", item.name.to_lowercase()));
        spec.tags = Some(["bench".to_owned(), format!("team-{}", item.team)].into());
        spec
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scale, SyntheticSite};

    #[test]
    fn the_desired_state_has_every_generated_object_at_its_path() {
        let site = SyntheticSite::new(Scale::scaled(0.01), 3);
        let desired = site.desired();
        assert_eq!(desired.projects.len(), site.projects.len());
        assert_eq!(desired.workbooks.len(), site.workbooks.len());
        assert_eq!(desired.datasources.len(), site.datasources.len());
        assert_eq!(desired.users.len(), site.users.len());
        assert_eq!(desired.groups[0].members.as_ref().map(|m| m.len()), Some(site.groups[0].members.len()));
        let wb = &site.workbooks[3];
        assert_eq!(desired.workbooks[3].project.to_string(), site.project_path(wb.project));
        assert_eq!(desired.workbooks[3].name, wb.name);
    }
}
