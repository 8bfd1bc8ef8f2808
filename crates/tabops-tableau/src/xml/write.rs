//! A minimal XML writer for `tsRequest` bodies.
//!
//! Tableau's publish parser rejects `&apos;`, so apostrophes are written as `&#39;` (reference §3.3); control
//! whitespace in attribute values is written as character references so it survives attribute normalisation.

/// Escapes a string for use in XML text or a double-quoted attribute value.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            other => out.push(other),
        }
    }
    out
}

/// Builds an XML document as a string, TSC style: no declaration, no namespace, `<empty />` elements.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    /// Starts a new, empty document.
    pub fn new() -> Self {
        Self::default()
    }

    fn open(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) {
        self.buf.push('<');
        self.buf.push_str(name);
        for (key, value) in attrs {
            if let Some(value) = value {
                self.buf.push(' ');
                self.buf.push_str(key);
                self.buf.push_str("=\"");
                self.buf.push_str(&escape(value));
                self.buf.push('"');
            }
        }
    }

    /// Writes `<name attrs…>`; attributes whose value is `None` are omitted.
    pub fn start(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) -> &mut Self {
        self.open(name, attrs);
        self.buf.push('>');
        self
    }

    /// Writes `<name attrs… />`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) -> &mut Self {
        self.open(name, attrs);
        self.buf.push_str(" />");
        self
    }

    /// Writes `</name>`.
    pub fn end(&mut self, name: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// Writes escaped text content.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.buf.push_str(&escape(text));
        self
    }

    /// Returns the document.
    pub fn finish(self) -> String {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_apostrophe_as_numeric_reference() {
        assert_eq!(escape(r#"O'Neil & "Co" <x>"#), "O&#39;Neil &amp; &quot;Co&quot; &lt;x&gt;");
    }

    #[test]
    fn writer_omits_unset_attributes() {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[]).empty("project", &[("name", Some("P'1")), ("description", None)]).end("tsRequest");
        assert_eq!(w.finish(), r#"<tsRequest><project name="P&#39;1" /></tsRequest>"#);
    }
}
