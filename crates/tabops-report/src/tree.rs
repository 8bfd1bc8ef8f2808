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
