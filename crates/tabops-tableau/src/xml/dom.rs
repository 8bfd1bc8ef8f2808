//! A namespace-resolved element tree built with quick-xml's `NsReader`.
//!
//! Only elements in the Tableau namespaces (current or legacy) or in no namespace are kept; elements from any
//! other namespace are skipped with their subtree. Prefixed attributes (`xsi:schemaLocation`, `xmlns:ns0`) are
//! dropped, so models see exactly the unprefixed Tableau attributes.
//!
//! Every document comes from a server tabops does not control, so the tree a document can make tabops build is
//! bounded ([`Limits`]): nesting depth (a 1.4 MB document nested 200,000 deep overflowed the stack, in the parser's
//! recursive drop), attributes per element (quick-xml's duplicate-attribute check is quadratic: 200,000 attributes
//! in one element took 49 s of CPU, so the check is ours, linear), namespace declarations, and elements and
//! attributes per document (a 16 MiB body of `<a/>` would otherwise become a tree thirty times its size).

use std::collections::HashSet;

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

/// What one document may make the parser build. Exceeding any limit is an error naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest element nesting (the root is depth 1).
    pub max_depth: usize,
    /// Attributes on one element, namespace declarations included.
    pub max_attributes_per_element: usize,
    /// Namespace declarations (`xmlns`, `xmlns:p`) in the whole document.
    pub max_namespace_declarations: usize,
    /// Elements in the whole document (skipped foreign-namespace elements count too).
    pub max_elements: usize,
    /// Attributes in the whole document.
    pub max_attributes: usize,
}

impl Limits {
    /// REST responses. Tableau's documents nest at most 5 deep (`tsResponse/permissions/granteeCapabilities/
    /// capabilities/capability`) and carry about 20 attributes per element and 3 namespace declarations; a
    /// 1,000-item list page holds about 10,000 elements and 30,000 attributes. Each limit leaves 10 times that or
    /// more, and together they keep one parsed page under about 60 MB.
    pub const RESPONSE: Limits = Limits {
        max_depth: 64,
        max_attributes_per_element: 256,
        max_namespace_declarations: 64,
        max_elements: 250_000,
        max_attributes: 500_000,
    };
}

fn accepted(ns: &ResolveResult<'_>) -> bool {
    match ns {
        ResolveResult::Unbound => true,
        ResolveResult::Bound(Namespace(uri)) => *uri == TABLEAU_NS.as_bytes() || *uri == LEGACY_TABLEAU_NS.as_bytes(),
        ResolveResult::Unknown(_) => false,
    }
}

/// Running totals of one document, checked against its [`Limits`].
struct Budget {
    limits: Limits,
    elements: usize,
    attributes: usize,
    namespace_declarations: usize,
}

impl Budget {
    fn element(&mut self, reader: &NsReader<&[u8]>) -> Result<(), String> {
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(format!(
                "the document has more than {} elements (at byte {})",
                self.limits.max_elements,
                reader.buffer_position()
            ));
        }
        Ok(())
    }

    /// Counts and checks the attributes of `start` without quick-xml's quadratic duplicate check: the count is
    /// bounded first, then duplicates are found with a hash set.
    fn attributes(&mut self, start: &BytesStart<'_>, reader: &NsReader<&[u8]>) -> Result<(), String> {
        let mut count = 0usize;
        for attr in start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| e.to_string())?;
            count += 1;
            if count > self.limits.max_attributes_per_element {
                return Err(format!(
                    "element <{}> has more than {} attributes (at byte {})",
                    String::from_utf8_lossy(start.name().as_ref()),
                    self.limits.max_attributes_per_element,
                    reader.buffer_position()
                ));
            }
            let key = attr.key.as_ref();
            if key == b"xmlns" || attr.key.prefix().is_some_and(|p| p.as_ref() == b"xmlns") {
                self.namespace_declarations += 1;
                if self.namespace_declarations > self.limits.max_namespace_declarations {
                    return Err(format!(
                        "the document declares more than {} namespaces (at byte {})",
                        self.limits.max_namespace_declarations,
                        reader.buffer_position()
                    ));
                }
            }
        }
        self.attributes += count;
        if self.attributes > self.limits.max_attributes {
            return Err(format!(
                "the document has more than {} attributes (at byte {})",
                self.limits.max_attributes,
                reader.buffer_position()
            ));
        }
        if count > 1 {
            let mut seen = HashSet::with_capacity(count);
            for attr in start.attributes().with_checks(false).flatten() {
                if !seen.insert(attr.key.into_inner()) {
                    return Err(format!(
                        "element <{}> repeats the attribute `{}` (at byte {})",
                        String::from_utf8_lossy(start.name().as_ref()),
                        String::from_utf8_lossy(attr.key.into_inner()),
                        reader.buffer_position()
                    ));
                }
            }
        }
        Ok(())
    }
}

fn element_from(start: &BytesStart<'_>, reader: &NsReader<&[u8]>) -> Result<Element, String> {
    let (_, local) = reader.resolve_element(start.name());
    let name = String::from_utf8_lossy(local.as_ref()).into_owned();
    let mut attrs = Vec::new();
    // Counted and checked for duplicates by `Budget::attributes` first.
    for attr in start.attributes().with_checks(false) {
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

/// Parses a REST response into its root element, within [`Limits::RESPONSE`]. Errors carry quick-xml's message
/// or the limit exceeded (position included).
pub fn parse(xml: &str) -> Result<Element, String> {
    parse_with(xml, Limits::RESPONSE)
}

/// Parses a document into its root element within `limits`.
pub fn parse_with(xml: &str, limits: Limits) -> Result<Element, String> {
    let mut reader = NsReader::from_str(xml);
    let mut budget = Budget { limits, elements: 0, attributes: 0, namespace_declarations: 0 };
    let mut stack: Vec<Element> = Vec::new();
    // Depth inside a skipped (foreign-namespace) subtree; 0 = not skipping.
    let mut skip_depth = 0usize;
    let mut root: Option<Element> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let in_accepted_ns = accepted(&ns);
        match event {
            Event::Start(start) => {
                budget.element(&reader)?;
                budget.attributes(&start, &reader)?;
                if stack.len() + skip_depth >= limits.max_depth {
                    return Err(format!(
                        "elements are nested deeper than {} levels (at byte {})",
                        limits.max_depth,
                        reader.buffer_position()
                    ));
                }
                if skip_depth > 0 || !in_accepted_ns {
                    skip_depth += 1;
                    continue;
                }
                stack.push(element_from(&start, &reader)?);
            }
            Event::Empty(start) => {
                budget.element(&reader)?;
                budget.attributes(&start, &reader)?;
                if stack.len() + skip_depth >= limits.max_depth {
                    return Err(format!(
                        "elements are nested deeper than {} levels (at byte {})",
                        limits.max_depth,
                        reader.buffer_position()
                    ));
                }
                if skip_depth > 0 || !in_accepted_ns {
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

    #[test]
    fn nesting_200000_deep_is_refused_quickly_without_overflowing() {
        let depth = 200_000;
        let xml = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let started = std::time::Instant::now();
        let err = parse(&xml).unwrap_err();
        assert!(err.contains("nested deeper than 64 levels"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
        // Exactly at the limit is accepted.
        let xml = format!("{}{}", "<a>".repeat(64), "</a>".repeat(64));
        assert!(parse(&xml).is_ok());
        let xml = format!("{}{}", "<a>".repeat(65), "</a>".repeat(65));
        assert!(parse(&xml).is_err());
    }

    #[test]
    fn two_hundred_thousand_attributes_are_refused_in_linear_time() {
        let mut xml = String::from("<tsResponse xmlns=\"http://tableau.com/api\"><project");
        for i in 0..200_000 {
            xml.push_str(&format!(" a{i}=\"x\""));
        }
        xml.push_str("/></tsResponse>");
        let started = std::time::Instant::now();
        let err = parse(&xml).unwrap_err();
        assert!(err.contains("element <project> has more than 256 attributes"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "took {:?}", started.elapsed());
    }

    #[test]
    fn duplicate_attributes_are_still_an_error() {
        let err = parse(r#"<tsResponse><project id="1" name="a" id="2"/></tsResponse>"#).unwrap_err();
        assert!(err.contains("repeats the attribute `id`"), "{err}");
    }

    #[test]
    fn element_attribute_and_namespace_totals_are_bounded() {
        let xml = format!("<r>{}</r>", "<a/>".repeat(300_000));
        assert!(parse(&xml).unwrap_err().contains("more than 250000 elements"));
        let xml = format!("<r>{}</r>", "<a b='1' c='2' d='3'/>".repeat(200_000));
        assert!(parse(&xml).unwrap_err().contains("more than 500000 attributes"));
        let xml = format!("<r>{}</r>", (0..100).map(|i| format!("<a xmlns:p{i}='urn:x'/>")).collect::<String>());
        assert!(parse(&xml).unwrap_err().contains("declares more than 64 namespaces"));
    }
}
