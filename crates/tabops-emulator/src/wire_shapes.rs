//! The wire-shape guard's oracle: a table of the XML shapes of the Tableau REST API, derived by
//! `scripts/wire-shapes-from-xsd` from the official schema (`ts-api_3_29.xsd`, repository `tableau/rest-api-samples`,
//! path `java11/src/main/xsd/ts-api_3_29.xsd`) for every type reachable from the request and response elements
//! tabops, the emulator and the conformance clients use (`wire/roots`), plus sourced exceptions (`wire/exceptions`),
//! and a checker that holds recorded traffic ([`crate::wire_log`]) against it. Neither the client nor the emulator
//! wrote the table, so a shape both agree on but Tableau does not define shows up here. JSON bodies are checked
//! through Tableau's JSON mapping (no `tsRequest`/`tsResponse` wrapper; attributes as members, element text under
//! `value`, repeated elements as arrays under the singular name).
//!
//! Table format (`wire/ts-api-3.29.shapes`), one statement a line, `#` starts a comment:
//!
//! ```text
//! schema VERSION NAMESPACE SOURCE...        the schema the table was derived from
//! root NAME TYPE                            a document element
//! type NAME                                 starts the block of a complex type
//! extend NAME                               reopens a type defined above (the exceptions)
//!   attr NAME [required]                    an attribute of the type (`required`: the XSD's use="required")
//!   attr NAME [required] = V1 V2 ...        an attribute restricted to an enumeration
//!   child NAME TYPE                         a child element; TYPE `-` is a simple (text-only) element
//!   text                                    the type has simple content (text inside)
//!   attr NAME += V ... ! REASON             values Tableau really uses beyond the XSD's enumeration
//!   optional NAME ! REASON                  a required attribute Tableau really leaves out
//! ```
//!
//! Any `attr`/`child` line may end with `! REASON`: an exception, a shape Tableau and its clients really use that the
//! XSD does not define, with the source that shows it. The checker counts how often each exception was needed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use quick_xml::events::Event;

use crate::wire_log::WireRecord;

/// The namespace every Tableau REST API document lives in.
pub const TABLEAU_NS: &str = "http://tableau.com/api";

/// Errors loading the shape table or the recorded traffic.
#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    #[error("shape table line {line}: {message}")]
    Table { line: usize, message: String },
    #[error("failed to read the wire log {path}")]
    Read { path: String, source: std::io::Error },
    #[error("wire log {path} line {line} is not a record")]
    Record { path: String, line: usize, source: serde_json::Error },
}

#[derive(Debug, Default)]
struct Attr {
    /// Allowed values; empty means any.
    values: Vec<String>,
    /// Values outside the XSD's enumeration that Tableau really uses (`attr NAME += V ! reason`).
    extra_values: Vec<String>,
    /// Why the attribute (or its extra values) is an exception; `None` for plain XSD facts.
    exception: Option<String>,
    /// Whether the whole attribute is an exception (not just some values).
    whole: bool,
    /// The XSD marks it `use="required"`.
    required: bool,
    /// Why Tableau may leave out a required attribute (`optional NAME ! reason`).
    optional: Option<String>,
}

#[derive(Debug)]
struct Child {
    ty: String,
    exception: Option<String>,
}

#[derive(Debug, Default)]
struct Type {
    attrs: HashMap<String, Attr>,
    children: HashMap<String, Child>,
    text: bool,
}

/// The parsed shape table.
#[derive(Debug, Default)]
pub struct ShapeTable {
    /// Schema version the table was derived from, e.g. `3.29`.
    pub version: String,
    roots: HashMap<String, String>,
    types: HashMap<String, Type>,
}

/// The outcome of checking documents.
#[derive(Debug, Default)]
pub struct Report {
    pub requests_checked: usize,
    pub responses_checked: usize,
    /// Of the checked bodies, how many were JSON (checked through Tableau's JSON mapping).
    pub json_requests_checked: usize,
    pub json_responses_checked: usize,
    /// Checked requests by client (the `User-Agent` up to its first `/`).
    pub requests_by_client: BTreeMap<String, usize>,
    /// Bodies with nothing to check (empty bodies, multipart parts without XML).
    pub empty: usize,
    /// Bodies cut off before their XML ended (abandoned or larger than the capture limit).
    pub truncated: usize,
    /// Request bodies the emulator never read (it answered first: an injected fault, a failed sign-in).
    pub unread: usize,
    /// Requests the emulator refused (4xx): deliberate bad input of error-path and hostile tests, which Tableau
    /// refuses too. Tableau's answer to them (the error response) is checked.
    pub rejected: usize,
    /// Violations: message -> (count, first route it was seen on).
    pub violations: BTreeMap<String, (usize, String)>,
    /// Exceptions the traffic needed: `type/name` -> count.
    pub exceptions_used: BTreeMap<String, usize>,
    /// The violations that are about structure (an element, attribute or text the schema does not allow there),
    /// in the order found: what the emulator refuses a request for ([`request_structure_error`]).
    pub structural: Vec<String>,
}

impl Report {
    pub fn violation_count(&self) -> usize {
        self.violations.values().map(|(n, _)| n).sum()
    }

    fn violate(&mut self, message: String, route: &str) {
        self.violations.entry(message).or_insert_with(|| (0, route.to_owned())).0 += 1;
    }

    fn violate_structure(&mut self, message: String, route: &str) {
        self.structural.push(message.clone());
        self.violate(message, route);
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "wire shapes: requests checked {}, responses checked {}, violations {}",
            self.requests_checked,
            self.responses_checked,
            self.violation_count()
        )?;
        writeln!(
            f,
            "  of which JSON: {} requests, {} responses; requests by client: {:?}",
            self.json_requests_checked, self.json_responses_checked, self.requests_by_client
        )?;
        writeln!(
            f,
            "  not checked: {} empty, {} unread, {} truncated, {} requests refused (4xx)",
            self.empty, self.unread, self.truncated, self.rejected
        )?;
        for (name, count) in &self.exceptions_used {
            writeln!(f, "  exception used {count}x: {name}")?;
        }
        for (message, (count, route)) in &self.violations {
            writeln!(f, "  VIOLATION {count}x (first on {route}): {message}")?;
        }
        Ok(())
    }
}

impl ShapeTable {
    /// Parse a table in the format described in the module documentation.
    pub fn parse(text: &str) -> Result<ShapeTable, ShapeError> {
        let mut table = ShapeTable::default();
        let mut current: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let err = |message: &str| ShapeError::Table { line, message: message.to_owned() };
            let content = raw.split('#').next().unwrap_or_default();
            let (content, exception) = match content.split_once('!') {
                Some((shape, reason)) => (shape, Some(reason.trim().to_owned())),
                None => (content, None),
            };
            let words: Vec<&str> = content.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                ["schema", version, ns, ..] => {
                    if *ns != TABLEAU_NS {
                        return Err(err("the schema namespace must be http://tableau.com/api"));
                    }
                    table.version = (*version).to_owned();
                }
                ["root", name, ty] => {
                    table.roots.insert((*name).to_owned(), (*ty).to_owned());
                }
                ["type", name] => {
                    if table.types.insert((*name).to_owned(), Type::default()).is_some() {
                        return Err(err(&format!("type {name} is defined twice")));
                    }
                    current = Some((*name).to_owned());
                }
                ["extend", name] => {
                    if !table.types.contains_key(*name) {
                        return Err(err(&format!("extend {name}: no such type above")));
                    }
                    if exception.is_some() {
                        return Err(err("give the reason on each line of the extension, not on `extend`"));
                    }
                    current = Some((*name).to_owned());
                }
                [kind, rest @ ..] => {
                    let ty = current
                        .as_ref()
                        .and_then(|name| table.types.get_mut(name))
                        .ok_or_else(|| err("attr/child/text outside a type block"))?;
                    let (rest, required) = match rest {
                        [name, "required", more @ ..] if *kind == "attr" => {
                            // Rebuild `[name, more..]` without the `required` marker.
                            let mut words = vec![*name];
                            words.extend_from_slice(more);
                            (words, true)
                        }
                        _ => (rest.to_vec(), false),
                    };
                    match (*kind, rest.as_slice()) {
                        ("attr", [name]) => {
                            let whole = exception.is_some();
                            ty.attrs.insert((*name).to_owned(), Attr { exception, whole, required, ..Attr::default() });
                        }
                        ("attr", [name, "=", values @ ..]) if !values.is_empty() => {
                            let values = values.iter().map(|v| (*v).to_owned()).collect();
                            let whole = exception.is_some();
                            ty.attrs.insert(
                                (*name).to_owned(),
                                Attr { values, exception, whole, required, ..Attr::default() },
                            );
                        }
                        ("optional", [name]) => {
                            let attr = ty
                                .attrs
                                .get_mut(*name)
                                .filter(|a| a.required)
                                .ok_or_else(|| err(&format!("`optional` needs a required attr {name} above it")))?;
                            if exception.is_none() {
                                return Err(err(
                                    "leaving out a required attribute is an exception: end the line with `! reason`",
                                ));
                            }
                            attr.optional = exception;
                        }
                        ("attr", [name, "+=", values @ ..]) if !values.is_empty() => {
                            let attr = ty
                                .attrs
                                .get_mut(*name)
                                .filter(|a| !a.values.is_empty())
                                .ok_or_else(|| err(&format!("`+=` needs an enumerated attr {name} above it")))?;
                            if exception.is_none() {
                                return Err(err("extra values are an exception: end the line with `! reason`"));
                            }
                            attr.extra_values.extend(values.iter().map(|v| (*v).to_owned()));
                            attr.exception = exception;
                        }
                        ("child", [name, child_ty]) => {
                            ty.children.insert((*name).to_owned(), Child { ty: (*child_ty).to_owned(), exception });
                        }
                        ("text", []) => ty.text = true,
                        _ => return Err(err(&format!("cannot read `{}`", content.trim()))),
                    }
                }
            }
        }
        if table.version.is_empty() {
            return Err(ShapeError::Table { line: 0, message: "no `schema` line names the schema version".into() });
        }
        for (name, ty) in &table.types {
            for (child, spec) in &ty.children {
                if spec.ty != "-" && !table.types.contains_key(&spec.ty) {
                    return Err(ShapeError::Table {
                        line: 0,
                        message: format!("type {name}: child {child} has undefined type {}", spec.ty),
                    });
                }
            }
        }
        Ok(table)
    }

    /// Load the table file at `path`.
    pub fn load(path: &Path) -> Result<ShapeTable, ShapeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ShapeError::Read { path: path.display().to_string(), source })?;
        ShapeTable::parse(&text)
    }

    /// Check one XML document and add its findings to `report`; returns the number of violations it had. A
    /// response must declare the Tableau namespace on its document element; a request may also leave it out (TSC's
    /// request factory builds an unqualified `<tsRequest>`, and Tableau accepts it), but no other namespace.
    pub fn check_document(&self, xml: &str, route: &str, is_request: bool, report: &mut Report) -> usize {
        let before = report.violation_count();
        let mut reader = quick_xml::Reader::from_str(xml);
        // (type name, element path) of the open elements; type `-` is a simple element.
        let mut stack: Vec<(String, String)> = Vec::new();
        let mut seen_root = false;
        loop {
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(err) => {
                    report.violate(format!("not well-formed XML: {err}"), route);
                    break;
                }
            };
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    let qname = e.name();
                    let name = String::from_utf8_lossy(qname.local_name().as_ref()).into_owned();
                    let prefix = qname.prefix().map(|p| String::from_utf8_lossy(p.as_ref()).into_owned());
                    let (ty, path) = match stack.last() {
                        None => {
                            if seen_root {
                                report.violate("more than one document element".into(), route);
                                break;
                            }
                            seen_root = true;
                            let ns_attr = match &prefix {
                                Some(p) => format!("xmlns:{p}"),
                                None => "xmlns".to_owned(),
                            };
                            let ns = e
                                .attributes()
                                .flatten()
                                .find(|a| a.key.as_ref() == ns_attr.as_bytes())
                                .map(|a| String::from_utf8_lossy(&a.value).into_owned());
                            let unqualified_request = is_request && prefix.is_none() && ns.is_none();
                            if ns.as_deref() != Some(TABLEAU_NS) && !unqualified_request {
                                report.violate(
                                    format!("<{name}> is not in the namespace {TABLEAU_NS} (found {ns:?})"),
                                    route,
                                );
                            }
                            match self.roots.get(&name) {
                                Some(ty) => (ty.clone(), name.clone()),
                                None => {
                                    report.violate_structure(
                                        format!("<{name}> is not a document element of the API"),
                                        route,
                                    );
                                    break;
                                }
                            }
                        }
                        Some((parent_ty, parent_path)) => {
                            let path = format!("{parent_path}/{name}");
                            match self.types.get(parent_ty).and_then(|t| t.children.get(&name)) {
                                Some(child) => {
                                    if let Some(reason) = &child.exception {
                                        let key = format!("{parent_ty}/{name} ({reason})");
                                        *report.exceptions_used.entry(key).or_default() += 1;
                                    }
                                    (child.ty.clone(), path)
                                }
                                None => {
                                    report.violate_structure(
                                        format!("{path}: <{name}> is not a child of {parent_ty}"),
                                        route,
                                    );
                                    // Skip the unknown subtree: its contents cannot be typed.
                                    if !empty && reader.read_to_end(qname).is_err() {
                                        break;
                                    }
                                    continue;
                                }
                            }
                        }
                    };
                    self.check_attributes(e, &ty, &path, route, report);
                    if !empty {
                        stack.push((ty, path));
                    }
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Text(ref t) => {
                    if let Some((ty, path)) = stack.last() {
                        let is_blank = t.iter().all(u8::is_ascii_whitespace);
                        let allows_text = ty == "-" || self.types.get(ty).is_some_and(|t| t.text);
                        if !is_blank && !allows_text {
                            report.violate_structure(format!("{path}: {ty} has no text content"), route);
                        }
                    }
                }
                Event::CData(_) => {
                    if let Some((ty, path)) = stack.last()
                        && ty != "-"
                        && !self.types.get(ty).is_some_and(|t| t.text)
                    {
                        report.violate_structure(format!("{path}: {ty} has no text content"), route);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !seen_root {
            report.violate("no document element".into(), route);
        }
        report.violation_count() - before
    }

    fn check_attributes(
        &self,
        e: &quick_xml::events::BytesStart<'_>,
        ty: &str,
        path: &str,
        route: &str,
        report: &mut Report,
    ) {
        let mut present: Vec<String> = Vec::new();
        for attr in e.attributes() {
            let attr = match attr {
                Ok(attr) => attr,
                Err(err) => {
                    report.violate(format!("{path}: malformed attribute: {err}"), route);
                    continue;
                }
            };
            let key = attr.key;
            if key.as_ref() == b"xmlns"
                || key.prefix().is_some_and(|p| matches!(p.as_ref(), b"xmlns" | b"xsi" | b"xml"))
            {
                continue;
            }
            let name = String::from_utf8_lossy(key.local_name().as_ref()).into_owned();
            let value = attr.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
            self.check_attribute(ty, &name, &value, path, route, report);
            present.push(name);
        }
        self.check_required(ty, &present, path, route, report);
    }

    /// Check one attribute (or JSON scalar member) `name="value"` of an element of type `ty`.
    fn check_attribute(&self, ty: &str, name: &str, value: &str, path: &str, route: &str, report: &mut Report) {
        let Some(allowed) = self.types.get(ty).and_then(|t| t.attrs.get(name)) else {
            report.violate_structure(format!("{path}: attribute {name} is not defined for {ty}"), route);
            return;
        };
        let mut used_exception = allowed.whole;
        if !allowed.values.is_empty() {
            if allowed.extra_values.iter().any(|v| v == value) {
                used_exception = true;
            } else if !allowed.values.iter().any(|v| v == value) {
                report.violate(
                    format!("{path}: {name}=\"{value}\" is not one of {ty}'s values {:?}", allowed.values),
                    route,
                );
            }
        }
        if let Some(reason) = allowed.exception.as_ref().filter(|_| used_exception) {
            *report.exceptions_used.entry(format!("{ty}@{name} ({reason})")).or_default() += 1;
        }
    }

    /// Every attribute the XSD marks required must be among `present`, unless a sourced exception lets Tableau
    /// leave it out.
    fn check_required(&self, ty: &str, present: &[String], path: &str, route: &str, report: &mut Report) {
        let Some(spec) = self.types.get(ty) else { return };
        let mut missing: Vec<(&String, &Attr)> =
            spec.attrs.iter().filter(|(name, a)| a.required && !present.contains(name)).collect();
        missing.sort_by(|a, b| a.0.cmp(b.0));
        for (name, attr) in missing {
            match &attr.optional {
                Some(reason) => {
                    *report.exceptions_used.entry(format!("{ty}@{name} left out ({reason})")).or_default() += 1;
                }
                None => report.violate(format!("{path}: required attribute {name} of {ty} is missing"), route),
            }
        }
    }

    /// Check one recorded body: every response, and every request the emulator did not refuse (a request answered
    /// 4xx is deliberate bad input of an error-path or hostile test; it is counted, and the error answer checked).
    pub fn check_record(&self, record: &WireRecord, report: &mut Report) {
        let is_request = record.kind == "request";
        if is_request && record.status.is_some_and(|s| (400..500).contains(&s)) {
            report.rejected += 1;
            return;
        }
        if !record.complete && record.body.is_empty() {
            report.unread += 1;
            return;
        }
        let route = format!("{} {} {}", record.kind, record.method, record.route);
        let body = if record.content_type.to_ascii_lowercase().starts_with("multipart/") {
            match multipart_payload(&record.body, &record.content_type) {
                Payload::Xml(body) => body,
                Payload::Missing => {
                    report.empty += 1;
                    return;
                }
                Payload::Truncated => {
                    report.truncated += 1;
                    return;
                }
            }
        } else if !record.complete {
            report.truncated += 1;
            return;
        } else {
            record.body.as_str()
        };
        if body.trim().is_empty() {
            report.empty += 1;
            return;
        }
        let json = body.trim_start().starts_with('{') || body.trim_start().starts_with('[');
        if json {
            self.check_json_document(body, &route, is_request, report);
        } else {
            self.check_document(body, &route, is_request, report);
        }
        match (is_request, json) {
            (true, _) => {
                report.requests_checked += 1;
                report.json_requests_checked += usize::from(json);
                let client = record.user_agent.split('/').next().unwrap_or_default().trim();
                let client = if client.is_empty() { "(none)" } else { client };
                *report.requests_by_client.entry(client.to_owned()).or_default() += 1;
            }
            (false, _) => {
                report.responses_checked += 1;
                report.json_responses_checked += usize::from(json);
            }
        }
    }

    /// Check one JSON document through Tableau's JSON mapping of the XML shapes: the document object is the content
    /// of `tsRequest`/`tsResponse` (JSON has no wrapper); an object member is a child element, an array member is
    /// that child repeated, a scalar member is an attribute, `value` is the text of an element with simple
    /// content, and a scalar under the name of a simple child element is that element's text.
    pub fn check_json_document(&self, json: &str, route: &str, is_request: bool, report: &mut Report) -> usize {
        let before = report.violation_count();
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(serde_json::Value::Object(members)) => {
                let root = if is_request { "tsRequest" } else { "tsResponse" };
                match self.roots.get(root) {
                    Some(ty) => self.check_json_object(&members, ty, root, route, report),
                    None => report.violate(format!("the table has no document element {root}"), route),
                }
            }
            Ok(_) => report.violate("a JSON body must be an object".into(), route),
            Err(err) => report.violate(format!("not well-formed JSON: {err}"), route),
        }
        report.violation_count() - before
    }

    fn check_json_object(
        &self,
        members: &serde_json::Map<String, serde_json::Value>,
        ty: &str,
        path: &str,
        route: &str,
        report: &mut Report,
    ) {
        let spec = self.types.get(ty);
        let mut present = Vec::new();
        for (name, value) in members {
            let child = spec.and_then(|t| t.children.get(name));
            let items: Vec<&serde_json::Value> = match value {
                serde_json::Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            let structured = items.iter().any(|v| v.is_object() || v.is_array());
            match child {
                Some(child) if child.ty != "-" || !structured => {
                    if let Some(reason) = &child.exception {
                        *report.exceptions_used.entry(format!("{ty}/{name} ({reason})")).or_default() += 1;
                    }
                    let child_path = format!("{path}/{name}");
                    for item in items {
                        match item {
                            serde_json::Value::Object(inner) if child.ty != "-" => {
                                self.check_json_object(inner, &child.ty, &child_path, route, report);
                            }
                            serde_json::Value::Object(_) | serde_json::Value::Array(_) => report.violate(
                                format!("{child_path}: a simple element cannot hold an object or array"),
                                route,
                            ),
                            _ if child.ty == "-" => {}
                            _ if self.types.get(&child.ty).is_some_and(|t| t.text) => {}
                            _ => report.violate(format!("{child_path}: {} has no text content", child.ty), route),
                        }
                    }
                }
                Some(_) => {
                    report.violate(format!("{path}/{name}: a simple element cannot hold an object or array"), route);
                }
                None if structured => {
                    report.violate_structure(format!("{path}/{name}: <{name}> is not a child of {ty}"), route);
                }
                None => {
                    if name == "value" && spec.is_some_and(|t| t.text) {
                        continue;
                    }
                    let text = match value {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    self.check_attribute(ty, name, &text, path, route, report);
                    present.push(name.clone());
                }
            }
        }
        self.check_required(ty, &present, path, route, report);
    }

    /// Check every record in every `*.jsonl` file of `dir`.
    pub fn check_dir(&self, dir: &Path) -> Result<Report, ShapeError> {
        let read_err = |source| ShapeError::Read { path: dir.display().to_string(), source };
        let mut report = Report::default();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(read_err)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|source| ShapeError::Read { path: path.display().to_string(), source })?;
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let record: WireRecord = serde_json::from_str(line).map_err(|source| ShapeError::Record {
                    path: path.display().to_string(),
                    line: index + 1,
                    source,
                })?;
                self.check_record(&record, &mut report);
            }
        }
        Ok(report)
    }
}

enum Payload<'a> {
    Xml(&'a str),
    Missing,
    Truncated,
}

/// The `request_payload` part of a (possibly cut-off) multipart body.
fn multipart_payload<'a>(body: &'a str, content_type: &str) -> Payload<'a> {
    let Some(boundary) = content_type.split(';').map(str::trim).find_map(|p| p.strip_prefix("boundary=")) else {
        return Payload::Missing;
    };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let mut parts = body.split(delimiter.as_str()).skip(1).peekable();
    while let Some(part) = parts.next() {
        let Some((headers, content)) = part.split_once("\r\n\r\n") else {
            return if parts.peek().is_none() { Payload::Truncated } else { Payload::Missing };
        };
        if !headers.to_ascii_lowercase().contains("name=\"request_payload\"") {
            continue;
        }
        if parts.peek().is_none() {
            // No delimiter after the part: the capture ended inside it.
            return Payload::Truncated;
        }
        return Payload::Xml(content.strip_suffix("\r\n").unwrap_or(content));
    }
    Payload::Missing
}

/// The table the emulator holds request bodies to: the committed `wire/ts-api-3.29.shapes`, built in.
pub fn builtin() -> &'static ShapeTable {
    static TABLE: std::sync::LazyLock<ShapeTable> = std::sync::LazyLock::new(|| {
        ShapeTable::parse(include_str!("../wire/ts-api-3.29.shapes")).unwrap_or_else(|err| {
            // A test (`wire_shapes::shape_table_*`) loads the same file; an unreadable table is a build defect.
            tracing::error!(error = %err, "the built-in wire-shape table does not parse; request shapes are not checked");
            ShapeTable::default()
        })
    });
    &TABLE
}

/// Why Tableau would refuse this request body for its structure, if it would: an element, attribute or text the
/// schema does not allow where it stands (Tableau validates request bodies against its schema and answers 400000
/// "Payload is either malformed XML or incomplete"; tableau/rest-api-samples issue 6, an unknown child element of
/// `<datasource>`). Enumeration values and required attributes are left to the handlers, which answer them with
/// Tableau's specific codes (e.g. 400013 for a site role).
pub fn request_structure_error(body: &str, json: bool) -> Option<String> {
    let table = builtin();
    if table.roots.is_empty() {
        return None;
    }
    let mut report = Report::default();
    if json {
        table.check_json_document(body, "request", true, &mut report);
    } else {
        table.check_document(body, "request", true, &mut report);
    }
    report.structural.into_iter().next()
}
