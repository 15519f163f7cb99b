//! The package cache against the real `rsync`: a plain path source and an `rsync://` daemon on
//! loopback (started here with its own config file). A verified copy lands in the cache; a
//! corrupt or short file is refused and leaves nothing behind; least-recently-used packages
//! are evicted over the budget.

mod support;

use std::time::{Duration, SystemTime};

use node_agent::packages::{PackageCache, default_source, set_last_use};
use sha2::{Digest, Sha256};
use support::RsyncDaemon;

/// Writes a package into a store-shaped shared volume; returns its hash.
fn put(volume: &std::path::Path, bytes: &[u8]) -> String {
    let sha = hex::encode(Sha256::digest(bytes));
    let path = volume.join(default_source(&sha));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    sha
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".incoming")
        .collect();
    v.sort();
    v
}

async fn check_source(volume_url: String, volume: &std::path::Path) {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = PackageCache::open(cache_dir.path().into(), 10 << 20, volume_url).unwrap();

    // A good package arrives, with progress ending at 100.
    let good = bytes(3 << 20, 1);
    let sha = put(volume, &good);
    let mut seen = Vec::new();
    let path = cache
        .sync(&sha, good.len() as u64, "", |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), good);
    assert_eq!(seen.last(), Some(&100));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(cache.get(&sha), Some(path.clone()));
    // Syncing it again is a no-op.
    cache
        .sync(&sha, good.len() as u64, "", |_| {})
        .await
        .unwrap();

    // A corrupt file (right name and size, wrong bytes) is refused and not kept.
    let other = bytes(1 << 20, 2);
    let other_sha = hex::encode(Sha256::digest(&other));
    let mut corrupt = other.clone();
    corrupt[1000] ^= 0xff;
    let src = volume.join(default_source(&other_sha));
    std::fs::create_dir_all(src.parent().unwrap()).unwrap();
    std::fs::write(&src, &corrupt).unwrap();
    let err = cache
        .sync(&other_sha, other.len() as u64, "", |_| {})
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("SHA-256"), "{err:#}");
    assert!(cache.get(&other_sha).is_none());
    // A short (partial) file likewise.
    std::fs::write(&src, &other[..other.len() / 2]).unwrap();
    let err = cache
        .sync(&other_sha, other.len() as u64, "", |_| {})
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("bytes"), "{err:#}");
    assert!(cache.get(&other_sha).is_none());
    assert!(
        entries(&cache_dir.path().join(".incoming")).is_empty(),
        "no partial copy is left"
    );
    // A missing one fails cleanly; a path outside the volume is refused before rsync runs.
    let missing = "0".repeat(64);
    assert!(cache.sync(&missing, 1, "", |_| {}).await.is_err());
    assert!(
        cache
            .sync(&sha, 1, "../../etc/passwd", |_| {})
            .await
            .is_err()
    );
    assert!(cache.sync("not-a-hash", 1, "", |_| {}).await.is_err());
    // Once repaired, it syncs; from an explicit path too.
    std::fs::write(&src, &other).unwrap();
    cache
        .sync(
            &other_sha,
            other.len() as u64,
            &default_source(&other_sha),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(entries(cache_dir.path()).len(), 2);
}

#[tokio::test]
async fn syncs_from_a_plain_path() {
    let volume = tempfile::tempdir().unwrap();
    check_source(volume.path().to_string_lossy().into_owned(), volume.path()).await;
}

#[tokio::test]
async fn syncs_from_an_rsync_daemon() {
    let volume = tempfile::tempdir().unwrap();
    let daemon = RsyncDaemon::start(volume.path());
    check_source(daemon.url(), volume.path()).await;
}

#[tokio::test]
async fn evicts_the_least_recently_used_over_the_budget() {
    let volume = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    // Room for two 1 MiB packages.
    let cache = PackageCache::open(
        cache_dir.path().into(),
        (2 << 20) + 1000,
        volume.path().to_string_lossy().into_owned(),
    )
    .unwrap();
    let pkgs: Vec<(String, Vec<u8>)> = (0..3)
        .map(|i| {
            let b = bytes(1 << 20, 10 + i);
            (put(volume.path(), &b), b)
        })
        .collect();
    let (a, b, c) = (&pkgs[0], &pkgs[1], &pkgs[2]);
    let pa = cache
        .sync(&a.0, a.1.len() as u64, "", |_| {})
        .await
        .unwrap();
    let pb = cache
        .sync(&b.0, b.1.len() as u64, "", |_| {})
        .await
        .unwrap();
    // `a` was used after `b`, so `b` is the least recently used.
    let now = SystemTime::now();
    set_last_use(&pa, now - Duration::from_secs(100)).unwrap();
    set_last_use(&pb, now - Duration::from_secs(200)).unwrap();
    assert!(cache.get(&a.0).is_some()); // marks `a` used now
    cache
        .sync(&c.0, c.1.len() as u64, "", |_| {})
        .await
        .unwrap();
    assert!(cache.get(&a.0).is_some());
    assert!(cache.get(&b.0).is_none(), "b was evicted");
    assert!(cache.get(&c.0).is_some());
    // A pinned package (being installed) is not evicted even when it is the oldest.
    cache.pin(&a.0);
    let pa = cache.get(&a.0).unwrap();
    set_last_use(&pa, now - Duration::from_secs(1000)).unwrap();
    cache
        .sync(&b.0, b.1.len() as u64, "", |_| {})
        .await
        .unwrap();
    assert!(cache.get(&a.0).is_some(), "pinned");
    assert!(cache.get(&c.0).is_none(), "c was the oldest unpinned");
    assert!(cache.get(&b.0).is_some());
    cache.unpin(&a.0);
    // A package larger than the whole budget is refused outright.
    let big = bytes(3 << 20, 99);
    let big_sha = put(volume.path(), &big);
    assert!(
        cache
            .sync(&big_sha, big.len() as u64, "", |_| {})
            .await
            .is_err()
    );
}
