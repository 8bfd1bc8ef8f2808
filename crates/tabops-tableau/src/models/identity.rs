//! Users and groups, plus their write requests.

use crate::xml::{Element, XmlWriter};

use super::opt;

/// A site user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct User {
    /// LUID.
    pub id: String,
    /// Sign-in name (an email on Cloud).
    pub name: String,
    /// Display name.
    pub full_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Site role, e.g. `Explorer`.
    pub site_role: Option<String>,
    /// Authentication, e.g. `SAML`, `TableauIDWithMFA`.
    pub auth_setting: Option<String>,
    /// Last sign-in time.
    pub last_login: Option<String>,
    /// External auth id.
    pub external_auth_user_id: Option<String>,
    /// IdP configuration LUID.
    pub idp_configuration_id: Option<String>,
    /// `domain@name`, e.g. `local`.
    pub domain: Option<String>,
}

impl User {
    /// Parses a `user` element; `None` without `id`.
    pub fn from_element(e: &Element) -> Option<User> {
        e.attr("id").map(|id| User::from_element_with_id(e, id))
    }

    /// Parses a `user` element whose `id` may be missing (update responses), using `id` in that case.
    pub fn from_element_with_id(e: &Element, id: &str) -> User {
        User {
            id: e.attr_string("id").unwrap_or_else(|| id.to_owned()),
            name: e.attr_string("name").unwrap_or_default(),
            full_name: opt(e, "fullName"),
            email: opt(e, "email"),
            site_role: opt(e, "siteRole"),
            auth_setting: opt(e, "authSetting"),
            last_login: opt(e, "lastLogin"),
            external_auth_user_id: opt(e, "externalAuthUserId"),
            idp_configuration_id: opt(e, "idpConfigurationId"),
            domain: e.child("domain").and_then(|d| d.attr_string("name")),
        }
    }
}

/// One of a Cloud site's authentication configurations (`GET /sites/{site}/site-auth-configurations`, API 3.24).
/// Shape: TSC `SiteAuthConfiguration.from_response` and its asset `site_auth_configurations.xml`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthConfiguration {
    /// `idpConfigurationId`, what a user's `idpConfigurationId` refers to.
    pub id: String,
    /// `idpConfigurationName`, e.g. `Initial SAML`.
    pub name: String,
    /// `authSetting`, e.g. `SAML`, `OIDC`.
    pub auth_setting: Option<String>,
    /// `enabled`.
    pub enabled: bool,
    /// `knownProviderAlias`, e.g. `Salesforce`.
    pub known_provider_alias: Option<String>,
}

impl AuthConfiguration {
    /// Parses a `siteAuthConfiguration` element; `None` without `idpConfigurationId`.
    pub fn from_element(e: &Element) -> Option<AuthConfiguration> {
        Some(AuthConfiguration {
            id: e.attr_string("idpConfigurationId")?,
            name: e.attr_string("idpConfigurationName").unwrap_or_default(),
            auth_setting: opt(e, "authSetting"),
            enabled: e.attr("enabled").is_some_and(|v| v.eq_ignore_ascii_case("true")),
            known_provider_alias: opt(e, "knownProviderAlias"),
        })
    }
}

/// Body of `POST /users`.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// Sign-in name.
    pub name: String,
    /// Site role.
    pub site_role: String,
    /// Authentication setting (optional on Cloud).
    pub auth_setting: Option<String>,
    /// The authentication configuration to sign in with (API 3.24+, Cloud); Tableau refuses it together with
    /// `auth_setting`.
    pub idp_configuration_id: Option<String>,
}

impl NewUser {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[])
            .empty(
                "user",
                &[
                    ("name", Some(&self.name)),
                    ("siteRole", Some(&self.site_role)),
                    ("authSetting", self.auth_setting.as_deref()),
                    ("idpConfigurationId", self.idp_configuration_id.as_deref()),
                ],
            )
            .end("tsRequest");
        w.finish()
    }
}

/// Body of `PUT /users/{id}`; unset fields are unchanged.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// Display name.
    pub full_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Site role.
    pub site_role: Option<String>,
    /// Authentication setting.
    pub auth_setting: Option<String>,
    /// The authentication configuration to sign in with (API 3.24+, Cloud).
    pub idp_configuration_id: Option<String>,
}

impl UserUpdate {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[])
            .empty(
                "user",
                &[
                    ("fullName", self.full_name.as_deref()),
                    ("email", self.email.as_deref()),
                    ("siteRole", self.site_role.as_deref()),
                    ("authSetting", self.auth_setting.as_deref()),
                    ("idpConfigurationId", self.idp_configuration_id.as_deref()),
                ],
            )
            .end("tsRequest");
        w.finish()
    }
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// LUID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Minimum site role granted on sign-in. Tableau answers it in the `<import siteRole=…>` child, for local and
    /// Active Directory groups alike (TSC `models/group_item.py`, asset `group_update.xml`).
    pub minimum_site_role: Option<String>,
    /// When the minimum role's license is granted: `onLogin` or `onSync` (`<import grantLicenseMode=…>`).
    pub grant_license_mode: Option<String>,
    /// Member count (with `fields=_all_`).
    pub user_count: Option<u64>,
    /// `domain@name` (`local` for local groups).
    pub domain: Option<String>,
}

impl Group {
    /// Parses a `group` element. The minimum site role and license mode are read from the `<import>` child where
    /// Tableau puts them; the `minimumSiteRole` attribute (the request form, also in the schema's `groupType`) and
    /// the bare `siteRole`/`grantLicenseMode` attributes of TSC's `group_create.xml` are read when it is absent.
    pub fn from_element(e: &Element) -> Option<Group> {
        let import = e.child("import");
        let minimum_site_role = import
            .and_then(|i| opt(i, "siteRole"))
            .or_else(|| opt(e, "minimumSiteRole"))
            .or_else(|| opt(e, "siteRole"));
        let grant_license_mode = import.and_then(|i| opt(i, "grantLicenseMode")).or_else(|| opt(e, "grantLicenseMode"));
        Some(Group {
            id: e.attr_string("id")?,
            name: e.attr_string("name")?,
            minimum_site_role,
            grant_license_mode,
            user_count: e.attr_num("userCount"),
            domain: e
                .child("domain")
                .and_then(|d| d.attr_string("name"))
                .or_else(|| import.and_then(|i| i.attr_string("domainName"))),
        })
    }
}

/// Body of `POST /groups` (local groups).
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    /// Name.
    pub name: String,
    /// Minimum site role.
    pub minimum_site_role: Option<String>,
}

impl NewGroup {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[])
            .empty("group", &[("name", Some(&self.name)), ("minimumSiteRole", self.minimum_site_role.as_deref())])
            .end("tsRequest");
        w.finish()
    }
}

/// Body of `PUT /groups/{id}`.
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    /// New name.
    pub name: Option<String>,
    /// New minimum site role.
    pub minimum_site_role: Option<String>,
}

impl GroupUpdate {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[])
            .empty("group", &[("name", self.name.as_deref()), ("minimumSiteRole", self.minimum_site_role.as_deref())])
            .end("tsRequest");
        w.finish()
    }
}
