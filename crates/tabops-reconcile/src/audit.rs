//! The audit log an apply writes, opened with the redaction policy: nothing the executor records holds a secret,
//! but as defence in depth the connection passwords the plan sends, and every environment value whose name looks
//! like a credential, are redacted from every line.

use std::collections::BTreeMap;
use std::path::Path;

use tabops_apply::audit::{AuditError, AuditLog};
use tabops_plan::Plan;
use tabops_plan::plan::Operation;

/// Words that mark an environment variable as a credential (matched case-insensitively in its name).
const SECRET_NAME_WORDS: [&str; 3] = ["PASSWORD", "SECRET", "TOKEN"];

/// Opens the audit log at `path` for a new run (a fresh run id), redacting the secrets of `plan` and
/// `environment` (the variables the apply runs with).
pub fn open(path: &Path, plan: &Plan, environment: &BTreeMap<String, String>) -> Result<AuditLog, AuditError> {
    let mut audit = AuditLog::open(path, uuid::Uuid::new_v4().to_string())?;
    for secret in secrets(plan, environment) {
        audit.redact(secret);
    }
    Ok(audit)
}

/// The values to redact: the connection passwords `plan` publishes, resolved from `environment`, and every value
/// of a variable whose name contains PASSWORD, SECRET or TOKEN.
pub fn secrets(plan: &Plan, environment: &BTreeMap<String, String>) -> Vec<String> {
    let lookup = |name: &str| environment.get(name).cloned();
    let mut out = Vec::new();
    for action in plan.changes() {
        if let Operation::Publish(publish) = &action.operation {
            for password in publish.connections.iter().filter_map(|c| c.password.as_ref()) {
                if let Some(secret) = password.resolve(lookup) {
                    out.push(secret.expose().to_owned());
                }
            }
        }
    }
    for (name, value) in environment {
        if SECRET_NAME_WORDS.iter().any(|word| name.to_ascii_uppercase().contains(word)) {
            out.push(value.clone());
        }
    }
    out
}
