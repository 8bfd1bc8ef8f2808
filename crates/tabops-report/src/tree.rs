//! Project paths from the flat project list (each project names its parent).

use std::collections::HashMap;

use tabops_manifest::model::ProjectPath;
use tabops_plan::inventory::LiveProject;

/// The path of every project, by id. A parent missing from the list ends the path there; a loop is cut.
pub(crate) fn project_paths(projects: &[LiveProject]) -> HashMap<&str, ProjectPath> {
    let by_id: HashMap<&str, &LiveProject> = projects.iter().map(|p| (p.id.as_str(), p)).collect();
    projects
        .iter()
        .map(|p| {
            let mut segments = vec![p.name.clone()];
            let mut seen = vec![p.id.as_str()];
            let mut parent = p.parent_id.as_deref();
            while let Some(project) = parent.and_then(|id| by_id.get(id)) {
                if seen.contains(&project.id.as_str()) {
                    break;
                }
                seen.push(&project.id);
                segments.push(project.name.clone());
                parent = project.parent_id.as_deref();
            }
            segments.reverse();
            (p.id.as_str(), ProjectPath::new(segments))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(id: &str, name: &str, parent: Option<&str>) -> LiveProject {
        LiveProject {
            id: id.into(),
            name: name.into(),
            parent_id: parent.map(Into::into),
            description: None,
            content_permissions: None,
            owner_id: None,
            updated_at: None,
        }
    }

    #[test]
    fn paths_follow_parents_and_a_loop_is_cut_where_it_closes() {
        let projects = [
            project("s", "Sales", None),
            project("e", "EMEA", Some("s")),
            project("a", "A", Some("b")),
            project("b", "B", Some("a")),
            project("o", "Orphan", Some("gone")),
        ];
        let paths = project_paths(&projects);
        assert_eq!(paths["e"].to_string(), "Sales/EMEA");
        assert_eq!(paths["a"].segments(), ["B", "A"]);
        assert_eq!(paths["b"].segments(), ["A", "B"]);
        assert_eq!(paths["o"].to_string(), "Orphan");
    }
}
