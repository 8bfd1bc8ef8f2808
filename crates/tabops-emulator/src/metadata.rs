//! The Metadata API (GraphQL, `POST /api/metadata/graphql`): the subset of Tableau's schema tabops sends, derived
//! from the workbooks the emulator has parsed. A workbook is downstream of a published data source when its file
//! holds a `<connection class='sqlproxy' dbname='…'>` naming that data source's content URL (how Tableau Desktop
//! writes a connection to a published data source).
//!
//! Served (field and type names from Tableau's Metadata API reference, help.tableau.com/current/api/metadata_api,
//! pages `publisheddatasourcesconnection`, `publisheddatasource`, `workbook`, `tableauuser`, `canhavelabels_filter`):
//! `publishedDatasourcesConnection(filter: {luid | luidWithin}, first, after)` → `nodes`, `pageInfo { hasNextPage
//! endCursor }`, `totalCount`; a `PublishedDatasource`'s `id luid name projectName downstreamWorkbooks`; a
//! `Workbook`'s `id luid name projectName projectLuid owner`; a `TableauUser`'s `id luid username name email`.
//! The query is parsed with `graphql-parser`; a field or argument outside that subset is answered with a GraphQL
//! error (`{"errors": [...]}`), so a typo in the client's query fails its tests instead of being ignored.
//! Nodes are sorted by id, as the reference says for a connection without `orderBy`.

use graphql_parser::query::{Definition, Field, OperationDefinition, Selection, SelectionSet, Value};
use serde_json::{Map, Value as Json, json};

use crate::store::State;

/// Page size when a query gives no `first` (TSC's default for the Metadata API's paginated queries).
const DEFAULT_PAGE: usize = 100;

/// Field types of the served subset.
#[derive(Clone, Copy)]
enum Ty {
    Scalar,
    Object(&'static str),
}

fn fields(type_name: &str) -> &'static [(&'static str, Ty)] {
    match type_name {
        "Query" => &[("publishedDatasourcesConnection", Ty::Object("PublishedDatasourcesConnection"))],
        "PublishedDatasourcesConnection" => &[
            ("nodes", Ty::Object("PublishedDatasource")),
            ("pageInfo", Ty::Object("PageInfo")),
            ("totalCount", Ty::Scalar),
        ],
        "PageInfo" => &[("hasNextPage", Ty::Scalar), ("endCursor", Ty::Scalar)],
        "PublishedDatasource" => &[
            ("id", Ty::Scalar),
            ("luid", Ty::Scalar),
            ("name", Ty::Scalar),
            ("projectName", Ty::Scalar),
            ("downstreamWorkbooks", Ty::Object("Workbook")),
        ],
        "Workbook" => &[
            ("id", Ty::Scalar),
            ("luid", Ty::Scalar),
            ("name", Ty::Scalar),
            ("projectName", Ty::Scalar),
            ("projectLuid", Ty::Scalar),
            ("owner", Ty::Object("TableauUser")),
        ],
        "TableauUser" => &[
            ("id", Ty::Scalar),
            ("luid", Ty::Scalar),
            ("username", Ty::Scalar),
            ("name", Ty::Scalar),
            ("email", Ty::Scalar),
        ],
        _ => &[],
    }
}

/// Arguments a field accepts (only the root connection takes any here).
fn arguments(type_name: &str, field: &str) -> &'static [&'static str] {
    match (type_name, field) {
        ("Query", "publishedDatasourcesConnection") => &["filter", "first", "after"],
        _ => &[],
    }
}

/// A GraphQL error: answered with HTTP 200 and `{"errors": [{"message": …}]}`, as GraphQL servers do.
#[derive(Debug)]
pub struct GraphQlError(pub String);

/// Answers one request body (`{"query": …, "variables": {…}}`) with the response document.
pub fn execute(state: &State, body: &[u8]) -> Json {
    match run(state, body) {
        Ok(data) => json!({ "data": data }),
        Err(GraphQlError(message)) => json!({ "errors": [{ "message": message }] }),
    }
}

fn run(state: &State, body: &[u8]) -> Result<Json, GraphQlError> {
    let request: Json =
        serde_json::from_slice(body).map_err(|e| GraphQlError(format!("the request body is not JSON: {e}")))?;
    let query = request
        .get("query")
        .and_then(Json::as_str)
        .ok_or_else(|| GraphQlError("the request has no \"query\" string".into()))?;
    let variables = request.get("variables").and_then(Json::as_object).cloned().unwrap_or_default();
    let document = graphql_parser::parse_query::<String>(query)
        .map_err(|e| GraphQlError(format!("Invalid Syntax: {}", e.to_string().trim())))?;
    let mut operations = document.definitions.iter();
    let selection = match (operations.next(), operations.next()) {
        (Some(Definition::Operation(OperationDefinition::Query(q))), None) => &q.selection_set,
        (Some(Definition::Operation(OperationDefinition::SelectionSet(s))), None) => s,
        (Some(Definition::Fragment(_)), _) | (Some(_), Some(Definition::Fragment(_))) => {
            return Err(GraphQlError("fragments are not served by the emulator's Metadata API".into()));
        }
        (Some(Definition::Operation(_)), None) => {
            return Err(GraphQlError("the Metadata API serves queries only".into()));
        }
        _ => return Err(GraphQlError("send exactly one operation".into())),
    };
    validate(selection, "Query")?;
    let mut data = Map::new();
    for item in &selection.items {
        let Selection::Field(field) = item else { unreachable!("validated") };
        let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
        let value = match field.name.as_str() {
            "__typename" => Json::from("Query"),
            _ => {
                let args = resolve_args(field, &variables)?;
                let connection = datasources_connection(state, &args)?;
                project(&connection, &field.selection_set, "PublishedDatasourcesConnection")
            }
        };
        data.insert(key, value);
    }
    Ok(Json::Object(data))
}

/// Checks every field, argument and sub-selection against the served subset before anything is resolved (so a
/// typo inside `nodes` fails even when there are no nodes).
fn validate(selection: &SelectionSet<'_, String>, type_name: &str) -> Result<(), GraphQlError> {
    for item in &selection.items {
        let field = match item {
            Selection::Field(field) => field,
            Selection::FragmentSpread(_) | Selection::InlineFragment(_) => {
                return Err(GraphQlError("fragments are not served by the emulator's Metadata API".into()));
            }
        };
        if field.name == "__typename" {
            continue;
        }
        let Some((_, ty)) = fields(type_name).iter().find(|(name, _)| *name == field.name) else {
            return Err(GraphQlError(format!(
                "Validation error (FieldUndefined@[{}]) : Field '{}' in type '{type_name}' is undefined",
                field.name, field.name
            )));
        };
        for (argument, _) in &field.arguments {
            if !arguments(type_name, &field.name).contains(&argument.as_str()) {
                return Err(GraphQlError(format!(
                    "Validation error (UnknownArgument@[{}]) : Unknown field argument '{argument}' (not served by \
                     the emulator)",
                    field.name
                )));
            }
        }
        match ty {
            Ty::Scalar if !field.selection_set.items.is_empty() => {
                return Err(GraphQlError(format!(
                    "Validation error (SubselectionNotAllowed@[{}]) : Sub selection not allowed on leaf field",
                    field.name
                )));
            }
            Ty::Object(_) if field.selection_set.items.is_empty() => {
                return Err(GraphQlError(format!(
                    "Validation error (SubselectionRequired@[{}]) : Sub selection required for type '{}'",
                    field.name,
                    match ty {
                        Ty::Object(t) => t,
                        Ty::Scalar => "",
                    }
                )));
            }
            Ty::Object(inner) => validate(&field.selection_set, inner)?,
            Ty::Scalar => {}
        }
    }
    Ok(())
}

/// The root connection's arguments, variables substituted.
struct ConnectionArgs {
    luids: Option<Vec<String>>,
    first: usize,
    after: Option<String>,
}

fn resolve_args(field: &Field<'_, String>, variables: &Map<String, Json>) -> Result<ConnectionArgs, GraphQlError> {
    let mut args = ConnectionArgs { luids: None, first: DEFAULT_PAGE, after: None };
    for (name, value) in &field.arguments {
        let value = to_json(value, variables);
        match name.as_str() {
            "first" => match value {
                Json::Null => {}
                Json::Number(n) => {
                    args.first = n
                        .as_u64()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| GraphQlError("'first' must be a positive Int".into()))?
                        as usize;
                }
                _ => return Err(GraphQlError("'first' must be an Int".into())),
            },
            "after" => match value {
                Json::Null => {}
                Json::String(s) => args.after = Some(s),
                _ => return Err(GraphQlError("'after' must be a String".into())),
            },
            "filter" => match value {
                Json::Null => {}
                Json::Object(filter) => {
                    for (key, value) in filter {
                        let luids = match (key.as_str(), value) {
                            ("luid", Json::String(s)) => vec![s],
                            ("luidWithin", Json::Array(items)) => {
                                items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
                            }
                            (key, _) => {
                                return Err(GraphQlError(format!(
                                    "filter field '{key}' of PublishedDatasource_Filter is not served by the emulator \
                                     (it serves luid and luidWithin)"
                                )));
                            }
                        };
                        args.luids.get_or_insert_with(Vec::new).extend(luids);
                    }
                }
                _ => return Err(GraphQlError("'filter' must be a PublishedDatasource_Filter object".into())),
            },
            _ => unreachable!("validated"),
        }
    }
    Ok(args)
}

fn to_json(value: &Value<'_, String>, variables: &Map<String, Json>) -> Json {
    match value {
        Value::Variable(name) => variables.get(name).cloned().unwrap_or(Json::Null),
        Value::Int(n) => n.as_i64().map_or(Json::Null, Json::from),
        Value::Float(f) => json!(f),
        Value::String(s) => Json::from(s.clone()),
        Value::Boolean(b) => Json::from(*b),
        Value::Null => Json::Null,
        Value::Enum(e) => Json::from(e.clone()),
        Value::List(items) => Json::Array(items.iter().map(|v| to_json(v, variables)).collect()),
        Value::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v, variables))).collect()),
    }
}

/// One page of published data sources, every served field filled in; `project` picks what the query selected.
fn datasources_connection(state: &State, args: &ConnectionArgs) -> Result<Json, GraphQlError> {
    let mut datasources: Vec<_> = state
        .datasources
        .iter()
        .filter(|d| args.luids.as_ref().is_none_or(|luids| luids.iter().any(|l| l.eq_ignore_ascii_case(&d.content.id))))
        .collect();
    datasources.sort_by(|a, b| a.content.id.cmp(&b.content.id));
    let start = match &args.after {
        None => 0,
        Some(cursor) => {
            let position = datasources
                .iter()
                .position(|d| &cursor_of(&d.content.id) == cursor)
                .ok_or_else(|| GraphQlError(format!("'after' is not a cursor of this connection: '{cursor}'")))?;
            position + 1
        }
    };
    let total = datasources.len();
    let page: Vec<_> = datasources.iter().skip(start).take(args.first).collect();
    let end = start + page.len();
    let nodes: Vec<Json> = page.iter().map(|d| published_datasource(state, d)).collect();
    let end_cursor = page.last().map(|d| Json::from(cursor_of(&d.content.id))).unwrap_or(Json::Null);
    Ok(json!({
        "nodes": nodes,
        "pageInfo": { "hasNextPage": end < total, "endCursor": end_cursor },
        "totalCount": total,
    }))
}

fn cursor_of(id: &str) -> String {
    format!("PublishedDatasource:{id}")
}

fn project_name(state: &State, id: &str) -> Json {
    state.project(id).map_or(Json::Null, |p| Json::from(p.name.clone()))
}

fn published_datasource(state: &State, d: &crate::store::Datasource) -> Json {
    let downstream: Vec<Json> = state
        .workbooks
        .iter()
        .filter(|w| {
            w.content.connections.iter().any(|c| {
                c.kind.eq_ignore_ascii_case("sqlproxy") && c.dbname.eq_ignore_ascii_case(&d.content.content_url)
            })
        })
        .map(|w| {
            let owner = state.users.iter().find(|u| u.id == w.content.owner_id).map_or(Json::Null, |u| {
                json!({
                    "id": format!("user-{}", u.id),
                    "luid": u.id,
                    "username": u.name,
                    "name": u.full_name.clone().unwrap_or_else(|| u.name.clone()),
                    "email": u.email,
                })
            });
            json!({
                "id": format!("workbook-{}", w.content.id),
                "luid": w.content.id,
                "name": w.content.name,
                "projectName": project_name(state, &w.content.project_id),
                "projectLuid": w.content.project_id,
                "owner": owner,
            })
        })
        .collect();
    json!({
        "id": format!("published-datasource-{}", d.content.id),
        "luid": d.content.id,
        "name": d.content.name,
        "projectName": project_name(state, &d.content.project_id),
        "downstreamWorkbooks": downstream,
    })
}

/// Keeps the selected fields of `value` (an object or a list of them), under their aliases.
fn project(value: &Json, selection: &SelectionSet<'_, String>, type_name: &str) -> Json {
    match value {
        Json::Array(items) => Json::Array(items.iter().map(|v| project(v, selection, type_name)).collect()),
        Json::Object(map) => {
            let mut out = Map::new();
            for item in &selection.items {
                let Selection::Field(field) = item else { continue };
                let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
                let value = if field.name == "__typename" {
                    Json::from(type_name)
                } else {
                    let inner = map.get(&field.name).cloned().unwrap_or(Json::Null);
                    match fields(type_name).iter().find(|(n, _)| *n == field.name) {
                        Some((_, Ty::Object(t))) => project(&inner, &field.selection_set, t),
                        _ => inner,
                    }
                };
                out.insert(key, value);
            }
            Json::Object(out)
        }
        other => other.clone(),
    }
}
