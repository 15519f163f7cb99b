//! Topology files an operator imports with `playrack topology import`: a YAML (or JSON)
//! document shaped like the API's `TopologyImport`, or a CSV with one board per row, read into
//! that one type. The readers are the `csv` and `serde_norway` crates; this module only maps
//! rows to the tree and says, with the line, what is wrong in a file. It depends on nothing
//! else of the CLI, so the fuzz target compiles it from this file.
//!
//! The CSV's header names its columns, in any order:
//!
//! ```text
//! region,room,instance_cap,shared_volume,probe_url,placement,array,serial,model,capacity
//! east,hz-1,64,rsync://10.0.0.2/packages,http://10.0.0.3:7700/probe,spread,rack-a,RK-0001,RK3588,hd-60=8;sd-30=16
//! ```
//!
//! `placement` is optional (`spread` unless given). A room's columns (`instance_cap`,
//! `shared_volume`, `probe_url`, `placement`) may be left empty after the room's first row; if
//! given again they must agree. A row with no `serial` declares a room or array without
//! boards. `capacity` is `SPEC=COUNT` pairs separated by `;` (a `,` would split the column).

use std::collections::BTreeMap;

use playrack_wire::api::{
    ImportArray, ImportBoard, ImportRegion, ImportRoom, Placement, TopologyImport,
};

/// The largest topology file read (a few hundred thousand boards).
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// A file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML, or JSON (a YAML subset), shaped like the API's `TopologyImport`.
    Yaml,
    /// One board per row, with a header.
    Csv,
}

impl Format {
    /// The format a file name says (`.csv`; `.yaml`, `.yml`, `.json`), if it says one.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if [".yaml", ".yml", ".json"]
            .iter()
            .any(|e| lower.ends_with(e))
        {
            Some(Format::Yaml)
        } else {
            None
        }
    }
}

/// What is wrong in a file, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is {0} bytes; topology files are at most {MAX_FILE_BYTES} bytes")]
    TooLarge(usize),
    #[error("the file is not UTF-8 text")]
    NotText,
    #[error("{0}")]
    Yaml(String),
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error(
        "the CSV header lacks the column `{0}` (it needs region, room, array, serial, model, capacity, and instance_cap, shared_volume, probe_url for each room)"
    )]
    MissingColumn(&'static str),
    #[error("the file declares no region")]
    Empty,
    #[error("{0} has a control character")]
    Control(String),
}

/// Reads `bytes` as `format`.
pub fn parse(bytes: &[u8], format: Format) -> Result<TopologyImport, FileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge(bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| FileError::NotText)?;
    let doc = match format {
        Format::Yaml => parse_yaml(text)?,
        Format::Csv => parse_csv(text)?,
    };
    if doc.regions.is_empty() {
        return Err(FileError::Empty);
    }
    printable(&doc)?;
    Ok(doc)
}

/// A control character, or one of the two non-characters YAML may not carry.
fn unprintable(c: char) -> bool {
    c.is_control() || c == '\u{fffe}' || c == '\u{ffff}'
}

/// No name, address or id holds a control character (a YAML escape can make one; no real
/// name has one, and they break terminals and logs).
fn printable(doc: &TopologyImport) -> Result<(), FileError> {
    let check = |what: &dyn Fn() -> String, text: &str| {
        if text.chars().any(unprintable) {
            Err(FileError::Control(what()))
        } else {
            Ok(())
        }
    };
    for region in &doc.regions {
        check(&|| format!("region {:?}", region.name), &region.name)?;
        for room in &region.rooms {
            let at = || format!("room {:?} of region {}", room.name, region.name);
            check(&at, &room.name)?;
            check(&|| format!("{}: shared_volume", at()), &room.shared_volume)?;
            check(&|| format!("{}: probe_url", at()), &room.probe_url)?;
            for array in &room.arrays {
                check(&|| format!("{}: array {:?}", at(), array.name), &array.name)?;
                for b in &array.boards {
                    let board = || format!("board {:?}", b.serial);
                    check(&board, &b.serial)?;
                    check(&|| format!("{}: model", board()), &b.model)?;
                    for spec in b.capacity.keys() {
                        check(&|| format!("{}: capacity", board()), spec)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn parse_yaml(text: &str) -> Result<TopologyImport, FileError> {
    serde_norway::from_str(text).map_err(|e| FileError::Yaml(e.to_string()))
}

/// A room as its rows describe it so far.
struct RoomRows {
    name: String,
    columns: RoomColumns,
    /// The line of its first row.
    line: u64,
    /// Array name → its boards, in the file's order.
    arrays: Vec<(String, Vec<ImportBoard>)>,
}

/// The room columns a row may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RoomColumns {
    instance_cap: Option<u32>,
    shared_volume: Option<String>,
    probe_url: Option<String>,
    placement: Option<Placement>,
}

fn parse_csv(text: &str) -> Result<TopologyImport, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let row_error = |e: csv::Error| FileError::Row {
        line: e.position().map(|p| p.line()).unwrap_or(1),
        message: match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} columns where the header has {expected_len}"),
            _ => e.to_string(),
        },
    };
    let header = reader.headers().map_err(row_error)?.clone();
    let column = |name: &'static str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or(FileError::MissingColumn(name))
    };
    let (region_c, room_c, array_c) = (column("region")?, column("room")?, column("array")?);
    let (serial_c, model_c, capacity_c) =
        (column("serial")?, column("model")?, column("capacity")?);
    let (cap_c, volume_c, probe_c) = (
        column("instance_cap")?,
        column("shared_volume")?,
        column("probe_url")?,
    );
    let placement_c = column("placement").ok();

    // region → its rooms, in the file's order.
    let mut regions: Vec<(String, Vec<RoomRows>)> = Vec::new();
    let mut serials: BTreeMap<String, u64> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(row_error)?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let bad = |message: String| FileError::Row { line, message };
        if let Some(c) =
            (0..header.len()).find(|&c| record.get(c).is_some_and(|v| v.chars().any(unprintable)))
        {
            return Err(bad(format!("`{}` has a control character", &header[c])));
        }
        let get = |c: usize| record.get(c).unwrap_or("").to_owned();
        let need = |c: usize, what: &str| {
            let v = get(c);
            if v.is_empty() {
                Err(bad(format!("`{what}` is empty")))
            } else {
                Ok(v)
            }
        };
        let region = need(region_c, "region")?;
        let room = need(room_c, "room")?;
        let columns = RoomColumns {
            instance_cap: match get(cap_c).as_str() {
                "" => None,
                v => Some(
                    v.parse()
                        .map_err(|_| bad(format!("instance_cap {v:?} is not a whole number")))?,
                ),
            },
            shared_volume: Some(get(volume_c)).filter(|v| !v.is_empty()),
            probe_url: Some(get(probe_c)).filter(|v| !v.is_empty()),
            placement: match placement_c.map(get).as_deref() {
                None | Some("") => None,
                Some(v) if v.eq_ignore_ascii_case("spread") => Some(Placement::Spread),
                Some(v) if v.eq_ignore_ascii_case("binpack") => Some(Placement::Binpack),
                Some(v) => return Err(bad(format!("placement {v:?} is not spread or binpack"))),
            },
        };
        let r = match regions.iter().position(|(n, _)| *n == region) {
            Some(i) => i,
            None => {
                regions.push((region.clone(), Vec::new()));
                regions.len() - 1
            }
        };
        let rooms = &mut regions[r].1;
        let room_index = match rooms.iter().position(|r| r.name == room) {
            Some(i) => {
                let first = rooms[i].line;
                merge(&mut rooms[i].columns, &columns).map_err(|what| {
                    bad(format!(
                        "room {room}: {what} differs from its first row (line {first})"
                    ))
                })?;
                i
            }
            None => {
                rooms.push(RoomRows {
                    name: room.clone(),
                    columns,
                    line,
                    arrays: Vec::new(),
                });
                rooms.len() - 1
            }
        };
        let array = get(array_c);
        let serial = get(serial_c);
        if array.is_empty() {
            if !serial.is_empty() {
                return Err(bad(format!("board {serial} has no array")));
            }
            continue;
        }
        let arrays = &mut rooms[room_index].arrays;
        let a = match arrays.iter().position(|(n, _)| *n == array) {
            Some(i) => i,
            None => {
                arrays.push((array, Vec::new()));
                arrays.len() - 1
            }
        };
        if serial.is_empty() {
            continue;
        }
        if let Some(first) = serials.insert(serial.clone(), line) {
            return Err(bad(format!("board {serial} is already on line {first}")));
        }
        let model = need(model_c, "model")?;
        let capacity = parse_capacity(&get(capacity_c)).map_err(bad)?;
        arrays[a].1.push(ImportBoard {
            serial,
            model,
            capacity,
        });
    }

    let mut doc = TopologyImport {
        regions: Vec::new(),
    };
    for (name, rooms) in regions {
        let mut region = ImportRegion {
            name,
            rooms: Vec::new(),
        };
        for RoomRows {
            name,
            columns,
            line,
            arrays,
        } in rooms
        {
            let missing = |what: &str| FileError::Row {
                line,
                message: format!("room {name} needs `{what}` on one of its rows"),
            };
            region.rooms.push(ImportRoom {
                instance_cap: columns
                    .instance_cap
                    .ok_or_else(|| missing("instance_cap"))?,
                shared_volume: columns
                    .shared_volume
                    .ok_or_else(|| missing("shared_volume"))?,
                probe_url: columns.probe_url.ok_or_else(|| missing("probe_url"))?,
                placement: columns.placement.unwrap_or_default(),
                arrays: arrays
                    .into_iter()
                    .map(|(name, boards)| ImportArray { name, boards })
                    .collect(),
                name,
            });
        }
        doc.regions.push(region);
    }
    Ok(doc)
}

/// Folds a later row's room columns into the room's: empty ones say nothing, given ones must
/// agree. Answers the column that disagrees.
fn merge(known: &mut RoomColumns, row: &RoomColumns) -> Result<(), &'static str> {
    fn one<T: Clone + PartialEq>(
        known: &mut Option<T>,
        row: &Option<T>,
        what: &'static str,
    ) -> Result<(), &'static str> {
        match (known.as_ref(), row) {
            (_, None) => Ok(()),
            (None, Some(v)) => {
                *known = Some(v.clone());
                Ok(())
            }
            (Some(k), Some(v)) if k == v => Ok(()),
            _ => Err(what),
        }
    }
    one(&mut known.instance_cap, &row.instance_cap, "instance_cap")?;
    one(
        &mut known.shared_volume,
        &row.shared_volume,
        "shared_volume",
    )?;
    one(&mut known.probe_url, &row.probe_url, "probe_url")?;
    one(&mut known.placement, &row.placement, "placement")
}

/// `hd-60=8;sd-30=16` → spec → slots.
fn parse_capacity(s: &str) -> Result<BTreeMap<String, u32>, String> {
    let mut out = BTreeMap::new();
    for pair in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let parsed = pair
            .split_once('=')
            .and_then(|(spec, n)| Some((spec.trim(), n.trim().parse::<u32>().ok()?)));
        match parsed {
            Some((spec, n)) if !spec.is_empty() => {
                if out.insert(spec.to_owned(), n).is_some() {
                    return Err(format!("capacity names spec {spec} twice"));
                }
            }
            _ => {
                return Err(format!(
                    "capacity {pair:?} is not SPEC=COUNT (pairs separated by `;`)"
                ));
            }
        }
    }
    if out.is_empty() {
        return Err("capacity is empty: give SPEC=COUNT pairs, e.g. hd-60=8;sd-30=16".into());
    }
    Ok(out)
}

/// How many regions, rooms, arrays and boards a document declares.
pub fn counts(doc: &TopologyImport) -> (usize, usize, usize, usize) {
    let rooms = doc.regions.iter().flat_map(|r| &r.rooms);
    let arrays = rooms.clone().flat_map(|r| &r.arrays);
    (
        doc.regions.len(),
        rooms.count(),
        arrays.clone().count(),
        arrays.map(|a| a.boards.len()).sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "region,room,instance_cap,shared_volume,probe_url,array,serial,model,capacity\n";

    #[test]
    fn a_csv_becomes_the_tree_its_rows_describe() {
        let text = format!(
            "{HEADER}east,hz-1,64,rsync://10.0.0.2/packages,http://10.0.0.3:7700/probe,rack-a,RK-1,RK3588,hd-60=8;sd-30=16\n\
             east,hz-1,,,,rack-a,RK-2,RK3588,hd-60=8\n\
             east , hz-1 ,64,,,rack-b,RK-3,RK3588, hd-60 = 4 \n\
             west,sz-1,8,/mnt/volume,http://10.1.0.3:7700/probe,,,,\n"
        );
        let doc = parse(text.as_bytes(), Format::Csv).unwrap();
        assert_eq!(counts(&doc), (2, 2, 2, 3));
        let room = &doc.regions[0].rooms[0];
        assert_eq!(
            (room.name.as_str(), room.instance_cap, room.placement),
            ("hz-1", 64, Placement::Spread)
        );
        assert_eq!(room.shared_volume, "rsync://10.0.0.2/packages");
        assert_eq!(room.arrays[0].boards[1].serial, "RK-2");
        assert_eq!(room.arrays[1].boards[0].capacity["hd-60"], 4);
        assert_eq!(room.arrays[0].boards[0].capacity.len(), 2);
        assert!(doc.regions[1].rooms[0].arrays.is_empty());
    }

    #[test]
    fn yaml_and_json_read_as_the_api_document() {
        let yaml = "regions:\n  - name: east\n    rooms:\n      - name: hz-1\n        instance_cap: 4\n        shared_volume: /mnt/v\n        probe_url: http://10.0.0.3:7700/probe\n        placement: binpack\n        arrays:\n          - name: rack-a\n            boards:\n              - { serial: RK-1, model: RK3588, capacity: { hd-60: 8 } }\n";
        let doc = parse(yaml.as_bytes(), Format::Yaml).unwrap();
        assert_eq!(counts(&doc), (1, 1, 1, 1));
        assert_eq!(doc.regions[0].rooms[0].placement, Placement::Binpack);
        let json = serde_json::to_string(&doc).unwrap();
        let again = parse(json.as_bytes(), Format::Yaml).unwrap();
        assert_eq!(serde_json::to_string(&again).unwrap(), json);
    }

    #[test]
    fn malformed_files_say_what_is_wrong_and_where() {
        let csv = |rows: &str| parse(format!("{HEADER}{rows}").as_bytes(), Format::Csv);
        let row = |line: u64, needle: &str, e: FileError| match e {
            FileError::Row { line: l, message } => {
                assert_eq!(l, line, "{message}");
                assert!(message.contains(needle), "{needle} in {message}");
            }
            other => panic!("{other:?}"),
        };
        let ok = "east,hz-1,64,/v,http://p/probe,rack-a,RK-1,RK3588,hd-60=8\n";
        row(
            3,
            "hd-60=x",
            csv(&format!("{ok}east,hz-1,,,,rack-a,RK-2,RK3588,hd-60=x\n")).unwrap_err(),
        );
        row(
            3,
            "already on line 2",
            csv(&format!("{ok}east,hz-1,,,,rack-a,RK-1,RK3588,hd-60=8\n")).unwrap_err(),
        );
        row(
            3,
            "shared_volume differs",
            csv(&format!(
                "{ok}east,hz-1,,/other,,rack-a,RK-2,RK3588,hd-60=8\n"
            ))
            .unwrap_err(),
        );
        row(
            2,
            "needs `probe_url`",
            csv("east,hz-1,64,/v,,rack-a,RK-1,RK3588,hd-60=8\n").unwrap_err(),
        );
        row(
            2,
            "`model` is empty",
            csv("east,hz-1,64,/v,http://p,rack-a,RK-1,,hd-60=8\n").unwrap_err(),
        );
        row(
            2,
            "capacity is empty",
            csv("east,hz-1,64,/v,http://p,rack-a,RK-1,RK3588,\n").unwrap_err(),
        );
        row(
            2,
            "not a whole number",
            csv("east,hz-1,-1,/v,http://p,rack-a,RK-1,RK3588,hd-60=1\n").unwrap_err(),
        );
        row(
            2,
            "has no array",
            csv("east,hz-1,1,/v,http://p,,RK-1,RK3588,hd-60=1\n").unwrap_err(),
        );
        row(
            2,
            "columns where the header has 9",
            csv("east,hz-1\n").unwrap_err(),
        );
        row(
            2,
            "twice",
            csv("east,hz-1,1,/v,http://p,a,RK-1,RK3588,hd-60=1;hd-60=2\n").unwrap_err(),
        );
        row(
            2,
            "`shared_volume` has a control",
            csv("east,hz-1,1,/v\x7f,http://p,a,RK-1,RK3588,hd-60=1\n").unwrap_err(),
        );
        assert_eq!(
            parse(b"regions: [{name: \"a\\x7f\", rooms: []}]", Format::Yaml).unwrap_err(),
            FileError::Control("region \"a\\u{7f}\"".into())
        );
        assert_eq!(
            parse(b"region,room\neast,hz-1\n", Format::Csv).unwrap_err(),
            FileError::MissingColumn("array")
        );
        assert_eq!(
            parse(HEADER.as_bytes(), Format::Csv).unwrap_err(),
            FileError::Empty
        );
        assert_eq!(
            parse(b"\xff\xfe", Format::Csv).unwrap_err(),
            FileError::NotText
        );
        assert_eq!(
            parse(b"regions: []", Format::Yaml).unwrap_err(),
            FileError::Empty
        );
        assert!(matches!(
            parse(b"regions: [{name: 1, rooms: 7}]", Format::Yaml).unwrap_err(),
            FileError::Yaml(m) if m.contains("rooms")
        ));
        assert!(matches!(
            parse(&vec![b' '; MAX_FILE_BYTES + 1], Format::Yaml).unwrap_err(),
            FileError::TooLarge(_)
        ));
    }

    #[test]
    fn formats_follow_the_file_name() {
        assert_eq!(Format::from_name("boards.CSV"), Some(Format::Csv));
        assert_eq!(Format::from_name("t.yml"), Some(Format::Yaml));
        assert_eq!(Format::from_name("t.json"), Some(Format::Yaml));
        assert_eq!(Format::from_name("topology"), None);
    }
}
