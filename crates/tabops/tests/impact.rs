//! Impact analysis in every plan: the workbooks that use a data source the plan republishes or deletes are listed
//! with their owners in text, Markdown and JSON, including workbooks the manifest does not manage and workbooks in
//! other projects; a delete that would break unmanaged workbooks is refused unless `--allow-breaking-deletes`.
//! The real binary against the emulator, on the enterprise example.
//!
//! The two unmanaged workbooks are our own files in the shape Tableau Desktop writes for a connection to a published
//! data source: a `<datasource>` whose `<connection class='sqlproxy'>` names the data source's content URL as its
//! `dbname`. The emulator's Metadata API derives `downstreamWorkbooks` from that.

use std::path::Path;

use tabops_emulator::EmulatorConfig;
use tabops_tableau::{ConnectionUpdate, ContentKind, NewProject, PublishRequest, PublishedItem, WorkbookUpdate};
use tabops_testkit as support;

use support::{Harness, path_str};

fn harness() -> Harness {
    Harness::start_with(
        EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() },
        tabops_emulator::DEFAULT_PAT_SECRET,
    )
}

/// A workbook on the published data source `content_url`, which it captions `Shipments`.
fn workbook_on(content_url: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='utf-8' ?>\n<workbook source-build='2024.2.0' version='18.1'>\n<datasources>\n\
         <datasource caption='Shipments' inline='true' name='sqlproxy.1x2y3z' version='18.1'>\n\
         <repository-location id='{content_url}' path='/t/acme/datasources' revision='1.0' site='acme' />\n\
         <connection channel='https' class='sqlproxy' dbname='{content_url}' directory='/dataserver' port='443' \
         server='localhost' username='' />\n</datasource>\n</datasources>\n<worksheets>\n\
         <worksheet name='Late shipments'><table /></worksheet>\n</worksheets>\n</workbook>\n"
    )
}

/// Applies the enterprise example, then publishes two workbooks on its `Shipments` data source that the manifest
/// does not manage: `Carrier Scorecard` in a project the manifest does not know (owned by julia.rossi@acme.com) and
/// `Freight Costs` in Finance (owned by the token's user). Returns the manifest directory.
fn site_with_unmanaged_workbooks(h: &Harness) -> std::path::PathBuf {
    let manifest = h.copy_example("enterprise", "enterprise");
    h.apply(&manifest);
    let client = h.client();
    h.block_on(async {
        let datasources = client.datasources().await.unwrap();
        let shipments = datasources.iter().find(|d| d.name == "Shipments").expect("Shipments is published");
        let content_url = shipments.content_url.clone().expect("a content URL");
        let projects = client.projects().await.unwrap();
        let finance =
            projects.iter().find(|p| p.name == "Finance" && p.parent_id.is_none()).expect("Finance").id.clone();
        let logistics =
            client.create_project(&NewProject { name: "Logistics".into(), ..NewProject::default() }).await.unwrap().id;
        let users = client.users().await.unwrap();
        let julia = users.iter().find(|u| u.name == "julia.rossi@acme.com").expect("julia").id.clone();
        for (name, project, owner) in
            [("Carrier Scorecard", &logistics, Some(julia)), ("Freight Costs", &finance, None::<String>)]
        {
            let file = h.dir.path().join(format!("{name}.twb"));
            std::fs::write(&file, workbook_on(&content_url)).unwrap();
            let request = PublishRequest {
                file,
                name: name.to_owned(),
                project_id: project.clone(),
                ..PublishRequest::default()
            };
            let PublishedItem::Item(workbook) = client.publish_workbook(&request).await.unwrap() else {
                panic!("published synchronously")
            };
            if let Some(owner) = owner {
                let update = WorkbookUpdate { owner_id: Some(owner), ..WorkbookUpdate::default() };
                client.update_workbook(&workbook.id, &update).await.unwrap();
            }
        }
    });
    manifest
}

/// Metadata API requests the emulator has answered.
fn metadata_requests(h: &Harness) -> u64 {
    support::route(&h.stats(), "POST /api/metadata/graphql")
}

/// Changes the Shipments data source's file, so the next plan republishes it.
fn edit_shipments(manifest: &Path) {
    let file = manifest.join("content/shipments.tds");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("<datasource ", "<!-- v2 -->\n<datasource ", 1)).unwrap();
}

/// Removes the Shipments data source from the manifest and has its project prune, so the plan deletes it.
fn drop_shipments(manifest: &Path) {
    let file = manifest.join("projects/operations.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let project = "      - name: Supply Chain\n";
    assert!(text.contains(project));
    let text = text.replacen(project, &format!("{project}        prune: true\n"), 1);
    let start = text.find("datasources:\n  - name: Shipments").expect("the Shipments entry");
    let end = start + text[start..].find("\nworkbooks:").expect("workbooks follow");
    std::fs::write(&file, format!("{}{}", &text[..start], &text[end + 1..])).unwrap();
}

const CARRIER: &str = "workbook:Logistics/Carrier Scorecard";
const FREIGHT: &str = "workbook:Finance/Freight Costs";
const SHIPMENTS: &str = "datasource:Operations/Supply Chain/Shipments";

#[test]
fn a_republished_data_source_lists_its_two_unmanaged_workbooks_in_text_markdown_and_json() {
    let h = harness();
    let manifest = site_with_unmanaged_workbooks(&h);

    // Nothing changes a data source: no lineage is read, and the session is closed as soon as the site is read.
    let sessions = |h: &Harness| {
        let stats = h.stats();
        (support::route(&stats, "POST /auth/signin"), support::route(&stats, "POST /auth/signout"))
    };
    let before = sessions(&h);
    h.assert_converged(&manifest);
    assert_eq!(metadata_requests(&h), 0, "a plan without data source changes reads no lineage");
    let after = sessions(&h);
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1), "one session, closed");

    edit_shipments(&manifest);
    let before = sessions(&h);
    let plan = h.plan_json(&manifest);
    assert_eq!(metadata_requests(&h), 1, "one Metadata API query for all affected data sources");
    // The early sign-out came before the plan knew it needed lineage: a second session reads it, and is closed too.
    let after = sessions(&h);
    assert_eq!((after.0 - before.0, after.1 - before.1), (2, 2), "a second session for the lineage, both closed");
    assert_eq!(support::action(&plan, SHIPMENTS)["action"], "replace");
    let impact = &plan["impact"];
    assert_eq!(impact["source"], "metadata_api");
    assert_eq!(impact["requests"], 1);
    assert_eq!(
        impact["datasources"],
        serde_json::json!([{
            "address": SHIPMENTS,
            "id": support::action(&plan, SHIPMENTS)["live_id"],
            "change": "republish",
            "workbooks": [
                {
                    "address": FREIGHT,
                    "id": impact["datasources"][0]["workbooks"][0]["id"],
                    "owner": "admin@tabops.local",
                    "managed": false
                },
                {
                    "address": CARRIER,
                    "id": impact["datasources"][0]["workbooks"][1]["id"],
                    "owner": "julia.rossi@acme.com",
                    "managed": false
                }
            ]
        }])
    );
    // A republish is not refused: the workbooks keep working on the new revision.
    assert_eq!(plan["applyable"], true);

    let text = h.tabops(&["plan", "-f", path_str(&manifest)]).expect(0).stdout;
    let section = "Impact on workbooks (lineage from the Metadata API, 1 request):\n  \
                   datasource:Operations/Supply Chain/Shipments (republish): used by 2 workbooks:\n    \
                   workbook:Finance/Freight Costs (owner admin@tabops.local; not managed by the manifest)\n    \
                   workbook:Logistics/Carrier Scorecard (owner julia.rossi@acme.com; not managed by the manifest)\n";
    assert!(text.contains(section), "{text}");

    let markdown = h.tabops(&["plan", "-f", path_str(&manifest), "--format", "markdown"]).expect(0).stdout;
    let block = "<details><summary>Impact: 2 workbook use(s) of the 1 data source(s) this plan changes or deletes, 2 \
                 not managed by the manifest</summary>\n\n\
                 | data source | change | workbook | owner | managed |\n|---|---|---|---|---|\n\
                 | datasource:Operations/Supply Chain/Shipments | republish | workbook:Finance/Freight Costs | \
                 admin@tabops.local | **no** |\n\
                 | datasource:Operations/Supply Chain/Shipments | republish | workbook:Logistics/Carrier Scorecard | \
                 julia.rossi@acme.com | **no** |\n\n\
                 _lineage from the Metadata API, 1 request._\n\n</details>\n";
    assert!(markdown.contains(block), "{markdown}");
}

#[test]
fn deleting_a_data_source_unmanaged_workbooks_use_is_refused_without_the_flag_and_goes_through_with_it() {
    let h = harness();
    let manifest = site_with_unmanaged_workbooks(&h);
    drop_shipments(&manifest);

    // Shipments is the only item of its project: `--allow-empty-project` throughout, so the flag under test is the
    // only difference between the refused and the allowed runs.
    let refused = h.tabops(&["plan", "-f", path_str(&manifest), "--format", "json", "--allow-empty-project"]);
    let plan: serde_json::Value = serde_json::from_str(&refused.stdout).expect("plan JSON");
    assert_eq!(support::action(&plan, SHIPMENTS)["action"], "delete");
    assert_eq!(plan["applyable"], false);
    assert_eq!(plan["impact"]["datasources"][0]["change"], "delete");
    let kinds: Vec<&str> = plan["errors"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["breaks_workbooks"]);
    let error = plan["errors"].as_array().unwrap().iter().find(|e| e["kind"] == "breaks_workbooks").expect("refusal");
    assert_eq!(error["address"], SHIPMENTS);
    assert_eq!(
        error["message"],
        format!(
            "refusing to delete {SHIPMENTS}: 2 workbooks the manifest does not manage use it: {FREIGHT} (owner \
             admin@tabops.local), {CARRIER} (owner julia.rossi@acme.com)"
        )
    );
    assert!(error["hint"].as_str().unwrap().contains("--allow-breaking-deletes"));

    let apply = h.tabops(&["apply", "-f", path_str(&manifest), "--auto-approve", "--allow-empty-project"]);
    assert_ne!(apply.code, 0, "the refused delete is not applied\n{}", apply.stdout);
    assert!(apply.stdout.contains("--allow-breaking-deletes") || apply.stderr.contains("--allow-breaking-deletes"));
    let client = h.client();
    let names = |h: &Harness| -> Vec<String> {
        h.block_on(client.datasources()).unwrap().into_iter().map(|d| d.name).collect()
    };
    assert!(names(&h).contains(&"Shipments".to_owned()), "still on the site after the refusal");

    let allowed = h.plan_json_with(&manifest, &["--allow-breaking-deletes", "--allow-empty-project"]);
    assert_eq!(allowed["applyable"], true, "{}", allowed["errors"]);
    assert_eq!(allowed["impact"]["datasources"][0]["workbooks"].as_array().unwrap().len(), 2);
    let flags = ["--auto-approve", "--allow-breaking-deletes", "--allow-empty-project"];
    h.tabops(&[&["apply", "-f", path_str(&manifest)][..], &flags[..]].concat()).expect(0);
    assert!(!names(&h).contains(&"Shipments".to_owned()), "deleted with the flag");
}

#[test]
fn without_the_metadata_api_the_plan_reads_workbook_connections_and_says_so() {
    let h = harness();
    let manifest = site_with_unmanaged_workbooks(&h);
    assert_eq!(support::harness::hook(&h.url(), "metadata/disable"), 204);
    edit_shipments(&manifest);

    let plan = h.plan_json(&manifest);
    let impact = &plan["impact"];
    assert_eq!(impact["source"], "rest_connections");
    assert!(impact["note"].as_str().unwrap().starts_with("the Metadata API is unavailable (HTTP 404)"), "{impact}");
    let workbooks: Vec<(&str, &str)> = impact["datasources"][0]["workbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["address"].as_str().unwrap(), w["owner"].as_str().unwrap()))
        .collect();
    assert_eq!(workbooks, [(FREIGHT, "admin@tabops.local"), (CARRIER, "julia.rossi@acme.com")]);
    // One refused Metadata API request, then one connection list per workbook on the site.
    let workbook_count = h.block_on(h.client().workbooks()).unwrap().len() as u64;
    assert_eq!(impact["requests"], 1 + workbook_count);

    let text = h.tabops(&["plan", "-f", path_str(&manifest)]).expect(0).stdout;
    assert!(text.contains("Impact on workbooks (lineage from each workbook's connections (REST),"), "{text}");
    assert!(text.contains("note: the Metadata API is unavailable (HTTP 404)"), "{text}");
}

#[test]
fn repointing_a_data_source_connection_lists_its_workbooks_as_a_connection_change() {
    let h = harness();
    let manifest = site_with_unmanaged_workbooks(&h);
    // Someone points Shipments at another server in the web UI: the plan points it back (Update Data Source
    // Connection, no publish), which its workbooks feel as much as a republish.
    let client = h.client();
    h.block_on(async {
        let datasources = client.datasources().await.unwrap();
        let shipments = datasources.iter().find(|d| d.name == "Shipments").unwrap();
        let connections = client.datasource_connections(&shipments.id).await.unwrap();
        let update = ConnectionUpdate { server_address: Some("replica.acme.internal".into()), ..Default::default() };
        client.update_connection(ContentKind::Datasource, &shipments.id, &connections[0].id, &update).await.unwrap();
    });
    let plan = h.plan_json(&manifest);
    assert_eq!(support::action(&plan, SHIPMENTS)["action"], "update");
    assert_eq!(plan["impact"]["datasources"][0]["address"], SHIPMENTS);
    assert_eq!(plan["impact"]["datasources"][0]["change"], "connection");
    let addresses: Vec<&str> = plan["impact"]["datasources"][0]["workbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, [FREIGHT, CARRIER]);
}
