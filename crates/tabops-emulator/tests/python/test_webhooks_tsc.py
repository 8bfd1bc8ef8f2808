"""tableauserverclient 0.41's `webhooks` endpoint against the emulator: create (TSC sends the event as a
`webhook-source-event-*` element only), get, get_by_id, test, delete, and a failed refresh delivering the documented
JSON payload (Tableau's "Webhooks Events and Payloads") to a loopback receiver."""
import http.server
import json
import threading
import time
import urllib.request
import uuid

import pytest
import tableauserverclient as TSC

TWB = """<?xml version='1.0' encoding='utf-8' ?>
<workbook version='18.1'><datasources><datasource name='ds'><connection class='postgres' server='db.example.com' port='5432' username='u'/><extract enabled='true'/></datasource></datasources>
<worksheets><worksheet name='Sales'/></worksheets></workbook>"""


@pytest.fixture()
def receiver():
    """An HTTP server on 127.0.0.1 recording (path, content type, body) of every POST; answers 200."""
    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            got.append((self.path, self.headers.get("Content-Type"), self.rfile.read(length).decode()))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", got
    httpd.shutdown()


def wait_for(got, count, timeout=10):
    deadline = time.time() + timeout
    while len(got) < count and time.time() < deadline:
        time.sleep(0.05)
    return got


def new_webhook(name, event, url):
    item = TSC.WebhookItem()
    item.name = name
    item.event = event
    item.url = url
    return item


def test_webhooks_create_get_test_delete_through_tsc(server, receiver):
    base, got = receiver
    name = f"hook-{uuid.uuid4().hex[:8]}"
    created = server.webhooks.create(new_webhook(name, "datasource-refresh-failed", f"{base}/created"))
    assert created.id and created.name == name
    assert created.event == "datasource-refresh-failed"
    assert created.url == f"{base}/created"
    assert created.owner_id

    listed, pagination = server.webhooks.get()
    assert [w.id for w in listed if w.name == name] == [created.id]
    assert pagination.total_available == len(listed)
    again = server.webhooks.get_by_id(created.id)
    assert (again.name, again.event, again.url) == (name, "datasource-refresh-failed", f"{base}/created")

    answer = server.webhooks.test(created.id)
    assert answer.status_code == 200
    assert b"webhookTestResult" in answer.content and b'status="200"' in answer.content
    assert wait_for(got, 1)[0] == ("/created", None, "")

    server.webhooks.delete(created.id)
    assert all(w.id != created.id for w in server.webhooks.get()[0])
    with pytest.raises(TSC.server.endpoint.exceptions.ServerResponseError):
        server.webhooks.get_by_id(created.id)


def test_plain_http_destinations_are_refused_beyond_loopback(server):
    with pytest.raises(TSC.server.endpoint.exceptions.ServerResponseError) as refused:
        server.webhooks.create(new_webhook("plain", "workbook-created", "http://hooks.example.com/tableau"))
    assert "must be https" in str(refused.value)


def test_a_failed_refresh_posts_the_payload_to_the_webhook(server, receiver, emulator_url, tmp_path):
    base, got = receiver
    project = server.projects.create(TSC.ProjectItem(f"hooks-{uuid.uuid4().hex[:8]}"))
    path = tmp_path / "Hooked.twb"
    path.write_text(TWB)
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="Hooked"), str(path), "CreateNew")
    hook = server.webhooks.create(new_webhook(f"wb-failed-{uuid.uuid4().hex[:8]}", "workbook-refresh-failed", f"{base}/failed"))
    try:
        arm = urllib.request.Request(f"{emulator_url}/_emulator/jobs/fail-next?count=1", method="POST")
        assert urllib.request.urlopen(arm).status == 204
        job = server.workbooks.refresh(wb)
        with pytest.raises(Exception):
            server.jobs.wait_for_job(job, timeout=30)
        mine = [g for g in wait_for(got, 1) if g[0] == "/failed"]
        assert len(mine) == 1, got
        _, content_type, body = mine[0]
        assert content_type == "application/json"
        payload = json.loads(body)
        assert payload["resource"] == "WORKBOOK"
        assert payload["event_type"] == "WorkbookRefreshFailed"
        assert payload["resource_name"] == "Hooked"
        assert payload["resource_luid"] == wb.id
        assert payload["site_luid"] == server.site_id
        assert payload["created_at"].endswith("Z")
    finally:
        server.webhooks.delete(hook.id)
