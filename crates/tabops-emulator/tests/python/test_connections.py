"""Per-environment connection servers, checked through tableauserverclient 0.41 (issue 10, item 0).

In a publish request `<connections><connection serverAddress=...>` only selects which connection of the file the
credentials belong to (TSC issue #337, the maintainers' explanation); the server changes through Update Workbook /
Data Source Connection. After `tabops apply --env prod` of the enterprise example, TSC's `populate_connections`
must show every database connection on the production server, and TSC's `update_connection` must change one.
"""
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import tableauserverclient as TSC

from conftest import PAT_NAME, PAT_SECRET, REPO, SITE

PROD_SERVERS = {"pg-sales.acme.internal", "fin-db.acme.internal", "ops-db.acme.internal"}
ENTERPRISE_ITEMS = {
    "Orders", "Customers", "Budget", "GL Entries", "Shipments", "Revenue", "Pipeline", "Sales Forecast",
    "Price Test Results", "Profit and Loss", "Board Pack", "Defect Rates", "Warehouse Throughput",
}


def tabops(emulator_url, tmp_path, *args):
    binary = os.environ.get("TABOPS_BIN", str(REPO / "target" / "debug" / "tabops"))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NO_COLOR": "1",
        "TABLEAU_PAT_NAME": PAT_NAME,
        "TABLEAU_PAT_SECRET": PAT_SECRET,
        "SALES_DB_PASSWORD": "s",
        "FINANCE_DB_PASSWORD": "f",
        "OPS_DB_PASSWORD": "o",
        "PROD_OPS_DB_PASSWORD": "p",
    }
    cmd = [binary, *args, "--server", emulator_url, "--site", SITE, "--state-dir", str(tmp_path / "state")]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def file_connections(path):
    """The database connections a content file holds: one per named connection of its data sources (the
    `<named-connection><connection class server port dbname>` elements of the .twb/.tds, inside the package for
    .twbx/.tdsx), as (class, server, port, dbname)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.endswith((".twb", ".tds")))
            root = ET.fromstring(z.read(name))
    else:
        root = ET.parse(path).getroot()
    found = set()
    for named in root.iter("named-connection"):
        for c in named.iter("connection"):
            found.add((c.get("class"), c.get("server"), c.get("port"), c.get("dbname")))
    return found


def manifest_files(manifest):
    """Item name -> content file, read from the example's project files (`name:` then `file:` lines)."""
    files = {}
    for yaml in (manifest / "projects").glob("*.yaml"):
        name = None
        for line in yaml.read_text().splitlines():
            stripped = line.strip().lstrip("- ").strip()
            if stripped.startswith("name:"):
                name = stripped.split(":", 1)[1].strip()
            elif stripped.startswith("file:") and name:
                files[name] = (yaml.parent / stripped.split(":", 1)[1].strip()).resolve()
    return files


def sign_in(emulator_url):
    # Signed in after tabops ran: one session per token, as on Cloud, so tabops' sign-in would end this one.
    srv = TSC.Server(emulator_url, use_server_version=True)
    srv.auth.sign_in(TSC.PersonalAccessTokenAuth(PAT_NAME, PAT_SECRET, site_id=SITE))
    return srv


def test_prod_apply_connections_read_back_through_populate_connections(emulator_url, tmp_path):
    manifest = tmp_path / "enterprise"
    shutil.copytree(REPO / "examples" / "enterprise", manifest)
    run = tabops(emulator_url, tmp_path, "apply", "-f", str(manifest), "--env", "prod", "--auto-approve",
                 "--audit-log", str(tmp_path / "audit.jsonl"))
    assert run.returncode == 0, run.stdout + run.stderr

    files = manifest_files(manifest)
    srv = sign_in(emulator_url)
    try:
        seen = set()
        items = [(srv.datasources, d) for d in TSC.Pager(srv.datasources)]
        items += [(srv.workbooks, w) for w in TSC.Pager(srv.workbooks)]
        for endpoint, item in items:
            if item.name not in ENTERPRISE_ITEMS:
                continue
            endpoint.populate_connections(item)
            database = [c for c in item.connections if c.connection_type == "postgres"]
            assert database, f"{item.name} has no database connection"
            for c in database:
                assert c.server_address in PROD_SERVERS, f"{item.name}: {c.server_address}"
                assert c.server_port == "5432"
                assert c.embed_password is True
                if c.server_address == "ops-db.acme.internal":
                    assert c.username == "svc_tableau_ops_prod"
            # As many database connections as the file holds, and nothing invented next to them (the emulator
            # used to add a `sqlserver` connection for each publish credential).
            in_file = file_connections(files[item.name])
            assert len(database) == len(in_file), f"{item.name}: {len(database)} connections, file has {in_file}"
            assert all(c.connection_type in ("postgres", "hyper") for c in item.connections), item.connections
            seen.add(item.name)
        assert seen == ENTERPRISE_ITEMS

        # TSC's update_connection: the request shape of RequestFactory.Connection.update_req.
        customers = next(d for d in TSC.Pager(srv.datasources) if d.name == "Customers")
        srv.datasources.populate_connections(customers)
        conn = customers.connections[0]
        conn.server_address = "pg-replica.acme.internal"
        conn.server_port = "6432"
        conn.username = "svc_replica"
        conn.password = "secret"
        conn.embed_password = True
        updated = srv.datasources.update_connection(customers, conn)
        assert updated.id == conn.id
        assert updated.server_address == "pg-replica.acme.internal"
        assert updated.server_port == "6432"
        assert updated.username == "svc_replica"
        srv.datasources.populate_connections(customers)
        assert customers.connections[0].server_address == "pg-replica.acme.internal"
    finally:
        srv.auth.sign_out()

    # tabops sees the change made outside it: drift exits 2 and names the connection field.
    drift = tabops(emulator_url, tmp_path, "drift", "-f", str(manifest), "--env", "prod")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "connections[0].server" in drift.stdout
    assert "pg-replica.acme.internal" in drift.stdout
