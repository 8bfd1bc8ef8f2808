#!/usr/bin/env python3
"""The TSC baseline of the tabops benchmark (issue #6): the plan job's site reads written the straightforward way
with tableauserverclient, as a user without tabops would: list everything with TSC's Pager, then the members of
every group and the permissions of every project, one request at a time.

It reads what `tabops plan` reads for the synthetic site and nothing more (no manifest, no diff, which favours the
baseline). Prints one JSON object on stdout: wall time, item counts and requests made.

Usage: tsc_baseline.py --server http://127.0.0.1:PORT --site acme
Credentials: TABOPS_BENCH_PAT_NAME / TABOPS_BENCH_PAT_SECRET (defaults: the emulator's built-in token).
"""
import argparse
import importlib.metadata
import json
import os
import sys
import time

import tableauserverclient as TSC


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--site", default="acme")
    args = parser.parse_args()
    name = os.environ.get("TABOPS_BENCH_PAT_NAME", "tabops")
    secret = os.environ.get("TABOPS_BENCH_PAT_SECRET", "tabops-local-secret")

    start = time.perf_counter()
    server = TSC.Server(args.server, use_server_version=True)
    server.auth.sign_in(TSC.PersonalAccessTokenAuth(name, secret, site_id=args.site))
    signed_in = time.perf_counter()

    projects = list(TSC.Pager(server.projects))
    users = list(TSC.Pager(server.users))
    groups = list(TSC.Pager(server.groups))
    workbooks = list(TSC.Pager(server.workbooks))
    datasources = list(TSC.Pager(server.datasources))
    tasks, _ = server.tasks.get()
    listed = time.perf_counter()

    members = 0
    for group in groups:
        server.groups.populate_users(group)
        members += len(list(group.users))
    rules = 0
    for project in projects:
        server.projects.populate_permissions(project)
        rules += len(project.permissions)
    done = time.perf_counter()
    server.auth.sign_out()

    json.dump(
        {
            "tsc_version": importlib.metadata.version("tableauserverclient"),
            "wall_s": done - start,
            "sign_in_s": signed_in - start,
            "lists_s": listed - signed_in,
            "details_s": done - listed,
            "projects": len(projects),
            "users": len(users),
            "groups": len(groups),
            "workbooks": len(workbooks),
            "datasources": len(datasources),
            "tasks": len(tasks),
            "members": members,
            "permission_rules": rules,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
