//! The emulator's wire-level tests share this raw HTTP client: reqwest against a real emulator on 127.0.0.1, with
//! hand-written XML, so what is checked is the bytes, not what tabops' client makes of them.
// Each test binary uses part of it.
#![allow(dead_code)]

use tabops_emulator::Emulator;

/// A signed-in raw HTTP client: requests are written and read as bytes, not through tabops' client.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub site: String,
}

pub fn attr<'a>(body: &'a str, element: &str, name: &str) -> Option<&'a str> {
    let start = body.find(&format!("<{element} "))?;
    let rest = &body[start..];
    let end = rest.find('>')?;
    let tag = &rest[..end];
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let value = &tag[at..];
    Some(&value[..value.find('"')?])
}

pub fn code(body: &str) -> &str {
    attr(body, "error", "code").unwrap_or("none")
}

pub const SIGN_IN: &str = r#"<tsRequest><credentials personalAccessTokenName="tabops" personalAccessTokenSecret="tabops-local-secret"><site contentUrl="ACME" /></credentials></tsRequest>"#;

pub async fn sign_in(emulator: &Emulator) -> Client {
    let http = reqwest::Client::new();
    let base = format!("{}/api/3.25", emulator.url());
    let body = http
        .post(format!("{base}/auth/signin"))
        .body(SIGN_IN)
        .send()
        .await
        .expect("sign in")
        .text()
        .await
        .expect("body");
    assert!(body.starts_with("<?xml"), "{body}");
    let token = attr(&body, "credentials", "token").expect("token").to_owned();
    let site = attr(&body, "site", "id").expect("site id").to_owned();
    Client { http, base, token, site }
}

impl Client {
    pub async fn call(&self, method: reqwest::Method, path: &str, body: &str) -> (u16, String) {
        let url = format!("{}/sites/{}{}", self.base, self.site, path);
        let response = self
            .http
            .request(method, url)
            .header("x-tableau-auth", &self.token)
            .header("content-type", "text/xml")
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
    pub async fn get(&self, path: &str) -> (u16, String) {
        self.call(reqwest::Method::GET, path, "").await
    }
    pub async fn post(&self, path: &str, body: &str) -> (u16, String) {
        self.call(reqwest::Method::POST, path, body).await
    }
    pub async fn put(&self, path: &str, body: &str) -> (u16, String) {
        self.call(reqwest::Method::PUT, path, body).await
    }
    pub async fn delete(&self, path: &str) -> (u16, String) {
        self.call(reqwest::Method::DELETE, path, "").await
    }
    pub async fn multipart(
        &self,
        path: &str,
        payload: &str,
        file_part: Option<(&str, &str, &[u8])>,
        tsc_style: bool,
    ) -> (u16, String) {
        let boundary = "8433bf7522892b9b50bce84acc83c4a2";
        let disposition = |name: &str, file: &str| {
            if tsc_style {
                format!("form-data; name=\"{name}\"; filename=\"{file}\"")
            } else {
                format!("name=\"{name}\"")
            }
        };
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: {}\r\nContent-Type: text/xml\r\n\r\n{payload}\r\n",
                disposition("request_payload", "")
            )
            .as_bytes(),
        );
        if let Some((name, file, bytes)) = file_part {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                    disposition(name, file)
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let url = format!("{}/sites/{}{}", self.base, self.site, path);
        let method = if path.starts_with("/fileUploads/") { reqwest::Method::PUT } else { reqwest::Method::POST };
        let response = self
            .http
            .request(method, url)
            .header("x-tableau-auth", &self.token)
            .header("content-type", format!("multipart/mixed; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .expect("multipart request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
}
