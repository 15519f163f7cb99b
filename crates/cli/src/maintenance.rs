//! Scheduled maintenance (operators): schedule a room's or a board's, list the windows, call
//! one off.

use clap::Subcommand;
use playrack_wire::Timestamp;
use playrack_wire::api::{CreateMaintenance, Maintenance, Page};
use reqwest::Method;

use crate::api::CliError;
use crate::output::{show, spelled, table};
use crate::{board_id, instant_arg, signed_in};

#[derive(Debug, Subcommand)]
pub enum MaintenanceCmd {
    /// Lists the maintenance windows, newest first.
    List,
    /// Schedules maintenance of a room or a board: players there are told ahead, no new plays
    /// start there while it lasts, plays still there end (saves kept), its boards are drained.
    Schedule {
        /// The room's id.
        #[arg(long, conflicts_with = "board", required_unless_present = "board")]
        room: Option<String>,
        /// The board's id or serial.
        #[arg(long)]
        board: Option<String>,
        /// When it starts (RFC 3339, e.g. `2027-01-31T02:00:00Z`).
        #[arg(long, value_parser = instant_arg)]
        at: Timestamp,
        /// How long it lasts, e.g. `90m`, `2h`.
        #[arg(long = "for", value_parser = humantime::parse_duration)]
        length: std::time::Duration,
        /// What players and the other operators are told.
        #[arg(long)]
        note: Option<String>,
    },
    /// Calls a window off (one under way ends now).
    Cancel { id: String },
}

fn row(m: &Maintenance) -> Vec<String> {
    vec![
        m.id.clone(),
        match (&m.room_id, &m.board_id) {
            (Some(r), _) => format!("room {r}"),
            (_, Some(b)) => format!("board {b}"),
            _ => "—".into(),
        },
        m.starts_at.to_string(),
        m.ends_at.to_string(),
        spelled(&m.state),
        m.note.clone().unwrap_or_default(),
    ]
}

const HEADER: [&str; 6] = ["ID", "OF", "STARTS", "ENDS", "STATE", "NOTE"];

pub async fn run(cmd: MaintenanceCmd, json: bool) -> Result<(), CliError> {
    let (api, _) = signed_in()?;
    match cmd {
        MaintenanceCmd::List => {
            let page: Page<Maintenance> = api.get("/v1/maintenance?limit=100").await?;
            show(json, &page.items, |l| {
                table(&HEADER, l.iter().map(row).collect())
            });
        }
        MaintenanceCmd::Schedule {
            room,
            board,
            at,
            length,
            note,
        } => {
            let board_id = match board {
                Some(b) => Some(board_id(&api, &b).await?),
                None => None,
            };
            let body = CreateMaintenance {
                room_id: room,
                board_id,
                starts_at: at,
                ends_at: Timestamp(at.millis() + length.as_millis() as i64),
                note,
            };
            let m: Maintenance = api
                .call(Method::POST, "/v1/maintenance", Some(&body))
                .await?;
            show(json, &m, |m| {
                println!(
                    "maintenance {} scheduled: {} to {} (players there are told ahead)",
                    m.id, m.starts_at, m.ends_at
                )
            });
        }
        MaintenanceCmd::Cancel { id } => {
            let mut u = reqwest::Url::parse("http://maintenance.invalid/v1/maintenance")
                .expect("a literal URL");
            u.path_segments_mut()
                .expect("an http URL has segments")
                .push(&id)
                .push("cancel");
            let m: Maintenance = api.call::<(), _>(Method::POST, u.path(), None).await?;
            show(json, &m, |m| {
                println!("maintenance {} is {}", m.id, spelled(&m.state))
            });
        }
    }
    Ok(())
}
