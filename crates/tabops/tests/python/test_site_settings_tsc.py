"""Site settings drift seen by tabops after a change made with tableauserverclient (TSC), the way a site
administrator changes a setting by hand.

Runs the real binary (TABOPS_BIN, default target/debug/tabops): an emulator on a free port with one PAT for tabops
and one for TSC, `tabops apply` of a manifest with `site.settings:`, then `tabops drift` exits 0; the revision limit
changed through TSC's `sites.update`, then `tabops drift` exits 2 and names `revision_limit` (and only it), and a
second apply puts it back.
"""
import pytest

import tabops_support as support

MANIFEST = """version: 1
site:
  server: local
  content_url: acme
  settings:
    revision_limit: 40
    commenting_enabled: false
"""


@pytest.fixture()
def emulator_url(tmp_path):
    with support.emulator(tmp_path / "site.json") as url:
        yield url


def tabops(url, tmp_path, *args):
    manifest = tmp_path / "manifest"
    manifest.mkdir(exist_ok=True)
    (manifest / "manifest.yaml").write_text(MANIFEST)
    return support.tabops(url, manifest, tmp_path / "state", *args)


def test_drift_names_a_site_setting_changed_with_tsc(emulator_url, tmp_path):
    audit = ("--audit-log", str(tmp_path / "audit.jsonl"))
    applied = tabops(emulator_url, tmp_path, "apply", "--auto-approve", *audit)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    clean = tabops(emulator_url, tmp_path, "drift")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    with support.tsc(emulator_url) as server:
        site = server.sites.get_by_id(server.site_id)
        assert site.revision_limit == 40, "the apply set the revision limit"
        assert site.commenting_enabled is False
        site.revision_limit = 12
        server.sites.update(site)

    drift = tabops(emulator_url, tmp_path, "drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "revision_limit" in drift.stdout, drift.stdout
    assert "commenting_enabled" not in drift.stdout, drift.stdout

    again = tabops(emulator_url, tmp_path, "apply", "--auto-approve", *audit)
    assert again.returncode == 0, again.stdout + again.stderr
    settled = tabops(emulator_url, tmp_path, "drift")
    assert settled.returncode == 0, settled.stdout + settled.stderr
