//! What the executor must do for one planned action, typed.
//!
//! An [`Operation`] carries everything the REST calls need. Objects that exist on the site are referred to by their
//! live id ([`ObjectRef::Live`]); objects created earlier in the same plan by their address
//! ([`ObjectRef::Planned`]), which the executor maps to the id it got back when it created them.
//!
//! Connection passwords travel as [`SecretRef`]: in memory the resolved secret, in a saved plan only the
//! `${env:NAME}` reference, which the executor resolves again at apply time.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tabops_manifest::model::{
    AuthSetting, Capability, ConnectionSpec, ContentFile, ContentKind, ContentPermissions, Mode, PermissionTarget,
    RefreshType, Schedule, Secret, SiteRole, SubscriptionFields, WebhookEvent,
};

use crate::inventory::GranteeKind;

/// A reference to another object of the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "ref", content = "value")]
pub enum ObjectRef {
    /// An object that exists on the site: its LUID.
    Live(String),
    /// An object created earlier in this plan: its address (`project:Sales/EMEA`).
    Planned(String),
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectRef::Live(id) => write!(f, "id {id}"),
            ObjectRef::Planned(address) => write!(f, "{address} (created by this plan)"),
        }
    }
}

/// A connection password: the resolved secret in memory, its `${env:NAME}` reference in a saved plan.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    Resolved(Secret),
    /// A reference read back from a saved plan (`${env:NAME}`, or `<redacted>` for a secret with no source).
    Reference(String),
}

impl SecretRef {
    /// The secret, re-reading a saved reference with `lookup` (an environment lookup in the executor).
    /// `None` when the reference names no variable or the variable is not set.
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> Option<Secret> {
        match self {
            SecretRef::Resolved(secret) if secret.is_resolved() => Some(secret.clone()),
            // Loaded while its variable was unset (a plan made without secrets): read the variable now.
            SecretRef::Resolved(_) => Secret::resolve(&self.reference(), lookup),
            SecretRef::Reference(reference) => Secret::resolve(reference, lookup),
        }
    }
    /// The serialised form: `${env:NAME}` or `<redacted>`.
    pub fn reference(&self) -> String {
        match self {
            SecretRef::Resolved(secret) => match secret.env_var() {
                Some(var) => format!("${{env:{var}}}"),
                None => "<redacted>".to_string(),
            },
            SecretRef::Reference(reference) => reference.clone(),
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRef({})", self.reference())
    }
}

impl Serialize for SecretRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.reference())
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretRef::Reference)
    }
}

/// One connection to embed at publish time (the manifest's `ConnectionSpec`, in a form a saved plan can hold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedConnection {
    pub server: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub username: Option<String>,
    pub password: Option<SecretRef>,
    pub embed: bool,
}

impl From<&ConnectionSpec> for PlannedConnection {
    fn from(c: &ConnectionSpec) -> Self {
        PlannedConnection {
            server: c.server.clone(),
            port: c.port,
            database: c.database.clone(),
            username: c.username.clone(),
            password: c.password.clone().map(SecretRef::Resolved),
            embed: c.embed,
        }
    }
}

/// Where a project moves to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "to", content = "project")]
pub enum ParentChange {
    TopLevel,
    Project(ObjectRef),
}

/// A permission grantee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GranteeRef {
    pub kind: GranteeKind,
    pub object: ObjectRef,
}

/// One grantee's rules in a managed permission set: what a copied rule must match to stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptRules {
    pub grantee: GranteeRef,
    pub capabilities: BTreeMap<Capability, Mode>,
}

/// Rename and/or move an existing content item before publishing over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relocate {
    pub name: Option<String>,
    pub project: Option<ObjectRef>,
}

/// A publish (new item, or over an existing one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishOp {
    pub kind: ContentKind,
    pub name: String,
    pub project: ObjectRef,
    pub file: ContentFile,
    /// `true` when publishing over an existing item (`overwrite=true`).
    pub overwrite: bool,
    /// The live item being replaced.
    pub existing: Option<String>,
    /// Update the existing item's name/project first, so the overwrite lands on it (renamed_from + content change).
    pub relocate: Option<Relocate>,
    pub description: Option<String>,
    pub show_tabs: Option<bool>,
    /// Sheet names to publish hidden.
    pub hidden_views: Vec<String>,
    pub connections: Vec<PlannedConnection>,
    pub owner: Option<ObjectRef>,
    /// The `tabops.sha256.*` tag to set once published.
    pub marker_tag: String,
    /// Tags to add after publishing (managed tags missing on the item, and the marker).
    pub tags_add: Vec<String>,
    /// Tags to delete after publishing (stale markers, unmanaged tags when tags are managed).
    pub tags_remove: Vec<String>,
}

/// An in-place update of a content item (no upload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateContentOp {
    pub kind: ContentKind,
    pub item: String,
    pub name: Option<String>,
    pub project: Option<ObjectRef>,
    pub description: Option<String>,
    pub show_tabs: Option<bool>,
    pub owner: Option<ObjectRef>,
    pub tags_add: Vec<String>,
    pub tags_remove: Vec<String>,
    /// Connections to point at the manifest's server, port, user name and embed setting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<ConnectionUpdateOp>,
}

/// One Update Workbook/Data Source Connection call: the live connection and what it should become.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionUpdateOp {
    /// The live connection's id.
    pub id: String,
    pub connection: PlannedConnection,
}

/// Everything the executor needs for one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Operation {
    /// Nothing to do (a no-op shown in verbose output).
    None,
    /// Update Site with these attributes (wire name -> value, e.g. `revisionLimit` -> `50`): the managed settings
    /// that differ.
    UpdateSiteSettings {
        attributes: BTreeMap<String, String>,
    },
    AddUser {
        name: String,
        site_role: SiteRole,
        auth_setting: Option<AuthSetting>,
        /// `idpConfigurationId` of the manifest's `identity_provider` (sent instead of `authSetting`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idp_configuration_id: Option<String>,
        full_name: Option<String>,
        email: Option<String>,
    },
    UpdateUser {
        user: String,
        site_role: Option<SiteRole>,
        auth_setting: Option<AuthSetting>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idp_configuration_id: Option<String>,
        full_name: Option<String>,
        email: Option<String>,
    },
    RemoveUser {
        user: String,
        /// The user who receives what the removed user owns (`mapAssetsTo`); `None` when they own nothing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        map_assets_to: Option<ObjectRef>,
    },
    CreateProject {
        name: String,
        parent: Option<ObjectRef>,
        description: Option<String>,
        content_permissions: Option<ContentPermissions>,
        /// Set by an update right after the create (the create request takes no owner).
        owner: Option<ObjectRef>,
    },
    UpdateProject {
        project: String,
        name: Option<String>,
        parent: Option<ParentChange>,
        description: Option<String>,
        content_permissions: Option<ContentPermissions>,
        owner: Option<ObjectRef>,
    },
    DeleteProject {
        project: String,
    },
    CreateGroup {
        name: String,
        minimum_site_role: Option<SiteRole>,
    },
    UpdateGroup {
        group: String,
        name: Option<String>,
        minimum_site_role: Option<SiteRole>,
    },
    DeleteGroup {
        group: String,
    },
    AddMember {
        group: ObjectRef,
        user: ObjectRef,
    },
    RemoveMember {
        group: String,
        user: String,
    },
    Publish(Box<PublishOp>),
    UpdateContent(Box<UpdateContentOp>),
    DeleteContent {
        kind: ContentKind,
        item: String,
    },
    /// Converge one grantee's explicit (or default) rules on one object: delete every `revoke` entry (one call per
    /// capability), then add every `grant` entry (one bulk call). A mode flip appears in both.
    SetPermissions {
        target: PermissionTarget,
        object: ObjectRef,
        /// `Some(kind)` for a project's default permissions for that content kind.
        default_for: Option<ContentKind>,
        grantee: GranteeRef,
        grant: BTreeMap<Capability, Mode>,
        revoke: BTreeMap<Capability, Mode>,
    },
    /// Tableau copies rules onto an object it creates (a new project gets its parent's or the default project's
    /// permissions and default permissions, new content its project's default permissions for its type): read the
    /// created object's rules back and delete every one the manifest's complete set (`keep`) does not contain, so
    /// the set's grant actions, which depend on this one, converge it in the same apply.
    RevokeCopiedPermissions {
        target: PermissionTarget,
        object: ObjectRef,
        /// `Some(kind)` for a project's default permissions for that content kind.
        default_for: Option<ContentKind>,
        keep: Vec<KeptRules>,
    },
    CreateRefreshTask {
        kind: ContentKind,
        item: ObjectRef,
        refresh_type: RefreshType,
        schedule: Schedule,
    },
    UpdateRefreshTask {
        task: String,
        kind: ContentKind,
        item: String,
        refresh_type: RefreshType,
        schedule: Schedule,
    },
    DeleteRefreshTask {
        task: String,
    },
    CreateSubscription {
        workbook: ObjectRef,
        /// The view's name, for a subscription to a view (its id is looked up when the subscription is created).
        view: Option<String>,
        user: ObjectRef,
        schedule: Schedule,
        fields: SubscriptionFields,
    },
    UpdateSubscription {
        subscription: String,
        fields: SubscriptionFields,
    },
    DeleteSubscription {
        subscription: String,
    },
    /// Create a webhook (the event by its API name, `DatasourceRefreshFailed`).
    CreateWebhook {
        name: String,
        event: WebhookEvent,
        url: String,
        enabled: bool,
    },
    /// Update a webhook in place (Update Webhook, API 3.8): every field is sent.
    UpdateWebhook {
        webhook: String,
        name: String,
        event: WebhookEvent,
        url: String,
        enabled: bool,
    },
    DeleteWebhook {
        webhook: String,
    },
}

impl Operation {
    /// Whether the operation uploads content.
    pub fn uploads(&self) -> bool {
        matches!(self, Operation::Publish(_))
    }
}

/// Sorted, de-duplicated tag list helper.
pub(crate) fn tag_list(tags: BTreeSet<String>) -> Vec<String> {
    tags.into_iter().collect()
}
