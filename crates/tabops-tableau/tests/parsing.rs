//! Parsing tests on responses shaped like real Tableau Cloud output (reference §2–§4): prefixed namespaces without
//! an XML declaration, `fields=_all_` payloads with extra attributes and elements, pagination, both task shapes,
//! job states, error documents and permissions with group and user grantees.

use tabops_tableau::xml::{Element, parse};
use tabops_tableau::{
    ApiErrorDoc, CapabilityMode, Datasource, FileUpload, Frequency, GranteeCapabilities, GranteeKind, Group, Interval,
    Job, JobState, Pagination, Project, RefreshTask, ServerInfo, TaskTarget, User, View, Workbook,
};

fn doc(xml: &str) -> Element {
    parse(xml).unwrap_or_else(|e| panic!("fixture must parse: {e}"))
}

fn items<'a, T>(root: &'a Element, list: &str, item: &'a str, f: fn(&Element) -> Option<T>) -> Vec<T> {
    root.child(list).expect("list element").children_named(item).filter_map(f).collect()
}

const WORKBOOKS_ALL_FIELDS: &str = r#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://tableau.com/api https://help.tableau.com/samples/en-us/rest_api/ts-api_3_25.xsd"><ns0:pagination pageNumber="1" pageSize="1000" totalAvailable="2" /><ns0:workbooks><ns0:workbook id="9df3e2d1-070e-497a-9578-8cc557ced9df" name="Superstore" description="Sales &amp; profit" contentUrl="Superstore" webpageUrl="https://10ax.online.tableau.com/#/site/acme/workbooks/123" showTabs="true" size="2" createdAt="2024-02-14T04:42:09Z" updatedAt="2024-02-14T04:42:10Z" encryptExtracts="false" defaultViewId="ccf2f3f8-6f5a-4a0e-a9f6-2f2d6b0e1d10" sheetCount="9" hasExtracts="true" lastPublishedAt="2024-02-14T04:42:09Z" primaryContentUrl="Superstore/sheets/Overview"><ns0:project id="669ca36b-492e-4ccf-bca1-3614fe6a9d7a" name="Samples" description="Sample content" /><ns0:location id="669ca36b-492e-4ccf-bca1-3614fe6a9d7a" type="Project" name="Samples" /><ns0:owner id="ee8bc9ca-77fe-4ae0-8093-cf77f0ee67a9" name="admin@acme.com" email="admin@acme.com" fullName="Ada Admin" siteRole="SiteAdministratorCreator" lastLogin="2024-02-20T10:00:00Z" /><ns0:tags><ns0:tag label="finance" /><ns0:tag label="tabops.sha256.ab12" /></ns0:tags><ns0:dataAccelerationConfig accelerationEnabled="false" /><ns0:dataFreshnessPolicy option="AlwaysLive" /></ns0:workbook><ns0:workbook id="a1b2c3d4-0000-4000-8000-000000000002" name="Personal" showTabs="false" size="1" createdAt="2024-02-15T04:42:09Z" updatedAt="2024-02-15T04:42:10Z"><ns0:location id="ffff0000-0000-4000-8000-000000000000" type="PersonalSpace" name="Personal Space" /><ns0:owner id="ee8bc9ca-77fe-4ae0-8093-cf77f0ee67a9" /><ns0:tags /></ns0:workbook></ns0:workbooks></ns0:tsResponse>"#;

#[test]
fn workbooks_all_fields_with_prefixed_namespace() {
    let root = doc(WORKBOOKS_ALL_FIELDS);
    assert_eq!(Pagination::from_root(&root), Some(Pagination { page_number: 1, page_size: 1000, total_available: 2 }));
    let wbs = items(&root, "workbooks", "workbook", Workbook::from_element);
    assert_eq!(wbs.len(), 2);
    let wb = &wbs[0];
    assert_eq!(wb.name, "Superstore");
    assert_eq!(wb.description.as_deref(), Some("Sales & profit"));
    assert!(wb.show_tabs);
    assert_eq!(wb.size, Some(2));
    assert_eq!(wb.updated_at.as_deref(), Some("2024-02-14T04:42:10Z"));
    assert_eq!(wb.project_id.as_deref(), Some("669ca36b-492e-4ccf-bca1-3614fe6a9d7a"));
    assert_eq!(wb.project_name.as_deref(), Some("Samples"));
    assert_eq!(wb.owner_id.as_deref(), Some("ee8bc9ca-77fe-4ae0-8093-cf77f0ee67a9"));
    assert_eq!(wb.owner_name.as_deref(), Some("admin@acme.com"));
    assert_eq!(wb.tags, vec!["finance", "tabops.sha256.ab12"]);
    assert_eq!(wb.default_view_id.as_deref(), Some("ccf2f3f8-6f5a-4a0e-a9f6-2f2d6b0e1d10"));
    assert_eq!(wb.has_extracts, Some(true));
    // A workbook in a personal space has no project element.
    assert_eq!(wbs[1].project_id, None);
    assert!(!wbs[1].show_tabs);
    assert!(wbs[1].tags.is_empty());
}

#[test]
fn workbook_list_in_default_namespace_with_declaration() {
    let xml = r#"<?xml version='1.0' encoding='UTF-8'?>
<tsResponse xmlns="http://tableau.com/api" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://tableau.com/api http://tableau.com/api/ts-api-2.3.xsd">
  <pagination pageNumber="2" pageSize="100" totalAvailable="158"/>
  <workbooks>
    <workbook id="3cc6cd06-89ce-4fdc-b935-5294135d6d42" name="SafariSample" description="description for SafariSample" contentUrl="SafariSample" webpageUrl="http://tableauserver/#/workbooks/2/views" showTabs="false" size="26" createdAt="2016-07-26T20:34:56Z" updatedAt="2016-07-26T20:35:05Z">
      <project id="ee8c6e70-43b6-11e6-af4f-f7b0d8e20760" name="default"/>
      <owner id="5de011f8-5aa9-4d5b-b991-f462c8dd6bb7"/>
      <tags><tag label="Safari"/><tag label="Sample"/></tags>
    </workbook>
  </workbooks>
</tsResponse>"#;
    let root = doc(xml);
    assert_eq!(Pagination::from_root(&root).map(|p| p.total_available), Some(158));
    let wbs = items(&root, "workbooks", "workbook", Workbook::from_element);
    assert_eq!(wbs[0].tags, vec!["Safari", "Sample"]);
    assert_eq!(wbs[0].size, Some(26));
}

#[test]
fn legacy_namespace_is_accepted() {
    let root = doc(
        r#"<tsResponse xmlns="http://tableausoftware.com/api"><projects><project id="p1" name="Legacy"/></projects></tsResponse>"#,
    );
    let projects = items(&root, "projects", "project", Project::from_element);
    assert_eq!(projects[0].name, "Legacy");
}

#[test]
fn projects_all_fields_with_contents_counts() {
    let xml = r#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api"><ns0:pagination pageNumber="1" pageSize="1000" totalAvailable="2" /><ns0:projects><ns0:project id="ee8c6e70-43b6-11e6-af4f-f7b0d8e20760" name="default" description="The default project that was automatically created by Tableau." createdAt="2016-06-30T21:28:36Z" updatedAt="2024-01-02T03:04:05Z" contentPermissions="ManagedByOwner" topLevelProject="true" writeable="true" favoritesTotal="0"><ns0:owner id="dd2239f6-ddf1-4107-981a-4cf94e415794" name="admin@acme.com" email="admin@acme.com" siteRole="SiteAdministratorCreator" /><ns0:contentsCounts projectCount="1" workbookCount="3" viewCount="12" datasourceCount="2" /></ns0:project><ns0:project id="1d0304cd-3796-429f-b815-7258370b9b74" name="EMEA" parentProjectId="ee8c6e70-43b6-11e6-af4f-f7b0d8e20760" contentPermissions="LockedToProject" topLevelProject="false"><ns0:owner id="dd2239f6-ddf1-4107-981a-4cf94e415794" /><ns0:contentsCounts projectCount="0" workbookCount="0" viewCount="0" datasourceCount="0" /></ns0:project></ns0:projects></ns0:tsResponse>"#;
    let root = doc(xml);
    let projects = items(&root, "projects", "project", Project::from_element);
    assert_eq!(projects.len(), 2);
    assert_eq!(projects[0].parent_id, None);
    assert_eq!(projects[0].content_permissions.as_deref(), Some("ManagedByOwner"));
    assert_eq!(projects[0].owner_id.as_deref(), Some("dd2239f6-ddf1-4107-981a-4cf94e415794"));
    assert_eq!(projects[1].parent_id.as_deref(), Some("ee8c6e70-43b6-11e6-af4f-f7b0d8e20760"));
    assert_eq!(projects[1].content_permissions.as_deref(), Some("LockedToProject"));
}

#[test]
fn datasources_all_fields() {
    let xml = r#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api"><ns0:pagination pageNumber="1" pageSize="1000" totalAvailable="1" /><ns0:datasources><ns0:datasource id="e76a1461-3b1d-4588-bf1b-17551a879ad9" name="Orders" type="postgres" description="" contentUrl="Orders" createdAt="2024-01-01T00:00:00Z" updatedAt="2024-01-02T00:00:00Z" size="1" hasExtracts="true" encryptExtracts="false" isCertified="true" certificationNote="Gold" useRemoteQueryAgent="false" webpageUrl="https://x/#/datasources/1" hasAlert="false" isPublished="true" serverName="db.acme.com" databaseName="sales"><ns0:project id="p-1" name="Sales" /><ns0:location id="p-1" type="Project" name="Sales" /><ns0:owner id="u-1" name="svc@acme.com" /><ns0:tags><ns0:tag label="two words" /></ns0:tags></ns0:datasource></ns0:datasources></ns0:tsResponse>"#;
    let root = doc(xml);
    let ds = items(&root, "datasources", "datasource", Datasource::from_element);
    assert_eq!(ds[0].datasource_type.as_deref(), Some("postgres"));
    assert_eq!(ds[0].project_id.as_deref(), Some("p-1"));
    assert_eq!(ds[0].owner_id.as_deref(), Some("u-1"));
    assert_eq!(ds[0].is_certified, Some(true));
    assert_eq!(ds[0].tags, vec!["two words"]);
}

#[test]
fn users_and_groups_all_fields() {
    let users = r#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api"><ns0:pagination pageNumber="1" pageSize="1000" totalAvailable="1" /><ns0:users><ns0:user id="dd2239f6-ddf1-4107-981a-4cf94e415794" name="alice@acme.com" fullName="Alice" email="alice@acme.com" siteRole="Explorer" authSetting="TableauIDWithMFA" lastLogin="2024-02-01T10:00:00Z" externalAuthUserId="" idpConfigurationId="00000000-0000-0000-0000-000000000000" locale="en_US" language="en"><ns0:domain name="local" /></ns0:user></ns0:users></ns0:tsResponse>"#;
    let u = items(&doc(users), "users", "user", User::from_element);
    assert_eq!(u[0].name, "alice@acme.com");
    assert_eq!(u[0].site_role.as_deref(), Some("Explorer"));
    assert_eq!(u[0].auth_setting.as_deref(), Some("TableauIDWithMFA"));
    assert_eq!(u[0].domain.as_deref(), Some("local"));

    let groups = r#"<tsResponse xmlns="http://tableau.com/api"><pagination pageNumber="1" pageSize="1000" totalAvailable="2"/><groups><group id="g-1" name="All Users" userCount="5"><domain name="local"/></group><group id="g-2" name="Sales Analysts" minimumSiteRole="Viewer" userCount="2"><domain name="local"/><import domainName="local" siteRole="Viewer" grantLicenseMode="onLogin"/></group></groups></tsResponse>"#;
    let g = items(&doc(groups), "groups", "group", Group::from_element);
    assert_eq!(g.len(), 2);
    assert_eq!(g[1].minimum_site_role.as_deref(), Some("Viewer"));
    assert_eq!(g[1].user_count, Some(2));
}

#[test]
fn site_wide_views() {
    let xml = r#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api"><ns0:pagination pageNumber="1" pageSize="1000" totalAvailable="1" /><ns0:views><ns0:view id="v-1" name="Overview" contentUrl="Superstore/sheets/Overview" createdAt="2024-01-01T00:00:00Z" updatedAt="2024-01-01T00:00:00Z" viewUrlName="Overview" sheetType="dashboard"><ns0:workbook id="wb-1" /><ns0:owner id="u-1" /><ns0:project id="p-1" /><ns0:tags /><ns0:location id="p-1" type="Project" /></ns0:view></ns0:views></ns0:tsResponse>"#;
    let v = items(&doc(xml), "views", "view", View::from_element);
    assert_eq!(v[0].workbook_id.as_deref(), Some("wb-1"));
    assert_eq!(v[0].sheet_type.as_deref(), Some("dashboard"));
}

#[test]
fn tasks_list_cloud_shape_with_nested_schedule() {
    let xml = r#"<tsResponse xmlns="http://tableau.com/api"><tasks><task><extractRefresh id="12b07582-7c8b-4f1b-318b-51f6e58e4517" priority="50" consecutiveFailedCount="0" type="RefreshExtractTask"><schedule frequency="Daily" nextRunAt="2024-02-21T02:20:00Z"><frequencyDetails start="18:20:00" end="18:20:00"><intervals><interval hours="24"/><interval weekDay="Tuesday"/></intervals></frequencyDetails></schedule><datasource id="e4de0575-fcc7-4232-5659-be09bb8e7654"/></extractRefresh></task><task><extractRefresh id="t-2" priority="50" consecutiveFailedCount="3" type="RefreshExtractTask"><schedule frequency="Hourly"><frequencyDetails start="01:00:00" end="23:00:00"><intervals><interval minutes="30"/><interval weekDay="Monday"/></intervals></frequencyDetails></schedule><workbook id="wb-9"/></extractRefresh></task><task><dataAcceleration id="x"/></task></tasks></tsResponse>"#;
    let root = doc(xml);
    let tasks = RefreshTask::list_from(root.child("tasks").expect("tasks"));
    assert_eq!(tasks.len(), 2, "non-extract tasks are ignored");
    let t = &tasks[0];
    assert_eq!(t.priority, Some(50));
    assert_eq!(t.target, Some(TaskTarget::Datasource("e4de0575-fcc7-4232-5659-be09bb8e7654".into())));
    let s = t.schedule.as_ref().expect("schedule");
    assert_eq!(s.frequency, Frequency::Daily);
    assert_eq!(s.start, "18:20:00");
    assert_eq!(s.intervals, vec![Interval::Hours(24), Interval::WeekDay("Tuesday".into())]);
    assert_eq!(s.next_run_at.as_deref(), Some("2024-02-21T02:20:00Z"));
    assert_eq!(tasks[1].consecutive_failed_count, Some(3));
    assert_eq!(tasks[1].target, Some(TaskTarget::Workbook("wb-9".into())));
    let s2 = tasks[1].schedule.as_ref().expect("schedule");
    assert_eq!(s2.intervals[0], Interval::Minutes(30));
    assert_eq!(s2.end.as_deref(), Some("23:00:00"));
}

#[test]
fn task_create_response_with_sibling_schedule() {
    let xml = r#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api"><ns0:extractRefresh id="task_id" type="FullRefresh"><ns0:workbook id="workbook_id"/></ns0:extractRefresh><ns0:schedule createdAt="2023-08-17T15:36:37-0700" updatedAt="2023-08-17T15:36:37-0700" frequency="Monthly" nextRunAt="2023-09-15T23:30:00-0700"><ns0:frequencyDetails start="23:30:00"><ns0:intervals><ns0:interval monthDay="15"/><ns0:interval monthDay="LastDay"/></ns0:intervals></ns0:frequencyDetails></ns0:schedule></ns0:tsResponse>"#;
    let root = doc(xml);
    let task =
        RefreshTask::from_element(root.child("extractRefresh").expect("er"), root.child("schedule")).expect("task");
    assert_eq!(task.id, "task_id");
    assert_eq!(task.refresh_type.as_deref(), Some("FullRefresh"));
    assert_eq!(task.target, Some(TaskTarget::Workbook("workbook_id".into())));
    let s = task.schedule.expect("schedule");
    assert_eq!(s.frequency, Frequency::Monthly);
    assert_eq!(s.intervals, vec![Interval::MonthDay("15".into()), Interval::MonthDay("LastDay".into())]);
}

#[test]
fn jobs_running_completed_failed() {
    let running = doc(
        r#"<tsResponse xmlns="http://tableau.com/api"><job id="j-1" mode="Asynchronous" type="RefreshExtract" progress="50" createdAt="2021-10-05T18:53:34Z" startedAt="2021-10-05T18:53:34Z"><extractRefreshJob><datasource id="ds-1" name="Orders"/></extractRefreshJob></job></tsResponse>"#,
    );
    let job = Job::from_element(running.child("job").expect("job")).expect("parse");
    assert_eq!(job.state(), JobState::Running);
    assert_eq!(job.progress, Some(50));
    assert_eq!(job.datasource_id.as_deref(), Some("ds-1"));

    let done = doc(
        r#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api"><ns0:job id="j-2" mode="Asynchronous" type="RefreshExtract" progress="100" createdAt="2021-10-05T18:53:34Z" startedAt="2021-10-05T18:53:34Z" completedAt="2021-10-05T18:53:35Z" finishCode="0"><ns0:statusNotes><ns0:statusNote type="CountOfUsersAddedToGroup" value="0" text="x"/></ns0:statusNotes></ns0:job></ns0:tsResponse>"#,
    );
    assert_eq!(Job::from_element(done.child("job").expect("job")).expect("parse").state(), JobState::Succeeded);

    let failed = doc(
        r#"<tsResponse xmlns="http://tableau.com/api"><job id="bb1aab79-db54-4e96-9dd3-461d8f081d08" mode="Asynchronous" type="RefreshExtract" progress="100" createdAt="2021-10-05T18:53:34Z" startedAt="2021-10-05T18:53:34Z" completedAt="2021-10-05T18:53:35Z" finishCode="1"><extractRefreshJob><workbook id="5998aaaf-1abe-4d38-b4d9-bc53e85bdd13" name="Superstore"/><notes>java.lang.RuntimeException: Failed to refresh</notes></extractRefreshJob></job></tsResponse>"#,
    );
    let job = Job::from_element(failed.child("job").expect("job")).expect("parse");
    assert_eq!(job.state(), JobState::Failed);
    assert_eq!(job.notes.as_deref(), Some("java.lang.RuntimeException: Failed to refresh"));
    assert_eq!(job.workbook_id.as_deref(), Some("5998aaaf-1abe-4d38-b4d9-bc53e85bdd13"));

    let cancelled = doc(
        r#"<tsResponse xmlns="http://tableau.com/api"><job id="j-4" completedAt="2021-10-05T18:53:35Z" finishCode="2"/></tsResponse>"#,
    );
    assert_eq!(Job::from_element(cancelled.child("job").expect("job")).expect("parse").state(), JobState::Cancelled);
}

#[test]
fn error_documents() {
    let e401 = doc(
        r#"<?xml version='1.0' encoding='UTF-8'?><tsResponse xmlns="http://tableau.com/api"><error code="401002"><summary>Unauthorized Access</summary><detail>Invalid authentication credentials were provided.</detail></error></tsResponse>"#,
    );
    let d = ApiErrorDoc::from_root(&e401).expect("error");
    assert_eq!(d.code, "401002");
    assert_eq!(d.summary, "Unauthorized Access");

    let e409 = doc(
        r#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api"><ns0:error code="409006"><ns0:summary>Resource Conflict</ns0:summary><ns0:detail>A project already exists with the name '_Test'</ns0:detail></ns0:error></ns0:tsResponse>"#,
    );
    let d = ApiErrorDoc::from_root(&e409).expect("error");
    assert_eq!(d.code, "409006");
    assert_eq!(d.detail, "A project already exists with the name '_Test'");

    let e429 = doc(
        r#"<tsResponse xmlns="http://tableau.com/api"><error code="429000"><summary>Too Many Requests</summary><detail>Too many requests for 'api.rest.refresh_extracts'. Please retry after 29 minutes.</detail></error></tsResponse>"#,
    );
    let d = ApiErrorDoc::from_root(&e429).expect("error");
    assert_eq!(d.code, "429000");
    assert!(d.detail.contains("retry after 29 minutes"));

    // A bare <error> root (some proxies) is also understood.
    let bare = doc(
        r#"<error code="401001"><summary>Signin Error</summary><detail>Error signing in to Tableau Server</detail></error>"#,
    );
    assert_eq!(ApiErrorDoc::from_root(&bare).map(|d| d.code), Some("401001".into()));
}

#[test]
fn permissions_with_group_and_user_grantees() {
    let xml = r#"<tsResponse xmlns="http://tableau.com/api"><permissions><workbook id="21778de4-b7b9-44bc-a599-1506a2639ace" name="Superstore"><owner id="5de011f8-5aa9-4d5b-b991-f462c8dd6bb7"/></workbook><granteeCapabilities><group id="5e5e1978-71fa-11e4-87dd-7382f5c437af"/><capabilities><capability name="WebAuthoring" mode="Allow"/><capability name="Read" mode="Allow"/><capability name="Filter" mode="Allow"/></capabilities></granteeCapabilities><granteeCapabilities><user id="7c37ee24-c4b1-42b6-a154-eaeab7ee330a"/><capabilities><capability name="ExportImage" mode="Allow"/><capability name="ShareView" mode="Deny"/></capabilities></granteeCapabilities></permissions></tsResponse>"#;
    let root = doc(xml);
    let rules = GranteeCapabilities::list_from(root.child("permissions").expect("permissions"));
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].grantee.kind, GranteeKind::Group);
    assert_eq!(rules[0].capabilities.len(), 3);
    assert_eq!(rules[1].grantee.kind, GranteeKind::User);
    assert_eq!(rules[1].grantee.id, "7c37ee24-c4b1-42b6-a154-eaeab7ee330a");
    assert_eq!(rules[1].capabilities[1].mode, CapabilityMode::Deny);
}

#[test]
fn server_info_and_file_upload() {
    let si = doc(
        r#"<tsResponse xmlns="http://tableau.com/api"><serverInfo><productVersion build="20253.25.0911.0922">2025.3.0</productVersion><prepConductorVersion>20253.25.0911.0922</prepConductorVersion><restApiVersion>3.27</restApiVersion><platform>linux</platform><serverSettings oAuthEnabled="true"/></serverInfo></tsResponse>"#,
    );
    let info = ServerInfo::from_element(si.child("serverInfo").expect("si")).expect("parse");
    assert_eq!(info.rest_api_version, "3.27");
    assert_eq!(info.build.as_deref(), Some("20253.25.0911.0922"));

    let fu = doc(
        r#"<tsResponse xmlns="http://tableau.com/api"><fileUpload uploadSessionId="7720:170fe6b1c1c7422dadff20f944d58a52-1:0" fileSize="5"/></tsResponse>"#,
    );
    let upload = FileUpload::from_element(fu.child("fileUpload").expect("fu")).expect("parse");
    assert_eq!(upload.upload_session_id, "7720:170fe6b1c1c7422dadff20f944d58a52-1:0");
    assert_eq!(upload.file_size_mb, 5);
}

#[test]
fn unknown_elements_and_foreign_namespaces_are_ignored() {
    let xml = r#"<tsResponse xmlns="http://tableau.com/api" xmlns:ext="urn:vendor"><pagination pageNumber="1" pageSize="1000" totalAvailable="1"/><ext:projects><project id="ghost" name="ghost"/></ext:projects><projects><project id="p" name="Real" newAttribute="x"><futureElement><nested/></futureElement></project></projects><warnings><warning>ignored</warning></warnings></tsResponse>"#;
    let root = doc(xml);
    let projects = items(&root, "projects", "project", Project::from_element);
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].name, "Real");
}
