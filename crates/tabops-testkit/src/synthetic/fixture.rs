//! The fixture site: a hand-sized synthetic site over the repository's real content fixtures (`.twb`, `.twbx`,
//! `.tds`, `.tdsx`, packages with extracts), written as one manifest file for the binary to apply, with a two-level
//! project tree, user and group permissions on projects and workbooks, group memberships and refresh tasks. Fully
//! determined by its [`Scale`] (no seed: its names and shape are what the reliability scenarios count). The
//! scenarios that apply a site many times (faults, crashes, concurrency) use it; the benchmark's large site with a
//! preloaded emulator state is the parent module's [`super::SyntheticSite`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::run::workspace;

/// Sizes of a generated manifest.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub top_projects: usize,
    pub children_per_project: usize,
    pub users: usize,
    pub groups: usize,
    pub members_per_group: usize,
    pub workbooks: usize,
    pub datasources: usize,
}

/// 40 projects, 80 users, 60 groups of 3, 30 workbooks, 30 data sources, permissions and refresh tasks: a first
/// apply of about 400 actions.
pub const LARGE: Scale = Scale {
    top_projects: 10,
    children_per_project: 3,
    users: 80,
    groups: 60,
    members_per_group: 3,
    workbooks: 30,
    datasources: 30,
};

/// A smaller site for scenarios that apply many times (crashes, concurrency).
pub const MEDIUM: Scale = Scale {
    top_projects: 4,
    children_per_project: 2,
    users: 20,
    groups: 10,
    members_per_group: 3,
    workbooks: 8,
    datasources: 8,
};

/// Writes `manifest.yaml` and copies of the fixture content under `dir`; returns the manifest's path.
pub fn generate_manifest(dir: &Path, scale: Scale) -> PathBuf {
    let content = dir.join("content");
    std::fs::create_dir_all(&content).unwrap();
    let fixtures = workspace().join("fixtures/content");
    for file in ["pipeline.twb", "revenue.twb", "revenue.twbx", "orders.tds", "customers.tds", "orders.tdsx"] {
        std::fs::copy(fixtures.join(file), content.join(file)).unwrap();
    }
    let mut y = String::from("version: 1\nsite:\n  server: local\n  content_url: acme\nusers:\n");
    let roles = ["Creator", "Explorer", "Viewer", "ExplorerCanPublish"];
    for u in 0..scale.users {
        let _ = writeln!(
            y,
            "  - {{ name: user{u:03}@acme.com, site_role: {}, full_name: User {u} }}",
            roles[u % roles.len()]
        );
    }
    y.push_str("groups:\n");
    for g in 0..scale.groups {
        let members: Vec<String> = (0..scale.members_per_group)
            .map(|m| format!("user{:03}@acme.com", (g * 7 + m * 13) % scale.users))
            .collect();
        let _ = writeln!(y, "  - {{ name: Group {g:02}, members: [{}] }}", members.join(", "));
    }
    y.push_str("projects:\n");
    let mut leaves = Vec::new();
    for p in 0..scale.top_projects {
        let _ = writeln!(y, "  - name: Project {p:02}\n    description: generated top-level project {p}");
        let _ = writeln!(y, "    permissions:\n      - {{ group: Group {:02}, template: Viewer }}", p % scale.groups);
        let _ = writeln!(y, "      - {{ user: user{:03}@acme.com, template: Publisher }}", p % scale.users);
        y.push_str("    projects:\n");
        for c in 0..scale.children_per_project {
            let _ = writeln!(y, "      - {{ name: Child {c}, description: child {c} of {p} }}");
            leaves.push(format!("Project {p:02}/Child {c}"));
        }
    }
    y.push_str("datasources:\n");
    // Every third source has a refresh task: those get the package with an extract (Tableau refuses refresh tasks of
    // content without one, 409090).
    let ds_files = ["orders.tdsx", "customers.tds", "orders.tds"];
    for d in 0..scale.datasources {
        let _ = writeln!(
            y,
            "  - name: Source {d:02}\n    project: {}\n    file: content/{}\n    tags: [generated]",
            leaves[d % leaves.len()],
            ds_files[d % ds_files.len()]
        );
        if d % 3 == 0 {
            y.push_str("    refresh:\n      - { type: full, frequency: daily, at: \"05:00\", weekdays: [Mon, Wed] }\n");
        }
    }
    y.push_str("workbooks:\n");
    let wb_files = ["pipeline.twb", "revenue.twb", "revenue.twbx"];
    for w in 0..scale.workbooks {
        let _ = writeln!(
            y,
            "  - name: Book {w:02}\n    project: {}\n    file: content/{}\n    show_tabs: true",
            leaves[(w * 5) % leaves.len()],
            wb_files[w % wb_files.len()]
        );
        let _ = writeln!(y, "    permissions:\n      - {{ group: Group {:02}, template: Viewer }}", w % scale.groups);
    }
    let manifest = dir.join("manifest.yaml");
    std::fs::write(&manifest, y).unwrap();
    manifest
}
