//! Android binary XML (AXML), the compiled form of `AndroidManifest.xml`.
//!
//! Owns the `RES_XML_TYPE` document: its string pool, its resource map (string index → attribute
//! resource id, which is how `android:` attributes are identified — by id, never by their
//! possibly obfuscated name), and the element tree with typed attribute values. The tree is kept
//! flat (elements in document order, each with its parent's index) so arbitrarily deep input
//! cannot recurse or overflow the stack.
//!
//! Strict: every chunk, index and offset is checked; unclosed or mismatched elements, dangling
//! string references and plain-text XML are errors. Unknown chunk types are skipped, as Android
//! does. What the elements *mean* is the business of `manifest`.

use crate::chunk::{Bytes, Chunk, NO_STRING, STRING_POOL_TYPE, StringPool, Value, data_type};
use crate::error::DecodeError;

const XML_TYPE: u16 = 0x0003;
const XML_RESOURCE_MAP_TYPE: u16 = 0x0180;
const XML_START_NAMESPACE_TYPE: u16 = 0x0100;
const XML_END_NAMESPACE_TYPE: u16 = 0x0101;
const XML_START_ELEMENT_TYPE: u16 = 0x0102;
const XML_END_ELEMENT_TYPE: u16 = 0x0103;
const XML_CDATA_TYPE: u16 = 0x0104;
/// `ResXMLTree_node`: chunk header, line number, comment reference.
const NODE_HEADER_MIN: usize = 16;
/// `ResXMLTree_attrExt` up to and including `styleIndex`.
const ATTR_EXT_LEN: usize = 20;
/// `ResXMLTree_attribute`: ns, name, rawValue, typedValue.
const ATTRIBUTE_LEN: usize = 20;

/// One attribute of an element. String fields are string-pool indices (already range-checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attribute {
    pub ns: Option<u32>,
    pub name: u32,
    pub raw: Option<u32>,
    pub value: Value,
}

/// One element; `parent` is the index of the enclosing element in [`Document::elements`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: u32,
    pub parent: Option<usize>,
    pub line: u32,
    attrs: std::ops::Range<usize>,
    first_child: Option<usize>,
    next_sibling: Option<usize>,
}

/// A decoded binary XML document.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    strings: StringPool<'a>,
    resource_ids: Vec<u32>,
    elements: Vec<Element>,
    attributes: Vec<Attribute>,
}

impl<'a> Document<'a> {
    /// Decodes a whole document. The root element is `elements()[0]`.
    pub(crate) fn parse(data: &'a [u8]) -> Result<Document<'a>, DecodeError> {
        let all = Bytes::new(data);
        let first = data.iter().copied().find(|b| !b.is_ascii_whitespace());
        if first == Some(b'<') || data.starts_with(&[0xef, 0xbb, 0xbf]) {
            return Err(all.err(
                0,
                "this is plain-text XML, not Android binary XML (the APK was not built with aapt)",
            ));
        }
        let root = Chunk::at(all, 0)?;
        if root.typ != XML_TYPE {
            return Err(all.err(
                0,
                format!(
                    "the file starts with chunk type {:#06x}, not binary XML ({XML_TYPE:#06x})",
                    root.typ
                ),
            ));
        }

        let mut strings: Option<StringPool<'a>> = None;
        let mut resource_ids = Vec::new();
        let mut elements: Vec<Element> = Vec::new();
        let mut attributes = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        // Parse-time only: the most recent child of each element, to link siblings in O(1).
        let mut last_child: Vec<Option<usize>> = Vec::new();
        let mut closed_root = false;

        for chunk in root.children() {
            let chunk = chunk?;
            let b = chunk.bytes;
            match chunk.typ {
                // Android uses the first pool and ignores any other.
                STRING_POOL_TYPE if strings.is_none() => {
                    strings = Some(StringPool::parse(chunk)?);
                }
                XML_RESOURCE_MAP_TYPE => {
                    let body = b.slice(chunk.header_size..b.len(), "resource map")?;
                    resource_ids = body
                        .data
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                }
                XML_START_NAMESPACE_TYPE | XML_END_NAMESPACE_TYPE => {
                    let pool = need_pool(&strings, &b)?;
                    node_header(&chunk)?;
                    let prefix = b.u32(chunk.header_size, "namespace prefix")?;
                    let uri = b.u32(chunk.header_size + 4, "namespace uri")?;
                    if prefix != NO_STRING {
                        pool.check_index(prefix, "a namespace prefix")
                            .map_err(|e| at(&b, e))?;
                    }
                    pool.check_index(uri, "a namespace URI")
                        .map_err(|e| at(&b, e))?;
                }
                XML_START_ELEMENT_TYPE => {
                    let pool = need_pool(&strings, &b)?;
                    if closed_root {
                        return Err(b.err(0, "a second root element follows the first"));
                    }
                    let line = node_header(&chunk)?;
                    let ext = b.slice(
                        chunk.header_size..chunk.header_size + ATTR_EXT_LEN,
                        "element header",
                    )?;
                    opt_string(
                        &pool,
                        &b,
                        ext.u32(0, "element namespace")?,
                        "an element namespace",
                    )?;
                    let name = ext.u32(4, "element name")?;
                    pool.check_index(name, "an element name")
                        .map_err(|e| at(&b, e))?;
                    let attr_start = usize::from(ext.u16(8, "attribute start")?);
                    let attr_size = usize::from(ext.u16(10, "attribute size")?);
                    let attr_count = usize::from(ext.u16(12, "attribute count")?);
                    if attr_start < ATTR_EXT_LEN || attr_size < ATTRIBUTE_LEN {
                        return Err(b.err(
                            chunk.header_size,
                            format!(
                                "element attributes start at {attr_start} with stride \
                                 {attr_size}; both must be at least 20"
                            ),
                        ));
                    }
                    let first_attr = chunk.header_size + attr_start;
                    // attr_count * attr_size can reach 2^32: keep the arithmetic in u64.
                    let attrs_len = attr_count as u64 * attr_size as u64;
                    let attrs_end =
                        usize::try_from(first_attr as u64 + attrs_len).unwrap_or(usize::MAX);
                    b.slice(first_attr..attrs_end, &format!("{attr_count} attributes"))?;
                    let attrs_from = attributes.len();
                    for i in 0..attr_count {
                        let a = b.slice(
                            first_attr + i * attr_size..first_attr + i * attr_size + ATTRIBUTE_LEN,
                            "attribute",
                        )?;
                        let ans = opt_string(
                            &pool,
                            &a,
                            a.u32(0, "attribute namespace")?,
                            "an attribute namespace",
                        )?;
                        let aname = a.u32(4, "attribute name")?;
                        pool.check_index(aname, "an attribute name")
                            .map_err(|e| at(&a, e))?;
                        let raw = opt_string(
                            &pool,
                            &a,
                            a.u32(8, "attribute raw value")?,
                            "an attribute's raw value",
                        )?;
                        let value = Value::at(&a, 12)?;
                        if value.data_type == data_type::STRING {
                            pool.check_index(value.data, "an attribute's string value")
                                .map_err(|e| at(&a, e))?;
                        }
                        attributes.push(Attribute {
                            ns: ans,
                            name: aname,
                            raw,
                            value,
                        });
                    }
                    let index = elements.len();
                    let parent = open.last().copied();
                    elements.push(Element {
                        name,
                        parent,
                        line,
                        attrs: attrs_from..attributes.len(),
                        first_child: None,
                        next_sibling: None,
                    });
                    last_child.push(None);
                    if let Some(p) = parent {
                        match last_child[p] {
                            Some(prev) => elements[prev].next_sibling = Some(index),
                            None => elements[p].first_child = Some(index),
                        }
                        last_child[p] = Some(index);
                    }
                    open.push(index);
                }
                XML_END_ELEMENT_TYPE => {
                    node_header(&chunk)?;
                    let name = b.u32(chunk.header_size + 4, "end element name")?;
                    let Some(start) = open.pop() else {
                        return Err(b.err(0, "an end tag has no matching start tag"));
                    };
                    if elements[start].name != name {
                        return Err(b.err(
                            0,
                            format!(
                                "the end tag does not match the element opened on line {}",
                                elements[start].line
                            ),
                        ));
                    }
                    closed_root = open.is_empty();
                }
                XML_CDATA_TYPE => {
                    node_header(&chunk)?;
                }
                _ => {}
            }
        }
        if let Some(&unclosed) = open.last() {
            return Err(all.err(
                data.len().min(root.bytes.len()),
                format!(
                    "the element opened on line {} is never closed (truncated document?)",
                    elements[unclosed].line
                ),
            ));
        }
        let Some(strings) = strings else {
            return Err(all.err(0, "the document has no string pool"));
        };
        if elements.is_empty() {
            return Err(all.err(0, "the document has no elements"));
        }
        Ok(Document {
            strings,
            resource_ids,
            elements,
            attributes,
        })
    }

    pub(crate) fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// Indices of the direct children of element `parent`, in document order.
    /// Linear in the number of children (elements are linked to their siblings), so walking a
    /// huge hostile document stays linear overall.
    pub(crate) fn children(&self, parent: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.elements[parent].first_child, |&i| {
            self.elements[i].next_sibling
        })
    }

    /// Children of `parent` whose element name is `name`.
    pub(crate) fn children_named<'s>(
        &'s self,
        parent: usize,
        name: &'s str,
    ) -> impl Iterator<Item = usize> + 's {
        self.children(parent)
            .filter(move |&i| self.name_is(i, name))
    }

    /// Compares without decoding, so a hostile document repeating one huge name stays cheap.
    pub(crate) fn name_is(&self, element: usize, name: &str) -> bool {
        self.strings.equals(self.elements[element].name, name)
    }

    pub(crate) fn name(&self, element: usize) -> Result<String, DecodeError> {
        self.strings.get(self.elements[element].name)
    }

    pub(crate) fn attributes(&self, element: usize) -> &[Attribute] {
        &self.attributes[self.elements[element].attrs.clone()]
    }

    /// The attribute of `element` whose name maps to resource id `id` (an `android:` attribute).
    pub(crate) fn attr_by_id(&self, element: usize, id: u32) -> Option<&Attribute> {
        self.attributes(element)
            .iter()
            .find(|a| self.resource_ids.get(a.name as usize) == Some(&id))
    }

    /// The attribute of `element` with no namespace and no resource id, named `name`
    /// (like the manifest's `package`).
    pub(crate) fn plain_attr(&self, element: usize, name: &str) -> Option<&Attribute> {
        self.attributes(element).iter().find(|a| {
            a.ns.is_none()
                && self
                    .resource_ids
                    .get(a.name as usize)
                    .is_none_or(|&id| id == 0)
                && self.strings.equals(a.name, name)
        })
    }

    /// The pool index of the string an attribute holds: its typed string value, else its raw
    /// value.
    pub(crate) fn attr_string_index(&self, attr: &Attribute) -> Option<u32> {
        if attr.value.data_type == data_type::STRING {
            Some(attr.value.data)
        } else {
            attr.raw
        }
    }

    /// The string an attribute holds: its typed string value, else its raw value.
    pub(crate) fn attr_string(&self, attr: &Attribute) -> Result<Option<String>, DecodeError> {
        self.attr_string_index(attr)
            .map(|i| self.strings.get(i))
            .transpose()
    }

    /// Whether the attribute's string equals `s`, without decoding it.
    pub(crate) fn attr_equals(&self, attr: &Attribute, s: &str) -> bool {
        self.attr_string_index(attr)
            .is_some_and(|i| self.strings.equals(i, s))
    }

    /// Decodes string `index` of the document's pool.
    pub(crate) fn string(&self, index: u32) -> Result<String, DecodeError> {
        self.strings.get(index)
    }
}

fn need_pool<'a>(
    pool: &Option<StringPool<'a>>,
    b: &Bytes<'_>,
) -> Result<StringPool<'a>, DecodeError> {
    pool.ok_or_else(|| b.err(0, "an XML node comes before the string pool"))
}

/// Checks a `ResXMLTree_node` header and returns its line number.
fn node_header(chunk: &Chunk<'_>) -> Result<u32, DecodeError> {
    if chunk.header_size < NODE_HEADER_MIN {
        return Err(chunk.bytes.err(
            0,
            format!("XML node header is {} bytes, below 16", chunk.header_size),
        ));
    }
    chunk.bytes.u32(8, "line number")
}

fn opt_string(
    pool: &StringPool<'_>,
    b: &Bytes<'_>,
    index: u32,
    what: &str,
) -> Result<Option<u32>, DecodeError> {
    if index == NO_STRING {
        return Ok(None);
    }
    pool.check_index(index, what).map_err(|e| at(b, e))?;
    Ok(Some(index))
}

/// Re-anchors a string-pool error at the node that made the bad reference.
fn at(b: &Bytes<'_>, e: DecodeError) -> DecodeError {
    b.err(0, e.what)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A tiny AXML writer for unit tests.
    use crate::chunk::test_support::{chunk, string_pool};

    pub struct Attr {
        pub name: u32,
        pub ns: u32,
        pub raw: u32,
        pub typ: u8,
        pub data: u32,
    }

    pub enum Node {
        Start(u32, Vec<Attr>),
        End(u32),
    }

    pub fn document(strings: &[&str], utf8: bool, res_ids: &[u32], nodes: &[Node]) -> Vec<u8> {
        let mut body = string_pool(strings, utf8);
        if !res_ids.is_empty() {
            let ids: Vec<u8> = res_ids.iter().flat_map(|i| i.to_le_bytes()).collect();
            body.extend(chunk(super::XML_RESOURCE_MAP_TYPE, &[], &ids));
        }
        for (line, node) in nodes.iter().enumerate() {
            let mut header = Vec::new();
            header.extend_from_slice(&(line as u32 + 1).to_le_bytes());
            header.extend_from_slice(&u32::MAX.to_le_bytes());
            match node {
                Node::Start(name, attrs) => {
                    let mut ext = Vec::new();
                    ext.extend_from_slice(&u32::MAX.to_le_bytes());
                    ext.extend_from_slice(&name.to_le_bytes());
                    for v in [20u16, 20, attrs.len() as u16, 0, 0, 0] {
                        ext.extend_from_slice(&v.to_le_bytes());
                    }
                    for a in attrs {
                        ext.extend_from_slice(&a.ns.to_le_bytes());
                        ext.extend_from_slice(&a.name.to_le_bytes());
                        ext.extend_from_slice(&a.raw.to_le_bytes());
                        ext.extend_from_slice(&8u16.to_le_bytes());
                        ext.push(0);
                        ext.push(a.typ);
                        ext.extend_from_slice(&a.data.to_le_bytes());
                    }
                    body.extend(chunk(super::XML_START_ELEMENT_TYPE, &header, &ext));
                }
                Node::End(name) => {
                    let mut ext = Vec::new();
                    ext.extend_from_slice(&u32::MAX.to_le_bytes());
                    ext.extend_from_slice(&name.to_le_bytes());
                    body.extend(chunk(super::XML_END_ELEMENT_TYPE, &header, &ext));
                }
            }
        }
        chunk(super::XML_TYPE, &[], &body)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    const NONE: u32 = u32::MAX;

    /// `<manifest versionCode=7 package="p"><application/></manifest>`, string 0 = versionCode.
    fn sample(utf8: bool) -> Vec<u8> {
        document(
            &["versionCode", "manifest", "package", "p", "application"],
            utf8,
            &[0x0101_021b],
            &[
                Node::Start(
                    1,
                    vec![
                        Attr {
                            name: 0,
                            ns: NONE,
                            raw: NONE,
                            typ: data_type::INT_DEC,
                            data: 7,
                        },
                        Attr {
                            name: 2,
                            ns: NONE,
                            raw: 3,
                            typ: data_type::STRING,
                            data: 3,
                        },
                    ],
                ),
                Node::Start(4, vec![]),
                Node::End(4),
                Node::End(1),
            ],
        )
    }

    #[test]
    fn decodes_elements_attributes_and_resource_ids() {
        for utf8 in [true, false] {
            let bytes = sample(utf8);
            let doc = Document::parse(&bytes).unwrap();
            assert_eq!(doc.elements().len(), 2);
            assert!(doc.name_is(0, "manifest"));
            assert_eq!(doc.children(0).collect::<Vec<_>>(), vec![1]);
            assert_eq!(doc.children_named(0, "application").count(), 1);
            let vc = doc.attr_by_id(0, 0x0101_021b).unwrap();
            assert_eq!(
                vc.value,
                Value {
                    data_type: data_type::INT_DEC,
                    data: 7
                }
            );
            let pkg = doc.plain_attr(0, "package").unwrap();
            assert_eq!(doc.attr_string(pkg).unwrap().as_deref(), Some("p"));
            assert!(doc.attr_by_id(0, 0x0101_021c).is_none());
        }
    }

    #[test]
    fn structural_errors_are_reported() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "unclosed",
                document(&["a"], true, &[], &[Node::Start(0, vec![])]),
            ),
            (
                "mismatched end",
                document(
                    &["a", "b"],
                    true,
                    &[],
                    &[Node::Start(0, vec![]), Node::End(1)],
                ),
            ),
            ("stray end", document(&["a"], true, &[], &[Node::End(0)])),
            ("no elements", document(&["a"], true, &[], &[])),
            (
                "element name out of range",
                document(&["a"], true, &[], &[Node::Start(5, vec![]), Node::End(5)]),
            ),
            (
                "string value out of range",
                document(
                    &["a"],
                    true,
                    &[],
                    &[
                        Node::Start(
                            0,
                            vec![Attr {
                                name: 0,
                                ns: NONE,
                                raw: NONE,
                                typ: data_type::STRING,
                                data: 9,
                            }],
                        ),
                        Node::End(0),
                    ],
                ),
            ),
            (
                "two roots",
                document(
                    &["a"],
                    true,
                    &[],
                    &[
                        Node::Start(0, vec![]),
                        Node::End(0),
                        Node::Start(0, vec![]),
                        Node::End(0),
                    ],
                ),
            ),
            ("plain text", b"<?xml version=\"1.0\"?><manifest/>".to_vec()),
            ("empty", Vec::new()),
        ];
        for (what, bytes) in cases {
            assert!(Document::parse(&bytes).is_err(), "{what} should fail");
        }
    }

    #[test]
    fn every_truncation_fails_cleanly() {
        let bytes = sample(true);
        for len in 0..bytes.len() {
            assert!(
                Document::parse(&bytes[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
    }
}
