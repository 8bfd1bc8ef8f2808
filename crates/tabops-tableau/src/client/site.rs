//! The signed-in site itself: Get Site and Update Site (its settings).

use std::collections::BTreeMap;

use reqwest::Method;

use super::transport::Call;
use super::{Client, missing};
use crate::error::Result;
use crate::xml::XmlWriter;

/// A `<site>` element's attributes, by wire name (`revisionLimit` -> `25`), as the server wrote them.
pub type SiteAttributes = BTreeMap<String, String>;

impl Client {
    /// `GET sites/{site}`: the signed-in site's attributes (its settings among them), one request.
    pub async fn site(&self) -> Result<SiteAttributes> {
        let site = self.site_id().to_owned();
        let call = Call::new(Method::GET, format!("sites/{site}"), "/sites/{site}", format!("read site {site}"));
        let root = self.call_xml(&call).await?;
        let element = root.child("site").ok_or_else(|| missing(&call, "site"))?;
        Ok(element.attrs.iter().cloned().collect())
    }

    /// `PUT sites/{site}` with `<site …attributes/>` (Update Site): only the attributes given are sent, so the
    /// others keep their values. Answers the site as the server has it after the update.
    pub async fn update_site(&self, attributes: &BTreeMap<String, String>) -> Result<SiteAttributes> {
        let site = self.site_id().to_owned();
        let mut w = XmlWriter::new();
        let attrs: Vec<(&str, Option<&str>)> = attributes.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect();
        w.start("tsRequest", &[]).empty("site", &attrs).end("tsRequest");
        let call = Call::new(Method::PUT, format!("sites/{site}"), "/sites/{site}", format!("update site {site}"))
            .xml(w.finish());
        let root = self.call_xml(&call).await?;
        let element = root.child("site").ok_or_else(|| missing(&call, "site"))?;
        Ok(element.attrs.iter().cloned().collect())
    }
}
