#!/usr/bin/env python3
"""The TSC half of the tabops write-path benchmark (`tabops-bench bootstrap`): the synthetic site published to an
empty site serially with tableauserverclient, the way a user without tabops writes it: every user, group and group
member added one call at a time, then the project tree with its permissions, then every data source and workbook
published one by one with its description, and its tags added after the publish (TSC's `add_tags`, as TSC does
tags: the publish request carries none), then one extract-refresh task per refreshed data source. It leaves the `All Users` rule each new project copies
from its parent or the `default` project (a user writing this rarely knows of it; tabops revokes it, as the manifest
states each project's complete set), which favours the script.

The site comes from a JSON file tabops-bench writes from the same generator as the manifest (`--spec`). Prints one
JSON object on stdout: wall time per phase and the objects written.

Usage: tsc_bootstrap.py --server http://127.0.0.1:PORT --site acme --spec site.json
Credentials: TABOPS_BENCH_PAT_NAME / TABOPS_BENCH_PAT_SECRET (defaults: the emulator's built-in token).
"""
import argparse
import datetime
import importlib.metadata
import json
import os
import sys
import time

import tableauserverclient as TSC

CAPABILITIES = {
    "Viewer": {TSC.Permission.Capability.Read: TSC.Permission.Mode.Allow},
    "Publisher": {
        TSC.Permission.Capability.Read: TSC.Permission.Mode.Allow,
        TSC.Permission.Capability.Write: TSC.Permission.Mode.Allow,
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--site", default="acme")
    parser.add_argument("--spec", required=True)
    args = parser.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    name = os.environ.get("TABOPS_BENCH_PAT_NAME", "tabops")
    secret = os.environ.get("TABOPS_BENCH_PAT_SECRET", "tabops-local-secret")

    phases = {}
    mark = start = time.perf_counter()

    def phase(label):
        nonlocal mark
        now = time.perf_counter()
        phases[label] = now - mark
        mark = now

    server = TSC.Server(args.server, use_server_version=True)
    server.auth.sign_in(TSC.PersonalAccessTokenAuth(name, secret, site_id=args.site))
    phase("sign_in_s")

    user_ids = {}
    for user in spec["users"]:
        added = server.users.add(TSC.UserItem(user["name"], user["site_role"]))
        user_ids[user["name"]] = added.id
    phase("users_s")

    groups = {}
    members = 0
    for group in spec["groups"]:
        created = server.groups.create(TSC.GroupItem(group["name"]))
        groups[group["name"]] = created
        for member in group["members"]:
            server.groups.add_user(created, user_ids[member])
            members += 1
    phase("groups_s")

    # Parents come before their children in the spec, so one pass creates the tree.
    project_ids = []
    for project in spec["projects"]:
        parent = project_ids[project["parent"]] if project["parent"] is not None else None
        item = TSC.ProjectItem(project["name"], project["description"], parent_id=parent)
        created = server.projects.create(item)
        project_ids.append(created.id)
        rules = [TSC.PermissionsRule(groups[g], CAPABILITIES[template]) for g, template in project["permissions"]]
        server.projects.update_permissions(created, rules)
    phase("projects_s")

    datasource_ids = []
    for ds in spec["datasources"]:
        item = TSC.DatasourceItem(project_ids[ds["project"]], name=ds["name"])
        item.description = ds["description"]
        published = server.datasources.publish(item, ds["file"], TSC.Server.PublishMode.CreateNew)
        server.datasources.add_tags(published, ds["tags"])
        datasource_ids.append(published.id)
    phase("datasources_s")

    for wb in spec["workbooks"]:
        item = TSC.WorkbookItem(project_ids[wb["project"]], name=wb["name"])
        item.description = wb["description"]
        published = server.workbooks.publish(item, wb["file"], TSC.Server.PublishMode.CreateNew)
        server.workbooks.add_tags(published, wb["tags"])
    phase("workbooks_s")

    for task in spec["tasks"]:
        hour, minute = (int(x) for x in task["at"].split(":"))
        interval = TSC.WeeklyInterval(datetime.time(hour, minute), task["weekday"])
        schedule = TSC.ScheduleItem(None, None, None, None, interval)
        target = TSC.Target(datasource_ids[task["datasource"]], "datasource")
        server.tasks.create(TSC.TaskItem(None, "FullRefresh", None, schedule_item=schedule, target=target))
    phase("tasks_s")

    server.auth.sign_out()
    wall = time.perf_counter() - start

    json.dump(
        {
            "tsc_version": importlib.metadata.version("tableauserverclient"),
            "wall_s": wall,
            **phases,
            "users": len(user_ids),
            "groups": len(groups),
            "members": members,
            "projects": len(project_ids),
            "datasources": len(datasource_ids),
            "workbooks": len(spec["workbooks"]),
            "tasks": len(spec["tasks"]),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
