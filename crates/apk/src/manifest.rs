//! What `AndroidManifest.xml` means: package, versions, SDK levels, permissions, the launchable
//! activity, and the label and icon attributes (still unresolved — they usually point into
//! `resources.arsc`, which `lib.rs` consults only when it has to).
//!
//! `android:` attributes are matched by resource id, as the platform's own parser does; the ids
//! below were checked against `aapt dump resources` of Debian's `framework-res.apk` (API 29).
//! Anything used to build a shell command later (`pm install`, `am start -n pkg/activity`) is
//! validated: the launchable activity must be a valid Java class name (checked here) and the
//! package a valid Android package name (checked by `inspect`, so that the platform's own
//! one-segment `android` package can still be read in tests); both rules live in
//! [`crate::names`]. No caller of `inspect` ever
//! sees shell metacharacters in either.

use std::collections::HashSet;

use crate::axml::{Attribute, Document};
use crate::chunk::data_type;
use crate::error::ApkError;
use crate::names::is_class_name;
#[cfg(test)]
use crate::names::is_package_name;

/// `android:label`.
pub(crate) const ATTR_LABEL: u32 = 0x0101_0001;
/// `android:icon`.
pub(crate) const ATTR_ICON: u32 = 0x0101_0002;
/// `android:name`.
pub(crate) const ATTR_NAME: u32 = 0x0101_0003;
/// `android:enabled`.
pub(crate) const ATTR_ENABLED: u32 = 0x0101_000e;
/// `android:minSdkVersion`.
pub(crate) const ATTR_MIN_SDK_VERSION: u32 = 0x0101_020c;
/// `android:versionCode`.
pub(crate) const ATTR_VERSION_CODE: u32 = 0x0101_021b;
/// `android:versionName`.
pub(crate) const ATTR_VERSION_NAME: u32 = 0x0101_021c;
/// `android:targetSdkVersion`.
pub(crate) const ATTR_TARGET_SDK_VERSION: u32 = 0x0101_0270;
/// `android:versionCodeMajor` (API 28): the high 32 bits of the 64-bit version code.
pub(crate) const ATTR_VERSION_CODE_MAJOR: u32 = 0x0101_0576;

const ACTION_MAIN: &str = "android.intent.action.MAIN";
const CATEGORY_LAUNCHER: &str = "android.intent.category.LAUNCHER";

/// An attribute value before resource resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttrValue {
    Text(String),
    Int(u32),
    /// A reference to a resource id (`@string/app_name`), resolved through `resources.arsc`.
    Reference(u32),
    /// Some other typed value (float, dimension, …) that none of our fields can use.
    Other(u8),
}

/// The manifest's fields, with label/icon/versions possibly still references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub package: String,
    pub version_code: AttrValue,
    pub version_code_major: Option<AttrValue>,
    pub version_name: Option<AttrValue>,
    pub min_sdk: Option<AttrValue>,
    pub target_sdk: Option<AttrValue>,
    pub permissions: Vec<String>,
    pub launchable_activity: Option<String>,
    pub label: Option<AttrValue>,
    pub icon: Option<AttrValue>,
}

fn malformed(msg: impl Into<String>) -> ApkError {
    ApkError::MalformedManifest(msg.into())
}

fn value_of(doc: &Document<'_>, attr: &Attribute) -> Result<AttrValue, ApkError> {
    let v = attr.value;
    if let Some(id) = v.reference() {
        return Ok(AttrValue::Reference(id));
    }
    Ok(match v.data_type {
        data_type::INT_DEC | data_type::INT_HEX | data_type::INT_BOOLEAN => AttrValue::Int(v.data),
        data_type::STRING | data_type::NULL => match doc.attr_string(attr).map_err(decode)? {
            Some(s) => AttrValue::Text(s),
            None => AttrValue::Other(v.data_type),
        },
        other => AttrValue::Other(other),
    })
}

fn decode(e: crate::error::DecodeError) -> ApkError {
    ApkError::MalformedManifest(e.to_string())
}

fn android_attr(
    doc: &Document<'_>,
    element: usize,
    id: u32,
) -> Result<Option<AttrValue>, ApkError> {
    doc.attr_by_id(element, id)
        .map(|a| value_of(doc, a))
        .transpose()
}

/// `android:name` as text, for elements where it must be a literal string.
fn name_attr(doc: &Document<'_>, element: usize) -> Result<Option<String>, ApkError> {
    match doc.attr_by_id(element, ATTR_NAME) {
        Some(a) => doc.attr_string(a).map_err(decode),
        None => Ok(None),
    }
}

/// Reads the fields of a decoded manifest document.
pub(crate) fn read(doc: &Document<'_>) -> Result<Manifest, ApkError> {
    let root = 0;
    if !doc.name_is(root, "manifest") {
        let name = doc.name(root).map_err(decode)?;
        return Err(malformed(format!(
            "the root element is <{name}>, not <manifest>"
        )));
    }

    let package = match doc.plain_attr(root, "package") {
        Some(a) => doc.attr_string(a).map_err(decode)?.unwrap_or_default(),
        None => String::new(),
    };
    if package.is_empty() {
        return Err(ApkError::MissingField(
            "the <manifest> element has no package attribute",
        ));
    }
    let version_code = android_attr(doc, root, ATTR_VERSION_CODE)?.ok_or(
        ApkError::MissingField("the <manifest> element has no android:versionCode"),
    )?;
    let version_code_major = android_attr(doc, root, ATTR_VERSION_CODE_MAJOR)?;
    let version_name = android_attr(doc, root, ATTR_VERSION_NAME)?;

    let (mut min_sdk, mut target_sdk) = (None, None);
    if let Some(uses_sdk) = doc.children_named(root, "uses-sdk").next() {
        min_sdk = android_attr(doc, uses_sdk, ATTR_MIN_SDK_VERSION)?;
        target_sdk = android_attr(doc, uses_sdk, ATTR_TARGET_SDK_VERSION)?;
    }

    // Deduplicated by string index before decoding, so a hostile manifest repeating one huge
    // string in thousands of elements decodes it once.
    let mut seen = HashSet::new();
    let mut permissions: Vec<String> = Vec::new();
    for el in doc.children(root) {
        let is_permission = doc.name_is(el, "uses-permission")
            || doc.name_is(el, "uses-permission-sdk-23")
            || doc.name_is(el, "uses-permission-sdk-m");
        let index = doc
            .attr_by_id(el, ATTR_NAME)
            .and_then(|a| doc.attr_string_index(a));
        if is_permission && let Some(index) = index {
            if !seen.insert(index) {
                continue;
            }
            let name = doc.string(index).map_err(decode)?;
            if !name.is_empty() && !permissions.contains(&name) {
                permissions.push(name);
            }
        }
    }

    let (mut label, mut icon, mut launchable_activity) = (None, None, None);
    if let Some(app) = doc.children_named(root, "application").next() {
        label = android_attr(doc, app, ATTR_LABEL)?;
        icon = android_attr(doc, app, ATTR_ICON)?;
        launchable_activity = find_launchable(doc, app, &package)?;
    }

    Ok(Manifest {
        package,
        version_code,
        version_code_major,
        version_name,
        min_sdk,
        target_sdk,
        permissions,
        launchable_activity,
        label,
        icon,
    })
}

/// The first enabled `<activity>` or `<activity-alias>` with an intent filter holding both
/// `action MAIN` and `category LAUNCHER` — what a launcher would start — fully qualified.
fn find_launchable(
    doc: &Document<'_>,
    app: usize,
    package: &str,
) -> Result<Option<String>, ApkError> {
    for el in doc.children(app) {
        if !(doc.name_is(el, "activity") || doc.name_is(el, "activity-alias")) {
            continue;
        }
        if let Some(AttrValue::Int(0)) = android_attr(doc, el, ATTR_ENABLED)? {
            continue;
        }
        let mut launchable = false;
        for filter in doc.children_named(el, "intent-filter") {
            let mut main = false;
            let mut launcher = false;
            for item in doc.children(filter) {
                let Some(name) = doc.attr_by_id(item, ATTR_NAME) else {
                    continue;
                };
                if doc.name_is(item, "action") && doc.attr_equals(name, ACTION_MAIN) {
                    main = true;
                }
                if doc.name_is(item, "category") && doc.attr_equals(name, CATEGORY_LAUNCHER) {
                    launcher = true;
                }
            }
            launchable |= main && launcher;
        }
        if !launchable {
            continue;
        }
        let Some(name) = name_attr(doc, el)?.filter(|n| !n.is_empty()) else {
            return Err(malformed(format!(
                "the launcher activity on line {} has no android:name",
                doc.elements()[el].line
            )));
        };
        let full = qualify(package, &name);
        if !is_class_name(&full) {
            return Err(malformed(format!(
                "launcher activity {name:?} is not a valid Java class name"
            )));
        }
        return Ok(Some(full));
    }
    Ok(None)
}

/// Completes a component name the way Android does: `.Foo` and `Foo` are relative to the package.
pub(crate) fn qualify(package: &str, name: &str) -> String {
    if name.starts_with('.') {
        format!("{package}{name}")
    } else if !name.contains('.') {
        format!("{package}.{name}")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axml::test_support::{Attr, Node, document};
    use std::time::{Duration, Instant};

    const NONE: u32 = u32::MAX;

    fn string_attr(name: u32, value: u32) -> Attr {
        Attr {
            name,
            ns: NONE,
            raw: value,
            typ: data_type::STRING,
            data: value,
        }
    }

    /// A manifest repeating one 60 KB string in 36,000 elements: quadratic child scans or
    /// per-element decoding would take minutes; the linear walk takes well under a second.
    #[test]
    fn hostile_repetition_stays_linear() {
        let huge = "x".repeat(60_000);
        let strings = [
            "manifest",
            "package",
            "a.b",
            "application",
            "activity",
            "intent-filter",
            "action",
            "uses-permission",
            "name",
            "versionCode",
            huge.as_str(),
        ];
        let mut ids = vec![0u32; 8];
        ids.extend([ATTR_NAME, ATTR_VERSION_CODE]);
        let n = 12_000;
        let mut nodes = vec![Node::Start(
            0,
            vec![
                Attr {
                    name: 9,
                    ns: NONE,
                    raw: NONE,
                    typ: data_type::INT_DEC,
                    data: 1,
                },
                string_attr(1, 2),
            ],
        )];
        for _ in 0..n {
            nodes.push(Node::Start(7, vec![string_attr(8, 10)]));
            nodes.push(Node::End(7));
        }
        nodes.push(Node::Start(3, vec![]));
        for _ in 0..n {
            nodes.push(Node::Start(4, vec![string_attr(8, 10)]));
            nodes.push(Node::Start(5, vec![]));
            nodes.push(Node::Start(6, vec![string_attr(8, 10)]));
            nodes.push(Node::End(6));
            nodes.push(Node::End(5));
            nodes.push(Node::End(4));
        }
        nodes.push(Node::End(3));
        nodes.push(Node::End(0));
        let bytes = document(&strings, false, &ids, &nodes);
        assert!(
            bytes.len() < 4 * 1024 * 1024,
            "fits the default manifest limit"
        );

        let started = Instant::now();
        let doc = Document::parse(&bytes).unwrap();
        let m = read(&doc).unwrap();
        let took = started.elapsed();
        assert_eq!(m.package, "a.b");
        assert_eq!(m.permissions, vec![huge]);
        assert_eq!(m.launchable_activity, None);
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }

    #[test]
    fn component_names_are_qualified_like_android() {
        assert_eq!(qualify("a.b", ".Main"), "a.b.Main");
        assert_eq!(qualify("a.b", "Main"), "a.b.Main");
        assert_eq!(qualify("a.b", "x.y.Main"), "x.y.Main");
    }

    #[test]
    fn package_and_class_names_are_validated() {
        assert!(is_package_name("com.playrack.demo.tapper"));
        assert!(is_package_name("a.b_2"));
        for bad in [
            "",
            "single",
            "a..b",
            "a.1b",
            "a.b;rm -rf",
            "a.b c",
            ".a.b",
            "a.b.",
        ] {
            assert!(!is_package_name(bad), "{bad:?}");
        }
        assert!(is_class_name("com.x.Main$Inner"));
        assert!(is_class_name("com.x.Ünïcode"));
        for bad in [
            "",
            "com..x",
            "com.x.1Main",
            "com.x.M ain",
            "com.x.M;in",
            "com.x/Main",
        ] {
            assert!(!is_class_name(bad), "{bad:?}");
        }
    }
}
