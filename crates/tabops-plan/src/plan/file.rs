//! The saved-plan file (`plan --out`, `apply PLAN`), and why applying one is safe.
//!
//! A plan file crosses a trust boundary: it is written by a pull-request job and read by an apply job, often as a
//! CI artifact that others can replace. Applying it as written would let whoever can write the file run anything
//! the site token can. So `apply PLAN` never executes the file: it plans again from the manifest, the content files
//! and the live site, and executes that fresh plan only when it equals the saved one ([`check_saved`]), which is
//! what a reviewer saw. The file's only power is to be refused.
//!
//! A plan file may also carry an HMAC-SHA256 signature ([`PlanKey`], from `TABOPS_PLAN_KEY`), so a pipeline can
//! prove the artifact is the one its own plan job wrote. The signature covers the plan's canonical JSON (compact
//! `serde_json` of the parsed value), so whitespace does not matter and any change of meaning does.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{FORMAT_VERSION, Plan, PlanFileError};

/// The top-level key of a signed plan file that holds the signature; not part of the plan itself.
pub const SIGNATURE_KEY: &str = "signature";

/// Shortest accepted `TABOPS_PLAN_KEY`, in bytes: a key anyone can guess proves nothing.
pub const MIN_KEY_BYTES: usize = 32;

/// The key that signs and verifies plan files.
#[derive(Clone)]
pub struct PlanKey(Vec<u8>);

impl std::fmt::Debug for PlanKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlanKey(<redacted>)")
    }
}

impl PlanKey {
    /// A key from its text (the environment variable's value); refused when shorter than [`MIN_KEY_BYTES`].
    pub fn new(text: &str) -> Result<PlanKey, PlanFileError> {
        let bytes = text.trim().as_bytes();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(PlanFileError::WeakKey { length: bytes.len() });
        }
        Ok(PlanKey(bytes.to_vec()))
    }

    fn mac(&self, canonical: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(canonical);
        mac
    }
}

/// The signature block of a signed plan file.
fn signature_value(hex_mac: String) -> Value {
    serde_json::json!({ "algorithm": "hmac-sha256", "value": hex_mac })
}

/// The plan file's text: the plan's JSON (as `--format json` prints it), with a signature when `key` is given.
pub fn to_file(plan: &Plan, key: Option<&PlanKey>) -> String {
    let Some(key) = key else { return crate::render::json(plan) };
    let mut value = serde_json::to_value(plan).unwrap_or(Value::Null);
    let mac = hex::encode(key.mac(&canonical(&value)).finalize().into_bytes());
    if let Value::Object(map) = &mut value {
        map.insert(SIGNATURE_KEY.to_owned(), signature_value(mac));
    }
    let mut out = serde_json::to_string_pretty(&value).unwrap_or_default();
    out.push('\n');
    out
}

/// The bytes a signature covers: the plan as a JSON value (parsed into the plan's types first, so unknown keys and
/// formatting do not count), written compactly.
fn canonical(plan: &Value) -> Vec<u8> {
    serde_json::to_vec(plan).unwrap_or_default()
}

/// Whether a plan file was signed, and whether the signature held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// No signature, and no key to require one.
    Unsigned,
    /// Signed, and the signature verified with the key.
    Verified,
}

/// Reads a plan file. With `key`, the file must be signed with it; without, a signed file is refused too (its
/// signature cannot be checked, and a pipeline that signs expects it checked).
pub fn from_file(text: &str, key: Option<&PlanKey>) -> Result<(Plan, Signature), PlanFileError> {
    let mut value: Value = serde_json::from_str(text).map_err(PlanFileError::Parse)?;
    let found = value.get("format_version").and_then(Value::as_u64).unwrap_or(0);
    if found != u64::from(FORMAT_VERSION) {
        return Err(PlanFileError::FormatVersion { found });
    }
    let signature = value.as_object_mut().and_then(|map| map.remove(SIGNATURE_KEY));
    let plan: Plan = serde_json::from_value(value).map_err(PlanFileError::Parse)?;
    let verified = match (key, signature) {
        (None, None) => Signature::Unsigned,
        (None, Some(_)) => return Err(PlanFileError::SignedWithoutKey),
        (Some(_), None) => return Err(PlanFileError::Unsigned),
        (Some(key), Some(signature)) => {
            let algorithm = signature.get("algorithm").and_then(Value::as_str);
            let mac = signature.get("value").and_then(Value::as_str).and_then(|v| hex::decode(v).ok());
            let (Some("hmac-sha256"), Some(mac)) = (algorithm, mac) else {
                return Err(PlanFileError::BadSignature);
            };
            // The canonical form of what was parsed: any edit that changes the plan changes it.
            let value = serde_json::to_value(&plan).map_err(PlanFileError::Parse)?;
            key.mac(&canonical(&value)).verify_slice(&mac).map_err(|_| PlanFileError::BadSignature)?;
            Signature::Verified
        }
    };
    Ok((plan, verified))
}

/// Where a saved plan and the plan made again now differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The plan was made for another site.
    Site { saved: String, now: String },
    /// The manifest (or the environment selected in it) is not the one the plan was made from.
    Manifest,
    /// A content file's digest differs.
    Content { address: String },
    /// Live objects the plan depends on changed since (or are gone), named by their addresses.
    Stale { objects: Vec<StaleObject> },
    /// Anything else: the first differing place, as a JSON path, with both values shortened.
    Differs { path: String, saved: String, now: String },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Site { saved, now } => {
                write!(f, "it was made for site id {}, not {now}", crate::render::visible(saved))
            }
            Mismatch::Manifest => f.write_str("it was made from another version of the manifest"),
            Mismatch::Content { address } => {
                write!(f, "the content file of {} changed since it was made", crate::render::visible(address))
            }
            Mismatch::Stale { objects } => {
                let shown: Vec<String> = objects.iter().take(5).map(StaleObject::to_string).collect();
                let more = objects.len().saturating_sub(shown.len());
                let count = match objects.len() {
                    1 => "an object".to_owned(),
                    n => format!("{n} objects"),
                };
                write!(
                    f,
                    "it is stale: {count} it was planned against changed on the site since: {}",
                    shown.join("; ")
                )?;
                if more > 0 {
                    write!(f, "; and {more} more")?;
                }
                Ok(())
            }
            Mismatch::Differs { path, saved, now } => {
                write!(
                    f,
                    "it differs from the plan made now at `{path}`: the file says {saved}, the plan made now says {now}"
                )
            }
        }
    }
}

impl Mismatch {
    /// What to do about it, shown on its own line after the error.
    pub fn hint(&self) -> String {
        match self {
            Mismatch::Stale { .. } => "the site was changed after the plan was made (in the web UI, by another apply \
                                      or a script): run `tabops plan --out` again, review the new plan and apply \
                                      that; `tabops drift` shows what differs on the site"
                .to_owned(),
            Mismatch::Site { .. } => {
                "apply the plan to the site it was made for (--server, --site), or plan again for this one".to_owned()
            }
            _ => "run `tabops plan --out` again and review the new plan".to_owned(),
        }
    }
}

/// A live object a saved plan was made against that changed on the site since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleObject {
    /// What it is, by address: `project:Sales/EMEA`, `the permissions of workbook:Sales/Revenue`; the live id when
    /// neither plan names it.
    pub object: String,
    /// `true` when it is no longer on the site (the plan made now did not read it).
    pub gone: bool,
}

impl std::fmt::Display for StaleObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.gone { "is no longer on the site" } else { "changed" };
        write!(f, "{} {what}", crate::render::visible(&self.object))
    }
}

/// Names a live row key (`<id>`, `permissions:<id>`, `default_permissions:<id>:<kind>`) by the address the plans
/// give the object with that id (an action on it, or an unmanaged object).
fn describe_row(key: &str, plans: [&Plan; 2]) -> String {
    let address = |id: &str| {
        plans.iter().find_map(|plan| {
            let acted = plan.actions.iter().find(|a| {
                a.live_id.as_deref() == Some(id)
                    && !matches!(
                        a.kind,
                        super::ObjectKind::Membership
                            | super::ObjectKind::Permissions
                            | super::ObjectKind::DefaultPermissions
                    )
            });
            acted
                .map(|a| a.id.clone())
                .or_else(|| plan.unmanaged.iter().find(|u| u.id == id).map(|u| u.address.clone()))
        })
    };
    if let Some(id) = key.strip_prefix("permissions:") {
        return format!("the permissions of {}", address(id).unwrap_or_else(|| id.to_owned()));
    }
    if let Some((id, kind)) = key.strip_prefix("default_permissions:").and_then(|rest| rest.rsplit_once(':')) {
        return format!("the default {kind} permissions of {}", address(id).unwrap_or_else(|| id.to_owned()));
    }
    address(key).unwrap_or_else(|| format!("the object with id {key}"))
}

/// Checks that `saved` (read from a file) is exactly the plan `fresh` made now from the same manifest, content and
/// site: every action, operation, digest, error and flag. Two inputs may differ: the git provenance (a plan file
/// written into the work tree makes it dirty; a merge commit has another id), which describes and does not decide,
/// and the safety limits, which `fresh` was checked against at least as strictly (see [`super::SafetyLimits`]).
pub fn check_saved(saved: &Plan, fresh: &Plan) -> Result<(), Mismatch> {
    if saved.site.id != fresh.site.id {
        return Err(Mismatch::Site { saved: saved.site.id.clone(), now: fresh.site.id.clone() });
    }
    if saved.inputs.manifest_digest != fresh.inputs.manifest_digest {
        return Err(Mismatch::Manifest);
    }
    let now: std::collections::BTreeMap<&str, &str> =
        fresh.inputs.content.iter().map(|c| (c.address.as_str(), c.sha256.as_str())).collect();
    for content in &saved.inputs.content {
        if now.get(content.address.as_str()) != Some(&content.sha256.as_str()) {
            return Err(Mismatch::Content { address: content.address.clone() });
        }
    }
    let mut stale: Vec<StaleObject> = saved
        .inputs
        .inventory_rows
        .iter()
        .filter(|(key, digest)| fresh.inputs.inventory_rows.get(*key) != Some(*digest))
        .map(|(key, _)| StaleObject {
            object: describe_row(key, [saved, fresh]),
            gone: !fresh.inputs.inventory_rows.contains_key(key),
        })
        .collect();
    // Keyed by live ids, which mean nothing to a reader: in the order of what they name instead.
    stale.sort_by(|a, b| a.object.cmp(&b.object));
    if !stale.is_empty() {
        return Err(Mismatch::Stale { objects: stale });
    }
    let comparable = |plan: &Plan| {
        let mut value = serde_json::to_value(plan).unwrap_or(Value::Null);
        if let Some(inputs) = value.get_mut("inputs").and_then(Value::as_object_mut) {
            inputs.remove("git");
            inputs.remove("safety");
        }
        value
    };
    let (saved_value, fresh_value) = (comparable(saved), comparable(fresh));
    match first_difference(&saved_value, &fresh_value, &mut String::new()) {
        None => Ok(()),
        Some((path, saved, now)) => Err(Mismatch::Differs { path, saved, now }),
    }
}

/// The first place two JSON values differ: its path (`actions[3].operation.op`) and both values, shortened.
fn first_difference(a: &Value, b: &Value, path: &mut String) -> Option<(String, String, String)> {
    let here = |a: Option<&Value>, b: Option<&Value>, path: &str| {
        let show = |v: Option<&Value>| match v {
            None => "nothing".to_owned(),
            Some(v) => shorten(&serde_json::to_string(v).unwrap_or_default()),
        };
        Some((if path.is_empty() { "(the plan)".to_owned() } else { path.to_owned() }, show(a), show(b)))
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&crate::render::visible(key));
                let found = match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => first_difference(p, q, path),
                    (p, q) => here(p, q, path),
                };
                if found.is_some() {
                    return found;
                }
                path.truncate(len);
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let len = path.len();
                // Actions are easier to find by their address than by their index.
                let id = x.get(i).or_else(|| y.get(i)).and_then(|v| v.get("id")).and_then(Value::as_str);
                match id {
                    Some(id) => path.push_str(&format!("[{}]", crate::render::visible(id))),
                    None => path.push_str(&format!("[{i}]")),
                }
                let found = match (x.get(i), y.get(i)) {
                    (Some(p), Some(q)) => first_difference(p, q, path),
                    (p, q) => here(p, q, path),
                };
                if found.is_some() {
                    return found;
                }
                path.truncate(len);
            }
            None
        }
        _ if a == b => None,
        _ => here(Some(a), Some(b), path),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}
