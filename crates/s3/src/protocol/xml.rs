//! S3's XML: answers read with quick-xml's event reader into a small tree, request
//! documents written by hand.
//!
//! S3's answers are small documents of a few fixed shapes, and each action needs a
//! handful of values from them: a tree of names and texts is enough, and one parser
//! serves every action. quick-xml's serde layer did the same work through a
//! `Deserialize` per document, and its generic deserializer, monomorphized for each,
//! was the largest dependency in the Worker's wasm (more than 100 KB of code).
//!
//! What the serde layer accepted is still accepted, and what it refused is refused:
//! the root's name is not checked (the client checks for `<Error>` itself), unknown
//! elements are ignored, entities and character references are resolved, CDATA is
//! text, `\r\n` becomes `\n`, values keep their spaces but numbers and booleans are
//! trimmed, and a value given twice is an error. One difference, on purpose: the
//! entries of a list may be interleaved with other elements.

use crate::error::Error;
use crate::error::Quoted;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::str::FromStr;

/// An element: its local name (any `prefix:` dropped, as S3 sends none), its own text
/// and its child elements.
#[derive(Debug, Default)]
pub(crate) struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

/// Reads an answer, naming the document when it is not what S3 should send.
pub(crate) fn parse(body: &[u8], document: &str) -> Result<Element, Error> {
    let text = std::str::from_utf8(body).map_err(|_| Error::invalid_response(format!("{document} is not UTF-8")))?;
    read_tree(text).map_err(|e| Error::invalid_response(format!("malformed {document}: {e}")))
}

fn read_tree(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    // The elements opened and not yet closed, the root first. quick-xml checks that
    // each end tag closes the element last opened.
    let mut open: Vec<Element> = Vec::new();
    loop {
        let closed = match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(start) => {
                open.push(Element::named(start.local_name().into_inner()));
                None
            }
            Event::Empty(start) => Some(Element::named(start.local_name().into_inner())),
            Event::End(_) => open.pop(),
            Event::Text(text) => {
                append(&mut open, &text.xml10_content())?;
                None
            }
            Event::CData(text) => {
                append(&mut open, &text.xml10_content())?;
                None
            }
            // `&amp;`, `&#38;`: quick-xml reports references apart from the text around them.
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or_else(|| format!("unknown entity &{};", &*reference))?
                        .to_owned(),
                };
                append(&mut open, &resolved)?;
                None
            }
            Event::Eof => {
                return Err(match open.last() {
                    Some(element) => format!("it ends inside <{}>", element.name),
                    None => "it has no root element".to_owned(),
                })
            }
            // The declaration, comments, processing instructions, a DOCTYPE.
            _ => None,
        };
        if let Some(element) = closed {
            match open.last_mut() {
                Some(parent) => parent.children.push(element),
                // Whatever follows the root is ignored, as the serde layer did.
                None => return Ok(element),
            }
        }
    }
}

/// Adds text to the element being read; outside the root only spaces may appear.
fn append(open: &mut [Element], text: &str) -> Result<(), String> {
    match open.last_mut() {
        Some(element) => element.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(format!("text {} outside the root element", Quoted(text.trim()))),
    }
    Ok(())
}

impl Element {
    fn named(name: &str) -> Element {
        Element {
            name: name.to_owned(),
            ..Element::default()
        }
    }

    /// The children named `name`, in order: the entries of a list (`Contents`, `Part`…).
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// The one child named `name`, if any; a value given twice is ambiguous.
    pub(crate) fn child(&self, name: &str) -> Result<Option<&Element>, Error> {
        let mut found = self.children.iter().filter(|child| child.name == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(self.invalid(name, "appears more than once"));
        }
        Ok(first)
    }

    /// The text of the child `name`: `None` when absent, `Some("")` when empty.
    pub(crate) fn text(&self, name: &str) -> Result<Option<String>, Error> {
        let Some(child) = self.child(name)? else {
            return Ok(None);
        };
        if let Some(inner) = child.children.first() {
            return Err(self.invalid(name, &format!("holds <{}> where text was expected", inner.name)));
        }
        Ok(Some(child.text.clone()))
    }

    /// The number in the child `name`; an empty or non-numeric value is an error.
    pub(crate) fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, Error> {
        match self.text(name)? {
            None => Ok(None),
            Some(text) => match text.trim().parse() {
                Ok(number) => Ok(Some(number)),
                Err(_) => Err(self.invalid(name, &format!("is {text}, not a number", text = Quoted(&text)))),
            },
        }
    }

    /// The boolean in the child `name` (`true`/`false`, or `1`/`0`); absent is false.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, Error> {
        match self.text(name)?.as_deref().map(str::trim) {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(other) => Err(self.invalid(name, &format!("is {other}, not true or false", other = Quoted(other)))),
        }
    }

    fn invalid(&self, name: &str, what: &str) -> Error {
        Error::invalid_response(format!("malformed XML: <{}><{name}> {what}", self.name))
    }
}

/// The name of a document's root element (after the XML declaration, comments and
/// any whitespace: AWS pads slow CompleteMultipartUpload answers with spaces).
pub fn root_element(body: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(body);
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).ok()? {
            Event::Start(e) | Event::Empty(e) => return Some(e.local_name().into_inner().to_owned()),
            Event::Eof => return None,
            _ => buffer.clear(),
        }
    }
}

/// Appends `<name>text</name>`. Escapes `&`, `<`, `>` and `\r`, as quick-xml's
/// serializer did, so request bodies (and DeleteObjects' Content-MD5) are unchanged.
pub(crate) fn push_element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&quick_xml::escape::partial_escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(xml: &str) -> Result<Element, Error> {
        parse(xml.as_bytes(), "Doc")
    }

    fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result.expect_err("an error") {
            Error::InvalidResponse(message) => message,
            other => panic!("not InvalidResponse: {other:?}"),
        }
    }

    #[test]
    fn reads_texts_lists_and_entities() {
        let root = tree(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Doc xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n\
             <Item><Key>a&amp;b &#38;&#x26; &quot;q&quot; &lt;&gt;</Key></Item>\n\
             <Other/><Item><Key><![CDATA[c<d]]> <!-- skipped -->ü</Key></Item>\
             <Item><Key> spaced\r\nout </Key><Size> 7 </Size><Empty/></Item></Doc>",
        )
        .unwrap();
        let keys: Vec<_> = root.all("Item").map(|i| i.text("Key").unwrap().unwrap()).collect();
        assert_eq!(keys, ["a&b && \"q\" <>", "c<d ü", " spaced\nout "]);
        let last = root.all("Item").last().unwrap();
        assert_eq!(last.number::<u64>("Size").unwrap(), Some(7));
        assert_eq!(last.text("Empty").unwrap().as_deref(), Some(""));
        assert_eq!(last.text("Missing").unwrap(), None);
        assert!(!root.flag("IsTruncated").unwrap());
        assert_eq!(root.all("Nothing").count(), 0);
    }

    #[test]
    fn a_character_reference_is_not_a_line_end_to_normalize() {
        let root = tree("<Doc><Key>a&#13;b</Key></Doc>").unwrap();
        assert_eq!(root.text("Key").unwrap().as_deref(), Some("a\rb"));
    }

    #[test]
    fn reads_booleans_as_the_serde_layer_did() {
        for (value, expected) in [("true", true), (" 1 ", true), ("false", false), ("0", false)] {
            let root = tree(&format!("<Doc><IsTruncated>{value}</IsTruncated></Doc>")).unwrap();
            assert_eq!(root.flag("IsTruncated").unwrap(), expected, "{value}");
        }
        for value in ["True", "yes", ""] {
            let root = tree(&format!("<Doc><IsTruncated>{value}</IsTruncated></Doc>")).unwrap();
            assert!(
                message(root.flag("IsTruncated")).contains("<Doc><IsTruncated>"),
                "{value}"
            );
        }
    }

    #[test]
    fn malformed_documents_are_errors_that_say_why() {
        for (xml, why) in [
            ("", "no root element"),
            ("   ", "no root element"),
            ("not xml", "outside the root element"),
            ("<Doc><Key>a</Doc>", "Key"),
            ("<Doc><Item><Key>a</Key></Item>", "Doc"),
            ("<Doc><Key>&nbsp;</Key></Doc>", "unknown entity &nbsp;"),
            ("<Doc><Key>&#0;</Key></Doc>", "malformed Doc"),
        ] {
            let error = message(tree(xml));
            assert!(
                error.starts_with("malformed Doc: ") && error.contains(why),
                "{xml}: {error}"
            );
        }
        assert_eq!(message(parse(b"<Doc>\xff</Doc>", "Doc")), "Doc is not UTF-8");
        let root = tree("<Doc><Size>-1</Size><Count/><Key>a</Key><Key>b</Key><Mixed><b/>x</Mixed></Doc>").unwrap();
        assert_eq!(
            message(root.number::<u64>("Size")),
            "malformed XML: <Doc><Size> is \"-1\", not a number"
        );
        assert!(root.number::<u64>("Count").is_err());
        assert!(message(root.text("Key")).contains("more than once"));
        assert!(message(root.text("Mixed")).contains("holds <b>"));
    }

    #[test]
    fn ignores_what_follows_the_root() {
        let root = tree("<Doc><Key>a</Key></Doc>trailing<Doc/>").unwrap();
        assert_eq!(root.text("Key").unwrap().as_deref(), Some("a"));
    }

    #[test]
    fn finds_the_root_element_past_padding() {
        let padded = format!(
            "{}<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>",
            " ".repeat(2000)
        );
        assert_eq!(root_element(padded.as_bytes()).as_deref(), Some("Error"));
        assert_eq!(
            root_element(b"<CompleteMultipartUploadResult/>").as_deref(),
            Some("CompleteMultipartUploadResult")
        );
        assert_eq!(root_element(b"not xml").as_deref(), None);
    }

    #[test]
    fn writes_escaped_elements() {
        let mut out = String::new();
        push_element(&mut out, "Key", "a&b<c>'\"\r");
        assert_eq!(out, "<Key>a&amp;b&lt;c&gt;'\"&#13;</Key>");
    }
}
