//! APK inspection for Playrack: what an uploaded APK is (package, versions, SDK levels,
//! permissions, launchable activity, label, icon, native ABIs), read safely from untrusted bytes.
//!
//! The controller calls [`inspect`] when a developer uploads a build; the virtual Android device
//! calls it before `pm install`. It is sans-IO: it reads from any `Read + Seek` (a file, a
//! `Cursor` over bytes) and holds no global state, so every path is testable in memory.
//!
//! ```no_run
//! let file = std::fs::File::open("game.apk")?;
//! let info = playrack_apk::inspect(file, &playrack_apk::Limits::default())?;
//! println!("{} {} ({:?})", info.package, info.version_code, info.label);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//!
//! - [`zip`]: the container. A strict zip reader that enforces [`Limits`] while it reads.
//! - `chunk`: the framing Android's two binary formats share — chunk headers, string pools,
//!   typed values.
//! - `axml`: binary XML, the compiled `AndroidManifest.xml`, decoded into a flat element list.
//! - `arsc`: `resources.arsc`, the resource table that `@string/…` and `@mipmap/…` point into.
//! - `manifest`: what the manifest's elements mean (package, versions, launchable activity, …).
//! - [`limits`]: the ceilings that make hostile uploads cheap to reject.
//! - [`names`]: the one rule for package and activity names, shared with the device and the agent.
//! - [`error`]: [`ApkError`] and its stable `APK_…` codes.
//! - `fuzzing` (cargo feature `fuzzing`, used only by `tests/fuzz`): the private decoders,
//!   exposed one by one to the fuzz targets.
//!
//! This file holds [`inspect`] and [`ApkInfo`], and resolves manifest references through the
//! resource table. A call flows zip → axml → manifest, then (only if the label, icon or a
//! version is a reference) zip → arsc to resolve it, and finally zip again for the icon bytes.

pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod names;
pub mod zip;

mod arsc;
mod axml;
mod chunk;
mod manifest;

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::io::{Cursor, Read, Seek};

pub use crate::error::ApkError;
pub use crate::limits::Limits;

use crate::arsc::{ConfigValue, DENSITY_ANY, DENSITY_DEFAULT, DENSITY_NONE, ResourceTable};
use crate::chunk::data_type;
use crate::manifest::AttrValue;
use crate::zip::Archive;

/// The manifest's path inside every APK.
pub const MANIFEST_PATH: &str = "AndroidManifest.xml";
/// The compiled resource table's path inside an APK (absent when the app has no resources).
pub const RESOURCES_PATH: &str = "resources.arsc";
/// How many references (`@string/a` → `@string/b` → …) are followed before giving up.
const MAX_REFERENCE_DEPTH: usize = 8;
/// Most distinct resources visited while collecting icon candidates (an adaptive icon and its
/// bitmap fallbacks need two or three).
const MAX_ICON_RESOURCES: usize = 16;
/// Most icon files read before giving up on finding a usable bitmap.
const MAX_ICON_ATTEMPTS: usize = 8;

/// What an APK declares about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkInfo {
    /// Application id, e.g. `com.playrack.demo.tapper` (validated as an Android package name).
    pub package: String,
    /// `versionCode`, combined with `versionCodeMajor` (high 32 bits) when present.
    pub version_code: i64,
    /// `versionName`, resolved if it is a string resource.
    pub version_name: Option<String>,
    /// `uses-sdk minSdkVersion`; `None` if not declared (Android then assumes 1) or a codename.
    pub min_sdk: Option<u32>,
    /// `uses-sdk targetSdkVersion`; `None` if not declared (Android then uses `min_sdk`).
    pub target_sdk: Option<u32>,
    /// Fully-qualified class of the first enabled activity (or alias) with a MAIN + LAUNCHER
    /// intent filter: what `am start -n package/activity` should start.
    pub launchable_activity: Option<String>,
    /// `uses-permission` (and `uses-permission-sdk-23`) names, in manifest order, deduplicated.
    pub permissions: Vec<String>,
    /// The application label: a literal, or the string resource's value in the default
    /// configuration (falling back to the first non-localized, then any, configuration).
    /// `None` if absent or a framework (`@android:`) resource.
    pub label: Option<String>,
    /// The application icon as a bitmap: the highest-density PNG or WebP the icon resource
    /// resolves to. Adaptive icons (XML) are skipped in favour of their bitmap fallbacks.
    pub icon: Option<Icon>,
    /// ABIs with native code, from entries `lib/<abi>/<name>.so`, sorted.
    pub abis: Vec<String>,
}

/// An application icon image taken from the APK.
#[derive(Clone, PartialEq, Eq)]
pub struct Icon {
    /// Path of the image inside the APK, e.g. `res/mipmap-xxxhdpi-v4/ic_launcher.png`.
    pub path: String,
    /// The image file's bytes.
    pub bytes: Vec<u8>,
    /// `image/png` or `image/webp`, from the file's magic bytes (not its name).
    pub mime: &'static str,
    /// Density of the configuration the image came from, in dpi (0 = unspecified).
    pub density: u16,
}

impl fmt::Debug for Icon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Icon")
            .field("path", &self.path)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("mime", &self.mime)
            .field("density", &self.density)
            .finish()
    }
}

/// Inspects the APK readable from `reader`, within `limits`.
pub fn inspect<R: Read + Seek>(reader: R, limits: &Limits) -> Result<ApkInfo, ApkError> {
    let info = inspect_any_package(reader, limits)?;
    if let Err(e) = names::check_package_name(&info.package) {
        return Err(ApkError::MalformedManifest(format!("package {e}")));
    }
    Ok(info)
}

/// [`inspect`] without the package-name check, so the platform's own `framework-res.apk`
/// (package `android`, one segment) can serve as a large real-world test input.
fn inspect_any_package<R: Read + Seek>(reader: R, limits: &Limits) -> Result<ApkInfo, ApkError> {
    let mut archive = Archive::open(reader, limits)?;
    let manifest_index = archive.find(MANIFEST_PATH).ok_or(ApkError::NoManifest)?;
    let manifest_bytes = archive.read(manifest_index, limits.max_manifest_bytes)?;
    let doc = axml::Document::parse(&manifest_bytes)
        .map_err(|e| ApkError::MalformedManifest(e.to_string()))?;
    let m = manifest::read(&doc)?;

    let abis = native_abis(archive.entries().iter().map(|e| e.name.as_str()));

    // resources.arsc is read only if some field is a reference. App references (package 0x7f)
    // need it; framework references (0x01) can only be resolved in framework-res.apk itself.
    let references: Vec<u32> = [
        Some(&m.version_code),
        m.version_code_major.as_ref(),
        m.version_name.as_ref(),
        m.min_sdk.as_ref(),
        m.target_sdk.as_ref(),
        m.label.as_ref(),
        m.icon.as_ref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|v| match v {
        AttrValue::Reference(id) => Some(*id),
        _ => None,
    })
    .collect();
    let required = references.iter().copied().find(|&id| !is_framework_id(id));
    let table_bytes = match (references.is_empty(), archive.find(RESOURCES_PATH)) {
        (true, _) => None,
        (false, Some(i)) => Some(archive.read(i, limits.max_resources_bytes)?),
        (false, None) => match required {
            None => None,
            Some(id) => {
                return Err(ApkError::MalformedResources(format!(
                    "the manifest refers to resource {id:#010x}, but the APK has no \
                     resources.arsc"
                )));
            }
        },
    };
    let table = table_bytes
        .as_deref()
        .map(ResourceTable::parse)
        .transpose()
        .map_err(res_err)?;
    let r = Resolver {
        table: table.as_ref(),
    };

    let version_code_low = r.int("versionCode", &m.version_code)?.ok_or_else(|| {
        ApkError::MalformedManifest("android:versionCode is not an integer".into())
    })?;
    let version_code_major = match &m.version_code_major {
        Some(v) => r.int("versionCodeMajor", v)?.ok_or_else(|| {
            ApkError::MalformedManifest("android:versionCodeMajor is not an integer".into())
        })?,
        None => 0,
    };
    let version_code = (i64::from(version_code_major) << 32) | i64::from(version_code_low);

    let version_name = m
        .version_name
        .as_ref()
        .map(|v| r.text(v))
        .transpose()?
        .flatten();
    let min_sdk = m.min_sdk.as_ref().map(|v| r.sdk(v)).transpose()?.flatten();
    let target_sdk = m
        .target_sdk
        .as_ref()
        .map(|v| r.sdk(v))
        .transpose()?
        .flatten();
    let label = m.label.as_ref().map(|v| r.text(v)).transpose()?.flatten();

    let icon = match &m.icon {
        Some(v) => {
            let candidates = r.icon_candidates(v)?;
            read_icon(&mut archive, &candidates, limits)?
        }
        None => None,
    };

    Ok(ApkInfo {
        package: m.package,
        version_code,
        version_name,
        min_sdk,
        target_sdk,
        launchable_activity: m.launchable_activity,
        permissions: m.permissions,
        label,
        icon,
        abis,
    })
}

/// [`inspect`] over an in-memory APK.
pub fn inspect_bytes(apk: &[u8], limits: &Limits) -> Result<ApkInfo, ApkError> {
    inspect(Cursor::new(apk), limits)
}

fn res_err(e: error::DecodeError) -> ApkError {
    ApkError::MalformedResources(e.to_string())
}

/// Resource ids in package 0x01 belong to the Android framework.
fn is_framework_id(id: u32) -> bool {
    id >> 24 == 0x01
}

/// ABIs from `lib/<abi>/<file>.so` entries (exactly that depth, as the installer extracts).
fn native_abis<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut abis = BTreeSet::new();
    for name in names {
        let mut parts = name.split('/');
        if let (Some("lib"), Some(abi), Some(file), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
            && !abi.is_empty()
            && file.len() > 3
            && file.ends_with(".so")
        {
            abis.insert(abi.to_string());
        }
    }
    abis.into_iter().collect()
}

/// Resolves manifest attribute values through the (optional) resource table.
struct Resolver<'t, 'a> {
    table: Option<&'t ResourceTable<'a>>,
}

impl<'a> Resolver<'_, 'a> {
    /// A framework resource this APK can't resolve (it is not `framework-res.apk` itself).
    fn is_external(&self, id: u32) -> bool {
        is_framework_id(id) && !self.table.is_some_and(|t| t.has_package_of(id))
    }

    /// The values of an app resource, or an error if the table lacks it.
    fn values(&self, id: u32, what: &str) -> Result<Vec<ConfigValue<'a>>, ApkError> {
        let Some(table) = self.table else {
            return Err(ApkError::MalformedResources(format!(
                "{what} refers to resource {id:#010x}, but there is no resources.arsc"
            )));
        };
        let values = table.values(id).map_err(res_err)?;
        if values.is_empty() {
            let whose = if table.has_package_of(id) {
                "does not define"
            } else {
                "has no package for"
            };
            return Err(ApkError::MalformedResources(format!(
                "{what} refers to resource {id:#010x}, which resources.arsc {whose}"
            )));
        }
        Ok(values)
    }

    /// Follows `id` to a single value: default config first, then any unlocalized, then any.
    fn single(&self, mut id: u32, what: &str) -> Result<Option<chunk::Value>, ApkError> {
        for _ in 0..MAX_REFERENCE_DEPTH {
            if self.is_external(id) {
                return Ok(None);
            }
            let values = self.values(id, what)?;
            let best = values
                .iter()
                .find(|v| v.config.is_default())
                .or_else(|| values.iter().find(|v| !v.config.has_locale()))
                .unwrap_or(&values[0]);
            match best.value.reference() {
                Some(next) => id = next,
                None => return Ok(Some(best.value)),
            }
        }
        Err(ApkError::MalformedResources(format!(
            "{what}: more than {MAX_REFERENCE_DEPTH} chained references (a cycle?)"
        )))
    }

    fn text(&self, v: &AttrValue) -> Result<Option<String>, ApkError> {
        match v {
            AttrValue::Text(s) => Ok(Some(s.clone())),
            AttrValue::Reference(id) => match self.single(*id, "a manifest string")? {
                Some(value) if value.data_type == data_type::STRING => match self.table {
                    Some(table) => table.string(value.data).map(Some).map_err(res_err),
                    None => Ok(None),
                },
                _ => Ok(None),
            },
            AttrValue::Int(_) | AttrValue::Other(_) => Ok(None),
        }
    }

    fn int(&self, what: &str, v: &AttrValue) -> Result<Option<u32>, ApkError> {
        match v {
            AttrValue::Int(n) => Ok(Some(*n)),
            AttrValue::Text(s) => Ok(s.trim().parse::<u32>().ok()),
            AttrValue::Reference(id) => match self.single(*id, what)? {
                Some(value)
                    if matches!(value.data_type, data_type::INT_DEC | data_type::INT_HEX) =>
                {
                    Ok(Some(value.data))
                }
                _ => Ok(None),
            },
            AttrValue::Other(_) => Ok(None),
        }
    }

    /// An SDK level; codenames ("Q") and other non-numbers give `None`.
    fn sdk(&self, v: &AttrValue) -> Result<Option<u32>, ApkError> {
        self.int("an SDK version", v)
    }

    /// Every file an icon resource can resolve to, best first: bitmaps by descending density.
    fn icon_candidates(&self, v: &AttrValue) -> Result<Vec<(String, u16)>, ApkError> {
        let AttrValue::Reference(id) = v else {
            return Ok(Vec::new());
        };
        let Some(table) = self.table else {
            return Ok(Vec::new());
        };
        let mut out: Vec<(String, u16)> = Vec::new();
        // Each resource is expanded once and each path string decoded once, so a hostile
        // table of thousands of configs all pointing at one huge string stays cheap.
        let mut visited = HashSet::new();
        let mut decoded = HashSet::new();
        let mut pending = vec![(*id, 0usize)];
        while let Some((id, depth)) = pending.pop() {
            if self.is_external(id) || !visited.insert(id) {
                continue;
            }
            if visited.len() > MAX_ICON_RESOURCES {
                break;
            }
            if depth >= MAX_REFERENCE_DEPTH {
                return Err(ApkError::MalformedResources(format!(
                    "the icon: more than {MAX_REFERENCE_DEPTH} chained references (a cycle?)"
                )));
            }
            for cv in self.values(id, "the icon")? {
                if let Some(next) = cv.value.reference() {
                    pending.push((next, depth + 1));
                } else if cv.value.data_type == data_type::STRING && decoded.insert(cv.value.data) {
                    let path = table.string(cv.value.data).map_err(res_err)?;
                    if is_bitmap_path(&path) && !out.iter().any(|(p, _)| *p == path) {
                        out.push((path, cv.config.density()));
                    }
                }
            }
        }
        out.sort_by_key(|(_, density)| std::cmp::Reverse(density_rank(*density)));
        Ok(out)
    }
}

fn is_bitmap_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".png") || lower.ends_with(".webp")
}

/// Orders densities for "best icon": real dpi values by size, unspecified as mdpi (160, as
/// Android treats it), and `anydpi`/`nodpi` bitmaps last.
fn density_rank(density: u16) -> u16 {
    match density {
        DENSITY_DEFAULT => 160,
        DENSITY_ANY | DENSITY_NONE => 1,
        d => d,
    }
}

fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Reads the first candidate that exists, fits [`Limits::max_icon_bytes`] and really is a PNG or
/// WebP. Candidates that don't qualify are skipped; a zip-level failure is an error.
fn read_icon<R: Read + Seek>(
    archive: &mut Archive<R>,
    candidates: &[(String, u16)],
    limits: &Limits,
) -> Result<Option<Icon>, ApkError> {
    for (path, density) in candidates.iter().take(MAX_ICON_ATTEMPTS) {
        let Some(i) = archive.find(path) else {
            continue;
        };
        if archive.entries()[i].uncompressed_size > limits.max_icon_bytes {
            continue;
        }
        let bytes = archive.read(i, limits.max_icon_bytes)?;
        if let Some(mime) = sniff_image(&bytes) {
            return Ok(Some(Icon {
                path: path.clone(),
                bytes,
                mime,
                density: *density,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abis_come_from_lib_dirs_only() {
        let names = [
            "lib/arm64-v8a/libgame.so",
            "lib/armeabi-v7a/libgame.so",
            "lib/arm64-v8a/libother.so",
            "lib/x86/readme.txt",
            "lib/x86_64/sub/libdeep.so",
            "assets/lib/mips/libx.so",
            "lib//libempty.so",
            "lib/riscv64/.so",
        ];
        assert_eq!(native_abis(names), vec!["arm64-v8a", "armeabi-v7a"]);
    }

    use crate::arsc::test_support::{TypeChunk, density, language, table};

    const STRING: u8 = data_type::STRING;
    const REF: u8 = data_type::REFERENCE;

    #[test]
    fn label_prefers_the_default_config_wherever_it_is() {
        let bytes = table(
            &["Hallo", "Hello", "Bonjour"],
            0x7f,
            &[
                TypeChunk {
                    type_id: 1,
                    config_tail: language("de"),
                    entries: vec![Some((STRING, 0))],
                },
                TypeChunk {
                    type_id: 1,
                    config_tail: vec![0; 24],
                    entries: vec![Some((STRING, 1))],
                },
                // Entry 1 exists only localized: the first configuration is used.
                TypeChunk {
                    type_id: 1,
                    config_tail: language("fr"),
                    entries: vec![None, Some((STRING, 2))],
                },
            ],
        );
        let t = ResourceTable::parse(&bytes).unwrap();
        let r = Resolver { table: Some(&t) };
        assert_eq!(
            r.text(&AttrValue::Reference(0x7f01_0000))
                .unwrap()
                .as_deref(),
            Some("Hello")
        );
        assert_eq!(
            r.text(&AttrValue::Reference(0x7f01_0001))
                .unwrap()
                .as_deref(),
            Some("Bonjour")
        );
        assert_eq!(
            r.text(&AttrValue::Reference(0x0104_0000)).unwrap(),
            None,
            "framework"
        );
        let err = r.text(&AttrValue::Reference(0x7f01_0005)).unwrap_err();
        assert_eq!(err.code(), "APK_MALFORMED_RESOURCES");
        let err = r.text(&AttrValue::Reference(0x7e01_0000)).unwrap_err();
        assert!(err.to_string().contains("has no package"), "{err}");
    }

    #[test]
    fn reference_cycles_end_in_an_error_not_a_hang() {
        let bytes = table(
            &[],
            0x7f,
            &[TypeChunk {
                type_id: 1,
                config_tail: vec![0; 24],
                entries: vec![Some((REF, 0x7f01_0001)), Some((REF, 0x7f01_0000))],
            }],
        );
        let t = ResourceTable::parse(&bytes).unwrap();
        let r = Resolver { table: Some(&t) };
        let err = r.text(&AttrValue::Reference(0x7f01_0000)).unwrap_err();
        assert_eq!(err.code(), "APK_MALFORMED_RESOURCES");
        assert!(err.to_string().contains("chained references"), "{err}");
        // The icon walk visits each resource once, so a cycle just yields nothing.
        assert!(
            r.icon_candidates(&AttrValue::Reference(0x7f01_0000))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn icon_candidates_are_bitmaps_by_density() {
        let bytes = table(
            &[
                "res/a.png",
                "res/b.webp",
                "res/c.xml",
                "res/d.png",
                "res/e.PNG",
            ],
            0x7f,
            &[
                TypeChunk {
                    type_id: 2,
                    config_tail: density(160),
                    entries: vec![Some((STRING, 0))],
                },
                TypeChunk {
                    type_id: 2,
                    config_tail: density(480),
                    entries: vec![Some((STRING, 1))],
                },
                TypeChunk {
                    type_id: 2,
                    config_tail: density(DENSITY_ANY),
                    entries: vec![Some((STRING, 2))],
                },
                // An alias: @drawable/icon → @mipmap/other, whose own configs count.
                TypeChunk {
                    type_id: 2,
                    config_tail: density(640),
                    entries: vec![Some((REF, 0x7f03_0000))],
                },
                TypeChunk {
                    type_id: 3,
                    config_tail: density(320),
                    entries: vec![Some((STRING, 3))],
                },
                TypeChunk {
                    type_id: 3,
                    config_tail: vec![0; 24],
                    entries: vec![Some((STRING, 4))],
                },
            ],
        );
        let t = ResourceTable::parse(&bytes).unwrap();
        let r = Resolver { table: Some(&t) };
        let got = r
            .icon_candidates(&AttrValue::Reference(0x7f02_0000))
            .unwrap();
        let want = [
            ("res/b.webp", 480),
            ("res/d.png", 320),
            ("res/a.png", 160),
            ("res/e.PNG", 0),
        ];
        let got: Vec<(&str, u16)> = got.iter().map(|(p, d)| (p.as_str(), *d)).collect();
        assert_eq!(got, want);
        assert!(
            r.icon_candidates(&AttrValue::Text("x.png".into()))
                .unwrap()
                .is_empty()
        );
    }

    /// The platform's own framework-res.apk (installed with the fixture tools) is a large
    /// real-world input: a 220 KB manifest with hundreds of permissions and a 31 MB
    /// resources.arsc with hundreds of locale configurations. Compared with `aapt dump badging`.
    #[test]
    fn framework_res_agrees_with_aapt() {
        let path = "/usr/share/android-framework-res/framework-res.apk";
        let out = std::process::Command::new("aapt")
            .args(["dump", "badging", path])
            .output()
            .expect("aapt runs (Debian packages aapt and android-framework-res)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let badging = String::from_utf8(out.stdout).unwrap();
        let quoted = |line: &str, key: &str| -> Option<String> {
            let start = line.find(&format!("{key}'"))? + key.len() + 1;
            let end = line[start..].find('\'')? + start;
            Some(line[start..end].to_string())
        };
        let line = |prefix: &str| badging.lines().find(|l| l.starts_with(prefix)).unwrap();

        let file = std::fs::File::open(path).unwrap();
        let info = inspect_any_package(file, &Limits::default()).unwrap();
        let package = line("package: ");
        assert_eq!(Some(info.package.clone()), quoted(package, "name="));
        assert_eq!(
            Some(info.version_code.to_string()),
            quoted(package, "versionCode=")
        );
        assert_eq!(info.version_name, quoted(package, "versionName="));
        assert_eq!(
            info.min_sdk.map(|v| v.to_string()),
            quoted(line("sdkVersion:"), ":")
        );
        assert_eq!(
            info.target_sdk.map(|v| v.to_string()),
            quoted(line("targetSdkVersion:"), ":")
        );
        assert_eq!(info.label, quoted(line("application-label:"), ":"));
        let permissions: Vec<String> = badging
            .lines()
            .filter(|l| l.starts_with("uses-permission: "))
            .filter_map(|l| quoted(l, "name="))
            .collect();
        assert!(permissions.len() > 10, "{permissions:?}");
        assert_eq!(info.permissions, permissions);
        assert_eq!(info.launchable_activity, None);
        assert!(info.abis.is_empty());

        // Through the public entry point, the one-segment package name is refused.
        let file = std::fs::File::open(path).unwrap();
        let err = inspect(file, &Limits::default()).unwrap_err();
        assert_eq!(err.code(), "APK_MALFORMED_MANIFEST");
    }

    #[test]
    fn densities_rank_like_android() {
        let mut d = [DENSITY_ANY, 640, DENSITY_DEFAULT, 120, DENSITY_NONE, 320];
        d.sort_by_key(|x| std::cmp::Reverse(density_rank(*x)));
        assert_eq!(d[..4], [640, 320, DENSITY_DEFAULT, 120]);
    }

    #[test]
    fn images_are_sniffed_by_magic() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"<?xml"), None);
        assert_eq!(sniff_image(b""), None);
    }
}
