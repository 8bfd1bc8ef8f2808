//! XML reading and writing for the Tableau wire format.
//!
//! Responses are parsed into a small namespace-resolved element tree ([`Element`]) so model parsers can navigate
//! by local name regardless of the prefix the server used (`<tsResponse xmlns=…>` or `<ns0:tsResponse
//! xmlns:ns0=…>`). Requests are built with [`XmlWriter`], which escapes text and attribute values.

mod dom;
mod write;

pub use dom::{Element, Limits, parse, parse_with};
pub use write::{XmlWriter, escape};

/// The current Tableau REST API namespace.
pub const TABLEAU_NS: &str = "http://tableau.com/api";
/// The legacy namespace, still accepted by TSC.
pub const LEGACY_TABLEAU_NS: &str = "http://tableausoftware.com/api";
