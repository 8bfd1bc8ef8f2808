"""View-permission drift seen by tabops after a change made with tableauserverclient (TSC).

Runs the real binary (TABOPS_BIN, default target/debug/tabops): an emulator on a free port with one PAT for tabops
and one for TSC, `tabops apply` of a workbook without tabs whose `Win Rate` view denies Analysts the data export,
`tabops drift` exits 0; the Deny removed through TSC's `views.delete_permission`, then `tabops drift` exits 2 and
names the view, and a second apply puts the rule back (read through TSC's `views.populate_permissions`).
"""
import shutil

import pytest

import tabops_support as support
from tabops_support import REPO

MANIFEST = """version: 1
site: { server: local, content_url: acme }
groups:
  - { name: Analysts }
projects:
  - name: Sales
workbooks:
  - name: Pipeline
    project: Sales
    file: content/pipeline.twb
    show_tabs: false
    view_permissions:
      Win Rate:
        - { group: Analysts, capabilities: { Read: Allow, ExportData: Deny } }
"""


@pytest.fixture()
def emulator_url(tmp_path):
    with support.emulator(tmp_path / "site.json") as url:
        yield url


def tabops(url, tmp_path, *args):
    manifest = tmp_path / "manifest"
    (manifest / "content").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "examples" / "quickstart" / "content" / "pipeline.twb", manifest / "content" / "pipeline.twb")
    (manifest / "manifest.yaml").write_text(MANIFEST)
    return support.tabops(url, manifest, tmp_path / "state", *args)


def win_rate(server):
    import tableauserverclient as TSC

    [workbook] = [w for w in TSC.Pager(server.workbooks) if w.name == "Pipeline"]
    server.workbooks.populate_views(workbook)
    [view] = [v for v in workbook.views if v.name == "Win Rate"]
    server.views.populate_permissions(view)
    return view


def test_drift_names_a_view_whose_rule_was_changed_with_tsc(emulator_url, tmp_path):
    import tableauserverclient as TSC

    audit = ("--audit-log", str(tmp_path / "audit.jsonl"))
    applied = tabops(emulator_url, tmp_path, "apply", "--auto-approve", *audit)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    clean = tabops(emulator_url, tmp_path, "drift")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    with support.tsc(emulator_url) as server:
        view = win_rate(server)
        [rule] = view.permissions
        assert rule.capabilities == {"Read": "Allow", "ExportData": "Deny"}
        denied = TSC.PermissionsRule(rule.grantee, {"ExportData": "Deny"})
        server.views.delete_permission(view, denied)

    drift = tabops(emulator_url, tmp_path, "drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "view:Sales/Pipeline/Win Rate" in drift.stdout, drift.stdout

    again = tabops(emulator_url, tmp_path, "apply", "--auto-approve", *audit)
    assert again.returncode == 0, again.stdout + again.stderr
    with support.tsc(emulator_url) as server:
        [rule] = win_rate(server).permissions
        assert rule.capabilities == {"Read": "Allow", "ExportData": "Deny"}
