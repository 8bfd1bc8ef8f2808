"""Drift seen by tabops after a change made with tableauserverclient (TSC), the way someone edits a site by hand.

Runs the real binary (TABOPS_BIN, default target/debug/tabops): an emulator on a free port with one PAT for
tabops and one for TSC, `tabops apply` of examples/quickstart, a workbook description changed through TSC, then
`tabops drift` must exit 2 and name that workbook (and exit 0 before the change).
"""
import shutil

import pytest

import tabops_support as support
from tabops_support import REPO

QUICKSTART = REPO / "examples" / "quickstart"


@pytest.fixture()
def emulator_url(tmp_path):
    with support.emulator(tmp_path / "site.json") as url:
        yield url


def tabops(url, tmp_path, *args, manifest=QUICKSTART):
    return support.tabops(url, manifest, tmp_path / "state", *args)


def test_drift_names_a_workbook_changed_with_tsc(emulator_url, tmp_path):
    applied = tabops(emulator_url, tmp_path, "apply", "--auto-approve", "--audit-log", str(tmp_path / "audit.jsonl"))
    assert applied.returncode == 0, applied.stdout + applied.stderr

    clean = tabops(emulator_url, tmp_path, "drift")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    with support.tsc(emulator_url) as server:
        workbooks, _ = server.workbooks.get()
        assert workbooks, "the apply published no workbook"
        target = sorted(workbooks, key=lambda w: w.name)[0]
        target.description = "edited by hand through TSC"
        server.workbooks.update(target)
        again = server.workbooks.get_by_id(target.id)
        assert again.description == "edited by hand through TSC"

    drift = tabops(emulator_url, tmp_path, "drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert target.name in drift.stdout, drift.stdout
    others = [w.name for w in workbooks if w.id != target.id]
    assert all(name not in drift.stdout for name in others), drift.stdout


def test_drift_names_a_subscription_changed_with_tsc(emulator_url, tmp_path):
    """The quick start's subscription, read and changed with TSC's `subscriptions` endpoint (get, get_by_id,
    update, delete): drift names it after each change made outside tabops, and apply puts it back."""
    manifest = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, manifest)
    run = lambda *args: tabops(emulator_url, tmp_path, *args, manifest=manifest)  # noqa: E731
    applied = run("apply", "--auto-approve", "--audit-log", str(tmp_path / "audit.jsonl"))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    address = "subscription:Sales/Pipeline/Pipeline Health#carol@acme.com@weekly-08:00"

    with support.tsc(emulator_url) as server:
        subscriptions, pagination = server.subscriptions.get()
        assert pagination.total_available == 1 and len(subscriptions) == 1
        sub = server.subscriptions.get_by_id(subscriptions[0].id)
        assert sub.subject == "Pipeline health for the week"
        assert (sub.attach_image, sub.attach_pdf, sub.page_orientation) == (True, True, "Landscape")
        assert sub.target.type == "View" and sub.schedule_id is None  # Cloud: the schedule is inline
        sub.subject = "edited by hand through TSC"
        sub.suspended = True
        updated = server.subscriptions.update(sub)
        assert (updated.subject, updated.suspended) == ("edited by hand through TSC", True)

    drift = run("drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert address in drift.stdout and "edited by hand through TSC" in drift.stdout, drift.stdout

    again = run("apply", "--auto-approve", "--audit-log", str(tmp_path / "audit.jsonl"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert run("drift").returncode == 0

    with support.tsc(emulator_url) as server:
        subscriptions, _ = server.subscriptions.get()
        server.subscriptions.delete(subscriptions[0].id)
        assert server.subscriptions.get()[0] == []
    drift = run("drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert address in drift.stdout, drift.stdout


def test_drift_names_a_webhook_changed_with_tsc(emulator_url, tmp_path):
    """The quick start's webhook deleted and made again with another destination through TSC's `webhooks` endpoint
    (TSC has no update): drift exits 2 naming it, and apply puts the manifest's destination back."""
    import tableauserverclient as TSC

    applied = tabops(emulator_url, tmp_path, "apply", "--auto-approve", "--audit-log", str(tmp_path / "audit.jsonl"))
    assert applied.returncode == 0, applied.stdout + applied.stderr

    with support.tsc(emulator_url) as server:
        webhooks, _ = server.webhooks.get()
        assert [w.name for w in webhooks] == ["Workbook refresh failed"]
        assert webhooks[0].event == "workbook-refresh-failed"
        server.webhooks.delete(webhooks[0].id)
        again = TSC.WebhookItem()
        again.name = webhooks[0].name
        again.event = "workbook-refresh-failed"
        again.url = "https://elsewhere.example.com/hook"
        server.webhooks.create(again)

    drift = tabops(emulator_url, tmp_path, "drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "webhook:Workbook refresh failed" in drift.stdout, drift.stdout
    assert "https://elsewhere.example.com/hook" in drift.stdout, drift.stdout

    fixed = tabops(emulator_url, tmp_path, "apply", "--auto-approve", "--audit-log", str(tmp_path / "audit.jsonl"))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert tabops(emulator_url, tmp_path, "drift").returncode == 0
