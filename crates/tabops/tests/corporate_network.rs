//! Corporate networks, through the real binary: tabops goes through the proxy `HTTPS_PROXY` names (except for the
//! hosts in `NO_PROXY`), trusts a TLS-inspecting proxy's CA given with `--ca-cert FILE` or `SSL_CERT_FILE`, and
//! an untrusted certificate fails at once (no retries) with a hint saying how to trust one.
//!
//! Everything is real and on loopback: the emulator behind a TLS server (tokio-rustls) whose certificate is
//! issued for `tabops.test` by a CA made in the test (rcgen), and a CONNECT proxy written here that resolves
//! `tabops.test` to loopback and records every tunnel asked of it. `tabops.test` resolves nowhere else (`.test` is
//! reserved, RFC 6761), so a plan that reaches the site by that name went through the proxy.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tabops_testkit as support;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

use support::{Harness, Run, regex_escape, transcript_step};

/// A CA and a server certificate it issued for `tabops.test` and `localhost`.
struct Pki {
    ca_pem: String,
    server: rustls::ServerConfig,
}

fn pki() -> Pki {
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "Example Corp TLS inspection CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["tabops.test".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    Pki { ca_pem: ca.pem(), server }
}

/// Serves TLS on a loopback port and relays the decrypted bytes to the emulator; returns the port.
async fn tls_front(server: rustls::ServerConfig, backend: SocketAddr) -> u16 {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A handshake the client refuses (an untrusted certificate) ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut plain) = TcpStream::connect(backend).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

/// A CONNECT proxy on loopback: resolves `tabops.test` to 127.0.0.1, tunnels, and records each `CONNECT` target
/// (and the request line of any plain-HTTP request forwarded to it, which it refuses).
async fn connect_proxy(seen: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 || head.len() > 8192 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.strip_prefix("CONNECT ").and_then(|r| r.split(' ').next()).map(str::to_owned);
                let Some(target) = target else {
                    // A plain-HTTP request forwarded to us: recorded, and refused (this proxy only tunnels).
                    seen.lock().unwrap().push(head.lines().next().unwrap_or_default().to_owned());
                    let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n").await;
                    return;
                };
                seen.lock().unwrap().push(target.clone());
                let Some((host, port)) = target.rsplit_once(':') else { return };
                let host = if host == "tabops.test" { "127.0.0.1" } else { host };
                let Ok(mut upstream) = TcpStream::connect((host, port.parse::<u16>().unwrap_or(0))).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
                    return;
                };
                if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    port
}

fn filters(root: &Path, front: u16, proxy: u16) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root.display().to_string()), "[TMP]");
    settings.add_filter(&format!(":{front}\\b"), ":[TLS-PORT]");
    settings.add_filter(&format!(":{proxy}\\b"), ":[PROXY-PORT]");
    settings
}

#[test]
fn proxies_and_custom_ca_certificates_are_honoured_and_an_untrusted_certificate_says_what_to_do() {
    let site = Harness::start();
    site.copy_example("quickstart", "tabops");
    let root = site.dir.path();
    let Pki { ca_pem, server } = pki();
    let ca_file = root.join("corp-ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let ca = ca_file.to_str().unwrap();
    let backend: SocketAddr = site.url().trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (front, proxy) = site.block_on(async { (tls_front(server, backend).await, connect_proxy(seen.clone()).await) });
    let proxy_url = format!("http://127.0.0.1:{proxy}");
    let tunnels = || std::mem::take(&mut *seen.lock().unwrap());
    let mut transcript = String::new();

    // `tabops plan` against `server`, with `env`; the transcript shows the plan's summary line only.
    let plan = |server: &str, extra: &[&str], env: &[(&str, &str)], transcript: &mut String| -> Run {
        let mut cmd = support::run::tabops_command(root);
        cmd.env("TABLEAU_PAT_NAME", tabops_emulator::DEFAULT_PAT_NAME)
            .env("TABLEAU_PAT_SECRET", &site.pat_secret)
            .envs(env.iter().copied());
        let mut args = vec!["plan", "-f", "tabops", "--server", server, "--site", "acme"];
        args.extend(extra);
        let started = std::time::Instant::now();
        let run = Run::of(cmd.args(&args));
        let elapsed = started.elapsed();
        let summary: String = run.stdout.lines().filter(|l| l.starts_with("Plan:")).map(|l| format!("{l}\n")).collect();
        let vars: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        transcript.push_str(&format!("# {vars}\n"));
        transcript
            .push_str(&transcript_step(&args, &Run { code: run.code, stdout: summary, stderr: run.stderr.clone() }));
        assert!(elapsed.as_secs() < 10, "took {elapsed:?}: retried instead of failing fast");
        run
    };
    let server = format!("https://tabops.test:{front}");

    // Through the proxy, trusting the inspection CA with --ca-cert.
    let run = plan(&server, &["--ca-cert", ca], &[("HTTPS_PROXY", &proxy_url)], &mut transcript);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let through = tunnels();
    assert!(!through.is_empty() && through.iter().all(|t| *t == format!("tabops.test:{front}")), "{through:?}");

    // The same with SSL_CERT_FILE (lower-case https_proxy is read too).
    let run = plan(&server, &[], &[("https_proxy", &proxy_url), ("SSL_CERT_FILE", ca)], &mut transcript);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!tunnels().is_empty(), "SSL_CERT_FILE run did not use the proxy");

    // NO_PROXY: the same TLS server by a name it may be reached by directly; the proxy sees nothing.
    let direct = format!("https://localhost:{front}");
    let run =
        plan(&direct, &["--ca-cert", ca], &[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", "localhost")], &mut transcript);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tunnels(), Vec::<String>::new(), "NO_PROXY was not honoured");

    // Without the CA: the certificate is refused once, not retried, and the hint says how to trust it.
    let run = plan(&server, &[], &[("HTTPS_PROXY", &proxy_url)], &mut transcript);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(tunnels().len(), 1, "an untrusted certificate must not be retried");
    assert!(run.stderr.contains("TLS certificate is not trusted"), "{}", run.stderr);
    assert!(run.stderr.contains("--ca-cert FILE") && run.stderr.contains("SSL_CERT_FILE"), "{}", run.stderr);

    // A CA file that cannot be used is named, before anything is sent.
    let empty = root.join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let run = plan(&server, &["--ca-cert", empty.to_str().unwrap()], &[("HTTPS_PROXY", &proxy_url)], &mut transcript);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("empty.pem"), "{}", run.stderr);
    assert_eq!(tunnels(), Vec::<String>::new(), "a request was sent with an unusable CA file");

    // The embedded site is in-process: a proxy for the network never sees it.
    let args = ["plan", "-f", "tabops", "--server", "local"];
    let run = Run::of(
        support::run::tabops_command(root).env("HTTPS_PROXY", &proxy_url).env("HTTP_PROXY", &proxy_url).args(args),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(tunnels(), Vec::<String>::new(), "the embedded site was reached through the proxy");

    filters(root, front, proxy).bind(|| insta::assert_snapshot!("corporate_network", transcript));
}
