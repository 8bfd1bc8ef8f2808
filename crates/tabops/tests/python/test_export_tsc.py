"""`tabops export` on a site seeded by the real tableauserverclient (content tabops never saw), then
`tabops plan --detailed-exitcode` of the export against the same site: exit 0, no changes.

Run: cargo build -p tabops && TABOPS_BIN=$PWD/target/debug/tabops .venv/bin/python -m pytest crates/tabops/tests/python -q
"""
import datetime
import os
import pathlib
import subprocess

import pytest
import tableauserverclient as TSC

REPO = pathlib.Path(__file__).resolve().parents[4]
FIXTURES = REPO / "fixtures" / "content"
SITE = "acme"


@pytest.fixture()
def emulator(tmp_path):
    binary = os.environ.get("TABOPS_BIN", str(REPO / "target" / "debug" / "tabops"))
    proc = subprocess.Popen(
        [binary, "emulator", "--listen", "127.0.0.1:0", "--state", str(tmp_path / "emulator.json"),
         "--pat", "tabops:tabops-local-secret", "--pat", "tsc:tsc-secret"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on http://"), f"unexpected first line {line!r}"
    yield binary, line.removeprefix("listening on ")
    proc.terminate()
    proc.wait(timeout=10)


def tabops(binary, url, tmp_path, *args):
    env = dict(os.environ, TABLEAU_PAT_NAME="tabops", TABLEAU_PAT_SECRET="tabops-local-secret", NO_COLOR="1")
    for name in ("TABLEAU_SERVER", "TABLEAU_SITE", "TABOPS_MANIFEST", "TABOPS_ENV", "TABOPS_AUDIT_LOG"):
        env.pop(name, None)
    return subprocess.run(
        [binary, *args, "--server", url, "--site", SITE, "--state-dir", str(tmp_path / "state")],
        env=env, capture_output=True, text=True, timeout=300,
    )


def seed(url):
    """Projects, users, groups, content, permissions and refresh tasks, all through TSC."""
    server = TSC.Server(url, use_server_version=True)
    server.auth.sign_in(TSC.PersonalAccessTokenAuth("tsc", "tsc-secret", site_id=SITE))
    try:
        finance = server.projects.create(TSC.ProjectItem("Finance", description="Money: in & out",
                                                         content_permissions="LockedToProject"))
        reports = server.projects.create(TSC.ProjectItem("Reports 2024", parent_id=finance.id))
        ab = server.projects.create(TSC.ProjectItem("A/B tests", description="${not a variable}"))

        ana = server.users.add(TSC.UserItem("ana@example.com", "Creator"))
        ben = server.users.add(TSC.UserItem("ben@example.com", "Explorer"))
        server.users.add(TSC.UserItem("unused@example.com", "Viewer"))
        analysts = server.groups.create(TSC.GroupItem("Analysts: EMEA"))
        server.groups.add_user(analysts, ana.id)
        server.groups.add_user(analysts, ben.id)
        server.groups.create(TSC.GroupItem("yes"))  # a name YAML 1.1 reads as a boolean

        orders = TSC.DatasourceItem(finance.id, name="Orders")
        orders = server.datasources.publish(orders, str(FIXTURES / "orders.tdsx"), "CreateNew")
        orders.tags = {"finance", "certified"}
        orders.description = "Order lines"
        server.datasources.update(orders)

        customers = server.datasources.publish(TSC.DatasourceItem(ab.id, name="Customers #1"),
                                               str(FIXTURES / "customers.tds"), "CreateNew")

        revenue = TSC.WorkbookItem(reports.id, name="Revenue", show_tabs=True)
        revenue.hidden_views = ["Top Customers"]
        revenue = server.workbooks.publish(revenue, str(FIXTURES / "revenue.twbx"), "CreateNew")
        revenue.tags = {"q4"}
        server.workbooks.update(revenue)
        pipeline = server.workbooks.publish(TSC.WorkbookItem(ab.id, name="Pipeline: 2024"),
                                            str(FIXTURES / "pipeline.twb"), "CreateNew")

        read = {TSC.Permission.Capability.Read: TSC.Permission.Mode.Allow}
        server.projects.update_permissions(finance, [TSC.PermissionsRule(analysts, read)])
        viewer_wb = {c: TSC.Permission.Mode.Allow for c in
                     ("Read", "Filter", "ViewComments", "AddComment", "ExportImage", "ExportData")}
        server.projects.update_workbook_default_permissions(finance, [TSC.PermissionsRule(analysts, viewer_wb)])
        server.workbooks.update_permissions(pipeline, [TSC.PermissionsRule(
            TSC.UserItem.as_reference(ben.id),
            {"Read": "Allow", "ExportData": "Deny"})])
        server.datasources.update_permissions(customers, [TSC.PermissionsRule(analysts, {"Connect": "Allow"})])

        weekly = TSC.ScheduleItem(None, None, None, None, TSC.WeeklyInterval(datetime.time(2, 30), "Monday", "Friday"))
        server.tasks.create(TSC.TaskItem(None, "FullRefresh", None, schedule_item=weekly,
                                         target=TSC.Target(orders.id, "datasource")))
        return {"revenue": revenue.id}
    finally:
        server.auth.sign_out()


def test_export_of_a_tsc_seeded_site_plans_no_changes(emulator, tmp_path):
    binary, url = emulator
    seed(url)
    out = tmp_path / "exported"
    # Read-only by default: nothing is tagged, and the output says the next plan republishes the unmarked items.
    read_only = tabops(binary, url, tmp_path, "export", "--out", str(tmp_path / "read-only"), "--with-permissions",
                       "--with-refresh")
    assert read_only.returncode == 0, read_only.stderr
    assert "Adopted" not in read_only.stderr, read_only.stderr
    assert "nothing was written to the site" in read_only.stderr, read_only.stderr
    assert "tabops export --adopt" in read_only.stderr, read_only.stderr

    export = tabops(binary, url, tmp_path, "export", "--out", str(out), "--with-permissions", "--with-refresh",
                    "--adopt")
    assert export.returncode == 0, export.stderr
    assert "Adopted" in export.stderr, export.stderr
    assert "Checked: a plan of" in export.stdout, export.stdout + export.stderr

    plan = tabops(binary, url, tmp_path, "plan", "-f", str(out), "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes" in plan.stdout

    text = "\n".join(p.read_text() for p in sorted(out.rglob("*.yaml")))
    assert "$${not a variable}" in text
    assert "Top Customers" in text  # hidden view found in the downloaded workbook
    assert "unused@example.com" in text  # a whole-site export has every user, also one nobody references
    assert (out / "content" / "Finance" / "Reports 2024" / "Revenue.twbx").is_file()
    assert (out / "content" / "A_B tests" / "Pipeline_ 2024.twb").is_file()

    # A second export adopts nothing: the markers written by the first already match.
    again = tabops(binary, url, tmp_path, "export", "--out", str(tmp_path / "again"), "--with-permissions",
                   "--with-refresh", "--adopt")
    assert again.returncode == 0, again.stderr
    assert "Adopted" not in again.stderr
