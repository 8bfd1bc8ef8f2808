//! `${name}` / `${env:NAME}` substitution and the secret rule for passwords.

use std::collections::BTreeMap;

use crate::diag::did_you_mean;
use crate::model::Secret;
use crate::raw::{Located, Problem};

/// The variables in effect: the manifest's `vars` (after the environment's overrides) and the process environment.
pub struct Vars<'a> {
    pub vars: BTreeMap<String, String>,
    pub environment: &'a BTreeMap<String, String>,
}

impl Vars<'_> {
    /// Substitute every reference in `text`. `$${` writes a literal `${`.
    pub fn expand(&self, text: &Located<String>) -> Result<String, Problem> {
        let source = text.value.as_str();
        let mut out = String::with_capacity(source.len());
        let mut rest = source;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            if rest.starts_with("$${") {
                out.push_str("${");
                rest = &rest[3..];
            } else if rest.starts_with("${") {
                let Some(end) = rest.find('}') else {
                    return Err(text.problem(
                        format!("unterminated `${{` in `{source}`"),
                        Some("close the reference with `}`, or write `$${` for a literal `${`".into()),
                    ));
                };
                let name = &rest[2..end];
                out.push_str(&self.lookup(name, text)?);
                rest = &rest[end + 1..];
            } else {
                out.push('$');
                rest = &rest[1..];
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn lookup(&self, name: &str, at: &Located<String>) -> Result<String, Problem> {
        if let Some(var) = name.strip_prefix("env:") {
            return self.environment.get(var).cloned().ok_or_else(|| {
                at.problem(
                    format!("environment variable `{var}` is not set (referenced as `${{env:{var}}}`)"),
                    Some(format!("export {var}=... before running tabops")),
                )
            });
        }
        self.vars.get(name).cloned().ok_or_else(|| {
            let hint = did_you_mean(name, self.vars.keys().map(String::as_str)).or_else(|| {
                Some(format!("define `{name}` under `vars:` (or use `${{env:{name}}}` for the environment)"))
            });
            at.problem(format!("undefined variable `${{{name}}}`"), hint)
        })
    }

    /// A connection password: must be written exactly as `${env:NAME}`. An unset variable gives an unresolved
    /// secret, not an error: only `apply` needs the value (see [`Secret`]).
    pub fn secret(&self, text: &Located<String>) -> Result<Secret, Problem> {
        let raw = text.value.trim();
        let env_name = raw.strip_prefix("${env:").and_then(|r| r.strip_suffix('}'));
        match env_name {
            Some(name) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                // Empty counts as unset: GitHub Actions expands a secret that is not defined (or not given to forks)
                // to an empty string, which is never the intended password.
                match self.environment.get(name).filter(|value| !value.is_empty()) {
                    Some(value) => Ok(Secret::from_env(name, value.clone())),
                    None => Ok(Secret::unresolved(name)),
                }
            }
            _ if raw.starts_with("${") && !raw.starts_with("${env:") => Err(text.problem(
                "password taken from `vars`; passwords must come from the environment",
                Some("write `password: \"${env:NAME}\"` and set NAME in the environment".into()),
            )),
            _ => Err(text.problem(
                "password written in clear; passwords must come from the environment",
                Some("write `password: \"${env:NAME}\"` and set NAME in the environment".into()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Pos;

    fn at(text: &str) -> Located<String> {
        Located::new(text.to_owned(), Pos::default(), "f")
    }

    #[test]
    fn expands_vars_env_and_escapes() {
        let env = BTreeMap::from([("HOME_DIR".to_owned(), "/home/x".to_owned())]);
        let vars = Vars { vars: BTreeMap::from([("db_host".to_owned(), "db".to_owned())]), environment: &env };
        assert_eq!(vars.expand(&at("${db_host}:5432 ${env:HOME_DIR} $${x} $5")).unwrap(), "db:5432 /home/x ${x} $5");
        let err = vars.expand(&at("${db_hots}")).unwrap_err();
        assert_eq!(err.hint.as_deref(), Some("did you mean `db_host`?"));
        assert!(vars.expand(&at("${env:NOPE}")).unwrap_err().message.contains("`NOPE` is not set"));
    }

    #[test]
    fn passwords_must_come_from_the_environment() {
        let env = BTreeMap::from([("PW".to_owned(), "hunter2".to_owned())]);
        let vars = Vars { vars: BTreeMap::from([("pw".to_owned(), "x".to_owned())]), environment: &env };
        assert_eq!(vars.secret(&at("${env:PW}")).unwrap().expose(), "hunter2");
        let unset = vars.secret(&at("${env:UNSET_PW}")).unwrap();
        assert!(!unset.is_resolved() && unset.env_var() == Some("UNSET_PW"), "an unset password is a reference");
        let env = BTreeMap::from([("EMPTY_PW".to_owned(), String::new())]);
        let vars = Vars { vars: BTreeMap::new(), environment: &env };
        assert!(!vars.secret(&at("${env:EMPTY_PW}")).unwrap().is_resolved(), "an empty password counts as unset");
        assert!(vars.secret(&at("hunter2")).unwrap_err().message.contains("in clear"));
        assert!(vars.secret(&at("${pw}")).unwrap_err().message.contains("from `vars`"));
        let err = vars.secret(&at("hunter2")).unwrap_err();
        assert!(!format!("{err:?}").contains("hunter2"), "the clear password must not be echoed");
    }
}
