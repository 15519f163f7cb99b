//! Entry points for the fuzz targets in `tests/fuzz` (cargo feature `fuzzing`, never on in a
//! normal build). The binary XML, resource table and manifest decoders are private to this
//! crate — callers only ever see [`crate::inspect`] — so these functions run each of them alone
//! over arbitrary bytes, the way `inspect` uses them, and check what must hold of any result.
//! The zip reader and `inspect` itself are public and are fuzzed directly.

use crate::arsc::ResourceTable;
use crate::axml::Document;
use crate::chunk::data_type;
use crate::names::is_class_name;

/// Decodes `data` as binary XML and reads every element, name, attribute and string of it.
/// Returns the number of elements (0 if it was refused).
pub fn axml(data: &[u8]) -> usize {
    let Ok(doc) = Document::parse(data) else {
        return 0;
    };
    let n = doc.elements().len();
    assert!(n > 0, "a decoded document has a root element");
    for el in 0..n {
        let _ = doc.name(el);
        // Children are linked in document order and each is visited once from its parent.
        for child in doc.children(el) {
            assert!(child > el, "a child comes after its parent");
        }
        for attr in doc.attributes(el) {
            let _ = doc.attr_string(attr);
            if let Some(i) = doc.attr_string_index(attr) {
                let _ = doc.string(i);
            }
        }
    }
    n
}

/// Decodes `data` as binary XML and reads it as a manifest, as `inspect` does. A manifest that
/// is read has a launchable activity only if it is a valid class name.
pub fn manifest(data: &[u8]) -> bool {
    let Ok(doc) = Document::parse(data) else {
        return false;
    };
    match crate::manifest::read(&doc) {
        Ok(m) => {
            if let Some(a) = &m.launchable_activity {
                assert!(
                    is_class_name(a),
                    "launchable activity {a:?} is not a class name"
                );
            }
            true
        }
        Err(_) => false,
    }
}

/// Decodes `data` as a resource table and looks up a spread of resource ids in every package
/// it has, reading each value's configuration and, for strings, the string. Returns the number
/// of values found.
pub fn arsc(data: &[u8]) -> usize {
    let Ok(table) = ResourceTable::parse(data) else {
        return 0;
    };
    for i in 0..64 {
        let _ = table.string(i);
    }
    let mut found = 0;
    for package in [0x01, 0x7f] {
        for typ in 1..=8u32 {
            for entry in 0..4u32 {
                let id = (package << 24) | (typ << 16) | entry;
                let Ok(values) = table.values(id) else {
                    continue;
                };
                assert!(values.is_empty() || table.has_package_of(id));
                for v in values {
                    found += 1;
                    let _ = (
                        v.config.density(),
                        v.config.is_default(),
                        v.config.has_locale(),
                    );
                    if v.value.data_type == data_type::STRING {
                        let _ = table.string(v.value.data);
                    }
                    let _ = v.value.reference();
                }
            }
        }
    }
    found
}
