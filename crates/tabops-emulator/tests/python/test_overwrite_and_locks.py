"""tableauserverclient against the emulator: what an overwrite publish keeps and resets, and what locking and
unlocking a project does to the rules under it (issue 20, items 3 and 8; sources in docs/tableau-cloud.md)."""
import datetime
import uuid

import tableauserverclient as TSC

TWB = """<?xml version='1.0' encoding='utf-8' ?>
<workbook version='18.1'><datasources><datasource name='ds'><connection class='postgres' server='db.example.com' port='5432' username='u'/><extract enabled='true'/></datasource></datasources>
<worksheets><worksheet name='Sales'/></worksheets></workbook>"""


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def rules(items):
    return sorted((r.grantee.id, sorted(r.capabilities.items())) for r in items)


def test_an_overwrite_publish_keeps_id_rules_and_tasks_and_resets_owner_and_tags_through_tsc(server, tmp_path):
    # Kept: the id (TEAMSchools/teamster#5230), the permissions and the refresh tasks (inferred). Reset: the owner
    # becomes the publisher (help owner.htm) and the tags are cleared (tableau-migration-sdk's simulator, inferred).
    path = tmp_path / "Over.twb"
    path.write_text(TWB)
    project = server.projects.create(TSC.ProjectItem(unique("over")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="Over", show_tabs=True), str(path), "CreateNew")
    assert wb.show_tabs
    me = wb.owner_id
    other = server.users.add(TSC.UserItem(f"{unique('other')}@example.com", "Creator"))
    wb.owner_id = other.id
    wb.tags = {"keep-me"}
    wb = server.workbooks.update(wb)
    assert wb.owner_id == other.id
    server.workbooks.populate_permissions(wb)
    before = rules(wb.permissions)
    schedule = TSC.ScheduleItem(None, None, None, None, TSC.WeeklyInterval(datetime.time(5, 0), "Monday"))
    target = TSC.Target(wb.id, "workbook")
    server.tasks.create(TSC.TaskItem(None, "FullRefresh", None, schedule_item=schedule, target=target))
    [task] = [t for t in server.tasks.get()[0] if t.target.id == wb.id]

    again = server.workbooks.publish(TSC.WorkbookItem(project.id, name="Over"), str(path), "Overwrite")
    assert again.id == wb.id
    now = server.workbooks.get_by_id(wb.id)
    assert now.owner_id == me, "the publisher owns the overwritten workbook"
    assert now.tags == set(), "an overwrite clears the tags"
    assert not now.show_tabs, "showTabs comes from the request, false when TSC leaves it out"
    server.workbooks.populate_permissions(now)
    assert rules(now.permissions) == before, "the permissions stay with the item"
    assert server.tasks.get_by_id(task.id).target.id == wb.id, "the refresh task stays with the item"


def test_locking_and_unlocking_a_project_leaves_its_content_with_the_lock_rules_through_tsc(server, tmp_path):
    # enterprisetableau.com 2018-02 "Lock Project Permission": locking replaces every item's rules with the project's
    # defaults; unlocking leaves them as they were under the lock.
    path = tmp_path / "Locked.twb"
    path.write_text(TWB)
    project = server.projects.create(TSC.ProjectItem(unique("lock")))
    own = server.groups.create(TSC.GroupItem(unique("own")))
    wb = server.workbooks.publish(TSC.WorkbookItem(project.id, name="Locked"), str(path), "CreateNew")
    server.workbooks.update_permissions(wb, [TSC.PermissionsRule(own, {"Read": "Allow"})])
    project.content_permissions = "LockedToProject"
    server.projects.update(project)
    project.content_permissions = "ManagedByOwner"
    server.projects.update(project)
    server.projects.populate_workbook_default_permissions(project)
    server.workbooks.populate_permissions(wb)
    assert rules(wb.permissions) == rules(project.default_workbook_permissions)
    assert not any(r.grantee.id == own.id for r in wb.permissions), "the item's own rule did not survive the lock"
