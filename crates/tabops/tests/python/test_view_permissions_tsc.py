"""View-permission drift seen by tabops after a change made with tableauserverclient (TSC).

Runs the real binary (TABOPS_BIN, default target/debug/tabops): an emulator on a free port with one PAT for tabops
and one for TSC, `tabops apply` of a workbook without tabs whose `Win Rate` view denies Analysts the data export,
`tabops drift` exits 0; the Deny removed through TSC's `views.delete_permission`, then `tabops drift` exits 2 and
names the view, and a second apply puts the rule back (read through TSC's `views.populate_permissions`).
"""
import os
import pathlib
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[4]
BINARY = os.environ.get("TABOPS_BIN", str(REPO / "target" / "debug" / "tabops"))
SITE = "acme"
TABOPS_PAT = ("tabops", "tabops-local-secret")
TSC_PAT = ("tsc", "tsc-secret")
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
    proc = subprocess.Popen(
        [BINARY, "emulator", "--listen", "127.0.0.1:0", "--state", str(tmp_path / "site.json"),
         "--pat", ":".join(TABOPS_PAT), "--pat", ":".join(TSC_PAT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://"), f"unexpected first line {line!r}"
        yield line.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def tabops(url, tmp_path, *args):
    manifest = tmp_path / "manifest"
    (manifest / "content").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "examples" / "quickstart" / "content" / "pipeline.twb", manifest / "content" / "pipeline.twb")
    (manifest / "manifest.yaml").write_text(MANIFEST)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NO_COLOR": "1",
        "TABLEAU_PAT_NAME": TABOPS_PAT[0],
        "TABLEAU_PAT_SECRET": TABOPS_PAT[1],
    }
    command = [BINARY, *args, "-f", str(manifest), "--server", url, "--site", SITE,
               "--state-dir", str(tmp_path / "state")]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


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

    server = TSC.Server(emulator_url, use_server_version=True)
    server.auth.sign_in(TSC.PersonalAccessTokenAuth(TSC_PAT[0], TSC_PAT[1], site_id=SITE))
    try:
        view = win_rate(server)
        [rule] = view.permissions
        assert rule.capabilities == {"Read": "Allow", "ExportData": "Deny"}
        denied = TSC.PermissionsRule(rule.grantee, {"ExportData": "Deny"})
        server.views.delete_permission(view, denied)
    finally:
        server.auth.sign_out()

    drift = tabops(emulator_url, tmp_path, "drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "view:Sales/Pipeline/Win Rate" in drift.stdout, drift.stdout

    again = tabops(emulator_url, tmp_path, "apply", "--auto-approve", *audit)
    assert again.returncode == 0, again.stdout + again.stderr
    server.auth.sign_in(TSC.PersonalAccessTokenAuth(TSC_PAT[0], TSC_PAT[1], site_id=SITE))
    try:
        [rule] = win_rate(server).permissions
        assert rule.capabilities == {"Read": "Allow", "ExportData": "Deny"}
    finally:
        server.auth.sign_out()
