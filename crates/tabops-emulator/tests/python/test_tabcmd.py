"""tabcmd 2.0.21 against the emulator (a fresh HOME keeps its session file out of the user's home)."""
import os
import subprocess
import sys
import uuid

import pytest

from conftest import SITE, TABCMD_PAT_NAME, TABCMD_PAT_SECRET

# With an extract: refreshextracts of a workbook without one is refused (409090, TSC issue #1531).
TWB = """<?xml version='1.0' encoding='utf-8' ?>
<workbook><datasources><datasource name='ds'><extract enabled='true'/></datasource></datasources><worksheets><worksheet name='Sheet 1'/></worksheets></workbook>"""


@pytest.fixture()
def tabcmd(emulator_url, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path))

    def run(*args):
        cmd = [sys.executable, "-m", "tabcmd", *args]
        result = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"tabcmd {args[0]} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout + result.stderr

    run("login", "-s", emulator_url, "-t", SITE, "--token-name", TABCMD_PAT_NAME, "--token-value", TABCMD_PAT_SECRET, "--no-certcheck")
    return run


def test_tabcmd_end_to_end(tabcmd, tmp_path, server):
    import tableauserverclient as TSC

    project = f"tc-{uuid.uuid4().hex[:8]}"
    group = f"tg-{uuid.uuid4().hex[:8]}"
    tabcmd("createproject", "-n", project)
    (tmp_path / "Book.twb").write_text(TWB)
    tabcmd("publish", str(tmp_path / "Book.twb"), "-n", "TabcmdBook", "-r", project, "--overwrite")
    tabcmd("creategroup", group)
    user = server.users.add(TSC.UserItem(f"{uuid.uuid4().hex[:8]}@example.com", "Viewer"))
    (tmp_path / "users.csv").write_text(user.name + "\n")
    tabcmd("addusers", group, "--users", str(tmp_path / "users.csv"))
    tabcmd("refreshextracts", "--project", project, "--workbook", "TabcmdBook")
    tabcmd("get", "/workbooks/TabcmdBook.twb", "-f", str(tmp_path / "got.twb"))
    assert (tmp_path / "got.twb").read_text() == TWB
    tabcmd("deleteproject", project)
    assert project not in [p.name for p in TSC.Pager(server.projects)]
