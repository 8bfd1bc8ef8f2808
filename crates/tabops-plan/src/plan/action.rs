//! One step of a plan: what happens to which object, and why.
//!
//! Modelled on Terraform's plan: an [`Action`] with a glyph, field-level [`FieldChange`]s with `before`/`after`
//! (`before: None` = the field is being set for the first time or the object does not exist yet; `after: None` =
//! the field or object goes away; both `Some` = an update), and a reason that explains but never decides.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tabops_manifest::model::Address;

use super::operation::Operation;

/// What happens to an object. Idempotency: applying a plan and planning again yields only `NoOp`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The object does not exist on the site and will be created (or published for the first time).
    Create,
    /// The object exists and is changed in place.
    Update,
    /// Content is published over the existing item: the same id, a new revision, so it is an in-place change (`~`),
    /// not a delete and a create. Plan JSON calls it `replace` (format version 1, kept for the machines that read it).
    #[serde(rename = "replace", alias = "republish")]
    Republish,
    /// The object is removed from the site.
    Delete,
    /// Nothing to do; kept so verbose output can say why (e.g. "checksum unchanged: skip publish").
    NoOp,
}

impl Action {
    /// Terraform-style glyph.
    pub fn glyph(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Republish => "~",
            Action::Delete => "-",
            Action::NoOp => "=",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Republish => "republish",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
        }
    }
}

/// The kind of object an action is about; also the order of sections in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// The site's own settings (`site.settings:`), first: they shape what the rest of the site allows.
    SiteSettings,
    User,
    Project,
    Group,
    Membership,
    Datasource,
    Workbook,
    Permissions,
    DefaultPermissions,
    RefreshTask,
    Subscription,
    Webhook,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 12] = [
        ObjectKind::SiteSettings,
        ObjectKind::User,
        ObjectKind::Project,
        ObjectKind::Group,
        ObjectKind::Membership,
        ObjectKind::Datasource,
        ObjectKind::Workbook,
        ObjectKind::Permissions,
        ObjectKind::DefaultPermissions,
        ObjectKind::RefreshTask,
        ObjectKind::Subscription,
        ObjectKind::Webhook,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::SiteSettings => "site_settings",
            ObjectKind::User => "user",
            ObjectKind::Project => "project",
            ObjectKind::Group => "group",
            ObjectKind::Membership => "membership",
            ObjectKind::Datasource => "datasource",
            ObjectKind::Workbook => "workbook",
            ObjectKind::Permissions => "permissions",
            ObjectKind::DefaultPermissions => "default_permissions",
            ObjectKind::RefreshTask => "refresh_task",
            ObjectKind::Subscription => "subscription",
            ObjectKind::Webhook => "webhook",
        }
    }
    /// Plural heading for reports.
    pub fn title(self) -> &'static str {
        match self {
            ObjectKind::SiteSettings => "Site settings",
            ObjectKind::User => "Users",
            ObjectKind::Project => "Projects",
            ObjectKind::Group => "Groups",
            ObjectKind::Membership => "Group memberships",
            ObjectKind::Datasource => "Data sources",
            ObjectKind::Workbook => "Workbooks",
            ObjectKind::Permissions => "Permissions",
            ObjectKind::DefaultPermissions => "Default permissions",
            ObjectKind::RefreshTask => "Extract refresh tasks",
            ObjectKind::Subscription => "Subscriptions",
            ObjectKind::Webhook => "Webhooks",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl FieldChange {
    pub fn new(field: impl Into<String>, before: Option<Value>, after: Option<Value>) -> Self {
        FieldChange { field: field.into(), before, after }
    }
}

/// Which part of a manifest object an action comes from, and that part's digest in the desired state, so drift
/// classification can tell "the manifest changed" from "the site changed" by comparing with a baseline manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    /// The object's own fields (name, description, roles, owner, tags...).
    Fields,
    /// A content item's publish fingerprint.
    Content,
    Members,
    Permissions,
    DefaultWorkbookPermissions,
    DefaultDatasourcePermissions,
    Refresh,
    /// The subscriptions to a workbook and its views.
    Subscriptions,
    /// The site's settings (`site.settings:`).
    SiteSettings,
    /// A workbook's view permissions (`view_permissions:`).
    ViewPermissions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The manifest object's address (`project:Sales`).
    pub address: Address,
    pub aspect: Aspect,
    /// Digest of that aspect in the desired state; `None` when the manifest does not have the object.
    pub digest: Option<String>,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    /// The address, unique in the plan: `workbook:Sales/EMEA/Revenue`, `membership:Sales Analysts/alice@acme.com`.
    pub id: String,
    pub kind: ObjectKind,
    pub action: Action,
    /// Why (explanation only).
    pub reason: String,
    pub changes: Vec<FieldChange>,
    /// Addresses of actions that must complete first.
    pub depends_on: Vec<String>,
    /// The live id of the object acted on, when it exists.
    pub live_id: Option<String>,
    pub origin: Origin,
    pub operation: Operation,
}

/// An object on the site that the manifest does not mention and that is not pruned: reported, left alone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnmanagedObject {
    pub kind: ObjectKind,
    pub address: String,
    pub id: String,
}

/// Why a plan cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanErrorKind {
    /// A user the manifest references (without a site role) does not exist on the site.
    MissingUser,
    /// A group named as a grantee or owner exists neither in the manifest nor on the site.
    MissingGroup,
    /// A project referenced by content or as a parent exists neither in the manifest nor on the site.
    MissingProject,
    /// A delete of a protected object (or of something inside a protected project).
    Protected,
    /// More deletes than `max_deletes` allows.
    TooManyDeletes,
    /// The plan deletes every content item of a project.
    EmptiesProject,
    /// The plan deletes every content item or project of the site.
    EmptiesSite,
    /// Two manifest objects resolve to the same live object.
    Conflict,
    /// A user the plan removes still owns content and the manifest names no heir (`settings.reassign_content_to`):
    /// Tableau would refuse the removal and leave the user Unlicensed.
    OwnsContent,
    /// An owner whose site role may not own that kind of object (help: owner.htm).
    OwnerRole,
    /// `refresh:` on content that holds no extract: Tableau refuses its refreshes (409090).
    NoExtract,
    /// A user's `identity_provider` names no authentication configuration of the site.
    UnknownIdentityProvider,
    /// The manifest sets rules that a project locked on the site controls (Tableau refuses changing them, 403004).
    LockedByProject,
    /// A delete of a data source that workbooks the manifest does not manage use (`--allow-breaking-deletes`).
    BreaksWorkbooks,
    /// `view_permissions:` names a sheet the workbook on the site has no view for (and no publish in this plan
    /// could add it).
    MissingView,
}

/// A refusal: the plan is still rendered, but not applyable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanError {
    pub kind: PlanErrorKind,
    pub address: String,
    pub message: String,
    pub hint: Option<String>,
}
