"""A raw-HTTP script in the style of Tableau's REST API docs and most user scripts: `requests` with JSON request
bodies and `Accept: application/json`, against the emulator. Every endpoint tabops uses takes and answers JSON in
Tableau's mapping (see docs/tableau-cloud.md, "Wire shapes"): attributes as members, element text beside
attributes under `value`, list items as arrays under the singular name, errors as {"error": {code, summary,
detail}}."""
import json
import uuid

import pytest
import requests

from conftest import PAT_NAME, PAT_SECRET, SITE

API = "3.25"
JSON = {"Accept": "application/json", "Content-Type": "application/json"}

# With an extract: Tableau refuses refresh tasks of content without one (409090).
TDS = """<?xml version='1.0' encoding='utf-8' ?>
<datasource version='18.1'><connection class='postgres' server='db.example.com' port='5432' username='u'/><extract enabled='true'/></datasource>"""


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Rest:
    """Signs in with a JSON body and sends JSON to the site's endpoints."""

    def __init__(self, base):
        self.base = f"{base}/api/{API}"
        body = {"credentials": {"personalAccessTokenName": PAT_NAME, "personalAccessTokenSecret": PAT_SECRET,
                                "site": {"contentUrl": SITE}}}
        r = requests.post(f"{self.base}/auth/signin", json=body, headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("application/json")
        creds = r.json()["credentials"]
        self.token = creds["token"]
        self.site = creds["site"]["id"]
        self.user = creds["user"]["id"]
        assert creds["site"]["contentUrl"] == SITE

    def call(self, method, path, body=None, expect=None, **kwargs):
        headers = dict(JSON, **{"X-Tableau-Auth": self.token})
        data = json.dumps(body) if body is not None else None
        r = requests.request(method, f"{self.base}/sites/{self.site}/{path}", data=data, headers=headers, **kwargs)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        if r.status_code == 204 or not r.content:
            return None
        assert r.headers["Content-Type"].startswith("application/json"), r.headers["Content-Type"]
        return r.json()

    def sign_out(self):
        r = requests.post(f"{self.base}/auth/signout", headers={"X-Tableau-Auth": self.token})
        assert r.status_code == 204


@pytest.fixture()
def rest(emulator_url):
    client = Rest(emulator_url)
    yield client
    client.sign_out()


def test_server_info_puts_the_version_text_under_value(emulator_url):
    r = requests.get(f"{emulator_url}/api/{API}/serverinfo", headers={"Accept": "application/json"})
    info = r.json()["serverInfo"]
    assert isinstance(info["productVersion"]["value"], str) and info["productVersion"]["value"]
    assert "build" in info["productVersion"]
    assert isinstance(info["restApiVersion"], str)


def test_projects_create_update_list_in_json(rest):
    name = unique("json-project")
    created = rest.call("POST", "projects", {"project": {"name": name, "description": "from json"}}, expect=201)
    project = created["project"]
    assert project["name"] == name and project["description"] == "from json"
    child = rest.call("POST", "projects", {"project": {"name": unique("child"), "parentProjectId": project["id"]}},
                      expect=201)["project"]
    assert child["parentProjectId"] == project["id"]
    updated = rest.call("PUT", f"projects/{project['id']}", {"project": {"description": "changed"}}, expect=200)
    assert updated["project"]["description"] == "changed"
    listed = rest.call("GET", "projects", params={"filter": f"name:eq:{name}"}, expect=200)
    assert listed["pagination"]["totalAvailable"] == "1"
    assert isinstance(listed["projects"]["project"], list), "a list is an array even with one item"
    assert [p["id"] for p in listed["projects"]["project"]] == [project["id"]]
    empty = rest.call("GET", "projects", params={"filter": "name:eq:no-such-project"}, expect=200)
    assert empty["projects"] == {}
    rest.call("DELETE", f"projects/{child['id']}", expect=204)
    rest.call("DELETE", f"projects/{project['id']}", expect=204)


def test_groups_users_and_membership_in_json(rest):
    group = rest.call("POST", "groups", {"group": {"name": unique("json-group")}}, expect=201)["group"]
    renamed = unique("json-group-renamed")
    assert rest.call("PUT", f"groups/{group['id']}", {"group": {"name": renamed}}, expect=200)["group"]["name"] == renamed
    email = f"{unique('json-user')}@example.com"
    user = rest.call("POST", "users", {"user": {"name": email, "siteRole": "Viewer"}}, expect=201)["user"]
    assert user["siteRole"] == "Viewer"
    updated = rest.call("PUT", f"users/{user['id']}", {"user": {"siteRole": "Explorer"}}, expect=200)["user"]
    assert updated["siteRole"] == "Explorer"
    found = rest.call("GET", "users", params={"filter": f"name:eq:{email}"}, expect=200)
    assert [u["id"] for u in found["users"]["user"]] == [user["id"]]
    rest.call("POST", f"groups/{group['id']}/users", {"user": {"id": user["id"]}}, expect=200)
    members = rest.call("GET", f"groups/{group['id']}/users", expect=200)
    assert [u["id"] for u in members["users"]["user"]] == [user["id"]]
    groups = rest.call("GET", "groups", params={"filter": f"name:eq:{renamed}"}, expect=200)
    assert [g["id"] for g in groups["groups"]["group"]] == [group["id"]]
    rest.call("DELETE", f"groups/{group['id']}/users/{user['id']}", expect=204)
    rest.call("DELETE", f"groups/{group['id']}", expect=204)
    rest.call("DELETE", f"users/{user['id']}", expect=204)


def test_identity_providers_in_json(rest):
    configurations = rest.call("GET", "site-auth-configurations", expect=200)["siteAuthConfigurations"]
    by_name = {c["idpConfigurationName"]: c for c in configurations["siteAuthConfiguration"]}
    saml = by_name["Initial SAML"]
    assert saml["authSetting"] == "SAML" and saml["enabled"] == "true"
    email = f"{unique('json-idp')}@example.com"
    body = {"user": {"name": email, "siteRole": "Viewer", "idpConfigurationId": saml["idpConfigurationId"]}}
    user = rest.call("POST", "users", body, expect=201)["user"]
    assert user["idpConfigurationId"] == saml["idpConfigurationId"] and user["authSetting"] == "SAML"
    both = {"user": {"name": unique("json-both"), "siteRole": "Viewer", "authSetting": "SAML",
                     "idpConfigurationId": saml["idpConfigurationId"]}}
    assert rest.call("POST", "users", both, expect=400)["error"]["code"] == "400000"
    rest.call("DELETE", f"users/{user['id']}", expect=204)


def test_permissions_in_json(rest):
    project = rest.call("POST", "projects", {"project": {"name": unique("json-perm")}}, expect=201)["project"]
    group = rest.call("POST", "groups", {"group": {"name": unique("json-perm-group")}}, expect=201)["group"]
    grant = {"permissions": {"granteeCapabilities": [{"group": {"id": group["id"]}, "capabilities": {
        "capability": [{"name": "Read", "mode": "Allow"}, {"name": "Write", "mode": "Deny"}]}}]}}
    rest.call("PUT", f"projects/{project['id']}/permissions", grant, expect=200)
    perms = rest.call("GET", f"projects/{project['id']}/permissions", expect=200)["permissions"]
    entries = [e for e in perms["granteeCapabilities"] if e.get("group", {}).get("id") == group["id"]]
    assert len(entries) == 1
    caps = {c["name"]: c["mode"] for c in entries[0]["capabilities"]["capability"]}
    assert caps == {"Read": "Allow", "Write": "Deny"}
    rest.call("PUT", f"projects/{project['id']}/default-permissions/workbooks", grant, expect=200)
    defaults = rest.call("GET", f"projects/{project['id']}/default-permissions/workbooks", expect=200)["permissions"]
    assert any(e.get("group", {}).get("id") == group["id"] for e in defaults["granteeCapabilities"])
    rest.call("DELETE", f"projects/{project['id']}/permissions/groups/{group['id']}/Read/Allow", expect=204)
    rest.call("DELETE", f"projects/{project['id']}", expect=204)
    rest.call("DELETE", f"groups/{group['id']}", expect=204)


def publish_datasource(rest, project_id, name):
    """Multipart publish whose request_payload part is JSON."""
    boundary = uuid.uuid4().hex
    payload = json.dumps({"datasource": {"name": name, "project": {"id": project_id}}})
    body = (
        f"--{boundary}\r\nContent-Disposition: name=\"request_payload\"\r\nContent-Type: application/json\r\n\r\n"
        f"{payload}\r\n--{boundary}\r\nContent-Disposition: name=\"tableau_datasource\"; filename=\"{name}.tds\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n{TDS}\r\n--{boundary}--\r\n"
    ).encode()
    headers = {"Accept": "application/json", "X-Tableau-Auth": rest.token,
               "Content-Type": f"multipart/mixed; boundary={boundary}"}
    r = requests.post(f"{rest.base}/sites/{rest.site}/datasources", params={"datasourceType": "tds"}, data=body,
                      headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["datasource"]


def test_publish_tags_tasks_and_jobs_in_json(rest):
    project = rest.call("POST", "projects", {"project": {"name": unique("json-content")}}, expect=201)["project"]
    ds = publish_datasource(rest, project["id"], unique("json-ds"))
    assert ds["project"]["id"] == project["id"]
    tags = rest.call("PUT", f"datasources/{ds['id']}/tags", {"tags": {"tag": [{"label": "a"}, {"label": "b"}]}},
                     expect=200)
    assert sorted(t["label"] for t in tags["tags"]["tag"]) == ["a", "b"]
    rest.call("DELETE", f"datasources/{ds['id']}/tags/a", expect=204)
    fetched = rest.call("GET", f"datasources/{ds['id']}", expect=200)["datasource"]
    assert [t["label"] for t in fetched["tags"]["tag"]] == ["b"]

    schedule = {"frequency": "Weekly", "frequencyDetails": {"start": "02:00:00",
                                                            "intervals": {"interval": [{"weekDay": "Monday"}]}}}
    created = rest.call("POST", "tasks/extractRefreshes",
                        {"extractRefresh": {"type": "FullRefresh", "datasource": {"id": ds["id"]}},
                         "schedule": schedule}, expect=200)
    task_id = created["extractRefresh"]["id"]
    assert created["schedule"]["frequency"] == "Weekly"
    listed = rest.call("GET", "tasks/extractRefreshes", expect=200)
    assert task_id in [t["extractRefresh"]["id"] for t in listed["tasks"]["task"]]
    schedule["frequencyDetails"]["intervals"]["interval"].append({"weekDay": "Friday"})
    updated = rest.call("POST", f"tasks/extractRefreshes/{task_id}", {"schedule": schedule}, expect=200)
    days = [i["weekDay"] for i in updated["schedule"]["frequencyDetails"]["intervals"]["interval"]]
    assert sorted(days) == ["Friday", "Monday"]
    job = rest.call("POST", f"tasks/extractRefreshes/{task_id}/runNow", {}, expect=200)["job"]
    polled = rest.call("GET", f"jobs/{job['id']}", expect=200)["job"]
    assert polled["id"] == job["id"]
    rest.call("DELETE", f"tasks/extractRefreshes/{task_id}", expect=204)
    rest.call("DELETE", f"datasources/{ds['id']}", expect=204)
    rest.call("DELETE", f"projects/{project['id']}", expect=204)


def test_errors_are_json(rest):
    name = unique("json-dup")
    project = rest.call("POST", "projects", {"project": {"name": name}}, expect=201)["project"]
    conflict = rest.call("POST", "projects", {"project": {"name": name}}, expect=409)
    assert conflict["error"]["code"] == "409006"
    assert conflict["error"]["summary"] and conflict["error"]["detail"]
    missing = rest.call("GET", "projects/00000000-0000-0000-0000-000000000000/permissions", expect=404)
    assert missing["error"]["code"].startswith("404")
    r = requests.post(f"{rest.base}/sites/{rest.site}/projects", data="{not json",
                      headers=dict(JSON, **{"X-Tableau-Auth": rest.token}))
    assert r.status_code == 400 and r.json()["error"]["code"] == "400000"
    unauthenticated = requests.get(f"{rest.base}/sites/{rest.site}/projects", headers={"Accept": "application/json"})
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"]["code"] == "401000"
    rest.call("DELETE", f"projects/{project['id']}", expect=204)
