//! System properties: the device's Android identity (`getprop`/`setprop`).
//!
//! Static properties are set from the device configuration at start. `sys.boot_completed`
//! (and `dev.bootcomplete`) are computed: absent until the configured boot delay has passed
//! since the device started, then `1` — the signal tools poll to know Android is up. Time is an
//! input ([`Props::get_at`]) so the boot logic is tested without waiting.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The Android version this device claims (Android 13).
pub const SDK_INT: u32 = 33;
pub const RELEASE: &str = "13";
/// The primary ABI: the boards are ARM64.
pub const CPU_ABI: &str = "arm64-v8a";
pub const CPU_ABILIST: &str = "arm64-v8a,armeabi-v7a,armeabi";

/// What the device says about itself.
#[derive(Debug, Clone)]
pub struct Identity {
    pub serial: String,
    pub model: String,
    /// `ro.product.name` and `ro.product.device`.
    pub product: String,
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
    pub fps: u32,
}

/// Why `setprop` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetPropError {
    #[error("read-only property {0} is already set")]
    ReadOnly(String),
    #[error("invalid property name {0:?}")]
    BadName(String),
}

/// The property store.
#[derive(Debug)]
pub struct Props {
    values: Mutex<BTreeMap<String, String>>,
    booted_at: Mutex<Instant>,
    boot_delay: Duration,
}

impl Props {
    /// Properties for `identity`; boot completes `boot_delay` after `started`.
    pub fn new(identity: &Identity, started: Instant, boot_delay: Duration) -> Props {
        let mut v = BTreeMap::new();
        let mut set = |k: &str, val: String| {
            v.insert(k.to_string(), val);
        };
        set("ro.build.version.sdk", SDK_INT.to_string());
        set("ro.build.version.release", RELEASE.into());
        set("ro.build.version.codename", "REL".into());
        set("ro.build.version.security_patch", "2023-08-05".into());
        set("ro.build.type", "userdebug".into());
        set("ro.build.tags", "test-keys".into());
        set("ro.build.id", "TQ3A.230805.001".into());
        set(
            "ro.build.fingerprint",
            format!(
                "playrack/{0}/{0}:13/TQ3A.230805.001/playrack:userdebug/test-keys",
                identity.product
            ),
        );
        set("ro.product.model", identity.model.clone());
        set("ro.product.name", identity.product.clone());
        set("ro.product.device", identity.product.clone());
        set("ro.product.brand", "Playrack".into());
        set("ro.product.manufacturer", "Playrack".into());
        set("ro.product.cpu.abi", CPU_ABI.into());
        set("ro.product.cpu.abilist", CPU_ABILIST.into());
        set("ro.product.cpu.abilist64", "arm64-v8a".into());
        set("ro.product.cpu.abilist32", "armeabi-v7a,armeabi".into());
        set("ro.hardware", "playrack".into());
        set("ro.serialno", identity.serial.clone());
        set("ro.boot.serialno", identity.serial.clone());
        set("ro.debuggable", "1".into());
        set("ro.secure", "1".into());
        set("ro.sf.lcd_density", identity.dpi.to_string());
        set("ro.boot.redroid_width", identity.width.to_string());
        set("ro.boot.redroid_height", identity.height.to_string());
        set("ro.boot.redroid_fps", identity.fps.to_string());
        set("ro.boot.redroid_dpi", identity.dpi.to_string());
        set("service.adb.tcp.port", "5555".into());
        set("persist.sys.timezone", "UTC".into());
        set("persist.sys.locale", "en-US".into());
        Props {
            values: Mutex::new(v),
            booted_at: Mutex::new(started + boot_delay),
            boot_delay,
        }
    }

    /// A property's value now.
    pub fn get(&self, name: &str) -> Option<String> {
        self.get_at(name, Instant::now())
    }

    /// A property's value at `now`.
    pub fn get_at(&self, name: &str, now: Instant) -> Option<String> {
        if let Some(v) = self.computed(name, now) {
            return v;
        }
        self.values.lock().unwrap().get(name).cloned()
    }

    fn computed(&self, name: &str, now: Instant) -> Option<Option<String>> {
        let booted = now >= *self.booted_at.lock().unwrap();
        match name {
            "sys.boot_completed" | "dev.bootcomplete" => Some(booted.then(|| "1".to_string())),
            "init.svc.bootanim" => {
                Some(Some(if booted { "stopped" } else { "running" }.to_string()))
            }
            _ => None,
        }
    }

    /// Every property at `now`, sorted by name.
    pub fn all_at(&self, now: Instant) -> Vec<(String, String)> {
        let mut all = self.values.lock().unwrap().clone();
        for name in [
            "sys.boot_completed",
            "dev.bootcomplete",
            "init.svc.bootanim",
        ] {
            match self.computed(name, now).flatten() {
                Some(v) => all.insert(name.to_string(), v),
                None => all.remove(name),
            };
        }
        all.into_iter().collect()
    }

    /// A reboot at `now`: boot completes again one boot delay later.
    pub fn restart_boot(&self, now: Instant) {
        *self.booted_at.lock().unwrap() = now + self.boot_delay;
    }

    /// `setprop`: `ro.*` properties are write-once, as on Android.
    pub fn set(&self, name: &str, value: &str) -> Result<(), SetPropError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@:".contains(c))
        {
            return Err(SetPropError::BadName(name.to_string()));
        }
        let mut v = self.values.lock().unwrap();
        if (name.starts_with("ro.") && v.contains_key(name))
            || self.computed(name, Instant::now()).is_some()
        {
            return Err(SetPropError::ReadOnly(name.to_string()));
        }
        v.insert(name.to_string(), value.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            serial: "s1".into(),
            model: "Playrack VD".into(),
            product: "playrack_arm64".into(),
            width: 720,
            height: 1280,
            dpi: 320,
            fps: 60,
        }
    }

    #[test]
    fn identity_props() {
        let p = Props::new(&identity(), Instant::now(), Duration::ZERO);
        assert_eq!(p.get("ro.build.version.sdk").as_deref(), Some("33"));
        assert_eq!(p.get("ro.build.version.release").as_deref(), Some("13"));
        assert_eq!(p.get("ro.product.cpu.abi").as_deref(), Some("arm64-v8a"));
        assert_eq!(p.get("ro.product.model").as_deref(), Some("Playrack VD"));
        assert_eq!(p.get("nope"), None);
    }

    #[test]
    fn boot_completes_after_the_delay() {
        let t0 = Instant::now();
        let p = Props::new(&identity(), t0, Duration::from_secs(5));
        assert_eq!(p.get_at("sys.boot_completed", t0), None);
        assert_eq!(
            p.get_at("sys.boot_completed", t0 + Duration::from_millis(4999)),
            None
        );
        assert_eq!(
            p.get_at("sys.boot_completed", t0 + Duration::from_secs(5))
                .as_deref(),
            Some("1")
        );
        assert!(!p.all_at(t0).iter().any(|(k, _)| k == "sys.boot_completed"));
        assert!(
            p.all_at(t0 + Duration::from_secs(6))
                .contains(&("sys.boot_completed".into(), "1".into()))
        );
    }

    #[test]
    fn a_reboot_restarts_the_boot_clock() {
        let t0 = Instant::now();
        let p = Props::new(&identity(), t0, Duration::from_secs(2));
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(p.get_at("sys.boot_completed", t1).as_deref(), Some("1"));
        p.restart_boot(t1);
        assert_eq!(
            p.get_at("sys.boot_completed", t1 + Duration::from_secs(1)),
            None
        );
        assert_eq!(
            p.get_at("sys.boot_completed", t1 + Duration::from_secs(2))
                .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn setprop_rules() {
        let p = Props::new(&identity(), Instant::now(), Duration::ZERO);
        p.set("debug.playrack", "on").unwrap();
        assert_eq!(p.get("debug.playrack").as_deref(), Some("on"));
        assert_eq!(
            p.set("ro.product.model", "x"),
            Err(SetPropError::ReadOnly("ro.product.model".into()))
        );
        p.set("ro.new.one", "1").unwrap();
        assert!(p.set("ro.new.one", "2").is_err());
        assert!(p.set("sys.boot_completed", "1").is_err());
        assert!(p.set("bad name", "1").is_err());
    }
}
