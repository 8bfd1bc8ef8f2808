//! The emulator-speed check: how long the emulator takes to serve one 1,000-item workbook list page (the largest
//! page Tableau allows) of the generated site, with no injected latency, over real HTTP. If this is slow the
//! emulator, not the client, would dominate the plan benchmark.

use std::time::Instant;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ListPageReport {
    pub items_per_page: usize,
    pub samples: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    pub response_bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ListPageError {
    #[error("request to {url} failed")]
    Http { url: String, source: reqwest::Error },
    #[error("unexpected response from {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("the sign-in response has no {0}")]
    SignIn(&'static str),
}

fn attr<'a>(xml: &'a str, element: &str, name: &str) -> Option<&'a str> {
    let at = xml.find(&format!("<{element} "))?;
    let rest = &xml[at..];
    let end = rest.find('>')?;
    let head = &rest[..end];
    let key = format!(" {name}=\"");
    let start = head.find(&key)? + key.len();
    let len = head[start..].find('"')?;
    Some(&head[start..start + len])
}

async fn send(request: reqwest::RequestBuilder, url: &str) -> Result<String, ListPageError> {
    let http = |source| ListPageError::Http { url: url.to_owned(), source };
    let response = request.send().await.map_err(http)?;
    let status = response.status();
    if !status.is_success() {
        return Err(ListPageError::Status { url: url.to_owned(), status: status.as_u16() });
    }
    response.text().await.map_err(http)
}

/// Times `samples` requests for page 1 of the workbooks at pageSize 1000 (after one warm-up request).
pub async fn run(base: &str, site: &str, samples: usize) -> Result<ListPageReport, ListPageError> {
    let http = reqwest::Client::new();
    let version = tabops_tableau::DEFAULT_API_VERSION;
    let url = format!("{base}/api/{version}/auth/signin");
    let body = format!(
        "<tsRequest><credentials personalAccessTokenName=\"{}\" personalAccessTokenSecret=\"{}\"><site \
         contentUrl=\"{site}\"/></credentials></tsRequest>",
        tabops_emulator::DEFAULT_PAT_NAME,
        tabops_emulator::DEFAULT_PAT_SECRET
    );
    let reply = send(http.post(&url).header("content-type", "application/xml").body(body), &url).await?;
    let token = attr(&reply, "credentials", "token").ok_or(ListPageError::SignIn("token"))?.to_owned();
    let site_id = attr(&reply, "site", "id").ok_or(ListPageError::SignIn("site id"))?.to_owned();
    let url = format!("{base}/api/{version}/sites/{site_id}/workbooks?pageSize=1000&pageNumber=1");
    let get = || http.get(&url).header("X-Tableau-Auth", &token);
    let first = send(get(), &url).await?;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let start = Instant::now();
        send(get(), &url).await?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok(ListPageReport {
        items_per_page: first.matches("<workbook ").count(),
        samples: times.len(),
        median_ms: pick(0.5),
        p95_ms: pick(0.95),
        max_ms: pick(1.0),
        response_bytes: first.len(),
    })
}
