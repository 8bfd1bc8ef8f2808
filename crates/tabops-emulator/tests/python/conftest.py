"""Starts the tabops emulator binary (TABOPS_BIN, default target/debug/tabops) for the conformance suite."""
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[4]
PAT_NAME = "tabops"
PAT_SECRET = "tabops-local-secret"
SITE = "acme"
# tabcmd signs in again on every command, which ends the previous session of the same PAT (as on Cloud),
# so it gets a token of its own.
TABCMD_PAT_NAME = "tabcmd"
TABCMD_PAT_SECRET = "tabcmd-local-secret"


@pytest.fixture(scope="session")
def emulator_url():
    binary = os.environ.get("TABOPS_BIN", str(REPO / "target" / "debug" / "tabops"))
    proc = subprocess.Popen(
        # --test-hooks: test_tsc.py arms a failing refresh job through POST /_emulator/jobs/fail-next.
        [binary, "emulator", "--listen", "127.0.0.1:0", "--test-hooks", "--pat", f"{PAT_NAME}:{PAT_SECRET}",
         "--pat", f"{TABCMD_PAT_NAME}:{TABCMD_PAT_SECRET}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on http://"), f"unexpected first line {line!r}"
    yield line.removeprefix("listening on ")
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def server(emulator_url):
    import tableauserverclient as TSC

    srv = TSC.Server(emulator_url, use_server_version=True)
    srv.auth.sign_in(TSC.PersonalAccessTokenAuth(PAT_NAME, PAT_SECRET, site_id=SITE))
    yield srv
    srv.auth.sign_out()
