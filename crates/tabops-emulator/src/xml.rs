//! XML on the wire: a tiny element builder that renders `tsResponse` documents in the `http://tableau.com/api`
//! namespace, and a namespace-agnostic request parser (local names only) built on quick-xml's streaming reader.

use quick_xml::Reader;
use quick_xml::events::Event;

pub const NAMESPACE: &str = "http://tableau.com/api";
const SCHEMA_LOCATION: &str = "http://tableau.com/api https://help.tableau.com/samples/en-us/rest_api/ts-api_3_27.xsd";

/// An element to render.
#[derive(Debug, Clone, Default)]
pub struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Elem>,
    text: Option<String>,
}

impl Elem {
    pub fn new(name: &str) -> Elem {
        Elem { name: name.to_owned(), ..Elem::default() }
    }
    pub fn attr(mut self, key: &str, value: impl ToString) -> Elem {
        self.attrs.push((key.to_owned(), value.to_string()));
        self
    }
    pub fn opt_attr(self, key: &str, value: Option<impl ToString>) -> Elem {
        match value {
            Some(value) => self.attr(key, value),
            None => self,
        }
    }
    pub fn child(mut self, child: Elem) -> Elem {
        self.children.push(child);
        self
    }
    pub fn opt_child(self, child: Option<Elem>) -> Elem {
        match child {
            Some(child) => self.child(child),
            None => self,
        }
    }
    pub fn children(mut self, children: impl IntoIterator<Item = Elem>) -> Elem {
        self.children.extend(children);
        self
    }
    pub fn text(mut self, text: impl ToString) -> Elem {
        self.text = Some(text.to_string());
        self
    }

    fn render(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (key, value) in &self.attrs {
            out.push(' ');
            out.push_str(key);
            out.push_str("=\"");
            escape_into(value, out);
            out.push('"');
        }
        if self.children.is_empty() && self.text.is_none() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        if let Some(text) = &self.text {
            escape_into(text, out);
        }
        for child in &self.children {
            child.render(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }

    /// JSON rendering keyed by this element's name (`{"project": {...}}`).
    pub fn to_json_named(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert(self.name.clone(), self.to_json());
        serde_json::Value::Object(map)
    }

    /// JSON rendering for clients that ask for `Accept: application/json`, in Tableau's mapping: attributes as
    /// string members; an element with only text as that string; text next to attributes or children under
    /// `value` (`"productVersion": {"value": "2025.1", "build": "…"}`, as Tableau's tableau-mcp client reads it);
    /// the children of a list element (`projects`, `tags`, `capabilities`, …) as an array under the singular
    /// name even when there is one (`"tags": {"tag": [{"label": "x"}]}`), an empty list as `{}`.
    pub fn to_json(&self) -> serde_json::Value {
        if let Some(text) = &self.text
            && self.children.is_empty()
            && self.attrs.is_empty()
        {
            return serde_json::Value::String(text.clone());
        }
        let mut map = serde_json::Map::new();
        for (key, value) in &self.attrs {
            map.insert(key.clone(), serde_json::Value::String(value.clone()));
        }
        if let Some(text) = &self.text {
            map.insert("value".to_owned(), serde_json::Value::String(text.clone()));
        }
        for child in &self.children {
            let value = child.to_json();
            let repeated = is_list_item(&self.name, &child.name)
                || self.children.iter().filter(|c| c.name == child.name).count() > 1;
            if repeated {
                match map.entry(child.name.clone()).or_insert_with(|| serde_json::Value::Array(Vec::new())) {
                    serde_json::Value::Array(items) => items.push(value),
                    other => *other = value,
                }
            } else {
                map.insert(child.name.clone(), value);
            }
        }
        serde_json::Value::Object(map)
    }
}

/// Whether `child` of `parent` is one item of a list (rendered as an array in JSON even when alone): the
/// children of plural container elements, and the grantee entries of a permissions document. Elements whose
/// name ends in `s` without being lists (`credentials`, `granteeCapabilities`, `frequencyDetails`, …) are not.
fn is_list_item(parent: &str, child: &str) -> bool {
    (parent.ends_with('s')
        && !matches!(
            parent,
            "credentials" | "permissions" | "contentsCounts" | "granteeCapabilities" | "frequencyDetails"
        ))
        || child == "granteeCapabilities"
}

/// Converts a JSON request body in Tableau's mapping (the XML `tsRequest`'s children as top-level members,
/// attributes as scalar members, repeated elements as arrays under the singular name, element text under
/// `value`) into the same tree an XML body parses to, so every handler accepts both.
pub fn from_json(value: &serde_json::Value) -> Result<Node, String> {
    let serde_json::Value::Object(members) = value else {
        return Err("the JSON request body must be an object".to_owned());
    };
    let mut root = Node { name: "tsRequest".to_owned(), ..Node::default() };
    // A body wrapped in `tsRequest` (as some clients send) is accepted too.
    let members = match members.get("tsRequest") {
        Some(serde_json::Value::Object(inner)) if members.len() == 1 => inner,
        _ => members,
    };
    fill_from_json(&mut root, members);
    Ok(root)
}

fn fill_from_json(node: &mut Node, members: &serde_json::Map<String, serde_json::Value>) {
    for (key, value) in members {
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::Array(items) => {
                for item in items {
                    if let Some(child) = json_element(key, item) {
                        node.children.push(child);
                    }
                }
            }
            serde_json::Value::Object(_) => {
                if let Some(child) = json_element(key, value) {
                    node.children.push(child);
                }
            }
            scalar => {
                let text = json_scalar(scalar);
                if key == "value" {
                    node.text.push_str(&text);
                }
                node.attrs.push((key.clone(), text));
            }
        }
    }
}

fn json_element(name: &str, value: &serde_json::Value) -> Option<Node> {
    let mut node = Node { name: name.to_owned(), ..Node::default() };
    match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Object(members) => fill_from_json(&mut node, members),
        serde_json::Value::Array(_) => return None,
        scalar => node.text = json_scalar(scalar),
    }
    Some(node)
}

fn json_scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn escape_into(value: &str, out: &mut String) {
    for ch in value.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
}

/// Render a full response document: declaration, `tsResponse` root in the API namespace, then `children`.
pub fn document(children: &[Elem]) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("<?xml version='1.0' encoding='UTF-8'?>");
    out.push_str("<tsResponse xmlns=\"");
    out.push_str(NAMESPACE);
    out.push_str("\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"");
    out.push_str(SCHEMA_LOCATION);
    out.push_str("\">");
    for child in children {
        child.render(&mut out);
    }
    out.push_str("</tsResponse>");
    out
}

/// A parsed request element (local names; namespaces and prefixes are ignored).
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub text: String,
}

impl Node {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// First descendant (depth-first) with this name.
    pub fn find(&self, name: &str) -> Option<&Node> {
        for child in &self.children {
            if child.name == name {
                return Some(child);
            }
            if let Some(found) = child.find(name) {
                return Some(found);
            }
        }
        None
    }
}

/// Most attributes one request element may carry: Tableau's request elements have at most a dozen or so.
const MAX_ATTRIBUTES: usize = 256;

/// Parse a document into its root element. Errors are human-readable parse failures.
pub fn parse(bytes: &[u8]) -> Result<Node, String> {
    let mut reader = Reader::from_reader(bytes);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let event = reader.read_event().map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err("content after the root element".to_owned());
            }
            Event::Start(start) => stack.push(node_from(&reader, &start)?),
            Event::Empty(start) => {
                let node = node_from(&reader, &start)?;
                attach(&mut stack, &mut root, node);
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced end tag")?;
                attach(&mut stack, &mut root, node);
            }
            Event::Text(text) => {
                let decoded = text.decode().map_err(|e| e.to_string())?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&decoded);
                } else if !decoded.trim().is_empty() {
                    return Err("text outside the root element".to_owned());
                }
            }
            Event::CData(data) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::GeneralRef(reference) => {
                let name = reference.decode().map_err(|e| e.to_string())?;
                let resolved = resolve_entity(&name).ok_or_else(|| format!("unknown entity &{name};"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("unexpected end of document".to_owned());
    }
    root.ok_or_else(|| "empty document".to_owned())
}

fn attach(stack: &mut [Node], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

fn node_from(reader: &Reader<&[u8]>, start: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    // quick-xml's duplicate check compares each attribute with every earlier one: 200,000 attributes in an
    // unauthenticated sign-in body burned 23 s. The count is capped and duplicates found with a set instead.
    let mut seen = std::collections::HashSet::new();
    for attr in start.attributes().with_checks(false) {
        let attr = attr.map_err(|e| e.to_string())?;
        if seen.len() >= MAX_ATTRIBUTES {
            return Err(format!("more than {MAX_ATTRIBUTES} attributes on one <{name}>"));
        }
        if !seen.insert(attr.key.into_inner()) {
            return Err(format!("duplicate attribute `{}` on <{name}>", String::from_utf8_lossy(attr.key.as_ref())));
        }
        let key = attr.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let local = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
        let value = attr.decode_and_unescape_value(reader.decoder()).map_err(|e| e.to_string())?;
        attrs.push((local, value.into_owned()));
    }
    Ok(Node { name, attrs, children: Vec::new(), text: String::new() })
}

fn resolve_entity(name: &str) -> Option<String> {
    match name {
        "amp" => Some("&".into()),
        "lt" => Some("<".into()),
        "gt" => Some(">".into()),
        "quot" => Some("\"".into()),
        "apos" => Some("'".into()),
        _ => {
            let code = if let Some(hex) = name.strip_prefix("#x") {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                name.strip_prefix('#')?.parse().ok()?
            };
            char::from_u32(code).map(String::from)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefixed_and_escaped_requests() {
        let root = parse(br#"<?xml version="1.0"?><t:tsRequest xmlns:t="http://tableau.com/api"><t:tags><t:tag label="&quot;two words&quot;"/></t:tags><n>a &amp; b</n></t:tsRequest>"#).expect("valid xml");
        assert_eq!(root.name, "tsRequest");
        assert_eq!(root.find("tag").and_then(|t| t.attr("label")), Some("\"two words\""));
        assert_eq!(root.child("n").map(|n| n.text.as_str()), Some("a & b"));
    }

    #[test]
    fn rejects_malformed_documents() {
        assert!(parse(b"<tsRequest><project></tsRequest>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<a/><b/>").is_err());
    }

    #[test]
    fn json_puts_text_beside_attributes_under_value_and_lists_as_arrays() {
        let info = Elem::new("serverInfo")
            .child(Elem::new("productVersion").attr("build", "20251.25.0101").text("2025.1"))
            .child(Elem::new("restApiVersion").text("3.25"));
        assert_eq!(
            info.to_json_named(),
            serde_json::json!({"serverInfo": {"productVersion": {"build": "20251.25.0101", "value": "2025.1"}, "restApiVersion": "3.25"}})
        );
        let tags = Elem::new("tags").child(Elem::new("tag").attr("label", "x"));
        assert_eq!(tags.to_json_named(), serde_json::json!({"tags": {"tag": [{"label": "x"}]}}));
        assert_eq!(Elem::new("projects").to_json_named(), serde_json::json!({"projects": {}}));
        let grant = Elem::new("permissions").child(
            Elem::new("granteeCapabilities")
                .child(Elem::new("group").attr("id", "g"))
                .child(Elem::new("capabilities").child(Elem::new("capability").attr("name", "Read"))),
        );
        assert_eq!(
            grant.to_json_named(),
            serde_json::json!({"permissions": {"granteeCapabilities": [{"group": {"id": "g"}, "capabilities": {"capability": [{"name": "Read"}]}}]}})
        );
    }

    #[test]
    fn json_requests_parse_to_the_same_tree_as_xml() {
        let json: serde_json::Value = serde_json::from_str(
            r#"{"permissions": {"granteeCapabilities": [{"group": {"id": "g1"}, "capabilities": {"capability": [{"name": "Read", "mode": "Allow"}, {"name": "Write", "mode": "Deny"}]}}]}, "n": {"value": "a & b", "x": 1, "on": true}}"#,
        )
        .expect("json");
        let root = from_json(&json).expect("converts");
        assert_eq!(root.name, "tsRequest");
        let grantee = root.find("granteeCapabilities").expect("grantee");
        assert_eq!(grantee.child("group").and_then(|g| g.attr("id")), Some("g1"));
        let caps: Vec<_> = grantee.find("capabilities").expect("caps").children_named("capability").collect();
        assert_eq!(caps.len(), 2);
        assert_eq!(caps[1].attr("mode"), Some("Deny"));
        let n = root.child("n").expect("n");
        assert_eq!((n.text.as_str(), n.attr("x"), n.attr("on")), ("a & b", Some("1"), Some("true")));
        assert!(from_json(&serde_json::json!([1, 2])).is_err());
    }

    #[test]
    fn renders_escaped_attributes() {
        let doc = document(&[Elem::new("tag").attr("label", "a\"<b>&")]);
        assert!(doc.starts_with("<?xml version='1.0' encoding='UTF-8'?><tsResponse xmlns=\"http://tableau.com/api\""));
        assert!(doc.contains(r#"<tag label="a&quot;&lt;b&gt;&amp;"/>"#));
    }
}
