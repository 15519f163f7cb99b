//! Installed packages: what `pm install` recorded, kept in `<data_dir>/state/packages.json`
//! so it survives a restart of the device process.
//!
//! An installed package has its APK at `/data/app/<package>-1/base.apk` and its private data
//! directory at `/data/data/<package>` (both inside the sandbox). The record holds what
//! `am start` and `monkey` need: the launchable activity the manifest declares. Which package
//! names are valid is `playrack_apk::names`' rule, not this module's.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    pub package: String,
    pub version_code: i64,
    pub version_name: Option<String>,
    /// Fully qualified class name of the launcher activity, if the app has one.
    pub launchable_activity: Option<String>,
    /// Android path of the installed APK.
    pub apk_path: String,
    pub label: Option<String>,
}

impl InstalledPackage {
    /// The Android path of the installed APK for `package`.
    pub fn apk_path_for(package: &str) -> String {
        format!("/data/app/{package}-1/base.apk")
    }

    /// The app's private data directory.
    pub fn data_dir(&self) -> String {
        format!("/data/data/{}", self.package)
    }
}

/// The package database.
#[derive(Debug)]
pub struct Packages {
    file: PathBuf,
    packages: Mutex<BTreeMap<String, InstalledPackage>>,
}

impl Packages {
    /// Loads the database kept in `state_dir` (empty if there is none yet).
    pub fn load(state_dir: &Path) -> io::Result<Packages> {
        std::fs::create_dir_all(state_dir)?;
        let file = state_dir.join("packages.json");
        let packages = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", file.display()),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(Packages {
            file,
            packages: Mutex::new(packages),
        })
    }

    fn save(&self, map: &BTreeMap<String, InstalledPackage>) -> io::Result<()> {
        let tmp = self.file.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(map).map_err(io::Error::other)?,
        )?;
        std::fs::rename(tmp, &self.file)
    }

    pub fn get(&self, package: &str) -> Option<InstalledPackage> {
        self.packages.lock().unwrap().get(package).cloned()
    }

    /// All installed packages, sorted by name.
    pub fn list(&self) -> Vec<InstalledPackage> {
        self.packages.lock().unwrap().values().cloned().collect()
    }

    /// Records (or replaces) a package and persists the database.
    pub fn insert(&self, p: InstalledPackage) -> io::Result<()> {
        let mut map = self.packages.lock().unwrap();
        map.insert(p.package.clone(), p);
        self.save(&map)
    }

    /// Forgets a package; `None` if it was not installed.
    pub fn remove(&self, package: &str) -> io::Result<Option<InstalledPackage>> {
        let mut map = self.packages.lock().unwrap();
        let removed = map.remove(package);
        if removed.is_some() {
            self.save(&map)?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let db = Packages::load(dir.path()).unwrap();
        let p = InstalledPackage {
            package: "com.example.tapper".into(),
            version_code: 1,
            version_name: Some("1.0".into()),
            launchable_activity: Some("com.example.tapper.MainActivity".into()),
            apk_path: InstalledPackage::apk_path_for("com.example.tapper"),
            label: None,
        };
        db.insert(p.clone()).unwrap();
        let again = Packages::load(dir.path()).unwrap();
        assert_eq!(again.get("com.example.tapper"), Some(p));
        assert!(again.remove("com.example.tapper").unwrap().is_some());
        assert!(Packages::load(dir.path()).unwrap().list().is_empty());
    }

    #[test]
    fn package_names() {
        use playrack_apk::names::is_package_name as valid_package_name;
        assert!(valid_package_name("com.example.tapper"));
        assert!(valid_package_name("a_b.c1"));
        for bad in ["tapper", "com..x", "com/x.y", "../x.y", "com.1x", ""] {
            assert!(!valid_package_name(bad), "{bad}");
        }
    }
}
