//! A namespace-resolved element tree built with quick-xml's `NsReader`.
//!
//! Only elements in the Tableau namespaces (current or legacy) or in no namespace are kept; elements from any
//! other namespace are skipped with their subtree. Prefixed attributes (`xsi:schemaLocation`, `xmlns:ns0`) are
//! dropped, so models see exactly the unprefixed Tableau attributes.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

use super::{LEGACY_TABLEAU_NS, TABLEAU_NS};

/// One element: local name, unprefixed attributes, child elements and concatenated text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name without prefix.
    pub name: String,
    /// Unprefixed attributes in document order.
    pub attrs: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// Text content directly inside this element (trimmed).
    pub text: String,
}

impl Element {
    /// The value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of attribute `name` as an owned string.
    pub fn attr_string(&self, name: &str) -> Option<String> {
        self.attr(name).map(str::to_owned)
    }

    /// Attribute `name` parsed as a boolean (`true`, case-insensitive).
    pub fn attr_bool(&self, name: &str) -> Option<bool> {
        self.attr(name).map(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Attribute `name` parsed as a number; unparsable values are treated as absent.
    pub fn attr_num<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.attr(name).and_then(|v| v.trim().parse().ok())
    }

    /// The first direct child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All direct children called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first descendant (depth-first, excluding self) called `name`.
    pub fn find(&self, name: &str) -> Option<&Element> {
        for c in &self.children {
            if c.name == name {
                return Some(c);
            }
            if let Some(found) = c.find(name) {
                return Some(found);
            }
        }
        None
    }

    /// The `label`s of `<tags><tag label/></tags>` under this element.
    pub fn tag_labels(&self) -> Vec<String> {
        self.child("tags")
            .map(|tags| tags.children_named("tag").filter_map(|t| t.attr_string("label")).collect())
            .unwrap_or_default()
    }

    /// `id` of the direct child `name` (e.g. `<project id=…/>`).
    pub fn child_id(&self, name: &str) -> Option<String> {
        self.child(name).and_then(|c| c.attr_string("id"))
    }
}

fn accepted(ns: &ResolveResult<'_>) -> bool {
    match ns {
        ResolveResult::Unbound => true,
        ResolveResult::Bound(Namespace(uri)) => *uri == TABLEAU_NS.as_bytes() || *uri == LEGACY_TABLEAU_NS.as_bytes(),
        ResolveResult::Unknown(_) => false,
    }
}

fn element_from(start: &BytesStart<'_>, reader: &NsReader<&[u8]>) -> Result<Element, String> {
    let (_, local) = reader.resolve_element(start.name());
    let name = String::from_utf8_lossy(local.as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        if attr.key.prefix().is_some() || attr.key.as_ref() == b"xmlns" {
            continue;
        }
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
        let value = attr.decode_and_unescape_value(reader.decoder()).map_err(|e| e.to_string())?.into_owned();
        attrs.push((key, value));
    }
    Ok(Element { name, attrs, children: Vec::new(), text: String::new() })
}

/// Parses a document into its root element. Errors carry quick-xml's message (position included).
pub fn parse(xml: &str) -> Result<Element, String> {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    // Depth inside a skipped (foreign-namespace) subtree; 0 = not skipping.
    let mut skip_depth = 0usize;
    let mut root: Option<Element> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(start) => {
                if skip_depth > 0 || !accepted(&ns) {
                    skip_depth += 1;
                    continue;
                }
                stack.push(element_from(&start, &reader)?);
            }
            Event::Empty(start) => {
                if skip_depth > 0 || !accepted(&ns) {
                    continue;
                }
                let element = element_from(&start, &reader)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                let Some(mut done) = stack.pop() else {
                    return Err("unbalanced end tag".to_owned());
                };
                done.text = done.text.trim().to_owned();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                if skip_depth == 0
                    && let Some(current) = stack.last_mut()
                {
                    let decoded = text.decode().map_err(|e| e.to_string())?;
                    current.text.push_str(&decoded);
                }
            }
            Event::CData(data) => {
                if skip_depth == 0
                    && let Some(current) = stack.last_mut()
                {
                    current.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::GeneralRef(reference) => {
                if skip_depth == 0
                    && let Some(current) = stack.last_mut()
                {
                    if let Some(c) = reference.resolve_char_ref().map_err(|e| e.to_string())? {
                        current.text.push(c);
                    } else {
                        let name = reference.decode().map_err(|e| e.to_string())?;
                        let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?;
                        current.text.push_str(resolved);
                    }
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("document ended inside an element".to_owned());
    }
    root.ok_or_else(|| "document has no root element".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_and_default_namespaces_parse_alike() {
        let a = parse(r#"<tsResponse xmlns="http://tableau.com/api"><project id="1" name="A &amp; B"/></tsResponse>"#)
            .expect("default ns");
        let b = parse(
            r#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api" xmlns:xsi="x" xsi:schemaLocation="y"><ns0:project id="1" name="A &amp; B"/></ns0:tsResponse>"#,
        )
        .expect("prefixed ns");
        assert_eq!(a, b);
        assert_eq!(a.find("project").and_then(|p| p.attr("name")), Some("A & B"));
    }

    #[test]
    fn foreign_namespace_elements_are_skipped() {
        let root = parse(
            r#"<tsResponse xmlns="http://tableausoftware.com/api" xmlns:o="urn:other"><o:project id="x"><project id="inner"/></o:project><project id="y"/></tsResponse>"#,
        )
        .expect("parse");
        assert_eq!(root.children.len(), 1);
        assert_eq!(root.children[0].attr("id"), Some("y"));
    }

    #[test]
    fn text_with_entities_is_resolved() {
        let root = parse(r#"<e xmlns="http://tableau.com/api"><detail>It&#39;s &lt;bad&gt; &amp; late</detail></e>"#)
            .expect("parse");
        assert_eq!(root.child("detail").map(|d| d.text.as_str()), Some("It's <bad> & late"));
    }

    #[test]
    fn malformed_xml_is_an_error() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("").is_err());
    }
}
