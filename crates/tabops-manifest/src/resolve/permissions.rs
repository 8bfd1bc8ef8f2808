//! Permission rules: grantee checks, template expansion and capability validation per object kind.

use std::collections::{BTreeMap, BTreeSet};

use super::Cx;
use crate::diag::did_you_mean;
use crate::model::{Capability, Grantee, GranteeRules, Mode, PermissionTarget};
use crate::raw::{Located, Problem, RawMode, RawRule};
use crate::templates::{TEMPLATES, template};

fn target_name(target: PermissionTarget) -> &'static str {
    match target {
        PermissionTarget::Project => "projects",
        PermissionTarget::Workbook => "workbooks",
        PermissionTarget::Datasource => "data sources",
        PermissionTarget::View => "views",
    }
}

fn templates_for(target: PermissionTarget) -> Vec<&'static str> {
    TEMPLATES.into_iter().filter(|t| template(t, target).is_some()).collect()
}

/// Resolve a rule list into one [`GranteeRules`] per grantee. `known` checks that a grantee exists.
pub fn resolve_rules(cx: &mut Cx<'_>, rules: &[Located<RawRule>], target: PermissionTarget) -> Vec<GranteeRules> {
    let mut out: Vec<GranteeRules> = Vec::new();
    let mut seen: BTreeSet<(u8, String)> = BTreeSet::new();
    for rule in rules {
        let grantee = match (&rule.value.group, &rule.value.user) {
            (Some(group), None) => cx.expand(group).map(|n| (Grantee::Group(n), group)),
            (None, Some(user)) => cx.expand(user).map(|n| (Grantee::User(n), user)),
            (Some(_), Some(_)) => {
                cx.problems.push(rule.problem(
                    "a permission rule names both a `group` and a `user`",
                    Some("write one rule per grantee".into()),
                ));
                None
            }
            (None, None) => {
                cx.problems.push(rule.problem("a permission rule needs a grantee: `group:` or `user:`", None));
                None
            }
        };
        if rule.value.template.is_none() && rule.value.capabilities.is_none() {
            cx.problems.push(rule.problem(
                "a permission rule needs a `template:`, `capabilities:`, or both",
                Some(format!("templates for {}: {}", target_name(target), templates_for(target).join(", "))),
            ));
        }
        let mut capabilities = BTreeMap::new();
        if let Some(name) = &rule.value.template {
            match template(&name.value, target) {
                Some(caps) => capabilities = caps,
                None if TEMPLATES.contains(&name.value.as_str()) => cx.problems.push(name.problem(
                    format!("template `{}` is not defined for {}", name.value, target_name(target)),
                    Some(format!("templates for {}: {}", target_name(target), templates_for(target).join(", "))),
                )),
                None => cx.problems.push(
                    name.problem(
                        format!("unknown permission template `{}`", name.value),
                        did_you_mean(&name.value, TEMPLATES)
                            .or_else(|| Some(format!("templates: {}", TEMPLATES.join(", ")))),
                    ),
                ),
            }
        }
        if let Some(caps) = &rule.value.capabilities {
            for (name, mode) in caps {
                let Some(capability) = Capability::parse(name) else {
                    let names = Capability::ALL.map(Capability::as_str);
                    // Names Tableau once documented but the schema's `capabilityType` (ts-api_3_29.xsd) lacks;
                    // Tableau Cloud rejects them.
                    let (message, hint) = if name == "CreateRefreshMetrics" {
                        (
                            format!("capability `{name}` is not accepted by Tableau Cloud"),
                            Some("it is not in the REST schema's capabilityType (ts-api_3_29.xsd); remove it".into()),
                        )
                    } else {
                        (format!("unknown capability `{name}`"), did_you_mean(name, names))
                    };
                    cx.problems.push(Problem { pos: mode.pos, field: mode.field.clone(), message, hint });
                    continue;
                };
                if !capability.valid_for(target) {
                    let valid: Vec<_> =
                        Capability::ALL.into_iter().filter(|c| c.valid_for(target)).map(Capability::as_str).collect();
                    cx.problems.push(mode.problem(
                        format!("capability `{name}` is not valid for {}", target_name(target)),
                        Some(format!("valid capabilities: {}", valid.join(", "))),
                    ));
                    continue;
                }
                let mode_value = match mode.value {
                    RawMode::Allow => Mode::Allow,
                    RawMode::Deny => Mode::Deny,
                };
                if capability == Capability::ProjectLeader && mode_value == Mode::Deny {
                    cx.problems.push(mode.problem(
                        "`ProjectLeader` cannot be `Deny`",
                        Some("Tableau only allows granting Project Leader; remove the entry to not grant it".into()),
                    ));
                    continue;
                }
                capabilities.insert(capability, mode_value);
            }
        }
        let Some((grantee, at)) = grantee else { continue };
        if !cx.known_grantee(&grantee, at) {
            continue;
        }
        if !seen.insert(grantee.key()) {
            cx.problems.push(at.problem(
                format!("a second rule for {grantee} on the same object"),
                Some("merge the rules for one grantee into one (template plus capabilities)".into()),
            ));
            continue;
        }
        out.push(GranteeRules { grantee, capabilities });
    }
    out.sort_by_cached_key(|rules| rules.grantee.key());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_tableau() {
        let wb = template("Publisher", PermissionTarget::Workbook).unwrap();
        assert_eq!(wb.len(), 12);
        assert_eq!(wb.get(&Capability::Write), Some(&Mode::Allow));
        assert!(template("ProjectLeader", PermissionTarget::Workbook).is_none());
        let denied = template("Denied", PermissionTarget::Project).unwrap();
        assert_eq!(denied, BTreeMap::from([(Capability::Read, Mode::Deny), (Capability::Write, Mode::Deny)]));
        assert_eq!(template("Administrator", PermissionTarget::Datasource).unwrap().len(), 8);
        assert_eq!(template("Administrator", PermissionTarget::Workbook).unwrap().len(), 16);
    }
}
