//! View images: `GET /sites/{site}/views/{id}/image` (REST "Query View Image"; tableauserverclient
//! `views.populate_image`), a PNG of the view as the server renders it.

use reqwest::Method;

use super::Client;
use super::transport::Call;
use crate::error::Result;

impl Client {
    /// The PNG image of view `id` at the default resolution.
    pub async fn view_image(&self, id: &str) -> Result<Vec<u8>> {
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("views/{id}/image")),
            "/sites/{site}/views/{id}/image",
            format!("download the image of view {id}"),
        );
        Ok(self.call_bytes(&call).await?.to_vec())
    }
}
