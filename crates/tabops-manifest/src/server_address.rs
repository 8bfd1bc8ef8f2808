//! A server address as people type or paste it into `--server` / `TABLEAU_SERVER`: a base URL
//! (`https://10ax.online.tableau.com`), a host without a scheme (`10ax.online.tableau.com`, `localhost:8787`), or
//! an address copied from the browser (`https://10ax.online.tableau.com/#/site/acme/home`,
//! `https://10ax.online.tableau.com/t/acme/views/Sales/Overview`). Turned into the base URL the REST client
//! needs, the site named in it, and notes saying what was assumed or taken from it.

use url::Url;

/// What a `--server` value means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    /// The base URL requests go to (`scheme://host[:port]`, plus a path prefix if the value had one).
    pub url: String,
    /// The site content URL the address names (`/#/site/NAME/`, `/t/NAME/`), if any.
    pub site: Option<String>,
    /// What was assumed (a scheme) or dropped (a browser page), for the user.
    pub notes: Vec<String>,
    /// Whether the value was an address copied from the browser (a page, a site path, an API call) rather than a
    /// base URL: the command line takes the server out of it with a note; a manifest's `site.server` refuses it.
    pub pasted: bool,
}

impl ServerAddress {
    /// Reads `input`; `Err` when it is not a URL even with a scheme added.
    pub fn parse(input: &str) -> Result<ServerAddress, url::ParseError> {
        let raw = input.trim();
        let mut notes = Vec::new();
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            let host = raw.split(['/', '#', '?']).next().unwrap_or_default();
            // Loopback is where a local emulator listens over plain HTTP (allowed there); anything else gets TLS.
            let scheme = if is_loopback_host(host) { "http" } else { "https" };
            let assumed = format!("{scheme}://{raw}");
            notes.push(format!(
                "`{raw}` has no scheme: using {scheme}:// ({})",
                if scheme == "http" { "a loopback address" } else { "https is what Tableau Cloud serves" }
            ));
            assumed
        };
        let url = Url::parse(&with_scheme)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Ok(ServerAddress { url: raw.to_owned(), site: None, notes: Vec::new(), pasted: false });
        }
        let fragment_site = url.fragment().and_then(|f| segment_after(f, "site"));
        let path_site = segment_after(url.path(), "t").or_else(|| segment_after(url.path(), "site"));
        let site = fragment_site.or(path_site);
        let api_path = url.path().starts_with("/api/");
        let mut base = url.clone();
        base.set_fragment(None);
        base.set_query(None);
        if site.is_some() || api_path {
            base.set_path("/");
        }
        let mut base = base.to_string();
        if base.ends_with('/') {
            base.pop();
        }
        let pasted = url.fragment().is_some() || url.query().is_some() || site.is_some() || api_path;
        if pasted {
            notes.push(match &site {
                Some(site) => format!("took the server {base} and the site '{site}' from the address `{raw}`"),
                None => format!("took the server {base} from the address `{raw}`"),
            });
        }
        Ok(ServerAddress { url: base, site, notes, pasted })
    }
}

/// The path segment after `/KEY/` in `path` (`/site/acme/home` → `acme`), if it is a plausible content URL.
fn segment_after(path: &str, key: &str) -> Option<String> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    segments.find(|s| *s == key)?;
    let name = segments.next()?;
    crate::valid_content_url(name).then(|| name.to_owned())
}

fn is_loopback_host(host_and_port: &str) -> bool {
    let host = if let Some(rest) = host_and_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host_and_port.rsplit_once(':').map_or(host_and_port, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> ServerAddress {
        ServerAddress::parse(input).expect(input)
    }

    #[test]
    fn a_pasted_browser_address_gives_the_server_and_the_site() {
        let addr = parse("https://10ax.online.tableau.com/#/site/acme/home");
        assert_eq!(addr.url, "https://10ax.online.tableau.com");
        assert_eq!(addr.site.as_deref(), Some("acme"));
        assert_eq!(addr.notes.len(), 1);
        let view = parse("https://10ax.online.tableau.com/t/acme/views/Sales/Overview?:iid=1");
        assert_eq!((view.url.as_str(), view.site.as_deref()), ("https://10ax.online.tableau.com", Some("acme")));
    }

    #[test]
    fn a_host_without_a_scheme_gets_https_and_loopback_gets_http() {
        let cloud = parse("10ax.online.tableau.com");
        assert_eq!(cloud.url, "https://10ax.online.tableau.com");
        assert!(cloud.notes[0].contains("https://"), "{:?}", cloud.notes);
        assert_eq!(parse("localhost:8787").url, "http://localhost:8787");
        assert_eq!(parse("127.0.0.1:8787").url, "http://127.0.0.1:8787");
        assert_eq!(parse("[::1]:8787").url, "http://[::1]:8787");
    }

    #[test]
    fn a_plain_base_url_is_kept_without_notes() {
        let addr = parse("https://tableau.example.com");
        let expected =
            ServerAddress { url: "https://tableau.example.com".into(), site: None, notes: vec![], pasted: false };
        assert_eq!(addr, expected);
        assert_eq!(parse("https://example.com/tableau").url, "https://example.com/tableau", "a path prefix stays");
    }
}
