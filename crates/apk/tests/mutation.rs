//! Property-style robustness: thousands of randomly mutated copies of the real fixtures'
//! manifest, resource table and zip structure (fixed seeds, so failures reproduce). Whatever the
//! bytes, `inspect` must return — `Ok` or one of the documented codes — and never panic.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::*;
use playrack_test_support::fixtures;

const CODES: [&str; 6] = [
    "APK_NOT_A_ZIP",
    "APK_NO_MANIFEST",
    "APK_MALFORMED_MANIFEST",
    "APK_MALFORMED_RESOURCES",
    "APK_ZIP_BOMB",
    "APK_MISSING_FIELD",
];

/// Applies a random mutation: overwrite 1–8 bytes, and sometimes truncate, duplicate a span or
/// overwrite a whole little-endian u32 with an extreme value.
fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut b = original.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(b.len());
        b[at] = rng.next() as u8;
    }
    match rng.below(8) {
        0 => {
            let keep = rng.below(b.len());
            b.truncate(keep);
        }
        1 if b.len() >= 4 => {
            let at = rng.below(b.len() - 3) & !3;
            let extreme = [0u32, 1, 0x7fff_ffff, 0xffff_ffff, 0x8000, 0xffff][rng.below(6)];
            put_u32(&mut b, at, extreme);
        }
        2 => {
            let at = rng.below(b.len());
            let len = rng.below(64).min(b.len() - at);
            let span = b[at..at + len].to_vec();
            b.splice(at..at, span);
        }
        _ => {}
    }
    b
}

struct Outcome {
    ok: usize,
    errors: usize,
}

/// Runs `iterations` mutations of `entry` inside `fixture`, checking each result.
fn fuzz_entry(fixture: &str, entry_name: &str, seed: u64, iterations: usize) -> Outcome {
    let entries = entries(&fixtures::apk_bytes(fixture));
    let original = &entries.iter().find(|(n, _)| n == entry_name).unwrap().1;
    let mut rng = Rng::new(seed);
    let mut out = Outcome { ok: 0, errors: 0 };
    for i in 0..iterations {
        let mutated = mutate(&mut rng, original);
        let mut z = Zip::new();
        for (name, data) in &entries {
            let d = if name == entry_name {
                mutated.clone()
            } else {
                data.clone()
            };
            z.add(name, Data::Stored(d));
        }
        let apk = z.finish();
        check(
            &apk,
            &mut out,
            &format!("{fixture}:{entry_name} seed {seed:#x} iteration {i}"),
        );
    }
    out
}

fn check(apk: &[u8], out: &mut Outcome, case: &str) {
    match catch_unwind(AssertUnwindSafe(|| inspect(apk))) {
        Err(_) => panic!("inspect panicked on {case}"),
        Ok(Ok(_)) => out.ok += 1,
        Ok(Err(e)) => {
            assert!(
                CODES.contains(&e.code()),
                "{case}: unexpected {} — {e}",
                e.code()
            );
            assert!(!e.to_string().is_empty());
            out.errors += 1;
        }
    }
}

#[test]
fn mutated_manifests_never_panic() {
    let o = fuzz_entry("tapper-v1", "AndroidManifest.xml", 0xa11d_0001, 3000);
    eprintln!("manifest: {} ok, {} errors", o.ok, o.errors);
    assert!(o.errors > 1000, "most mutations must be detected");
    assert!(
        o.ok > 0,
        "some mutations (of unused bytes) must be harmless"
    );
}

#[test]
fn mutated_resource_tables_never_panic() {
    for (fixture, seed) in [("tapper-v1", 0xa25c_0001), ("runner-v1", 0xa25c_0002)] {
        let o = fuzz_entry(fixture, "resources.arsc", seed, 1500);
        eprintln!("{fixture} arsc: {} ok, {} errors", o.ok, o.errors);
        assert!(o.errors > 0 && o.ok > 0);
    }
}

#[test]
fn mutated_zip_structure_never_panics() {
    // Mutate the signed APK itself, concentrating on the central directory and end record.
    let apk = fixtures::apk_bytes("runner-v1");
    let cd_offset = u32_at(&apk, apk.len() - 22 + 16) as usize;
    let mut rng = Rng::new(0x21b_0001);
    let mut out = Outcome { ok: 0, errors: 0 };
    for i in 0..2000 {
        let mut b = apk.clone();
        for _ in 0..1 + rng.below(4) {
            let at = if rng.below(4) == 0 {
                rng.below(b.len())
            } else {
                cd_offset + rng.below(b.len() - cd_offset)
            };
            b[at] = rng.next() as u8;
        }
        check(&b, &mut out, &format!("zip seed 0x21b0001 iteration {i}"));
    }
    eprintln!("zip: {} ok, {} errors", out.ok, out.errors);
    assert!(out.errors > 0 && out.ok > 0);
}
