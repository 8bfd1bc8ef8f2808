//! Trust on networks that inspect TLS: extra CA certificates to add to the system's roots (`--ca-cert`), and an
//! untrusted server certificate told apart from other transport failures, so it is reported at once (retrying
//! cannot change a certificate) with what to do.

use std::path::Path;

use crate::error::{Error, Result};

/// Reads the PEM file of extra CA certificates; a file without any certificate is an error, not an empty trust.
pub(crate) fn ca_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let fail = |message: String| Error::CaCert { path: path.to_path_buf(), message };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| fail(format!("not a PEM file: {e}")))?;
    if certs.is_empty() {
        return Err(fail("it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".to_owned()));
    }
    Ok(certs)
}

/// Why the server's certificate was refused, when that is what failed: rustls' verdict, found in the error's
/// chain (an I/O error wraps it, and `io::Error::source` skips the wrapped error itself, so both are looked at).
pub(crate) fn untrusted_certificate(err: &reqwest::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = cause {
        let inner = current.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map(|e| e as _);
        for candidate in [Some(current), inner].into_iter().flatten() {
            if let Some(rustls::Error::InvalidCertificate(problem)) = candidate.downcast_ref::<rustls::Error>() {
                return Some(describe(problem));
            }
        }
        cause = current.source();
    }
    None
}

fn describe(problem: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match problem {
        E::UnknownIssuer => "it is not issued by a certificate authority this machine trusts".to_owned(),
        E::Expired | E::ExpiredContext { .. } => "it has expired".to_owned(),
        E::NotValidYet | E::NotValidYetContext { .. } => "it is not valid yet (check this machine's clock)".to_owned(),
        E::NotValidForName | E::NotValidForNameContext { .. } => "it is issued for another host name".to_owned(),
        E::Revoked => "it has been revoked".to_owned(),
        other => format!("{other}"),
    }
}
