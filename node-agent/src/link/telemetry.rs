//! Board health for the heartbeats: CPU use and load from `/proc`, memory from
//! `/proc/meminfo`, free disk of the data directory from `statvfs`, temperatures from
//! `/sys/class/thermal/thermal_zone*/temp` (absent on many machines; then the list is empty).
//!
//! The parsers are pure functions over the files' text; [`Sampler`] does the reading and
//! keeps the previous `/proc/stat` counters, since CPU use is a difference between two samples.

use std::path::{Path, PathBuf};

use playrack_wire::agent::Telemetry;

/// `(idle, total)` jiffies from the `cpu` line of `/proc/stat`.
pub fn parse_proc_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    if fields.len() < 4 {
        return None;
    }
    // idle + iowait count as idle; guest time is already inside user/nice.
    let idle = fields[3] + fields.get(4).copied().unwrap_or(0);
    let total = fields.iter().take(8).sum();
    Some((idle, total))
}

/// `(used_mb, total_mb)` from `/proc/meminfo` (used = total − available).
pub fn parse_meminfo(text: &str) -> Option<(u32, u32)> {
    let kb = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
    };
    let total = kb("MemTotal:")?;
    let available = kb("MemAvailable:").or_else(|| kb("MemFree:"))?;
    let mb = |k: u64| u32::try_from(k / 1024).unwrap_or(u32::MAX);
    Some((mb(total.saturating_sub(available)), mb(total)))
}

/// The 1-minute load average from `/proc/loadavg`.
pub fn parse_loadavg(text: &str) -> Option<f32> {
    text.split_whitespace().next()?.parse().ok()
}

/// A thermal zone's `temp` file (millidegrees Celsius) in °C.
pub fn parse_thermal(text: &str) -> Option<f32> {
    text.trim().parse::<i64>().ok().map(|m| m as f32 / 1000.0)
}

/// CPU use between two `/proc/stat` samples, in percent of all cores.
pub fn cpu_percent(prev: (u64, u64), now: (u64, u64)) -> f32 {
    let total = now.1.saturating_sub(prev.1);
    let idle = now.0.saturating_sub(prev.0);
    if total == 0 {
        return 0.0;
    }
    (100.0 * (total.saturating_sub(idle)) as f64 / total as f64) as f32
}

/// Free space of the filesystem holding `path`, in MiB.
pub fn disk_free_mb(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statvfs.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if rc != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64) >> 20)
}

/// Reads the board's health; keeps the previous CPU counters between calls.
#[derive(Debug)]
pub struct Sampler {
    proc_root: PathBuf,
    thermal_root: PathBuf,
    disk: PathBuf,
    prev_cpu: Option<(u64, u64)>,
}

impl Sampler {
    /// Reads `/proc` and `/sys/class/thermal`; reports free disk of `disk`.
    pub fn new(disk: PathBuf) -> Sampler {
        Sampler::with_roots(
            PathBuf::from("/proc"),
            PathBuf::from("/sys/class/thermal"),
            disk,
        )
    }

    /// Reads other roots (tests point these at fixture trees).
    pub fn with_roots(proc_root: PathBuf, thermal_root: PathBuf, disk: PathBuf) -> Sampler {
        Sampler {
            proc_root,
            thermal_root,
            disk,
            prev_cpu: None,
        }
    }

    /// One sample. The first CPU figure is the average since boot.
    pub fn sample(&mut self, instances_running: u32, instances_warm: u32) -> Telemetry {
        let read = |name: &str| std::fs::read_to_string(self.proc_root.join(name)).ok();
        let cpu_now = read("stat").as_deref().and_then(parse_proc_stat);
        let cpu = match (self.prev_cpu, cpu_now) {
            (Some(prev), Some(now)) if now.1 > prev.1 => cpu_percent(prev, now),
            (_, Some(now)) => cpu_percent((0, 0), now),
            _ => 0.0,
        };
        if cpu_now.is_some() {
            self.prev_cpu = cpu_now;
        }
        let (mem_used_mb, mem_total_mb) = read("meminfo")
            .as_deref()
            .and_then(parse_meminfo)
            .unwrap_or((0, 0));
        let mut zones: Vec<(String, f32)> = std::fs::read_dir(&self.thermal_root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("thermal_zone"))
            .filter_map(|e| {
                let t = std::fs::read_to_string(e.path().join("temp")).ok()?;
                Some((
                    e.file_name().to_string_lossy().into_owned(),
                    parse_thermal(&t)?,
                ))
            })
            .collect();
        zones.sort_by(|a, b| a.0.cmp(&b.0));
        Telemetry {
            cpu_percent: cpu,
            load1: read("loadavg")
                .as_deref()
                .and_then(parse_loadavg)
                .unwrap_or(0.0),
            mem_used_mb,
            mem_total_mb,
            disk_free_mb: disk_free_mb(&self.disk).unwrap_or(0),
            temperatures_c: zones.into_iter().map(|z| z.1).collect(),
            instances_running,
            instances_warm,
            primed: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let stat = "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n";
        assert_eq!(parse_proc_stat(stat), Some((800, 1000)));
        assert_eq!(cpu_percent((800, 1000), (1600, 2000)), 20.0);
        let mem = "MemTotal:        8192000 kB\nMemFree:  100 kB\nMemAvailable:    4096000 kB\n";
        assert_eq!(parse_meminfo(mem), Some((4000, 8000)));
        assert_eq!(parse_loadavg("0.52 0.40 0.30 1/200 999"), Some(0.52));
        assert_eq!(parse_thermal("45500\n"), Some(45.5));
    }

    #[test]
    fn samples_a_fixture_tree_and_tolerates_missing_thermal() {
        let dir = tempfile::tempdir().unwrap();
        let proc_ = dir.path().join("proc");
        let thermal = dir.path().join("thermal");
        std::fs::create_dir_all(thermal.join("thermal_zone1")).unwrap();
        std::fs::create_dir_all(thermal.join("thermal_zone0")).unwrap();
        std::fs::create_dir_all(&proc_).unwrap();
        std::fs::write(thermal.join("thermal_zone0/temp"), "41000").unwrap();
        std::fs::write(thermal.join("thermal_zone1/temp"), "52000").unwrap();
        std::fs::write(proc_.join("stat"), "cpu  100 0 100 800 0 0 0 0\n").unwrap();
        std::fs::write(proc_.join("loadavg"), "1.5 1 1 1/1 1").unwrap();
        let mut s = Sampler::with_roots(proc_.clone(), thermal, dir.path().into());
        let t = s.sample(3, 1);
        assert_eq!(t.temperatures_c, vec![41.0, 52.0]);
        assert_eq!(t.load1, 1.5);
        assert_eq!((t.instances_running, t.instances_warm), (3, 1));
        assert!(t.disk_free_mb > 0);
        std::fs::write(proc_.join("stat"), "cpu  150 0 150 900 0 0 0 0\n").unwrap();
        assert_eq!(s.sample(0, 0).cpu_percent, 50.0);
        let mut none = Sampler::with_roots(
            dir.path().join("nope"),
            dir.path().join("nope"),
            dir.path().join("nope"),
        );
        let t = none.sample(0, 0);
        assert!(t.temperatures_c.is_empty());
        assert_eq!(t.mem_total_mb, 0);
    }
}
