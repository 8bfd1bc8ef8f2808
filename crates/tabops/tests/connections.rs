//! Per-environment connection servers reach the site (issue 10, item 0).
//!
//! In a publish request a connection's `serverAddress` is only a match key for the credentials (TSC issue #337, the
//! maintainers' explanation): the item is published with the file's own server. tabops therefore points each
//! connection at the environment's server with Update Workbook/Data Source Connection after the publish, reads the
//! live connections of the items whose manifest lists `connections:`, and plans/drifts connection fields of their
//! own. These tests drive the real binary against the emulator and check the result through the REST client.

use tabops_testkit as support;

use support::{Harness, content_writes, path_str, route};
use tabops_tableau::{
    Connection, ConnectionCredentials, ConnectionUpdate, ContentKind, NewProject, PublishMode, PublishRequest,
    PublishedItem, Secret,
};

/// The database servers of the enterprise example's `prod` environment.
const PROD_SERVERS: [&str; 3] = ["pg-sales.acme.internal", "fin-db.acme.internal", "ops-db.acme.internal"];

fn enterprise() -> std::path::PathBuf {
    support::workspace().join("examples/enterprise")
}

/// Every connection of every workbook and data source on the site, as `(item name, connection)`.
fn all_connections(h: &Harness) -> Vec<(String, Connection)> {
    let client = h.client();
    h.block_on(async {
        let mut out = Vec::new();
        for d in client.datasources().await.unwrap() {
            for c in client.datasource_connections(&d.id).await.unwrap() {
                out.push((d.name.clone(), c));
            }
        }
        for w in client.workbooks().await.unwrap() {
            for c in client.workbook_connections(&w.id).await.unwrap() {
                out.push((w.name.clone(), c));
            }
        }
        out
    })
}

/// The database (not extract) connections among them.
fn database_connections(h: &Harness) -> Vec<(String, Connection)> {
    all_connections(h).into_iter().filter(|(_, c)| c.connection_type.as_deref() == Some("postgres")).collect()
}

#[test]
fn prod_apply_points_every_connection_at_the_production_server_and_converges() {
    let h = Harness::start();
    let manifest = enterprise();
    let prod_env = [("PROD_OPS_DB_PASSWORD", "prod-ops")];
    let run = h.tabops_env(&["apply", "-f", path_str(&manifest), "--env", "prod", "--auto-approve"], &prod_env);
    assert_eq!(run.code, 0, "prod apply failed\n{}\n{}", run.stdout, run.stderr);

    let connections = database_connections(&h);
    assert!(connections.len() >= 13, "expected a connection per item, got {connections:#?}");
    for (item, c) in &connections {
        let server = c.server_address.as_deref().unwrap_or_default();
        assert!(PROD_SERVERS.contains(&server), "{item}: connection still points at {server:?}: {c:?}");
        assert_eq!(c.embed_password, Some(true), "{item}: credentials not embedded: {c:?}");
        assert_eq!(c.server_port.as_deref(), Some("5432"), "{item}: {c:?}");
        let expected_user = if server == "ops-db.acme.internal" { "svc_tableau_ops_prod" } else { "" };
        if !expected_user.is_empty() {
            assert_eq!(c.user_name.as_deref(), Some(expected_user), "{item}: {c:?}");
        }
    }
    // The publish credentials matched the file's connections; nothing was invented next to them: a data source
    // whose file has one database connection has exactly one.
    let customers: Vec<_> = all_connections(&h).into_iter().filter(|(item, _)| item == "Customers").collect();
    assert_eq!(customers.len(), 1, "{customers:#?}");

    let plan = h.tabops_env(&["plan", "-f", path_str(&manifest), "--env", "prod", "--detailed-exitcode"], &prod_env);
    assert_eq!(plan.code, 0, "second plan is not empty\n{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);

    // A password cannot be read back, so it is no reason to write: the second apply sends nothing.
    let before = h.stats();
    let again = h.tabops_env(&["apply", "-f", path_str(&manifest), "--env", "prod", "--auto-approve"], &prod_env);
    assert_eq!(again.code, 0, "second apply failed\n{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    assert_eq!(content_writes(&h.stats()) - content_writes(&before), 0, "second apply wrote to the site");

    // The passwords went to the site but appear nowhere tabops writes.
    let audit = std::fs::read_to_string(h.audit_log()).unwrap_or_default();
    for secret in ["prod-ops", "dev-sales", "dev-finance", "dev-ops"] {
        for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr), ("audit log", &audit)] {
            assert!(!text.contains(secret), "a password appears in the {what}");
        }
    }
}

/// Publishes `content/customers.tds` of the enterprise example (one `postgres` connection to
/// `pg-dev.acme.internal:5432`) into a new `project` with `credentials`; returns its connections as the site lists them.
fn publish_customers(h: &Harness, project: &str, credentials: Vec<ConnectionCredentials>) -> Vec<Connection> {
    let client = h.client();
    h.block_on(async {
        let project = client.create_project(&NewProject { name: project.into(), ..Default::default() }).await.unwrap();
        let request = PublishRequest {
            file: enterprise().join("content/customers.tds"),
            name: "Customers".into(),
            project_id: project.id,
            connections: credentials,
            mode: PublishMode::CreateNew,
            ..Default::default()
        };
        let PublishedItem::Item(ds) = client.publish_datasource(&request).await.unwrap() else {
            panic!("published as a job")
        };
        client.datasource_connections(&ds.id).await.unwrap()
    })
}

fn credentials(server: &str, port: Option<&str>, user: &str) -> ConnectionCredentials {
    ConnectionCredentials {
        server_address: server.into(),
        server_port: port.map(str::to_owned),
        username: user.into(),
        password: Secret::new("pw"),
        embed: true,
    }
}

#[test]
fn publish_credentials_for_a_server_not_in_the_file_are_ignored_not_invented() {
    let h = Harness::start();
    let connections =
        publish_customers(&h, "Creds", vec![credentials("pg-sales.acme.internal", Some("5432"), "svc_prod")]);
    assert_eq!(connections.len(), 1, "a connection was invented: {connections:#?}");
    let c = &connections[0];
    assert_eq!(c.connection_type.as_deref(), Some("postgres"));
    assert_eq!(c.server_address.as_deref(), Some("pg-dev.acme.internal"), "the match key changed the server");
    assert_eq!(c.server_port.as_deref(), Some("5432"));
    assert_eq!(c.user_name.as_deref(), Some("svc_tableau"), "credentials attached to a connection they do not match");
    assert_eq!(c.embed_password, Some(false));
}

#[test]
fn publish_credentials_attach_to_the_file_connection_with_that_server_and_port() {
    let h = Harness::start();
    // Same server, other port: not this connection.
    let other_port =
        publish_customers(&h, "Other port", vec![credentials("PG-DEV.acme.internal", Some("6432"), "svc_other")]);
    assert_eq!(other_port[0].user_name.as_deref(), Some("svc_tableau"), "{other_port:#?}");
    assert_eq!(other_port[0].embed_password, Some(false));

    // The server (case-insensitive) and port of the file's connection: the credentials are its own.
    let matched =
        publish_customers(&h, "Matched", vec![credentials("PG-DEV.acme.internal", Some("5432"), "svc_embedded")]);
    assert_eq!(matched.len(), 1, "{matched:#?}");
    assert_eq!(matched[0].server_address.as_deref(), Some("pg-dev.acme.internal"));
    assert_eq!(matched[0].user_name.as_deref(), Some("svc_embedded"));
    assert_eq!(matched[0].embed_password, Some(true));
}

#[test]
fn plan_reads_connections_only_for_items_that_list_them() {
    let h = Harness::start();
    let manifest = h.copy_example("enterprise", "ent");
    h.apply(&manifest);
    let before = h.stats();
    h.tabops(&["plan", "-f", path_str(&manifest)]).expect(0);
    let after = h.stats();
    let reads = |s: &tabops_emulator::Stats| {
        route(s, "GET /sites/{id}/workbooks/{id}/connections")
            + route(s, "GET /sites/{id}/datasources/{id}/connections")
    };
    // 13 items of the example list `connections:`.
    assert_eq!(reads(&after) - reads(&before), 13);

    // Without `connections:` in the manifest, no connection is read.
    for file in ["projects/sales.yaml", "projects/finance.yaml", "projects/operations.yaml"] {
        let path = manifest.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .scan(false, |skipping, line| {
                let indent = line.len() - line.trim_start().len();
                if line.trim_start().starts_with("connections:") {
                    *skipping = true;
                    return Some(None);
                }
                if *skipping && (indent > 4 || line.trim().is_empty()) {
                    return Some(None);
                }
                *skipping = false;
                Some(Some(line))
            })
            .flatten()
            .collect();
        std::fs::write(&path, kept.join("\n")).unwrap();
    }
    let before = h.stats();
    h.tabops(&["plan", "-f", path_str(&manifest)]).expect(0);
    assert_eq!(reads(&h.stats()) - reads(&before), 0);
}

#[test]
fn connection_changed_in_the_web_ui_is_drift_and_apply_points_it_back() {
    let h = Harness::start();
    let manifest = h.copy_example("enterprise", "ent");
    h.apply(&manifest);
    h.tabops(&["drift", "-f", path_str(&manifest)]).expect(0);

    let client = h.client();
    let (id, connection) = h.block_on(async {
        let ds = client.datasources().await.unwrap().into_iter().find(|d| d.name == "Customers").unwrap();
        let c = client.datasource_connections(&ds.id).await.unwrap().remove(0);
        (ds.id, c)
    });
    assert_eq!(connection.server_address.as_deref(), Some("pg-dev.acme.internal"));
    let update = ConnectionUpdate { server_address: Some("rogue.example.com".into()), ..Default::default() };
    let changed = h.block_on(client.update_connection(ContentKind::Datasource, &id, &connection.id, &update)).unwrap();
    assert_eq!(changed.server_address.as_deref(), Some("rogue.example.com"));

    let drift = h.tabops(&["drift", "-f", path_str(&manifest)]).expect(2);
    assert!(drift.stdout.contains("Sales/Customers"), "{}", drift.stdout);
    assert!(drift.stdout.contains("connections[0].server"), "{}", drift.stdout);
    assert!(drift.stdout.contains("rogue.example.com"), "{}", drift.stdout);

    let before = h.stats();
    h.apply(&manifest);
    let after = h.stats();
    assert_eq!(
        route(&after, "PUT /sites/{id}/datasources/{id}/connections/{id}")
            - route(&before, "PUT /sites/{id}/datasources/{id}/connections/{id}"),
        1
    );
    assert_eq!(
        route(&after, "POST /sites/{id}/datasources"),
        route(&before, "POST /sites/{id}/datasources"),
        "no republish"
    );
    let now = h.block_on(client.datasource_connections(&id)).unwrap().remove(0);
    assert_eq!(now.server_address.as_deref(), Some("pg-dev.acme.internal"));
    h.assert_converged(&manifest);
}

#[test]
fn a_saved_plan_of_a_connection_change_applies_and_holds_no_password() {
    let h = Harness::start();
    let manifest = h.copy_example("enterprise", "ent");
    h.apply(&manifest);
    let client = h.client();
    let id = h.block_on(async {
        let ds = client.datasources().await.unwrap().into_iter().find(|d| d.name == "Customers").unwrap();
        let c = client.datasource_connections(&ds.id).await.unwrap().remove(0);
        let update = ConnectionUpdate { user_name: Some("someone_else".into()), ..Default::default() };
        client.update_connection(ContentKind::Datasource, &ds.id, &c.id, &update).await.unwrap();
        ds.id
    });

    let plan_file = h.dir.path().join("plan.json");
    h.tabops(&["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)]).expect(0);
    let saved = std::fs::read_to_string(&plan_file).unwrap();
    assert!(saved.contains("connections[0].username"), "{saved}");
    assert!(saved.contains("${env:SALES_DB_PASSWORD}"), "the plan keeps the reference");
    assert!(!saved.contains("dev-sales"), "the plan holds a password");

    h.tabops(&["apply", path_str(&plan_file), "-f", path_str(&manifest)]).expect(0);
    let now = h.block_on(client.datasource_connections(&id)).unwrap().remove(0);
    assert_eq!(now.user_name.as_deref(), Some("svc_tableau"));
    assert_eq!(now.embed_password, Some(true));
    h.assert_converged(&manifest);
}

#[test]
fn a_republish_gets_new_connection_ids_and_apply_points_them_again() {
    let h = Harness::start();
    let manifest = h.copy_example("enterprise", "ent");
    let prod_env = [("PROD_OPS_DB_PASSWORD", "prod-ops")];
    let apply = |h: &Harness| {
        let run = h.tabops_env(&["apply", "-f", path_str(&manifest), "--env", "prod", "--auto-approve"], &prod_env);
        assert_eq!(run.code, 0, "prod apply failed\n{}\n{}", run.stdout, run.stderr);
    };
    apply(&h);
    let customers = |h: &Harness| {
        all_connections(h).into_iter().filter(|(item, _)| item == "Customers").map(|(_, c)| c).collect::<Vec<_>>()
    };
    let first = customers(&h);
    assert_eq!(first.len(), 1);

    // A new version of the file (still naming the development server) is published over the item.
    let file = manifest.join("content/customers.tds");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("<datasource ", "<!-- v2 -->\n<datasource ", 1)).unwrap();
    let before = h.stats();
    apply(&h);
    let after = h.stats();
    assert_eq!(route(&after, "POST /sites/{id}/datasources") - route(&before, "POST /sites/{id}/datasources"), 1);

    let second = customers(&h);
    assert_eq!(second.len(), 1, "{second:#?}");
    assert_ne!(second[0].id, first[0].id, "the republished item's connection has a new id");
    assert_eq!(second[0].server_address.as_deref(), Some("pg-sales.acme.internal"), "{second:#?}");
    assert_eq!(second[0].embed_password, Some(true));
    let plan = h.tabops_env(&["plan", "-f", path_str(&manifest), "--env", "prod", "--detailed-exitcode"], &prod_env);
    assert_eq!(plan.code, 0, "plan after the republish is not empty\n{}\n{}", plan.stdout, plan.stderr);
}
