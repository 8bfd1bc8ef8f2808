"""What the drift-through-TSC tests share: the real binary (TABOPS_BIN, default target/debug/tabops), an emulator
on a free port with one PAT for tabops and one for TSC, tabops run against it, and TSC signed in to it."""
import contextlib
import os
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[4]
BINARY = os.environ.get("TABOPS_BIN", str(REPO / "target" / "debug" / "tabops"))
SITE = "acme"
TABOPS_PAT = ("tabops", "tabops-local-secret")
TSC_PAT = ("tsc", "tsc-secret")


@contextlib.contextmanager
def emulator(state_file):
    """The emulator persisting to `state_file`; yields its URL and stops it after."""
    proc = subprocess.Popen(
        [BINARY, "emulator", "--listen", "127.0.0.1:0", "--state", str(state_file),
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


def tabops(url, manifest, state_dir, *args):
    """`tabops ARGS -f MANIFEST` against the emulator at `url` with tabops' token and no colour."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NO_COLOR": "1",
        "TABLEAU_PAT_NAME": TABOPS_PAT[0],
        "TABLEAU_PAT_SECRET": TABOPS_PAT[1],
    }
    command = [BINARY, *args, "-f", str(manifest), "--server", url, "--site", SITE, "--state-dir", str(state_dir)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def tsc(url):
    """A TSC server signed in to the emulator's site with TSC's own token; signs out after."""
    import tableauserverclient as TSC

    server = TSC.Server(url, use_server_version=True)
    server.auth.sign_in(TSC.PersonalAccessTokenAuth(TSC_PAT[0], TSC_PAT[1], site_id=SITE))
    try:
        yield server
    finally:
        server.auth.sign_out()
