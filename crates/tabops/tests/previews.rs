//! `tabops preview`, through the real binary against the emulator, on a real git repository: a pull request that
//! changes one workbook and adds another is published into `Previews/<id>` with exactly those two, tagged with the
//! preview marker, visible to the reviewers group only, and linked in the Markdown; a second run writes nothing;
//! production items keep their ids, checksum markers and permissions; `--delete` leaves the site as it was (a plan
//! of the production manifest has no changes, nothing is left under `Previews/`), and refuses a preview holding an
//! item without the marker.

use std::path::Path;

use tabops_tableau::{PermissionTarget, TagTarget};
use tabops_testkit as support;

use support::harness::content_writes;
use support::{Harness, commit_all, edit, init_repo, path_str};

const SITE: &str = r#"version: 1
site: { server: local, content_url: acme }
settings:
  preview: { reviewers: Reviewers }
groups:
  - name: Reviewers
  - name: Sales Analysts
projects:
  - name: Sales
    permissions:
      - { group: Sales Analysts, template: Viewer }
workbooks:
  - name: Revenue
    project: Sales
    file: content/revenue.twb
    tags: [finance]
    permissions:
      - { group: Sales Analysts, template: Explorer }
  - name: Pipeline
    project: Sales
    file: content/pipeline.twb
"#;

/// The production manifest under `src/` in a git repository at the test's root, applied and committed; returns the
/// repository, the manifest's directory and the base commit.
fn production(site: &Harness) -> (git2::Repository, std::path::PathBuf, String) {
    let src = site.dir.path().join("src");
    std::fs::create_dir_all(src.join("content")).unwrap();
    let fixtures = support::workspace().join("fixtures/content");
    for file in ["revenue.twb", "pipeline.twb"] {
        std::fs::copy(fixtures.join(file), src.join("content").join(file)).unwrap();
    }
    std::fs::write(src.join("manifest.yaml"), SITE).unwrap();
    let repo = init_repo(site.dir.path());
    let base = commit_all(&repo, &["src"], "production").to_string();
    site.apply(&src);
    (repo, src, base)
}

/// The pull request in the work tree: Revenue's file changes, a Forecast workbook is added.
fn pull_request(src: &Path) {
    let pipeline = std::fs::read_to_string(src.join("content/pipeline.twb")).unwrap();
    std::fs::write(src.join("content/forecast.twb"), pipeline.replacen("?>", "?>\n<!-- forecast -->", 1)).unwrap();
    // Top Customers lists customers by segment now; the other sheets of Revenue are as they were.
    let revenue = std::fs::read_to_string(src.join("content/revenue.twb")).unwrap();
    assert!(revenue.contains("column='[Customer Name]'"));
    std::fs::write(src.join("content/revenue.twb"), revenue.replace("column='[Customer Name]'", "column='[Segment]'"))
        .unwrap();
    edit(
        &src.join("manifest.yaml"),
        "  - name: Pipeline\n",
        "  - name: Forecast\n    project: Sales\n    file: content/forecast.twb\n  - name: Pipeline\n",
    );
}

/// Every workbook on the site: (project, name) → (id, tags sorted, permissions as the server lists them).
fn workbooks(site: &Harness) -> std::collections::BTreeMap<(String, String), (String, Vec<String>, String)> {
    let client = site.client();
    site.block_on(async {
        let projects = client.projects().await.unwrap();
        let path = |id: &str| {
            let mut segments = Vec::new();
            let mut at = projects.iter().find(|p| p.id == id);
            while let Some(p) = at {
                segments.push(p.name.clone());
                at = p.parent_id.as_deref().and_then(|parent| projects.iter().find(|q| q.id == parent));
            }
            segments.reverse();
            segments.join("/")
        };
        let mut out = std::collections::BTreeMap::new();
        for w in client.workbooks().await.unwrap() {
            let permissions = client.permissions(&PermissionTarget::Workbook(w.id.clone())).await.unwrap();
            let mut tags = w.tags.clone();
            tags.sort();
            let key = (path(w.project_id.as_deref().unwrap_or_default()), w.name.clone());
            out.insert(key, (w.id.clone(), tags, format!("{permissions:?}")));
        }
        out
    })
}

/// Every project with its description and permissions as the server lists them, by name.
fn projects(site: &Harness) -> std::collections::BTreeMap<String, (String, Option<String>, String)> {
    let client = site.client();
    site.block_on(async {
        let mut out = std::collections::BTreeMap::new();
        for p in client.projects().await.unwrap() {
            let permissions = client.permissions(&PermissionTarget::Project(p.id.clone())).await.unwrap();
            out.insert(p.name.clone(), (p.id.clone(), p.description.clone(), format!("{permissions:?}")));
        }
        out
    })
}

fn project_names(site: &Harness) -> Vec<String> {
    let client = site.client();
    site.block_on(async { client.projects().await.unwrap().into_iter().map(|p| p.name).collect() })
}

#[test]
fn a_preview_publishes_the_changed_workbooks_apart_and_is_removed_without_a_trace() {
    let site = Harness::start();
    let (_repo, src, base) = production(&site);
    let before = workbooks(&site);
    let projects_before = project_names(&site);
    let production_projects = projects(&site);
    pull_request(&src);
    let audit = site.dir.path().join("preview-audit.jsonl");
    let preview = ["preview", "-f", path_str(&src), "--base", &base, "--id", "PR-7", "--audit-log", path_str(&audit)];
    let images = site.dir.path().join("images");
    let with_images = [&preview[..], &["--images", path_str(&images)]].concat();

    let first = site.tabops(&with_images).expect(0);
    // The preview project holds exactly the changed and the added workbook, with the marker and the manifest's tags.
    let after = workbooks(&site);
    let previewed: Vec<&(String, String)> = after.keys().filter(|(project, _)| project == "Previews/PR-7").collect();
    assert_eq!(
        previewed,
        [&("Previews/PR-7".to_owned(), "Forecast".to_owned()), &("Previews/PR-7".to_owned(), "Revenue".to_owned())],
        "{}",
        first.stderr
    );
    let (revenue_id, revenue_tags, revenue_permissions) = &after[&("Previews/PR-7".to_owned(), "Revenue".to_owned())];
    assert!(revenue_tags.contains(&"tabops-preview.PR-7".to_owned()), "{revenue_tags:?}");
    assert!(revenue_tags.contains(&"finance".to_owned()), "the manifest's tags: {revenue_tags:?}");
    // Only the reviewers group is granted anything, never the production grants.
    assert!(revenue_permissions.contains(&reviewers_id(&site)), "{revenue_permissions}");
    assert!(!revenue_permissions.contains(&group_id(&site, "Sales Analysts")), "{revenue_permissions}");
    // Production is untouched: same ids, checksum markers and permissions.
    for (key, value) in &before {
        assert_eq!(after.get(key), Some(value), "production workbook {key:?} changed");
    }
    let projects_after = projects(&site);
    for (name, value) in &production_projects {
        assert_eq!(projects_after.get(name), Some(value), "production project {name} changed");
    }
    // The Markdown links the workbooks and their views by their Tableau Cloud web addresses.
    let md = &first.stdout;
    assert!(md.contains("### Preview `PR-7`"), "{md}");
    assert!(md.contains(&format!("/#/site/acme/workbooks/{revenue_id})")), "{md}");
    assert!(md.contains("| added workbook | [Forecast]("), "{md}");
    assert!(md.contains("| changed workbook | [Revenue]("), "{md}");
    assert!(md.contains("/#/site/acme/views/"), "{md}");
    // Images of each view, before (production) and after (the preview): the emulator draws the view's name and
    // fields, so the changed sheet differs and an unchanged one is the same picture.
    let png = |name: &str| std::fs::read(images.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let changed = (png("Revenue--Top_Customers.before.png"), png("Revenue--Top_Customers.after.png"));
    assert!(changed.1.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert_ne!(changed.0, changed.1, "the changed sheet's fields differ");
    assert_eq!(png("Revenue--Revenue_by_Region.before.png"), png("Revenue--Revenue_by_Region.after.png"));
    assert_eq!(forecast_after(&images), 4, "one per view of the added workbook (three sheets, a dashboard)");
    assert!(
        !std::fs::read_dir(&images).unwrap().any(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.starts_with("Forecast--") && name.ends_with(".before.png")
        }),
        "an added workbook has no before"
    );
    assert!(
        md.contains(
            "| Revenue / Top Customers | `Revenue--Top_Customers.before.png` | `Revenue--Top_Customers.after.png` |"
        ),
        "{md}"
    );
    // Every write is in the audit log.
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains("workbook:Previews/PR-7/Revenue"), "{log}");

    // A second run with nothing new writes nothing.
    let writes = content_writes(&site.stats());
    let second = site.tabops(&preview).expect(0);
    assert_eq!(content_writes(&site.stats()), writes, "{}", second.stderr);
    assert!(second.stderr.contains("No changes."), "{}", second.stderr);

    // Removal: the site is as before, and a plan of the production manifest (committed) has no changes.
    let removed =
        site.tabops(&["preview", "-f", path_str(&src), "--id", "PR-7", "--delete", "--audit-log", path_str(&audit)]);
    let removed = removed.expect(0);
    assert!(removed.stdout.contains("Removed 1 preview(s): PR-7."), "{}", removed.stdout);
    assert_eq!(workbooks(&site), before);
    assert_eq!(project_names(&site), projects_before, "nothing is left of Previews/");
    std::fs::write(src.join("manifest.yaml"), SITE).unwrap();
    std::fs::copy(support::workspace().join("fixtures/content/revenue.twb"), src.join("content/revenue.twb")).unwrap();
    site.assert_converged(&src);
}

#[test]
fn removing_a_preview_refuses_an_item_without_the_preview_marker() {
    let site = Harness::start();
    let (_repo, src, base) = production(&site);
    pull_request(&src);
    site.tabops(&["preview", "-f", path_str(&src), "--base", &base, "--id", "PR-8"]).expect(0);
    // Someone strips the marker from an item in the preview project.
    let (id, _, _) = workbooks(&site)[&("Previews/PR-8".to_owned(), "Forecast".to_owned())].clone();
    let client = site.client();
    site.block_on(client.delete_tag(TagTarget::Workbook, &id, "tabops-preview.PR-8")).unwrap();
    let refused = site.tabops(&["preview", "-f", path_str(&src), "--id", "PR-8", "--delete"]).expect(1);
    assert!(
        refused.stderr.contains("refusing to remove preview `PR-8`: workbook:Previews/PR-8/Forecast does not carry"),
        "{}",
        refused.stderr
    );
    assert!(workbooks(&site).contains_key(&("Previews/PR-8".to_owned(), "Forecast".to_owned())), "nothing removed");
}

/// The after images of the added workbook.
fn forecast_after(images: &Path) -> usize {
    std::fs::read_dir(images)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name().into_string().unwrap();
            name.starts_with("Forecast--") && name.ends_with(".after.png")
        })
        .count()
}

fn group_id(site: &Harness, name: &str) -> String {
    let client = site.client();
    site.block_on(async { client.groups().await.unwrap().into_iter().find(|g| g.name == name).unwrap().id })
}

fn reviewers_id(site: &Harness) -> String {
    group_id(site, "Reviewers")
}

#[test]
fn pruning_removes_only_previews_older_than_the_age_given() {
    let site = Harness::start();
    let (_repo, src, base) = production(&site);
    let projects_before = project_names(&site);
    pull_request(&src);
    site.tabops(&["preview", "-f", path_str(&src), "--base", &base, "--id", "PR-9"]).expect(0);
    let kept = site.tabops(&["preview", "-f", path_str(&src), "--prune-older-than", "14d"]).expect(0);
    assert!(kept.stdout.contains("No previews removed."), "{}", kept.stdout);
    assert!(project_names(&site).contains(&"PR-9".to_owned()));
    // The site's times have whole seconds: two seconds later the preview is older than one.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let pruned = site.tabops(&["preview", "-f", path_str(&src), "--prune-older-than", "1s"]).expect(0);
    assert!(pruned.stdout.contains("Removed 1 preview(s): PR-9."), "{}\n{}", pruned.stdout, pruned.stderr);
    assert_eq!(project_names(&site), projects_before);
}

#[test]
fn a_pull_request_changing_no_content_publishes_nothing() {
    let site = Harness::start();
    let (_repo, src, base) = production(&site);
    let projects_before = project_names(&site);
    // Only a grant changes: nothing a reviewer would see.
    edit(&src.join("manifest.yaml"), "template: Explorer", "template: Viewer");
    let run = site.tabops(&["preview", "-f", path_str(&src), "--base", &base, "--id", "PR-10"]).expect(0);
    assert!(run.stdout.contains("there is nothing to preview"), "{}", run.stdout);
    assert!(run.stderr.contains("No changes."), "{}", run.stderr);
    assert_eq!(project_names(&site), projects_before);
}

/// A workbook of ours that reads the published data source `Orders` the way Tableau Desktop writes it: a
/// `sqlproxy` connection whose `dbname` is the data source's content URL, and the data source's
/// `repository-location` (its `id` the same content URL).
const ORDERS_OVERVIEW: &str = r#"<?xml version='1.0' encoding='utf-8' ?>
<workbook source-platform='win' version='18.1' xmlns:user='http://www.tableausoftware.com/xml/user'>
  <datasources>
    <datasource caption='Orders' inline='true' name='sqlproxy.0a1b2c3d4e5f' version='18.1'>
      <repository-location derived-from='https://10ax.online.tableau.com/t/acme/datasources/Orders?rev=1.0' id='Orders' path='/t/acme/datasources' revision='1.0' site='acme' />
      <connection channel='https' class='sqlproxy' dbname='Orders' directory='/dataserver' port='443' server='10ax.online.tableau.com' username='' />
    </datasource>
  </datasources>
  <worksheets>
    <worksheet name='Orders by Region'>
      <table><view><datasource-dependencies datasource='sqlproxy.0a1b2c3d4e5f'>
        <column-instance column='[Region]' name='[none:Region:nk]' />
      </datasource-dependencies></view></table>
    </worksheet>
  </worksheets>
</workbook>
"#;

const ORDERS_SITE: &str = r#"version: 1
site: { server: local, content_url: acme }
settings:
  preview: { reviewers: Reviewers }
groups:
  - name: Reviewers
projects:
  - name: Sales
datasources:
  - name: Orders
    project: Sales
    file: content/orders.tds
workbooks:
  - name: Orders Overview
    project: Sales
    file: content/orders-overview.twb
"#;

/// What the site holds: each data source's content URL and the content URLs each workbook's file names, by
/// project and name, sorted.
struct Published {
    datasources: Vec<(String, String)>,
    workbooks: Vec<(String, Vec<String>)>,
}

/// The content URL of every data source (by project path and name) and the `sqlproxy` `dbname`s of the file each
/// workbook has on the site (downloaded).
fn published_sources(site: &Harness) -> Published {
    let client = site.client();
    let dir = tempfile::tempdir().unwrap();
    site.block_on(async {
        let projects = client.projects().await.unwrap();
        let name = |id: Option<&str>| projects.iter().find(|p| Some(p.id.as_str()) == id).unwrap().name.clone();
        let mut datasources: Vec<(String, String)> = Vec::new();
        for d in client.datasources().await.unwrap() {
            datasources.push((format!("{}/{}", name(d.project_id.as_deref()), d.name), d.content_url.unwrap()));
        }
        let mut workbooks = Vec::new();
        for w in client.workbooks().await.unwrap() {
            let file = dir.path().join(&w.id);
            client.download_workbook(&w.id, &file).await.unwrap();
            let sources = sqlproxy_dbnames(&std::fs::read_to_string(&file).unwrap());
            workbooks.push((format!("{}/{}", name(w.project_id.as_deref()), w.name), sources));
        }
        datasources.sort();
        workbooks.sort();
        Published { datasources, workbooks }
    })
}

#[test]
fn a_previewed_workbook_reads_the_preview_copy_of_a_data_source_the_pull_request_also_changes() {
    let site = Harness::start();
    let src = site.dir.path().join("src");
    std::fs::create_dir_all(src.join("content")).unwrap();
    std::fs::copy(support::workspace().join("fixtures/content/orders.tds"), src.join("content/orders.tds")).unwrap();
    std::fs::write(src.join("content/orders-overview.twb"), ORDERS_OVERVIEW).unwrap();
    std::fs::write(src.join("manifest.yaml"), ORDERS_SITE).unwrap();
    let repo = init_repo(site.dir.path());
    let base = commit_all(&repo, &["src"], "production").to_string();
    site.apply(&src);

    // The pull request changes the data source and the workbook that reads it.
    edit(&src.join("content/orders.tds"), "?>", "?>\n<!-- a changed data source -->");
    edit(&src.join("content/orders-overview.twb"), "[Region]", "[Segment]");
    let work_tree = std::fs::read(src.join("content/orders-overview.twb")).unwrap();
    let preview = ["preview", "-f", path_str(&src), "--base", &base, "--id", "PR-11"];
    let first = site.tabops(&preview).expect(0);

    let Published { datasources, workbooks } = published_sources(&site);
    // The site gave the preview copy a content URL of its own (the name's is production's).
    let url = |path: &str| datasources.iter().find(|(p, _)| p == path).map(|(_, u)| u.clone()).unwrap();
    let (production, copy) = (url("Sales/Orders"), url("PR-11/Orders"));
    assert_eq!(production, "Orders");
    assert_ne!(copy, production, "{datasources:?}");
    // The preview workbook reads the copy; production's still reads production's.
    assert_eq!(
        workbooks,
        [
            ("PR-11/Orders Overview".to_owned(), vec![copy.clone()]),
            ("Sales/Orders Overview".to_owned(), vec![production])
        ],
        "{}",
        first.stderr
    );
    // The site sees it so too: the Metadata API's lineage (derived by the emulator from the uploaded files) has the
    // preview workbook downstream of the copy and production's downstream of production's.
    assert_eq!(
        downstream(&site),
        [
            ("PR-11/Orders".to_owned(), vec!["PR-11/Orders Overview".to_owned()]),
            ("Sales/Orders".to_owned(), vec!["Sales/Orders Overview".to_owned()]),
        ]
    );
    // The work tree's file is as the pull request left it.
    assert_eq!(std::fs::read(src.join("content/orders-overview.twb")).unwrap(), work_tree);

    // A second run with nothing new writes nothing.
    let writes = content_writes(&site.stats());
    let second = site.tabops(&preview).expect(0);
    assert_eq!(content_writes(&site.stats()), writes, "{}", second.stderr);
    assert!(second.stderr.contains("No changes."), "{}", second.stderr);
    assert_eq!(published_sources(&site).workbooks[0].1, [copy]);
}

/// The `dbname`s of the `sqlproxy` connections of a workbook document (one element per line, attributes in single
/// or double quotes).
fn sqlproxy_dbnames(doc: &str) -> Vec<String> {
    doc.lines()
        .map(|l| l.replace('"', "'"))
        .filter(|l| l.contains("<connection ") && l.contains("class='sqlproxy'"))
        .filter_map(|l| Some(l.split("dbname='").nth(1)?.split('\'').next()?.to_owned()))
        .collect()
}

/// Each data source's downstream workbooks as the Metadata API answers them (`project/name`, sorted).
fn downstream(site: &Harness) -> Vec<(String, Vec<String>)> {
    let client = site.client();
    let query = "query lineage { publishedDatasourcesConnection(first: 100) { nodes { name projectName \
                 downstreamWorkbooks { name projectName } } } }";
    let answer = site.block_on(client.metadata_query(query, serde_json::json!({}))).unwrap();
    let at = |v: &serde_json::Value| format!("{}/{}", v["projectName"].as_str().unwrap(), v["name"].as_str().unwrap());
    let mut out: Vec<(String, Vec<String>)> = answer["data"]["publishedDatasourcesConnection"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let mut workbooks: Vec<String> = d["downstreamWorkbooks"].as_array().unwrap().iter().map(at).collect();
            workbooks.sort();
            (at(d), workbooks)
        })
        .collect();
    out.sort();
    out
}
