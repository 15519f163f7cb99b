//! Topology files operators import (`crates/cli/src/topology_file.rs`), as CSV and as YAML:
//! the first byte picks the format. What is accepted declares at least one region, every board
//! with a serial, a model and a non-empty capacity, no serial twice in a CSV, and survives a
//! round trip through the API's JSON read back as YAML.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::topology_file::{Format, parse};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let format = if mode & 1 == 0 { Format::Csv } else { Format::Yaml };
    let Ok(doc) = parse(body, format) else {
        return;
    };
    assert!(!doc.regions.is_empty());
    let mut serials = std::collections::BTreeSet::new();
    for board in doc
        .regions
        .iter()
        .flat_map(|r| &r.rooms)
        .flat_map(|r| &r.arrays)
        .flat_map(|a| &a.boards)
    {
        if format == Format::Csv {
            assert!(!board.serial.is_empty() && !board.model.is_empty());
            assert!(!board.capacity.is_empty());
            assert!(serials.insert(board.serial.clone()), "a serial twice");
        }
    }
    let json = serde_json::to_string(&doc).expect("serializes");
    let again = parse(json.as_bytes(), Format::Yaml).expect("its JSON reads back");
    assert_eq!(serde_json::to_string(&again).unwrap(), json);
});
