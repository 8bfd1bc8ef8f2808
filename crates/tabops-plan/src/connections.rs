//! Which live connection a manifest connection means, and what must change on it.
//!
//! In a publish request a connection's `serverAddress` is only a match key: Tableau attaches the credentials to the
//! connection of the uploaded file with that server and publishes the file's own server (TSC issue #337, the
//! maintainers' explanation). A per-environment server therefore reaches the site only through Update Workbook /
//! Data Source Connection after the publish; this module decides which connection each manifest entry updates.
//!
//! Tableau's connection list names no database, so the pairing is: first every manifest connection whose server
//! (and port, when given) already equals an unclaimed live connection's; then the remaining manifest connections,
//! in order, with the remaining live database connections, in order (the file's connections, as Tableau lists
//! them). Extract (`hyper`, `dataengine`) and published-data-source (`sqlproxy`) connections, and connections
//! without a server, are never paired: they are not database connections a manifest can point elsewhere.

use crate::inventory::LiveConnection;
use crate::plan::{ConnectionUpdateOp, FieldChange, PlannedConnection};

/// What one manifest connection changes on its live connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionDiff {
    /// Index of the manifest connection.
    pub index: usize,
    pub update: ConnectionUpdateOp,
    pub changes: Vec<FieldChange>,
}

/// The result of pairing manifest connections with live ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionPlan {
    /// Connections that differ from the manifest.
    pub diffs: Vec<ConnectionDiff>,
    /// Indexes of manifest connections with no live connection to pair with.
    pub unmatched: Vec<usize>,
}

fn pairable(c: &LiveConnection) -> bool {
    let kind = c.connection_type.as_deref().unwrap_or("").to_ascii_lowercase();
    !c.server.trim().is_empty() && !matches!(kind.as_str(), "hyper" | "dataengine" | "sqlproxy")
}

fn port_matches(wanted: Option<u16>, live: Option<&str>) -> bool {
    match wanted {
        None => true,
        Some(port) => live.and_then(|p| p.trim().parse::<u16>().ok()) == Some(port),
    }
}

fn json(value: impl Into<String>) -> Option<serde_json::Value> {
    Some(serde_json::Value::String(value.into()))
}

/// Pairs `desired` with `live` and lists what differs (server, port, user name, embed), each as a field of its own.
pub fn plan_connections(desired: &[PlannedConnection], live: &[LiveConnection]) -> ConnectionPlan {
    let mut claimed = vec![false; live.len()];
    let mut pairs: Vec<(usize, Option<usize>)> = Vec::with_capacity(desired.len());
    for (index, d) in desired.iter().enumerate() {
        let found = d.server.as_deref().and_then(|server| {
            live.iter().enumerate().position(|(i, l)| {
                !claimed[i]
                    && pairable(l)
                    && l.server.eq_ignore_ascii_case(server)
                    && port_matches(d.port, l.port.as_deref())
            })
        });
        if let Some(i) = found {
            claimed[i] = true;
        }
        pairs.push((index, found));
    }
    for pair in pairs.iter_mut().filter(|(_, found)| found.is_none()) {
        let next = live.iter().enumerate().position(|(i, l)| !claimed[i] && pairable(l));
        if let Some(i) = next {
            claimed[i] = true;
            pair.1 = Some(i);
        }
    }
    let mut plan = ConnectionPlan::default();
    for (index, found) in pairs {
        let Some(i) = found else {
            plan.unmatched.push(index);
            continue;
        };
        let (d, l) = (&desired[index], &live[i]);
        let field = |name: &str| format!("connections[{index}].{name}");
        let mut changes = Vec::new();
        if let Some(server) = d.server.as_deref().filter(|s| !s.eq_ignore_ascii_case(&l.server)) {
            changes.push(FieldChange::new(field("server"), json(&l.server), json(server)));
        }
        if let Some(port) = d.port.filter(|p| !port_matches(Some(*p), l.port.as_deref())) {
            changes.push(FieldChange::new(field("port"), l.port.clone().and_then(json), json(port.to_string())));
        }
        if let Some(user) = d.username.as_deref().filter(|u| l.username.as_deref() != Some(*u)) {
            changes.push(FieldChange::new(field("username"), l.username.clone().and_then(json), json(user)));
        }
        if d.embed != l.embed_password {
            changes.push(FieldChange::new(
                field("embed"),
                Some(serde_json::Value::Bool(l.embed_password)),
                Some(serde_json::Value::Bool(d.embed)),
            ));
        }
        if !changes.is_empty() {
            plan.diffs.push(ConnectionDiff {
                index,
                update: ConnectionUpdateOp { id: l.id.clone(), connection: d.clone() },
                changes,
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::SecretRef;

    fn wanted(server: &str, port: Option<u16>, user: &str) -> PlannedConnection {
        PlannedConnection {
            server: Some(server.into()),
            port,
            database: None,
            username: Some(user.into()),
            password: Some(SecretRef::Reference("${env:DB_PASSWORD}".into())),
            embed: true,
        }
    }

    fn live(id: &str, kind: &str, server: &str, port: Option<&str>, user: Option<&str>, embed: bool) -> LiveConnection {
        LiveConnection {
            id: id.into(),
            connection_type: Some(kind.into()),
            server: server.into(),
            port: port.map(str::to_owned),
            username: user.map(str::to_owned),
            embed_password: embed,
        }
    }

    fn fields(plan: &ConnectionPlan) -> Vec<String> {
        plan.diffs.iter().flat_map(|d| d.changes.iter().map(|c| c.field.clone())).collect()
    }

    #[test]
    fn an_equal_connection_is_no_change_even_though_its_password_cannot_be_read() {
        let plan = plan_connections(
            &[wanted("PG.acme", Some(5432), "svc")],
            &[live("c1", "postgres", "pg.acme", Some("5432"), Some("svc"), true)],
        );
        assert_eq!(plan, ConnectionPlan::default());
    }

    #[test]
    fn an_entry_pairs_first_with_its_own_server_then_in_order_with_what_is_left() {
        let live = [
            live("a", "postgres", "pg-dev", Some("5432"), Some("svc"), true),
            live("b", "postgres", "fin-db", Some("5432"), Some("svc"), true),
        ];
        // The second entry names b's server, so it pairs with b; the first takes what is left, a.
        let plan =
            plan_connections(&[wanted("pg-prod", Some(5432), "svc"), wanted("fin-db", Some(5432), "svc")], &live);
        assert_eq!(plan.diffs.len(), 1, "{plan:#?}");
        assert_eq!(plan.diffs[0].index, 0);
        assert_eq!(plan.diffs[0].update.id, "a");
        assert_eq!(fields(&plan), ["connections[0].server"]);
        assert!(plan.unmatched.is_empty());
    }

    #[test]
    fn extract_and_published_source_connections_are_never_paired() {
        let live = [
            live("x", "hyper", "", None, None, false),
            live("p", "sqlproxy", "10ax.online.tableau.com", Some("443"), Some("me"), false),
            live("d", "dataengine", "", None, None, false),
        ];
        let plan = plan_connections(&[wanted("pg-prod", Some(5432), "svc")], &live);
        assert!(plan.diffs.is_empty(), "{plan:#?}");
        assert_eq!(plan.unmatched, [0]);
    }

    #[test]
    fn server_port_user_and_embed_are_fields_of_their_own() {
        let plan = plan_connections(
            &[wanted("pg-prod", Some(6432), "svc_prod")],
            &[live("a", "postgres", "pg-dev", Some("5432"), Some("svc"), false)],
        );
        assert_eq!(
            fields(&plan),
            ["connections[0].server", "connections[0].port", "connections[0].username", "connections[0].embed"]
        );
        let update = &plan.diffs[0].update;
        assert_eq!(update.id, "a");
        assert_eq!(update.connection.server.as_deref(), Some("pg-prod"));
        // The change rows name the password nowhere.
        let shown = serde_json::to_string(&plan.diffs[0].changes).unwrap();
        assert!(!shown.contains("password") && !shown.contains("DB_PASSWORD"), "{shown}");
    }

    #[test]
    fn an_entry_without_a_port_accepts_any_port() {
        let mut entry = wanted("pg-dev", None, "svc");
        entry.port = None;
        let plan = plan_connections(&[entry], &[live("a", "postgres", "pg-dev", Some("5432"), Some("svc"), true)]);
        assert!(plan.diffs.is_empty(), "{plan:#?}");
    }
}
