//! Operator commands: specs (what tenants buy), orders (what they bought), the topology
//! (imported from a file, shown as a tree), and a board's instances, shell and agent log.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Subcommand;

use playrack_wire::Timestamp;
use playrack_wire::api::*;
use reqwest::Method;

use crate::api::{Api, CliError, refused};
use crate::output::{show, spelled, table};
use crate::topology_file::{self, Format};
use crate::{board_id, resolve, signed_in};

#[derive(Debug, Subcommand)]
pub enum SpecsCmd {
    /// Lists the specs with their display, bit rates, reservation and price.
    List,
    /// Creates a spec.
    Create {
        /// A readable id, e.g. `hd-60`.
        id: String,
        /// Its display name (default: the id).
        #[arg(long)]
        name: Option<String>,
        /// The display, `WIDTHxHEIGHT` (portrait: width < height).
        #[arg(long)]
        size: String,
        #[arg(long)]
        fps: u32,
        /// The video bit-rate window in kbit/s, `MIN-MAX`.
        #[arg(long)]
        bitrate: String,
        /// CPU reserved per instance, in thousandths of a core.
        #[arg(long, default_value_t = 0)]
        cpu_millis: u32,
        /// Memory reserved per instance, in MiB.
        #[arg(long, default_value_t = 0)]
        memory_mb: u32,
        /// Price per minute of play, in the platform's currency (e.g. `0.05`).
        #[arg(long)]
        price: String,
    },
    /// Changes a spec's name, bit rates, reservation or price.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        /// `MIN-MAX` in kbit/s.
        #[arg(long)]
        bitrate: Option<String>,
        #[arg(long)]
        cpu_millis: Option<u32>,
        #[arg(long)]
        memory_mb: Option<u32>,
        /// Price per minute of play, in the platform's currency.
        #[arg(long)]
        price: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrdersCmd {
    /// Lists orders (a tenant sees its own; operators all, or one tenant's).
    List {
        /// Operators: one tenant only (id or name).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Sells a tenant concurrency of a spec in a region or in some rooms.
    Create {
        /// The tenant (id or name).
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        spec: String,
        /// Every room of this region (id or name) …
        #[arg(long, conflicts_with = "rooms", required_unless_present = "rooms")]
        region: Option<String>,
        /// … or these rooms (id or name; repeat).
        #[arg(long = "room")]
        rooms: Vec<String>,
        /// Instances at once.
        #[arg(long)]
        concurrency: u32,
        /// Start: `YYYY-MM-DD` (UTC midnight) or RFC 3339. Default: now.
        #[arg(long)]
        from: Option<String>,
        /// End: `YYYY-MM-DD` (UTC midnight) or RFC 3339.
        #[arg(long)]
        until: String,
        /// Allocation priority inside the tenant's tier.
        #[arg(long, default_value_t = 0)]
        priority: i32,
        /// Price of one unit of concurrency for a whole billing period, in the platform's
        /// currency (e.g. `300`); bills charge it pro rata. Default: 0.
        #[arg(long)]
        price: Option<String>,
    },
    /// Changes an order's concurrency, end, priority or price (billed from now on).
    Update {
        id: String,
        #[arg(long)]
        concurrency: Option<u32>,
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        priority: Option<i32>,
        /// Price of one unit for a whole billing period, in the platform's currency.
        #[arg(long)]
        price: Option<String>,
    },
    /// Cancels an order (its plays run out; no new ones count on it).
    Cancel { id: String },
}

#[derive(Debug, Subcommand)]
pub enum TopologyCmd {
    /// Imports regions, rooms, arrays and boards from a YAML/JSON or CSV file, all or nothing:
    /// existing ones (by name in their parent, boards by serial) are updated, new ones created,
    /// nothing deleted. The CSV has one board per row under a header: region, room,
    /// instance_cap, shared_volume, probe_url, [placement,] array, serial, model, capacity
    /// (`hd-60=8;sd-30=16`); a room's columns may be left empty after its first row.
    Import {
        file: PathBuf,
        /// The file's format (default: from its extension).
        #[arg(long, value_enum)]
        format: Option<FileFormat>,
        /// Check the file and say what it declares, without importing it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Shows regions, rooms, arrays and boards as a tree.
    Show,
}

/// A topology file's format, as `--format` names it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FileFormat {
    /// YAML, or JSON, shaped like the API's topology import.
    Yaml,
    /// One board per row, with a header.
    Csv,
}

/// `1280x720` → (1280, 720).
fn parse_size(s: &str) -> Result<(u32, u32), CliError> {
    s.split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)))
        .filter(|&(w, h): &(u32, u32)| w > 0 && h > 0)
        .ok_or_else(|| CliError::Usage(format!("--size {s:?} is not WIDTHxHEIGHT, e.g. 720x1280")))
}

/// `2000-8000` → (2000, 8000).
fn parse_bitrate(s: &str) -> Result<(u32, u32), CliError> {
    s.split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
        .filter(|&(a, b): &(u32, u32)| a > 0 && a <= b)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--bitrate {s:?} is not MIN-MAX in kbit/s with MIN ≤ MAX, e.g. 2000-8000"
            ))
        })
}

/// A price in currency units (`0.05`, `3`) as micro-units, exactly (no floating point).
fn parse_price(s: &str) -> Result<i64, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--price {s:?} is not an amount with at most 6 decimals, e.g. 0.05"
        ))
    };
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 6
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac: i64 = format!("{frac:0<6}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)
}

/// `YYYY-MM-DD` (UTC midnight) or RFC 3339.
fn parse_instant(flag: &str, s: &str) -> Result<Timestamp, CliError> {
    let text = if s.len() == 10 && s.as_bytes()[4] == b'-' {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    Timestamp::parse(&text).map_err(|e| CliError::Usage(format!("--{flag}: {e}")))
}

fn money(micros: i64) -> String {
    format!("{:.4}", micros as f64 / 1e6)
}

fn spec_row(s: &Spec) -> Vec<String> {
    vec![
        s.id.clone(),
        s.name.clone(),
        format!("{}x{}@{}", s.width, s.height, s.fps),
        format!("{}-{} kbit/s", s.bitrate_min_kbps, s.bitrate_max_kbps),
        format!("{} m / {} MiB", s.cpu_millis, s.memory_mb),
        money(s.price_per_minute_micros),
    ]
}

const SPEC_HEADER: [&str; 6] = ["ID", "NAME", "DISPLAY", "BITRATE", "RESERVES", "PRICE/MIN"];

pub async fn specs(cmd: SpecsCmd, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    match cmd {
        SpecsCmd::List => {
            let specs: Vec<Spec> = api.all("/v1/specs").await?;
            show(json, &specs, |ss| {
                table(&SPEC_HEADER, ss.iter().map(spec_row).collect())
            });
        }
        SpecsCmd::Create {
            id,
            name,
            size,
            fps,
            bitrate,
            cpu_millis,
            memory_mb,
            price,
        } => {
            let (width, height) = parse_size(&size)?;
            let (bitrate_min_kbps, bitrate_max_kbps) = parse_bitrate(&bitrate)?;
            let spec = Spec {
                name: name.unwrap_or_else(|| id.clone()),
                id,
                width,
                height,
                fps,
                bitrate_min_kbps,
                bitrate_max_kbps,
                cpu_millis,
                memory_mb,
                price_per_minute_micros: parse_price(&price)?,
            };
            let s: Spec = api.call(Method::POST, "/v1/specs", Some(&spec)).await?;
            show(json, &s, |s| table(&SPEC_HEADER, vec![spec_row(s)]));
        }
        SpecsCmd::Update {
            id,
            name,
            bitrate,
            cpu_millis,
            memory_mb,
            price,
        } => {
            let window = bitrate.as_deref().map(parse_bitrate).transpose()?;
            let update = UpdateSpec {
                name,
                bitrate_min_kbps: window.map(|w| w.0),
                bitrate_max_kbps: window.map(|w| w.1),
                cpu_millis,
                memory_mb,
                price_per_minute_micros: price.as_deref().map(parse_price).transpose()?,
            };
            let s: Spec = api
                .call(Method::PATCH, &format!("/v1/specs/{id}"), Some(&update))
                .await?;
            show(json, &s, |s| table(&SPEC_HEADER, vec![spec_row(s)]));
        }
    }
    Ok(())
}

pub(crate) async fn tenant_id(api: &Api, tenant: &str) -> Result<String, CliError> {
    resolve(api, "/v1/tenants", "tenant", tenant, |t: &Tenant| {
        (&t.id, &t.name)
    })
    .await
}

fn order_row(o: &Order) -> Vec<String> {
    vec![
        o.id.clone(),
        o.tenant_id.clone(),
        o.spec_id.clone(),
        o.region_id.clone().unwrap_or_else(|| o.room_ids.join(",")),
        o.concurrency.to_string(),
        format!("{} – {}", o.valid_from, o.valid_until),
        spelled(&o.status),
    ]
}

const ORDER_HEADER: [&str; 7] = [
    "ID",
    "TENANT",
    "SPEC",
    "WHERE",
    "CONCURRENCY",
    "VALID",
    "STATUS",
];

pub async fn orders(cmd: OrdersCmd, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    let answer: Order = match cmd {
        OrdersCmd::List { tenant } => {
            let mut query = Vec::new();
            if let Some(t) = tenant {
                query.push(("tenant_id", tenant_id(&api, &t).await?));
            }
            let orders: Vec<Order> = api.all_with("/v1/orders", &query).await?;
            show(json, &orders, |os| {
                table(&ORDER_HEADER, os.iter().map(order_row).collect())
            });
            return Ok(());
        }
        OrdersCmd::Create {
            tenant,
            spec,
            region,
            rooms,
            concurrency,
            from,
            until,
            priority,
            price,
        } => {
            let region_id = match region {
                Some(r) => Some(
                    resolve(&api, "/v1/regions", "region", &r, |x: &Region| {
                        (&x.id, &x.name)
                    })
                    .await?,
                ),
                None => None,
            };
            let mut room_ids = Vec::new();
            for r in rooms {
                room_ids.push(
                    resolve(&api, "/v1/rooms", "room", &r, |x: &Room| (&x.id, &x.name)).await?,
                );
            }
            let order = CreateOrder {
                tenant_id: tenant_id(&api, &tenant).await?,
                spec_id: spec,
                region_id,
                room_ids,
                concurrency,
                valid_from: match from {
                    Some(f) => parse_instant("from", &f)?,
                    None => Timestamp::now(),
                },
                valid_until: parse_instant("until", &until)?,
                priority,
                price_per_period_micros: price
                    .as_deref()
                    .map(parse_price)
                    .transpose()?
                    .unwrap_or(0),
            };
            api.call(Method::POST, "/v1/orders", Some(&order)).await?
        }
        OrdersCmd::Update {
            id,
            concurrency,
            until,
            priority,
            price,
        } => {
            let update = UpdateOrder {
                concurrency,
                valid_until: until.map(|u| parse_instant("until", &u)).transpose()?,
                priority,
                status: None,
                price_per_period_micros: price.as_deref().map(parse_price).transpose()?,
            };
            api.call(Method::PATCH, &format!("/v1/orders/{id}"), Some(&update))
                .await?
        }
        OrdersCmd::Cancel { id } => {
            let update = UpdateOrder {
                status: Some(OrderStatus::Cancelled),
                ..Default::default()
            };
            api.call(Method::PATCH, &format!("/v1/orders/{id}"), Some(&update))
                .await?
        }
    };
    show(json, &answer, |o| table(&ORDER_HEADER, vec![order_row(o)]));
    Ok(())
}

pub async fn topology(cmd: TopologyCmd, json: bool) -> Result<(), CliError> {
    match cmd {
        TopologyCmd::Import {
            file,
            format,
            dry_run,
        } => {
            let name = file.to_string_lossy();
            let format = format
                .map(|f| match f {
                    FileFormat::Yaml => Format::Yaml,
                    FileFormat::Csv => Format::Csv,
                })
                .or_else(|| Format::from_name(&name))
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "cannot tell the format of {name} from its name: give --format yaml or --format csv"
                    ))
                })?;
            let size = std::fs::metadata(&file)
                .map_err(|e| CliError::Usage(format!("cannot read {name}: {e}")))?
                .len();
            if size > topology_file::MAX_FILE_BYTES as u64 {
                return Err(CliError::Usage(format!(
                    "{name}: {}",
                    topology_file::FileError::TooLarge(size as usize)
                )));
            }
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::Usage(format!("cannot read {name}: {e}")))?;
            let doc = topology_file::parse(&bytes, format)
                .map_err(|e| CliError::Usage(format!("{name}: {e}")))?;
            let (regions, rooms, arrays, boards) = topology_file::counts(&doc);
            let declares = format!(
                "{regions} region(s), {rooms} room(s), {arrays} array(s), {boards} board(s)"
            );
            if dry_run {
                show(json, &doc, |_| {
                    println!("{name} declares {declares}; nothing imported")
                });
                return Ok(());
            }
            let (api, _) = signed_in()?;
            let report: ImportReport = api
                .call(Method::POST, "/v1/topology/import", Some(&doc))
                .await?;
            show(json, &report, |r| {
                println!(
                    "imported {declares}: {} created, {} updated",
                    r.created, r.updated
                )
            });
        }
        TopologyCmd::Show => {
            let (api, _) = signed_in()?;
            let regions: Vec<Region> = api.all("/v1/regions").await?;
            let rooms: Vec<Room> = api.all("/v1/rooms").await?;
            let arrays: Vec<Array> = api.all("/v1/arrays").await?;
            let boards: Vec<Board> = api.all("/v1/boards").await?;
            let tree = serde_json::json!({
                "regions": regions, "rooms": rooms, "arrays": arrays, "boards": boards,
            });
            show(json, &tree, |_| {
                for region in &regions {
                    println!("{} ({})", region.name, region.id);
                    for room in rooms.iter().filter(|r| r.region_id == region.id) {
                        println!(
                            "  {} ({}) cap {} instances",
                            room.name, room.id, room.instance_cap
                        );
                        for array in arrays.iter().filter(|a| a.room_id == room.id) {
                            println!("    {} ({})", array.name, array.id);
                            for b in boards.iter().filter(|b| b.array_id == array.id) {
                                let capacity: Vec<String> =
                                    b.capacity.iter().map(|(s, n)| format!("{s}={n}")).collect();
                                println!(
                                    "      {} {} {} {} [{}]",
                                    b.serial,
                                    b.model,
                                    spelled(&b.status),
                                    spelled(&b.agent_state),
                                    capacity.join(" ")
                                );
                            }
                        }
                    }
                }
            });
        }
    }
    Ok(())
}

/// A board's instances.
pub async fn instances(board: &str, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    let id = board_id(&api, board).await?;
    let list: Vec<BoardInstance> = api.get(&format!("/v1/boards/{id}/instances")).await?;
    show(json, &list, |is| {
        table(
            &["ID", "SPEC", "STATE", "SESSION", "PACKAGE", "ENCODER"],
            is.iter()
                .map(|i| {
                    vec![
                        i.id.clone(),
                        i.spec_id.clone(),
                        spelled(&i.state),
                        i.session_id.clone().unwrap_or_default(),
                        i.package.clone().unwrap_or_default(),
                        i.encoder.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        )
    });
    Ok(())
}

/// Runs `command` in an instance of `board` (the only one when `instance` is not given) and
/// prints its output; a command that exits non-zero is a refusal (exit code 5).
pub async fn shell(
    board: &str,
    instance: Option<String>,
    command: Vec<String>,
    timeout_secs: u32,
    json: bool,
) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    let id = board_id(&api, board).await?;
    let instance_id = match instance {
        Some(i) => i,
        None => {
            let list: Vec<BoardInstance> = api.get(&format!("/v1/boards/{id}/instances")).await?;
            match list.as_slice() {
                [one] => one.id.clone(),
                [] => {
                    return Err(refused(
                        "NO_INSTANCE",
                        format!("board {board} runs no instance"),
                    ));
                }
                many => {
                    let ids: Vec<&str> = many.iter().map(|i| i.id.as_str()).collect();
                    return Err(CliError::Usage(format!(
                        "board {board} runs {} instances ({}): say which with --instance",
                        many.len(),
                        ids.join(", ")
                    )));
                }
            }
        }
    };
    let run: ShellRun = api
        .call(
            Method::POST,
            &format!("/v1/boards/{id}/shell"),
            Some(&CreateShellRun {
                instance_id,
                command: command.join(" "),
                timeout_secs: Some(timeout_secs),
            }),
        )
        .await?;
    let run = follow_run(&api, run, Duration::from_secs(u64::from(timeout_secs) + 30)).await?;
    show(json, &run, |r| print!("{}", r.output));
    match (run.status.as_str(), run.exit_code) {
        ("done", Some(0)) => Ok(()),
        ("done", code) => Err(refused(
            "COMMAND_FAILED",
            format!(
                "the command exited with status {}",
                code.map_or("?".into(), |c| c.to_string())
            ),
        )),
        _ => Err(refused(
            "SHELL_FAILED",
            run.error.unwrap_or_else(|| "the run failed".into()),
        )),
    }
}

/// The last `lines` lines of a board agent's own log.
pub async fn agent_log(board: &str, lines: u32, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    let id = board_id(&api, board).await?;
    let run: ShellRun = api
        .call(
            Method::POST,
            &format!("/v1/boards/{id}/agent-log"),
            Some(&TailAgentLog { lines: Some(lines) }),
        )
        .await?;
    let run = follow_run(&api, run, Duration::from_secs(60)).await?;
    show(json, &run, |r| print!("{}", r.output));
    if run.status == "failed" {
        return Err(refused(
            "SHELL_FAILED",
            run.error
                .unwrap_or_else(|| "the board did not answer".into()),
        ));
    }
    Ok(())
}

/// Polls a run until it is no longer running, or `wait` is over.
async fn follow_run(api: &Api, mut run: ShellRun, wait: Duration) -> Result<ShellRun, CliError> {
    let started = Instant::now();
    while run.status == "running" {
        if started.elapsed() > wait {
            return Err(CliError::Other(anyhow::anyhow!(
                "run {} is still running after {wait:?}",
                run.id
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        run = api.get(&format!("/v1/shell-runs/{}", run.id)).await?;
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_exactly_or_say_what_to_give() {
        assert_eq!(parse_size("720x1280").unwrap(), (720, 1280));
        assert!(parse_size("720").is_err() && parse_size("0x1").is_err());
        assert_eq!(parse_bitrate("2000-8000").unwrap(), (2000, 8000));
        assert!(parse_bitrate("8000-2000").is_err() && parse_bitrate("x").is_err());
        assert_eq!(parse_price("0.05").unwrap(), 50_000);
        assert_eq!(parse_price("3").unwrap(), 3_000_000);
        assert_eq!(parse_price(".5").unwrap(), 500_000);
        assert_eq!(parse_price("1.000001").unwrap(), 1_000_001);
        for bad in [
            "",
            ".",
            "1.0000001",
            "-1",
            "1e3",
            "0,05",
            "99999999999999999",
        ] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_instant("until", "2027-01-01").unwrap().to_string(),
            "2027-01-01T00:00:00.000Z"
        );
        let e = parse_instant("until", "next week").unwrap_err();
        assert!(e.to_string().starts_with("--until:"), "{e}");
    }
}
