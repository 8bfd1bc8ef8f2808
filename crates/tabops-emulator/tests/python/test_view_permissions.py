"""View permissions through tableauserverclient (TSC): `views.populate_permissions`, `views.update_permissions`
and `views.delete_permission` (TSC's view-permissions endpoints, PR #526, test/assets/view_*_permissions.xml).

A view of a workbook published without tabs keeps rules of its own; a view of a workbook that shows its sheets as
tabs has the workbook's rules (Tableau applies permissions to such views through the workbook), so a rule written
to it is not kept.
"""
import uuid

import tableauserverclient as TSC

TWB = """<?xml version='1.0' encoding='utf-8' ?>
<workbook version='18.1'><datasources><datasource name='ds'><connection class='postgres' server='db.example.com' port='5432' username='u'/></datasource></datasources>
<worksheets><worksheet name='Sales'/><worksheet name='Secret'/></worksheets>
<dashboards><dashboard name='Overview'/></dashboards></workbook>"""


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def publish(server, tmp_path, project, show_tabs):
    path = tmp_path / f"{unique('wb')}.twb"
    path.write_text(TWB)
    item = TSC.WorkbookItem(project.id, name=path.stem, show_tabs=show_tabs)
    workbook = server.workbooks.publish(item, str(path), "CreateNew")
    server.workbooks.populate_views(workbook)
    return workbook, {v.name: v for v in workbook.views}


def rules_of(view, group):
    return [r.capabilities for r in view.permissions if r.grantee.id == group.id]


def test_view_permissions_round_trip_through_tsc(server, tmp_path):
    project = server.projects.create(TSC.ProjectItem(unique("views")))
    group = server.groups.create(TSC.GroupItem(unique("vg")))
    _, views = publish(server, tmp_path, project, show_tabs=False)
    secret = views["Secret"]

    rule = TSC.PermissionsRule(group, {TSC.Permission.Capability.Read: TSC.Permission.Mode.Deny})
    server.views.update_permissions(secret, [rule])
    server.views.populate_permissions(secret)
    assert rules_of(secret, group) == [{"Read": "Deny"}]

    server.views.populate_permissions(views["Sales"])
    assert rules_of(views["Sales"], group) == [], "another view keeps its own rules"

    [mine] = [r for r in secret.permissions if r.grantee.id == group.id]
    server.views.delete_permission(secret, mine)
    server.views.populate_permissions(secret)
    assert rules_of(secret, group) == []


def test_views_of_a_tabbed_workbook_follow_the_workbook_through_tsc(server, tmp_path):
    project = server.projects.create(TSC.ProjectItem(unique("tabs")))
    group = server.groups.create(TSC.GroupItem(unique("tg")))
    workbook, views = publish(server, tmp_path, project, show_tabs=True)
    server.workbooks.update_permissions(
        workbook, [TSC.PermissionsRule(group, {TSC.Permission.Capability.Filter: TSC.Permission.Mode.Deny})]
    )
    sales = views["Sales"]
    server.views.update_permissions(
        sales, [TSC.PermissionsRule(group, {TSC.Permission.Capability.ShareView: TSC.Permission.Mode.Allow})]
    )
    server.views.populate_permissions(sales)
    assert rules_of(sales, group) == [{"Filter": "Deny"}], "the workbook's rules, not the view's"
