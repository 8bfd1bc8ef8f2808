//! The [`Client`]: session state, sign-in/out, and the shared pieces (paths, paging) the endpoint modules use.

mod content;
mod identity;
mod jobs;
mod metadata;
mod multipart;
mod paging;
mod permissions;
mod publish;
mod site;
mod slots;
mod subscriptions;
mod tls;
mod transport;
mod views;
mod webhooks;

pub use content::TagTarget;
pub use identity::MAX_BULK_MEMBERS;
pub use paging::{MAX_LIST_ITEMS, MAX_LIST_PAGES};
pub use publish::{ExpectedFile, PublishFileType, PublishMode, PublishRequest, PublishedItem};
pub use transport::REQUEST_LOG;

use std::sync::{Arc, OnceLock};

use reqwest::Method;
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::auth;
use crate::config::{ClientConfig, MAX_CONCURRENCY};
use crate::error::{Error, Result};
use crate::models::ServerInfo;
use crate::secret::Secret;
use crate::stats::{RequestStats, StatsRecorder};
use transport::{Call, CallBody};

struct Session {
    token: Secret,
    user_id: Option<String>,
    /// Bumped on every successful sign-in; lets concurrent 401002 failures share one re-sign-in.
    generation: u64,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    api_base: Url,
    site_id: OnceLock<String>,
    session: RwLock<Session>,
    re_sign_in_lock: Mutex<()>,
    slots: slots::Slots,
    stats: StatsRecorder,
}

/// A signed-in Tableau REST API client. Cheap to clone; clones share the session, limits and stats.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.inner.config.server.as_str())
            .field("site", &self.inner.config.site)
            .field("site_id", &self.site_id())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Validates the configuration, builds the HTTPS client (rustls, certificate checks on) and signs in.
    pub async fn sign_in(config: ClientConfig) -> Result<Client> {
        config.validate()?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(30)))
            .read_timeout(config.timeout)
            .user_agent(concat!("tabops/", env!("CARGO_PKG_VERSION")))
            // Never follow redirects: reqwest would carry X-Tableau-Auth to whatever host a redirect names.
            .redirect(reqwest::redirect::Policy::none());
        // reqwest reads HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY itself unless told not to.
        if !config.proxy_from_env {
            builder = builder.no_proxy();
        }
        for path in &config.ca_certs {
            builder = builder.tls_certs_merge(tls::ca_bundle(path)?);
        }
        let http =
            builder.build().map_err(|source| Error::Http { operation: "build HTTP client".to_owned(), source })?;
        let mut root = config.server.to_string();
        if !root.ends_with('/') {
            root.push('/');
        }
        let api_base = Url::parse(&format!("{root}api/{}/", config.api_version))
            .map_err(|e| Error::Config { message: format!("invalid server URL or API version: {e}") })?;
        let slots = slots::Slots::new(config.concurrency.clamp(1, MAX_CONCURRENCY));
        let client = Client {
            inner: Arc::new(Inner {
                http,
                config,
                api_base,
                site_id: OnceLock::new(),
                session: RwLock::new(Session { token: Secret::default(), user_id: None, generation: 0 }),
                re_sign_in_lock: Mutex::new(()),
                slots,
                stats: StatsRecorder::default(),
            }),
        };
        client.do_sign_in().await?;
        Ok(client)
    }

    async fn do_sign_in(&self) -> Result<()> {
        let site = &self.inner.config.site;
        let body = auth::sign_in_body(&self.inner.config.credentials, site)?;
        let mut call =
            Call::new(Method::POST, "auth/signin".to_owned(), "/auth/signin", format!("sign in to site '{site}'"))
                .idempotent(true);
        call.body = CallBody::SecretXml(body);
        call.authenticated = false;
        call.first_contact = self.inner.site_id.get().is_none();
        let root = self.call_xml(&call).await?;
        let signed = auth::parse_sign_in(&root).ok_or_else(|| Error::Xml {
            operation: call.operation.clone(),
            message: "response has no credentials/@token with site/@id".to_owned(),
        })?;
        if let Some(existing) = self.inner.site_id.get() {
            if existing != &signed.site_id {
                return Err(Error::Config {
                    message: format!("re-sign-in landed on site {} instead of {existing}", signed.site_id),
                });
            }
        } else {
            let _ = self.inner.site_id.set(signed.site_id.clone());
        }
        let mut session = self.inner.session.write().await;
        session.token = signed.token;
        session.user_id = signed.user_id;
        session.generation += 1;
        tracing::debug!(site_id = %signed.site_id, generation = session.generation, "signed in");
        Ok(())
    }

    /// Starts a new session after [`Client::sign_out`], with the credentials this client signed in with.
    pub async fn sign_in_again(&self) -> Result<()> {
        let _guard = self.inner.re_sign_in_lock.lock().await;
        self.do_sign_in().await
    }

    /// Signs in again unless another task already did since `seen_generation`.
    async fn re_sign_in(&self, seen_generation: u64) -> Result<()> {
        let _guard = self.inner.re_sign_in_lock.lock().await;
        if self.inner.session.read().await.generation != seen_generation {
            return Ok(());
        }
        self.inner.stats.re_sign_in();
        self.do_sign_in().await
    }

    /// Ends the session (`POST /auth/signout`).
    pub async fn sign_out(&self) -> Result<()> {
        let call = Call::new(Method::POST, "auth/signout".to_owned(), "/auth/signout", "sign out").idempotent(true);
        self.call_unit(&call).await?;
        self.inner.session.write().await.token = Secret::default();
        Ok(())
    }

    /// The signed-in site's LUID.
    pub fn site_id(&self) -> &str {
        self.inner.site_id.get().map(String::as_str).unwrap_or_default()
    }

    /// The signed-in user's LUID, if the server returned it.
    pub async fn user_id(&self) -> Option<String> {
        self.inner.session.read().await.user_id.clone()
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> RequestStats {
        self.inner.stats.snapshot()
    }

    /// `GET /serverInfo` (unauthenticated).
    pub async fn server_info(&self) -> Result<ServerInfo> {
        let mut call = Call::new(Method::GET, "serverInfo".to_owned(), "/serverInfo", "read server info");
        call.authenticated = false;
        let root = self.call_xml(&call).await?;
        root.child("serverInfo").and_then(ServerInfo::from_element).ok_or_else(|| missing(&call, "serverInfo"))
    }

    /// `sites/{site}/{rest}`.
    fn site_path(&self, rest: &str) -> String {
        format!("sites/{}/{rest}", self.site_id())
    }
}

fn missing(call: &Call, element: &str) -> Error {
    Error::Xml { operation: call.operation.clone(), message: format!("response has no <{element}> element") }
}

/// Percent-encodes one path segment (everything but unreserved characters), like `urllib.parse.quote(s, safe="")`.
pub(crate) fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn segment_encoding_matches_tsc_quote() {
        assert_eq!(super::encode_segment("two words"), "two%20words");
        assert_eq!(super::encode_segment("a,b/c"), "a%2Cb%2Fc");
    }
}
