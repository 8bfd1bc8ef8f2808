//! Subscriptions through the real binary against the emulator: the quick start's subscription is created with its
//! workbook, a second apply writes nothing, a subscription someone added on the site to a manifest workbook is
//! listed as unmanaged until `settings.prune_subscriptions` deletes it, a changed field is updated in place, an
//! export with `--with-subscriptions` plans no change, and a manifest without subscriptions never lists them (no
//! extra request).

use tabops_manifest::model::{Frequency, Schedule, TimeOfDay, Weekday};
use tabops_testkit as support;

use support::{Harness, edit, path_str, route, transcript_step};

const LIST: &str = "GET /sites/{id}/subscriptions";

fn weekly() -> tabops_tableau::Schedule {
    let schedule = Schedule {
        frequency: Frequency::Weekly,
        start: TimeOfDay { hour: 9, minute: 0 },
        end: None,
        every: None,
        weekdays: [Weekday::Friday].into_iter().collect(),
        month_days: Default::default(),
    };
    tabops_apply::wire::to_wire_schedule(&schedule)
}

/// Adds a subscription on the site, the way someone would in the web UI.
fn subscribe(site: &Harness, workbook: &str, user: &str, subject: &str) -> String {
    let client = site.client();
    site.block_on(async {
        let workbooks = client.workbooks().await.unwrap();
        let workbook = workbooks.iter().find(|w| w.name == workbook).expect("workbook").id.clone();
        let users = client.users().await.unwrap();
        let user = users.iter().find(|u| u.name == user).expect("user").id.clone();
        let new = tabops_tableau::NewSubscription {
            body: tabops_tableau::SubscriptionBody {
                subject: subject.to_owned(),
                message: String::new(),
                attach_image: true,
                attach_pdf: false,
                page_orientation: None,
                page_size: None,
                send_if_view_empty: true,
                suspended: false,
            },
            target: tabops_tableau::SubscriptionTarget::Workbook(workbook),
            user_id: user,
            schedule: weekly(),
        };
        client.create_subscription(&new).await.unwrap().id
    })
}

#[test]
fn subscriptions_converge_and_only_the_manifests_workbooks_are_pruned() {
    let site = Harness::start();
    let manifest = site.copy_example("quickstart", "quickstart");
    let file = manifest.join("manifest.yaml");
    let applied = site.apply(&manifest);
    let out = format!("{}{}", applied.stdout, applied.stderr);
    assert!(
        out.contains("+ subscription:Sales/Pipeline/Pipeline Health#carol@acme.com@weekly-08:00: created"),
        "{out}"
    );
    let before = site.stats();
    site.assert_converged(&manifest);
    let again = site.tabops(&["apply", "-f", path_str(&manifest), "--auto-approve"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        support::content_writes(&site.stats()),
        support::content_writes(&before),
        "a second apply writes nothing"
    );

    // Added on the site to a manifest workbook: unmanaged, then pruned when the manifest says so.
    let extra = subscribe(&site, "Pipeline", "bob@acme.com", "Bob's own");
    let unmanaged = "subscription:Sales/Pipeline#bob@acme.com@weekly-09:00";
    let json = site.plan_json(&manifest);
    let listed = json["unmanaged"].as_array().unwrap();
    assert!(listed.iter().any(|u| u["address"] == unmanaged && u["id"] == extra.as_str()), "{json}");
    assert_eq!(json["summary"]["destroy"], 0);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("site:\n", "settings:\n  prune_subscriptions: true\n\nsite:\n")).unwrap();
    let json = site.plan_json(&manifest);
    assert_eq!(support::changes(&json), [(unmanaged.to_owned(), "delete".to_owned())], "{json}");
    // The same, as a transcript: the plan names the delete and why, a deletion limit of 0 refuses it, apply does it.
    let mut transcript = String::new();
    for (args, code) in [
        (vec!["plan", "-f", path_str(&manifest), "--detailed-exitcode"], 2),
        (vec!["plan", "-f", path_str(&manifest), "--max-deletes", "0"], 1),
        (vec!["apply", "-f", path_str(&manifest), "--auto-approve"], 0),
        (vec!["plan", "-f", path_str(&manifest), "--detailed-exitcode"], 0),
    ] {
        let run = site.tabops(&args);
        assert_eq!(run.code, code, "`tabops {}`\n{}\n{}", args.join(" "), run.stdout, run.stderr);
        transcript.push_str(&transcript_step(&args, &run));
        if args[0] == "apply" {
            let out = format!("{}{}", run.stdout, run.stderr);
            assert!(out.contains(&format!("- {unmanaged}: deleted")), "{out}");
        }
    }
    let mut filters = support::transcript_filters(site.dir.path());
    filters.add_filter(r"/tmp/[^\s)`']+", "[TMP]");
    filters.add_filter(r"\(\d+ ms\)", "([TIME])");
    filters.bind(|| insta::assert_snapshot!("a_subscription_added_on_the_site_is_pruned", transcript));

    // Changing a field in the manifest updates the subscription in place.
    edit(&file, "subject: Pipeline health for the week", "subject: Pipeline health, weekly");
    let json = site.plan_json(&manifest);
    let address = "subscription:Sales/Pipeline/Pipeline Health#carol@acme.com@weekly-08:00";
    let action = support::action(&json, address);
    assert_eq!(action["action"], "update", "{json}");
    assert_eq!(action["changes"][0]["before"], "Pipeline health for the week");
    site.apply(&manifest);
    site.assert_converged(&manifest);

    // Exported with its subscriptions, the site round-trips: the export plans no change, and names the view.
    let out = site.dir.path().join("exported");
    let export = site.tabops(&["export", "--out", path_str(&out), "--with-subscriptions", "--adopt"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let sales = std::fs::read_to_string(out.join("projects/sales.yaml")).unwrap();
    assert!(sales.contains("subscriptions:") && sales.contains("view: Pipeline Health"), "{sales}");
    assert!(
        sales.contains("subject: Pipeline health, weekly") && sales.contains("page_orientation: landscape"),
        "{sales}"
    );
    site.assert_converged(&out);
    let json = site.plan_json(&out);
    assert!(json["unmanaged"].as_array().unwrap().iter().all(|u| u["kind"] != "subscription"), "{json}");
}

#[test]
fn a_manifest_without_subscriptions_never_lists_them() {
    let site = Harness::start();
    let manifest = site.copy_example("quickstart", "quickstart");
    let file = manifest.join("manifest.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text.find("\n# Carol gets").expect("the quick start's subscription");
    std::fs::write(&file, &text[..start + 1]).unwrap();
    site.apply(&manifest);
    site.assert_converged(&manifest);
    assert_eq!(route(&site.stats(), LIST), 0, "no subscription list read");
}
