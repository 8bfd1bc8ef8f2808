"""tableauserverclient 0.41 against the emulator: the flows real users run."""
import io
import os
import datetime
import uuid
import zipfile

import tableauserverclient as TSC

# With an extract: Tableau refuses refreshes and refresh tasks of content without one (409090).
TWB = """<?xml version='1.0' encoding='utf-8' ?>
<workbook version='18.1'><datasources><datasource name='ds'><connection class='postgres' server='db.example.com' port='5432' username='u'/><extract enabled='true'/></datasource></datasources>
<worksheets><worksheet name='Sales'/><worksheet name='Secret'/></worksheets>
<dashboards><dashboard name='Overview'/></dashboards></workbook>"""

TWB_LIVE = TWB.replace("<extract enabled='true'/>", "")

TDS = """<?xml version='1.0' encoding='utf-8' ?>
<datasource version='18.1'><connection class='postgres' server='db.example.com' port='5432' username='u'/><extract enabled='true'/></datasource>"""


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_sign_in_and_default_project(server):
    names = [p.name for p in TSC.Pager(server.projects)]
    assert "default" in names
    assert server.version != "2.4"  # use_server_version switched to the emulator's restApiVersion


def test_nested_projects_and_get_by_id(server):
    parent = server.projects.create(TSC.ProjectItem(unique("parent"), description="top"))
    child = server.projects.create(TSC.ProjectItem(unique("child"), parent_id=parent.id))
    assert child.parent_id == parent.id
    fetched = server.projects.get_by_id(child.id)  # TSC's empty-PUT read
    assert fetched.name == child.name
    child.description = "updated"
    assert server.projects.update(child).description == "updated"
    server.projects.delete(parent.id)
    ids = [p.id for p in TSC.Pager(server.projects)]
    assert parent.id not in ids and child.id not in ids


def test_publish_workbook_overwrite_tags_views_download(server, tmp_path):
    project = server.projects.create(TSC.ProjectItem(unique("wb")))
    path = write(tmp_path, "Book.twb", TWB)
    item = TSC.WorkbookItem(project.id, name="Book")
    item.hidden_views = ["Secret"]
    wb = server.workbooks.publish(item, path, TSC.Server.PublishMode.CreateNew)
    server.workbooks.populate_views(wb)
    assert sorted(v.name for v in wb.views) == ["Overview", "Sales"]
    try:
        server.workbooks.publish(TSC.WorkbookItem(project.id, name="Book"), path, TSC.Server.PublishMode.CreateNew)
        raise AssertionError("duplicate publish must fail")
    except TSC.ServerResponseError as err:
        assert str(err.code).startswith("403")
    again = server.workbooks.publish(TSC.WorkbookItem(project.id, name="Book"), path, TSC.Server.PublishMode.Overwrite)
    assert again.id == wb.id
    wb = server.workbooks.get_by_id(wb.id)
    wb.tags.update({"alpha", "two words"})
    wb = server.workbooks.update(wb)
    assert server.workbooks.get_by_id(wb.id).tags == {"alpha", "two words"}
    wb.tags.discard("two words")
    server.workbooks.update(wb)
    assert server.workbooks.get_by_id(wb.id).tags == {"alpha"}
    out = server.workbooks.download(wb.id, filepath=str(tmp_path / "dl"), include_extract=False)
    assert open(out).read() == TWB
    server.workbooks.populate_connections(wb)
    assert wb.connections[0].server_address == "db.example.com"
    views = list(TSC.Pager(server.views))
    assert any(v.workbook_id == wb.id for v in views)


def test_publish_datasource_and_large_upload_session(server, tmp_path, emulator_url):
    project = server.projects.create(TSC.ProjectItem(unique("ds")))
    path = write(tmp_path, "Small.tds", TDS)
    ds = server.datasources.publish(TSC.DatasourceItem(project.id, name="Small"), path, "CreateNew")
    assert ds.datasource_type == "postgres"
    big = tmp_path / "Big.hyper"
    with open(big, "wb") as f:
        chunk = os.urandom(1024 * 1024)
        for _ in range(65):
            f.write(chunk)
    ds_big = server.datasources.publish(TSC.DatasourceItem(project.id, name="Big"), str(big), "CreateNew")
    assert ds_big.size >= 65
    import requests

    routes = requests.get(emulator_url + "/_emulator/stats").json()["by_route"]
    assert routes.get("PUT /sites/{id}/fileUploads/{id}", 0) >= 2, routes
    out = server.datasources.download(ds_big.id, filepath=str(tmp_path / "big-dl"))
    assert os.path.getsize(out) == os.path.getsize(big)
    job = server.datasources.refresh(ds)
    job = server.jobs.wait_for_job(job, timeout=30)
    assert job.finish_code == 0


def test_users_groups_membership(server):
    user = server.users.add(TSC.UserItem(f"{unique('u')}@example.com", "Explorer"))
    assert user.id
    user.site_role = "Viewer"
    assert server.users.update(user).site_role == "Viewer"
    group = server.groups.create(TSC.GroupItem(unique("g")))
    server.groups.add_user(group, user.id)
    server.groups.populate_users(group)
    assert [u.id for u in group.users] == [user.id]
    server.groups.remove_user(group, user.id)
    server.groups.populate_users(group)
    assert list(group.users) == []
    found = server.users.filter(name=user.name)
    assert [u.id for u in found] == [user.id]
    server.groups.delete(group.id)
    server.users.remove(user.id)


def test_bulk_group_membership_through_tsc(server):
    # TSC Groups.add_users / remove_users (API 3.21): one POST groups/{id}/users with a <users> list, answered with
    # the added users, and one PUT groups/{id}/users/remove; a list with a user already in the group is refused whole.
    users = [server.users.add(TSC.UserItem(f"{unique('b')}@example.com", "Viewer")) for _ in range(3)]
    group = server.groups.create(TSC.GroupItem(unique("bg")))
    added = server.groups.add_users(group, users)
    assert sorted(u.id for u in added) == sorted(u.id for u in users)
    assert {u.site_role for u in added} == {"Viewer"}
    server.groups.populate_users(group)
    assert sorted(u.id for u in group.users) == sorted(u.id for u in users)
    server.groups.remove_users(group, users[:2])
    server.groups.populate_users(group)
    assert [u.id for u in group.users] == [users[2].id]
    try:
        server.groups.add_users(group, [users[0], users[2]])
        raise AssertionError("a list with a member already in the group was accepted")
    except TSC.ServerResponseError as err:
        assert str(err.code) == "409011", err
    server.groups.populate_users(group)
    assert [u.id for u in group.users] == [users[2].id], "nothing was added"
    server.groups.delete(group.id)
    for user in users:
        server.users.remove(user.id)


def test_group_minimum_site_role_reads_back_through_tsc(server):
    # TSC reads the role from the <import siteRole grantLicenseMode> child, where Tableau answers it
    # (TSC models/group_item.py; TSC asset group_update.xml); it sends it as the minimumSiteRole attribute.
    item = TSC.GroupItem(unique("g"))
    item.minimum_site_role = "Explorer"
    group = server.groups.create(item)
    assert group.minimum_site_role == "Explorer"
    assert group.license_mode == "onLogin"
    listed = [g for g in TSC.Pager(server.groups) if g.id == group.id]
    assert [g.minimum_site_role for g in listed] == ["Explorer"]
    group.minimum_site_role = "Viewer"
    updated = server.groups.update(group)
    assert updated.minimum_site_role == "Viewer"
    plain = server.groups.create(TSC.GroupItem(unique("g")))
    assert plain.minimum_site_role is None
    server.groups.delete(group.id)
    server.groups.delete(plain.id)


def test_incremental_refresh_tasks_list_and_read_with_their_type(server, tmp_path):
    project = server.projects.create(TSC.ProjectItem(unique("inc")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="I"), write(tmp_path, "I.twb", TWB), "CreateNew")
    interval = TSC.WeeklyInterval(datetime.time(3, 0), "Sunday")
    for refresh_type in ("IncrementalRefresh", "FullRefresh"):
        schedule = TSC.ScheduleItem(None, None, None, None, interval)
        server.tasks.create(TSC.TaskItem(None, refresh_type, None, schedule_item=schedule, target=TSC.Target(wb.id, "workbook")))
    tasks = [t for t in server.tasks.get()[0] if t.target.id == wb.id]
    # Listed types: IncrementExtractTask for incremental, RefreshExtractTask (TSC maps it to "extractRefresh") for full.
    assert sorted(t.task_type for t in tasks) == ["IncrementExtractTask", "extractRefresh"]
    for task in tasks:
        fetched = server.tasks.get_by_id(task.id)
        assert fetched.task_type == task.task_type
        assert fetched.target.id == wb.id
        assert fetched.schedule_item.interval_item.interval == ("Sunday",)
        server.tasks.delete(task.id)


def test_extract_refresh_tasks_and_run_now(server, tmp_path):
    project = server.projects.create(TSC.ProjectItem(unique("tasks")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="T"), write(tmp_path, "T.twb", TWB), "CreateNew")
    interval = TSC.WeeklyInterval(datetime.time(2, 30), "Monday", "Friday")
    schedule = TSC.ScheduleItem(None, None, None, None, interval)
    task = TSC.TaskItem(None, "FullRefresh", None, schedule_item=schedule, target=TSC.Target(wb.id, "workbook"))
    server.tasks.create(task)
    tasks = [t for t in server.tasks.get()[0] if t.target.id == wb.id]
    assert len(tasks) == 1
    fetched = server.tasks.get_by_id(tasks[0].id)
    assert fetched.schedule_item.interval_item.interval == ("Monday", "Friday")

    # TSC 0.41 has no tasks.update(); Tableau Cloud's update is a POST to the task's URL with the new schedule as a
    # sibling of <extractRefresh>. Send it through TSC's own authenticated request plumbing.
    update = (
        '<tsRequest><extractRefresh type="FullRefresh"><workbook id="%s" /></extractRefresh>'
        '<schedule frequency="Daily"><frequencyDetails start="06:00:00"><intervals>'
        '<interval hours="24" /><interval weekDay="Tuesday" /></intervals></frequencyDetails></schedule></tsRequest>'
    ) % wb.id
    server.tasks.post_request(f"{server.tasks.baseurl}/extractRefreshes/{fetched.id}", update)
    updated = server.tasks.get_by_id(fetched.id)
    assert updated.schedule_item.interval_item.start_time == datetime.time(6, 0)
    assert "Tuesday" in updated.schedule_item.interval_item.interval

    # Run now, then wait for the job the way TSC users do.
    job_xml = server.tasks.run(updated)
    job = TSC.JobItem.from_response(job_xml, server.namespace)[0]
    done = server.jobs.wait_for_job(job.id, timeout=30)
    assert done.finish_code == TSC.JobItem.FinishCode.Success

    server.tasks.delete(fetched.id)
    assert not [t for t in server.tasks.get()[0] if t.target.id == wb.id]


def test_permissions_and_default_permissions(server, tmp_path):
    project = server.projects.create(TSC.ProjectItem(unique("perm")))
    group = server.groups.create(TSC.GroupItem(unique("pg")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="P"), write(tmp_path, "P.twb", TWB), "CreateNew")
    rule = TSC.PermissionsRule(group, {TSC.Permission.Capability.Read: TSC.Permission.Mode.Allow})
    server.workbooks.update_permissions(wb, [rule])
    server.workbooks.populate_permissions(wb)
    [mine] = [r for r in wb.permissions if r.grantee.id == group.id]
    server.workbooks.delete_permission(wb, mine)
    server.workbooks.populate_permissions(wb)
    assert [r for r in wb.permissions if r.grantee.id == group.id] == []
    default_rule = TSC.PermissionsRule(group, {TSC.Permission.Capability.Write: TSC.Permission.Mode.Deny})
    server.projects.update_workbook_default_permissions(project, [default_rule])
    server.projects.populate_workbook_default_permissions(project)
    [mine] = [r for r in project.default_workbook_permissions if r.grantee.id == group.id]
    assert mine.capabilities == {"Write": "Deny"}
    server.projects.update_datasource_default_permissions(project, [TSC.PermissionsRule(group, {"Connect": "Allow"})])
    server.projects.populate_datasource_default_permissions(project)
    [mine] = [r for r in project.default_datasource_permissions if r.grantee.id == group.id]
    assert mine.capabilities == {"Connect": "Allow"}


def all_users_group(server):
    [group] = [g for g in TSC.Pager(server.groups) if g.name == "All Users"]
    return group


def member_ids(server, group):
    server.groups.populate_users(group)
    return {u.id for u in group.users}


def test_all_users_is_present_and_holds_every_user_through_tsc(server):
    # Help to_add_users_groups.htm: "The All Users group exists in every site by default. Every user added ...
    # becomes a member of the All Users group automatically."
    group = all_users_group(server)
    users = {u.id for u in TSC.Pager(server.users)}
    assert member_ids(server, group) == users
    user = server.users.add(TSC.UserItem(f"{unique('all')}@example.com", "Viewer"))
    assert user.id in member_ids(server, group)
    server.users.remove(user.id)
    assert user.id not in member_ids(server, group)


def test_all_users_cannot_be_renamed_deleted_or_edited_through_tsc(server):
    # Help groups_delete.htm: "You can delete any group with the exception of the All Users group." Renaming and
    # membership edits are refused too (inferred from "becomes a member automatically"); the code is inferred.
    group = all_users_group(server)
    someone = next(iter(member_ids(server, group)))
    attempts = [
        lambda: server.groups.delete(group.id),
        lambda: server.groups.remove_user(group, someone),
        lambda: server.groups.add_user(group, someone),
    ]
    renamed = all_users_group(server)
    renamed.name = "Everyone"
    attempts.append(lambda: server.groups.update(renamed))
    for attempt in attempts:
        try:
            attempt()
            raise AssertionError("All Users must refuse the change")
        except TSC.ServerResponseError as err:
            assert str(err.code) == "403000", err
    assert all_users_group(server).id == group.id


def test_permissions_are_copied_to_a_new_project_and_to_published_content_through_tsc(server, tmp_path):
    # Help permissions_projects.htm: a new top-level project inherits the Default project's rules, a nested one its
    # parent's; permissions_project_defaults.htm: published content starts with its project's default permissions.
    everyone = all_users_group(server)
    [default] = [p for p in TSC.Pager(server.projects) if p.name.lower() == "default" and p.parent_id is None]
    server.projects.populate_permissions(default)
    server.projects.populate_workbook_default_permissions(default)

    def rules(items):
        return sorted((r.grantee.id, sorted(r.capabilities.items())) for r in items)

    assert any(r.grantee.id == everyone.id for r in default.permissions)
    top = server.projects.create(TSC.ProjectItem(unique("copied")))
    server.projects.populate_permissions(top)
    assert rules(top.permissions) == rules(default.permissions)
    readers = server.groups.create(TSC.GroupItem(unique("readers")))
    server.projects.update_workbook_default_permissions(top, [TSC.PermissionsRule(readers, {"ExportData": "Deny"})])
    child = server.projects.create(TSC.ProjectItem(unique("child"), parent_id=top.id))
    server.projects.populate_workbook_default_permissions(top)
    server.projects.populate_workbook_default_permissions(child)
    assert rules(child.default_workbook_permissions) == rules(top.default_workbook_permissions)
    wb = server.workbooks.publish(TSC.WorkbookItem(child.id, name="C"), write(tmp_path, "C.twb", TWB), "CreateNew")
    server.workbooks.populate_permissions(wb)
    assert rules(wb.permissions) == rules(child.default_workbook_permissions)
    assert any(r.grantee.id == readers.id and r.capabilities == {"ExportData": "Deny"} for r in wb.permissions)


def test_pager_walks_more_than_one_page(server):
    prefix = unique("page")
    for i in range(7):
        server.projects.create(TSC.ProjectItem(f"{prefix}-{i}"))
    options = TSC.RequestOptions(pagesize=3)
    names = [p.name for p in TSC.Pager(server.projects, options) if p.name.startswith(prefix)]
    assert sorted(names) == [f"{prefix}-{i}" for i in range(7)]


def test_failed_refresh_raises_from_wait_for_job(server, tmp_path, emulator_url):
    """A refresh that fails on the server (finishCode 1, with notes) makes TSC's wait_for_job raise."""
    import urllib.request

    from tableauserverclient.server.endpoint.exceptions import JobFailedException

    project = server.projects.create(TSC.ProjectItem(unique("fail")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="F"), write(tmp_path, "F.twb", TWB), "CreateNew")
    hook = urllib.request.Request(f"{emulator_url}/_emulator/jobs/fail-next?count=1", method="POST")
    assert urllib.request.urlopen(hook).status == 204
    job = server.workbooks.refresh(wb)
    try:
        server.jobs.wait_for_job(job, timeout=30)
    except JobFailedException as failed:
        assert "asked to fail" in str(failed)
    else:
        raise AssertionError("wait_for_job returned for a failed refresh")


def owner_of_a_workbook(server, tmp_path):
    """A Creator who owns a freshly published workbook."""
    user = server.users.add(TSC.UserItem(f"{unique('owner')}@example.com", "Creator"))
    project = server.projects.create(TSC.ProjectItem(unique("owned")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="Owned"), write(tmp_path, "O.twb", TWB), "CreateNew")
    wb.owner_id = user.id
    assert server.workbooks.update(wb).owner_id == user.id
    return user, wb


def test_removing_an_owner_is_refused_and_demotes_to_unlicensed(server, tmp_path):
    """Remove User from Site for a user who owns content: 409, and the user stays, Unlicensed (Okta's Tableau Cloud
    connector reference, "Remove User from Site"; help owner.htm)."""
    user, wb = owner_of_a_workbook(server, tmp_path)
    try:
        server.users.remove(user.id)
        raise AssertionError("removing a user who owns content must fail")
    except TSC.ServerResponseError as err:
        assert str(err.code).startswith("409"), err
    assert server.users.get_by_id(user.id).site_role == "Unlicensed"
    assert server.workbooks.get_by_id(wb.id).owner_id == user.id


def test_remove_with_map_to_moves_content_to_the_heir(server, tmp_path):
    """TSC's users.remove(user_id, map_to) sends ?mapAssetsTo=: the content goes to the heir, the user is removed."""
    user, wb = owner_of_a_workbook(server, tmp_path)
    heir = server.users.add(TSC.UserItem(f"{unique('heir')}@example.com", "Creator"))
    server.users.remove(user.id, heir.id)
    assert server.workbooks.get_by_id(wb.id).owner_id == heir.id
    assert user.id not in [u.id for u in TSC.Pager(server.users)]


def test_refreshing_a_workbook_without_extracts_is_409090(server, tmp_path):
    """TSC issue #1531: refreshing a workbook that holds no extract is 409090 'Extract operation ... is not allowed'."""
    project = server.projects.create(TSC.ProjectItem(unique("live")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="Live"), write(tmp_path, "L.twb", TWB_LIVE), "CreateNew")
    try:
        server.workbooks.refresh(wb)
        raise AssertionError("refreshing a workbook without extracts must fail")
    except TSC.ServerResponseError as err:
        assert str(err.code) == "409090", err
        assert "is not allowed" in err.detail, err.detail


def test_subscriptions_endpoint_on_a_cloud_site(server, tmp_path):
    """TSC's `subscriptions` endpoint: create with a Server schedule id is refused on Cloud (no such schedule:
    Cloud schedules are inline); a subscription made as Cloud takes it (schedule beside <subscription>) is listed,
    read, updated (TSC sends <schedule/> and a <content> with only sendIfViewEmpty) and deleted."""
    project = server.projects.create(TSC.ProjectItem(unique("subs")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="S"), write(tmp_path, "S.twb", TWB), "CreateNew")
    server.workbooks.populate_views(wb)
    view = next(v for v in wb.views if v.name == "Overview")
    me = server.users.get_by_id(server.user_id)
    item = TSC.SubscriptionItem("Weekly", str(uuid.uuid4()), me.id, TSC.Target(view.id, "view"))
    try:
        server.subscriptions.create(item)
        raise AssertionError("a Server schedule id must be refused on Cloud")
    except TSC.ServerResponseError as err:
        assert err.code == "404014", err

    # Created the Cloud way (the REST reference's Tableau Cloud request), then handled through TSC.
    body = (
        f'<tsRequest><subscription subject="Weekly" attachImage="true" attachPdf="false">'
        f'<content id="{view.id}" type="View" sendIfViewEmpty="true"/><user id="{me.id}"/></subscription>'
        '<schedule frequency="Weekly"><frequencyDetails start="08:00:00"><intervals><interval weekDay="Monday"/>'
        "</intervals></frequencyDetails></schedule></tsRequest>"
    )
    response = server.session.post(
        f"{server.baseurl}/sites/{server.site_id}/subscriptions", data=body,
        headers={"x-tableau-auth": server.auth_token, "content-type": "text/xml"},
    )
    assert response.status_code == 201, response.text
    subscriptions, _ = server.subscriptions.get()
    mine = [s for s in subscriptions if s.target.id == view.id]
    assert len(mine) == 1, subscriptions
    sub = server.subscriptions.get_by_id(mine[0].id)
    assert (sub.subject, sub.target.id, sub.target.type, sub.user_id) == ("Weekly", view.id, "View", me.id)
    assert sub.schedule_id is None and sub.schedule[0].interval_item.start_time == datetime.time(8, 0)
    sub.suspended = True
    sub.send_if_view_empty = False
    updated = server.subscriptions.update(sub)
    assert updated.suspended is True and updated.send_if_view_empty is False and updated.target.id == view.id
    server.subscriptions.delete(sub.id)
    assert all(s.id != sub.id for s in server.subscriptions.get()[0])


def test_view_counts_read_back_through_tsc_usage(server, tmp_path, emulator_url):
    """TSC's views.get(usage=True) sends includeUsageStatistics=true and reads each view's total_view_count from
    <usage totalViewCount>; the emulator answers the count its views/usage hook set (0 before)."""
    import urllib.request

    project = server.projects.create(TSC.ProjectItem(unique("usage")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="U"), write(tmp_path, "U.twb", TWB), "CreateNew")
    server.workbooks.populate_views(wb)
    sales = next(v for v in wb.views if v.name == "Sales")
    hook = urllib.request.Request(f"{emulator_url}/_emulator/views/usage?view={sales.id}&count=7", method="POST")
    assert urllib.request.urlopen(hook).status == 204
    counts = {v.name: v.total_views for v in TSC.Pager(server.views, usage=True) if v.workbook_id == wb.id}
    assert counts == {"Sales": 7, "Overview": 0, "Secret": 0}
