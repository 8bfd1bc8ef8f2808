"""Site settings drift seen by tabops after a change made with tableauserverclient (TSC), the way a site
administrator changes a setting by hand.

Runs the real binary (TABOPS_BIN, default target/debug/tabops): an emulator on a free port with one PAT for tabops
and one for TSC, `tabops apply` of a manifest with `site.settings:`, then `tabops drift` exits 0; the revision limit
changed through TSC's `sites.update`, then `tabops drift` exits 2 and names `revision_limit` (and only it), and a
second apply puts it back.
"""
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[4]
BINARY = os.environ.get("TABOPS_BIN", str(REPO / "target" / "debug" / "tabops"))
SITE = "acme"
TABOPS_PAT = ("tabops", "tabops-local-secret")
TSC_PAT = ("tsc", "tsc-secret")
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
    manifest.mkdir(exist_ok=True)
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


def test_drift_names_a_site_setting_changed_with_tsc(emulator_url, tmp_path):
    import tableauserverclient as TSC

    audit = ("--audit-log", str(tmp_path / "audit.jsonl"))
    applied = tabops(emulator_url, tmp_path, "apply", "--auto-approve", *audit)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    clean = tabops(emulator_url, tmp_path, "drift")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    server = TSC.Server(emulator_url, use_server_version=True)
    server.auth.sign_in(TSC.PersonalAccessTokenAuth(TSC_PAT[0], TSC_PAT[1], site_id=SITE))
    try:
        site = server.sites.get_by_id(server.site_id)
        assert site.revision_limit == 40, "the apply set the revision limit"
        assert site.commenting_enabled is False
        site.revision_limit = 12
        server.sites.update(site)
    finally:
        server.auth.sign_out()

    drift = tabops(emulator_url, tmp_path, "drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "revision_limit" in drift.stdout, drift.stdout
    assert "commenting_enabled" not in drift.stdout, drift.stdout

    again = tabops(emulator_url, tmp_path, "apply", "--auto-approve", *audit)
    assert again.returncode == 0, again.stdout + again.stderr
    settled = tabops(emulator_url, tmp_path, "drift")
    assert settled.returncode == 0, settled.stdout + settled.stderr
