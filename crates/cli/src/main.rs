//! `playrack`: Playrack's command line for tenants and operators. `login` keeps a token (see
//! [`store`]); every other command calls the controller's API with the wire crate's types
//! ([`api`]), prints a table for people or, with `--json`, the API's JSON for scripts, and exits
//! with a code that says what kind of failure it met ([`api::CliError::exit_code`]). Uploads are
//! resumable with progress ([`upload`]); deployments show each room's progress.

mod api;
mod archives;
mod bills;
mod grey;
mod history;
mod maintenance;
mod operator;
mod output;
mod progress;
mod store;
mod switches;
mod topology_file;
mod upload;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use playrack_wire::Timestamp;
use playrack_wire::api::*;
use reqwest::Method;

use api::{Api, CliError, refused};
use output::{show, spelled, table};
use store::Credentials;

const EXIT_CODES: &str = "Exit codes: 0 done, 1 unexpected failure, 2 bad usage, 3 not signed in \
or not allowed, 4 not found, 5 refused (validation, conflict, a failed upload or deployment), \
6 controller unreachable or failing.";

/// Playrack from the command line: sign in, then manage games, versions, deployments,
/// try-play links and saves; operators also specs, orders, the topology, boards and plays.
#[derive(Debug, Parser)]
#[command(name = "playrack", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// Print the API's JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Signs in to a controller and keeps the token (readable by you only).
    Login {
        /// The controller, e.g. `https://controller.example:7600`.
        #[arg(long, env = "PLAYRACK_URL")]
        url: String,
        #[arg(long, env = "PLAYRACK_EMAIL")]
        email: String,
        /// Read the password from the first line of standard input (else it is asked for).
        #[arg(long)]
        password_stdin: bool,
        /// The portal, for printing try-play links as URLs.
        #[arg(long, env = "PLAYRACK_PORTAL_URL")]
        portal_url: Option<String>,
        /// A CA certificate (PEM) to trust for the controller, besides the system's roots.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Forgets the kept token.
    Logout,
    /// Shows who the kept token signs in as.
    Whoami,
    /// Games of your tenant.
    #[command(subcommand)]
    Games(GamesCmd),
    /// Versions (APKs) of a game.
    #[command(subcommand)]
    Versions(VersionsCmd),
    /// Deploys a version to machine rooms and follows each room's progress.
    Deploy {
        /// The version's id.
        version: String,
        /// A room to deploy to (repeat for several; rooms left out are undeployed).
        #[arg(long = "room", required = true)]
        rooms: Vec<String>,
        /// Return once the deployment is set, without following it.
        #[arg(long)]
        no_wait: bool,
        /// How long to follow it before giving up.
        #[arg(long, default_value_t = 600)]
        wait_secs: u64,
    },
    /// Try-play links.
    #[command(subcommand)]
    Links(LinksCmd),
    /// Boards (operators).
    #[command(subcommand)]
    Boards(BoardsCmd),
    /// Plays under way.
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// Players' saves.
    #[command(subcommand)]
    Archives(archives::ArchivesCmd),
    /// Specs: the display, bit rates, reservation and price tenants buy (operators).
    #[command(subcommand)]
    Specs(operator::SpecsCmd),
    /// Orders: the concurrency tenants bought.
    #[command(subcommand)]
    Orders(operator::OrdersCmd),
    /// Grey releases: a newer version to a share of a game's players, then promote or roll back.
    #[command(subcommand)]
    Grey(grey::GreyCmd),
    /// Bills: statements per billing period, shown or exported as CSV/JSON.
    #[command(subcommand)]
    Bills(bills::BillsCmd),
    /// Maintenance windows of rooms and boards (operators).
    #[command(subcommand)]
    Maintenance(maintenance::MaintenanceCmd),
    /// Degrade switches: pause new plays, spectating, webhooks or saves (operators).
    #[command(subcommand)]
    Switches(switches::SwitchesCmd),
    /// Regions, rooms, arrays and boards: import them from a file, show the tree (operators).
    #[command(subcommand)]
    Topology(operator::TopologyCmd),
    /// Campaigns (the tags links carry) and what their links led to; with a name, per day.
    Campaigns {
        /// One campaign, per day.
        name: Option<String>,
        #[command(flatten)]
        days: Days,
        /// Operators: whose campaigns.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// What was changed on a link, a version, an order (any object), by whom, newest first.
    History {
        /// The object's id (`lnk_…`, `ver_…`, `ord_…`).
        object: String,
    },
    /// Puts back the value an object had before the change an entry of its history records
    /// (links, versions, orders); the restore is itself recorded and can be undone the same way.
    Restore {
        /// The history entry's id (`aud_…`).
        entry: String,
    },
    /// Usage and its amounts, by day, game and spec.
    Usage {
        /// Start (inclusive): `YYYY-MM-DD` or RFC 3339. Default: 30 days before `--to`.
        #[arg(long)]
        from: Option<String>,
        /// End (exclusive). Default: now.
        #[arg(long)]
        to: Option<String>,
        /// Operators: one tenant only.
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum BoardsCmd {
    /// Lists boards with their agent, load and temperature.
    List,
    /// Lets a board's plays finish and gives it no new ones.
    Drain {
        /// The board's id or serial.
        board: String,
    },
    /// Gives a drained board plays again.
    Undrain { board: String },
    /// Lists a board's Android instances.
    Instances { board: String },
    /// Runs a shell command in one of a board's instances (audited) and prints its output;
    /// exits 5 if the command fails. Put `--` before a command with options of its own.
    Shell {
        /// The board's id or serial.
        board: String,
        /// The instance (default: the board's only one).
        #[arg(long)]
        instance: Option<String>,
        /// Seconds the command may run (1–600).
        #[arg(long, default_value_t = 30)]
        timeout_secs: u32,
        /// The command and its arguments, joined by spaces for Android's shell.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Prints the last lines of a board agent's own log.
    Log {
        board: String,
        /// How many lines (1–2000).
        #[arg(long, default_value_t = 200)]
        lines: u32,
    },
}

#[derive(Debug, Subcommand)]
enum SessionsCmd {
    /// Lists the plays under way.
    List,
    /// Ends a play (`KICKED`).
    Kick { session: String },
}

#[derive(Debug, Subcommand)]
enum GamesCmd {
    /// Lists your games.
    List,
    /// Creates a game.
    Create {
        /// URL-safe name, unique in your tenant.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// Allowed specs, most wanted first (repeat).
        #[arg(long = "spec", required = true)]
        specs: Vec<String>,
        /// Keep no saves between plays (the game keeps its state online).
        #[arg(long)]
        online: bool,
    },
}

#[derive(Debug, Subcommand)]
enum VersionsCmd {
    /// Lists a game's versions.
    List {
        /// The game's id or slug.
        game: String,
    },
    /// Uploads an APK as a new version, with progress; run it again to continue an
    /// interrupted upload of the same file.
    Upload {
        /// The game's id or slug.
        game: String,
        /// The APK file.
        apk: PathBuf,
        /// Publish the version once the controller has checked it.
        #[arg(long)]
        publish: bool,
    },
    /// Shows one version.
    Show { version: String },
    /// Publishes a version (players get it).
    Publish { version: String },
    /// Revokes a version (no new plays of it).
    Revoke { version: String },
}

/// A range of UTC days, `[from, to)`.
#[derive(Debug, clap::Args)]
struct Days {
    /// First day, `YYYY-MM-DD` (UTC). Default: 29 days before today.
    #[arg(long)]
    from: Option<String>,
    /// The day after the last, `YYYY-MM-DD`. Default: tomorrow.
    #[arg(long)]
    to: Option<String>,
}

#[derive(Debug, Subcommand)]
enum LinksCmd {
    /// Creates a try-play link and prints its URL and a QR code.
    Create {
        /// The game's id or slug.
        game: String,
        /// Trial length in seconds (default: the game's).
        #[arg(long)]
        trial_seconds: Option<u32>,
        /// How many plays the link allows.
        #[arg(long)]
        max_plays: Option<u32>,
        /// A campaign name, for usage reports.
        #[arg(long)]
        campaign: Option<String>,
        /// A site whose pages may show the player page in an iframe, e.g.
        /// `https://games.example` (repeat for several; at most 10).
        #[arg(long = "embed-on", value_name = "ORIGIN", value_parser = origin_arg)]
        embed_on: Vec<String>,
        /// Print no QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// Lists your links.
    List,
    /// Changes a link's settings; what you leave out stays as it is.
    Update {
        /// The link's id or code.
        link: String,
        /// Trial length in seconds (1–86400).
        #[arg(long)]
        trial_seconds: Option<u32>,
        /// How many plays the link allows in all.
        #[arg(long, conflicts_with = "no_max_plays")]
        max_plays: Option<u32>,
        /// No limit on plays.
        #[arg(long)]
        no_max_plays: bool,
        /// When the link stops working (RFC 3339, e.g. `2027-01-31T00:00:00Z`).
        #[arg(long, conflicts_with = "no_expiry", value_parser = instant_arg)]
        expires_at: Option<Timestamp>,
        /// The link never expires.
        #[arg(long)]
        no_expiry: bool,
        /// The campaign the link belongs to.
        #[arg(long, conflicts_with = "no_campaign")]
        campaign: Option<String>,
        /// The link belongs to no campaign.
        #[arg(long)]
        no_campaign: bool,
        /// A site whose pages may show the player page in an iframe (repeat; replaces the list).
        #[arg(long = "embed-on", value_name = "ORIGIN", value_parser = origin_arg, conflicts_with = "no_embed")]
        embed_on: Vec<String>,
        /// No site may frame the player page.
        #[arg(long)]
        no_embed: bool,
    },
    /// What a link led to, per day: opens, plays asked and queued, plays, minutes, conversions.
    Figures {
        /// The link's id or code.
        link: String,
        #[command(flatten)]
        days: Days,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("playrack: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}

pub(crate) fn signed_in() -> Result<(Api, Credentials), CliError> {
    let creds = Credentials::load()?.ok_or(CliError::NotSignedIn)?;
    let api = Api::new(&creds.url, Some(creds.token.clone()), creds.ca.as_deref())?;
    Ok((api, creds))
}

/// The id of the one of `path`'s items that `name` names (`names` gives an item's id and its
/// other name), or a usage error pointing at the list.
pub(crate) async fn resolve<T: serde::de::DeserializeOwned>(
    api: &Api,
    path: &str,
    what: &str,
    name: &str,
    names: impl Fn(&T) -> (&str, &str),
) -> Result<String, CliError> {
    let items: Vec<T> = api.all(path).await?;
    items
        .iter()
        .map(&names)
        .find(|(id, other)| *id == name || *other == name)
        .map(|(id, _)| id.to_owned())
        .ok_or_else(|| CliError::Usage(format!("no {what} `{name}`: see `playrack {what}s list`")))
}

/// A game by id (`gam_…`) or slug.
pub(crate) async fn game_id(api: &Api, game: &str) -> Result<String, CliError> {
    resolve(api, "/v1/games", "game", game, |g: &Game| (&g.id, &g.slug)).await
}

fn read_password(from_stdin: bool) -> Result<String, CliError> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(anyhow::Error::from)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").map_err(anyhow::Error::from)?
    } else {
        return Err(CliError::Usage(
            "no terminal to ask the password on: pass --password-stdin and pipe it in".into(),
        ));
    };
    if password.is_empty() {
        return Err(CliError::Usage("the password is empty".into()));
    }
    Ok(password)
}

fn version_row(v: &Version) -> Vec<String> {
    vec![
        v.id.clone(),
        format!("{:?}", v.state).to_uppercase(),
        v.apk
            .as_ref()
            .map(|a| {
                format!(
                    "{} {}",
                    a.package,
                    a.version_name
                        .clone()
                        .unwrap_or_else(|| a.version_code.to_string())
                )
            })
            .unwrap_or_default(),
        format!("{} MiB", v.size_bytes >> 20),
        if v.published_at.is_some() {
            "yes"
        } else {
            "no"
        }
        .into(),
    ]
}

const VERSION_HEADER: [&str; 5] = ["ID", "STATE", "APK", "SIZE", "PUBLISHED"];

async fn run(cli: Cli) -> Result<(), CliError> {
    let json = cli.json;
    match cli.command {
        Cmd::Login {
            url,
            email,
            password_stdin,
            portal_url,
            ca,
        } => {
            let password = read_password(password_stdin)?;
            let api = Api::new(&url, None, ca.as_deref())?;
            let resp: LoginResponse = api
                .call(
                    Method::POST,
                    "/v1/auth/login",
                    Some(&LoginRequest {
                        email: email.clone(),
                        password,
                    }),
                )
                .await?;
            Credentials {
                url: api.base.clone(),
                token: resp.token,
                portal_url: portal_url.map(|u| u.trim_end_matches('/').to_owned()),
                ca: ca.map(|p| std::fs::canonicalize(&p).unwrap_or(p)),
                email,
            }
            .save()?;
            show(json, &resp.principal, |p| {
                println!(
                    "signed in to {} as {} ({})",
                    api.base,
                    p.email.as_deref().unwrap_or(&p.id),
                    p.role.as_str()
                );
            });
        }
        Cmd::Logout => {
            if let Ok((api, _)) = signed_in() {
                // Ends the token at the controller too; gone already is fine.
                let _ = api
                    .call::<(), serde_json::Value>(Method::POST, "/v1/auth/logout", None)
                    .await;
            }
            let had = Credentials::forget()?;
            println!("{}", if had { "signed out" } else { "not signed in" });
        }
        Cmd::Whoami => {
            let (api, creds) = signed_in()?;
            let me: Principal = api.get("/v1/me").await?;
            show(json, &me, |p| {
                println!(
                    "{} ({}) at {}",
                    p.email.as_deref().unwrap_or(&p.id),
                    p.role.as_str(),
                    creds.url
                );
            });
        }
        Cmd::Games(GamesCmd::List) => {
            let (api, _) = signed_in()?;
            let games: Vec<Game> = api.all("/v1/games").await?;
            show(json, &games, |games| {
                table(
                    &["ID", "SLUG", "NAME", "SPECS"],
                    games
                        .iter()
                        .map(|g| {
                            vec![
                                g.id.clone(),
                                g.slug.clone(),
                                g.name.clone(),
                                g.spec_ids.join(","),
                            ]
                        })
                        .collect(),
                )
            });
        }
        Cmd::Games(GamesCmd::Create {
            slug,
            name,
            specs,
            online,
        }) => {
            let (api, _) = signed_in()?;
            let game: Game = api
                .call(
                    Method::POST,
                    "/v1/games",
                    Some(&CreateGame {
                        slug,
                        name,
                        archive_policy: if online {
                            ArchivePolicy::Online
                        } else {
                            ArchivePolicy::SinglePlayer
                        },
                        spec_ids: specs,
                        trial_defaults: None,
                    }),
                )
                .await?;
            show(json, &game, |g| {
                println!("created game {} ({})", g.slug, g.id)
            });
        }
        Cmd::Versions(VersionsCmd::List { game }) => {
            let (api, _) = signed_in()?;
            let id = game_id(&api, &game).await?;
            let versions: Vec<Version> = api.all(&format!("/v1/games/{id}/versions")).await?;
            show(json, &versions, |vs| {
                table(&VERSION_HEADER, vs.iter().map(version_row).collect())
            });
        }
        Cmd::Versions(VersionsCmd::Upload { game, apk, publish }) => {
            let (api, _) = signed_in()?;
            let id = game_id(&api, &game).await?;
            let mut v = upload::upload(&api, &id, &apk).await?;
            if publish {
                v = api
                    .call::<(), Version>(
                        Method::POST,
                        &format!("/v1/versions/{}/publish", v.id),
                        None,
                    )
                    .await?;
            }
            show(json, &v, |v| {
                println!(
                    "version {} is {}{} (sha256 {})",
                    v.id,
                    format!("{:?}", v.state).to_uppercase(),
                    if v.published_at.is_some() {
                        ", published"
                    } else {
                        ""
                    },
                    v.sha256.as_deref().unwrap_or("-")
                )
            });
        }
        Cmd::Versions(VersionsCmd::Show { version }) => {
            let (api, _) = signed_in()?;
            let v: Version = api.get(&format!("/v1/versions/{version}")).await?;
            show(json, &v, |v| table(&VERSION_HEADER, vec![version_row(v)]));
        }
        Cmd::Versions(cmd @ (VersionsCmd::Publish { .. } | VersionsCmd::Revoke { .. })) => {
            let (api, _) = signed_in()?;
            let (version, action) = match cmd {
                VersionsCmd::Publish { version } => (version, "publish"),
                VersionsCmd::Revoke { version } => (version, "revoke"),
                _ => unreachable!("the arm matches these two only"),
            };
            let v: Version = api
                .call::<(), Version>(
                    Method::POST,
                    &format!("/v1/versions/{version}/{action}"),
                    None,
                )
                .await?;
            show(json, &v, |v| println!("version {} {action}d", v.id));
        }
        Cmd::Deploy {
            version,
            rooms,
            no_wait,
            wait_secs,
        } => {
            let (api, _) = signed_in()?;
            let path = format!("/v1/versions/{version}/deployment");
            let mut d: Deployment = api
                .call(Method::PUT, &path, Some(&SetDeployment { room_ids: rooms }))
                .await?;
            if !no_wait {
                d = follow_deployment(&api, &path, d, Duration::from_secs(wait_secs), json).await?;
            }
            show(json, &d, |d| {
                table(
                    &["ROOM", "STATE", "PROGRESS", "BOARDS READY"],
                    d.rooms
                        .iter()
                        .map(|r| {
                            vec![
                                r.room_id.clone(),
                                format!("{:?}", r.state).to_uppercase(),
                                format!("{}%", r.progress_percent),
                                format!("{}/{}", r.boards.ready, r.boards.total),
                            ]
                        })
                        .collect(),
                )
            });
            if let Some(r) = d
                .rooms
                .iter()
                .find(|r| r.state == DeploymentRoomState::Failed)
            {
                return Err(refused(
                    "DEPLOYMENT_FAILED",
                    format!(
                        "room {}: {}",
                        r.room_id,
                        r.error.as_deref().unwrap_or("a board's copy failed")
                    ),
                ));
            }
        }
        Cmd::Links(LinksCmd::Create {
            game,
            trial_seconds,
            max_plays,
            campaign,
            embed_on,
            no_qr,
        }) => {
            let (api, creds) = signed_in()?;
            let id = game_id(&api, &game).await?;
            let link: Link = api
                .call(
                    Method::POST,
                    "/v1/links",
                    Some(&CreateLink {
                        game_id: id,
                        trial_seconds,
                        expires_at: None,
                        max_plays,
                        campaign,
                        cta: None,
                        connect_deadline_seconds: None,
                        embed_origins: embed_on,
                    }),
                )
                .await?;
            let url = creds
                .portal_url
                .as_ref()
                .map(|p| format!("{p}/play/{}", link.code));
            show(json, &link, |l| {
                match &url {
                    Some(u) => println!("{u}"),
                    None => println!(
                        "link code {} (log in with --portal-url to print its URL)",
                        l.code
                    ),
                }
                if !no_qr && let Some(u) = &url {
                    print_qr(u);
                }
            });
        }
        Cmd::Boards(BoardsCmd::List) => {
            let (api, _) = signed_in()?;
            let boards: Vec<Board> = api.all("/v1/boards").await?;
            show(json, &boards, |bs| {
                table(
                    &[
                        "ID", "SERIAL", "MODEL", "STATUS", "AGENT", "CPU", "MAX TEMP",
                    ],
                    bs.iter()
                        .map(|b| {
                            let t = b.telemetry.as_ref();
                            vec![
                                b.id.clone(),
                                b.serial.clone(),
                                b.model.clone(),
                                spelled(&b.status),
                                spelled(&b.agent_state),
                                t.map(|t| format!("{:.0}%", t.cpu_percent))
                                    .unwrap_or_default(),
                                t.and_then(|t| t.temperatures_c.iter().copied().reduce(f32::max))
                                    .map(|c| format!("{c:.0} °C"))
                                    .unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )
            });
        }
        Cmd::Boards(cmd @ (BoardsCmd::Drain { .. } | BoardsCmd::Undrain { .. })) => {
            let (api, _) = signed_in()?;
            let (board, status) = match cmd {
                BoardsCmd::Drain { board } => (board, BoardStatus::Draining),
                BoardsCmd::Undrain { board } => (board, BoardStatus::Active),
                _ => unreachable!("the arm matches drain and undrain only"),
            };
            let id = board_id(&api, &board).await?;
            let b: Board = api
                .call(
                    Method::PATCH,
                    &format!("/v1/boards/{id}"),
                    Some(&UpdateBoard {
                        status: Some(status),
                        ..Default::default()
                    }),
                )
                .await?;
            show(json, &b, |b| {
                println!("board {} is {}", b.serial, spelled(&b.status))
            });
        }
        Cmd::Archives(cmd) => archives::run(cmd, json).await?,
        Cmd::Specs(cmd) => operator::specs(cmd, json).await?,
        Cmd::Orders(cmd) => operator::orders(cmd, json).await?,
        Cmd::Topology(cmd) => operator::topology(cmd, json).await?,
        Cmd::Boards(BoardsCmd::Instances { board }) => operator::instances(&board, json).await?,
        Cmd::Boards(BoardsCmd::Shell {
            board,
            instance,
            timeout_secs,
            command,
        }) => operator::shell(&board, instance, command, timeout_secs, json).await?,
        Cmd::Boards(BoardsCmd::Log { board, lines }) => {
            operator::agent_log(&board, lines, json).await?
        }
        Cmd::Sessions(SessionsCmd::List) => {
            let (api, _) = signed_in()?;
            let plays: Vec<OnlineEntry> = api.all("/v1/online").await?;
            show(json, &plays, |ps| {
                table(
                    &[
                        "SESSION",
                        "GAME",
                        "SPEC",
                        "BOARD",
                        "STATE",
                        "CONNECTED",
                        "SINCE",
                    ],
                    ps.iter()
                        .map(|p| {
                            vec![
                                p.session_id.clone(),
                                p.game_id.clone(),
                                p.spec_id.clone(),
                                p.board_id.clone(),
                                spelled(&p.state),
                                if p.connected { "yes" } else { "no" }.into(),
                                p.since.to_string(),
                            ]
                        })
                        .collect(),
                )
            });
        }
        Cmd::Sessions(SessionsCmd::Kick { session }) => {
            let (api, _) = signed_in()?;
            let s: serde_json::Value = api
                .call::<(), _>(Method::POST, &format!("/v1/sessions/{session}/kick"), None)
                .await?;
            show(json, &s, |_| println!("session {session} ended"));
        }
        Cmd::Usage { from, to, tenant } => {
            let (api, _) = signed_in()?;
            let query: Vec<(&str, String)> = [("from", from), ("to", to), ("tenant_id", tenant)]
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect();
            let report: UsageReport = api.get_with("/v1/usage", &query).await?;
            show(json, &report, |r| {
                println!("usage from {} to {}", r.from, r.to);
                table(
                    &["DAY", "GAME", "SPEC", "PLAYS", "BILLABLE", "AMOUNT"],
                    r.items
                        .iter()
                        .map(|u| {
                            vec![
                                u.day.clone().unwrap_or_default(),
                                u.game_id.clone().unwrap_or_default(),
                                u.spec_id.clone().unwrap_or_default(),
                                u.sessions.to_string(),
                                format!("{} min", u.billable_secs.div_ceil(60)),
                                format!("{:.2}", u.amount_micros as f64 / 1e6),
                            ]
                        })
                        .collect(),
                )
            });
        }
        Cmd::Links(LinksCmd::Figures {
            link,
            days: Days { from, to },
        }) => {
            let (api, _) = signed_in()?;
            let id = resolve(&api, "/v1/links", "link", &link, |l: &Link| {
                (&l.id, &l.code)
            })
            .await?;
            let query = range_query(from, to, None);
            let f: LinkFigures = api
                .get_with(&format!("/v1/links/{id}/figures"), &query)
                .await?;
            show(json, &f, print_days);
        }
        Cmd::Campaigns {
            name,
            days: Days { from, to },
            tenant,
        } => {
            let (api, _) = signed_in()?;
            let query = range_query(from, to, tenant);
            match name {
                Some(n) => {
                    // The name is a path segment: the URL type encodes it.
                    let mut u = reqwest::Url::parse("http://campaigns.invalid/v1/campaigns")
                        .expect("a literal URL");
                    u.path_segments_mut()
                        .expect("an http URL has segments")
                        .push(&n)
                        .push("figures");
                    let path = u.path().to_owned();
                    let f: LinkFigures = api.get_with(&path, &query).await?;
                    show(json, &f, print_days);
                }
                None => {
                    let all: Vec<Campaign> = api.all_with("/v1/campaigns", &query).await?;
                    show(json, &all, |cs| {
                        table(
                            &[&["CAMPAIGN", "LINKS"][..], &FIGURE_HEADS].concat(),
                            cs.iter()
                                .map(|c| {
                                    let mut row = vec![c.name.clone(), c.links.to_string()];
                                    row.extend(figure_cells(&c.total));
                                    row
                                })
                                .collect(),
                        )
                    });
                }
            }
        }
        Cmd::Switches(cmd) => switches::run(cmd, json).await?,
        Cmd::Grey(cmd) => grey::run(cmd, json).await?,
        Cmd::Bills(cmd) => bills::run(cmd, json).await?,
        Cmd::Maintenance(cmd) => maintenance::run(cmd, json).await?,
        Cmd::History { object } => history::history(&object, json).await?,
        Cmd::Restore { entry } => history::restore(&entry, json).await?,
        Cmd::Links(LinksCmd::Update {
            link,
            trial_seconds,
            max_plays,
            no_max_plays,
            expires_at,
            no_expiry,
            campaign,
            no_campaign,
            embed_on,
            no_embed,
        }) => {
            let (api, _) = signed_in()?;
            let id = resolve(&api, "/v1/links", "link", &link, |l: &Link| {
                (&l.id, &l.code)
            })
            .await?;
            let update = UpdateLink {
                trial_seconds,
                max_plays: set_or_clear(no_max_plays, max_plays),
                expires_at: set_or_clear(no_expiry, expires_at),
                campaign: set_or_clear(no_campaign, campaign),
                cta: None,
                connect_deadline_seconds: None,
                embed_origins: (no_embed || !embed_on.is_empty()).then_some(embed_on),
            };
            let path = format!("/v1/links/{id}");
            let l: Link = api.call(Method::PATCH, &path, Some(&update)).await?;
            show(json, &l, |l| {
                println!(
                    "link {} updated: trial {} s, plays {}, expires {}, campaign {}, embedded on {}",
                    l.code,
                    l.trial_seconds,
                    l.max_plays
                        .map_or("unlimited".to_owned(), |m| format!("{}/{m}", l.plays_used)),
                    l.expires_at.map_or("never".to_owned(), |t| t.to_string()),
                    l.campaign.as_deref().unwrap_or("—"),
                    if l.embed_origins.is_empty() {
                        "no site".to_owned()
                    } else {
                        l.embed_origins.join(", ")
                    },
                );
                println!("(`playrack history {}` shows its changes)", l.id);
            });
        }
        Cmd::Links(LinksCmd::List) => {
            let (api, creds) = signed_in()?;
            let links: Vec<Link> = api.all("/v1/links").await?;
            show(json, &links, |ls| {
                table(
                    &["CODE", "GAME", "TRIAL", "PLAYS", "URL"],
                    ls.iter()
                        .map(|l| {
                            vec![
                                l.code.clone(),
                                l.game_id.clone(),
                                format!("{} s", l.trial_seconds),
                                match l.max_plays {
                                    Some(m) => format!("{}/{m}", l.plays_used),
                                    None => l.plays_used.to_string(),
                                },
                                creds
                                    .portal_url
                                    .as_ref()
                                    .map(|p| format!("{p}/play/{}", l.code))
                                    .unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )
            });
        }
    }
    Ok(())
}

/// A board by id (`brd_…`) or serial.
pub(crate) async fn board_id(api: &Api, board: &str) -> Result<String, CliError> {
    resolve(api, "/v1/boards", "board", board, |b: &Board| {
        (&b.id, &b.serial)
    })
    .await
}

/// Polls the deployment until every room is ready (or one failed, or `wait` is over), saying
/// each room's progress as it changes.
async fn follow_deployment(
    api: &Api,
    path: &str,
    mut d: Deployment,
    wait: Duration,
    json: bool,
) -> Result<Deployment, CliError> {
    let started = Instant::now();
    let mut said = std::collections::HashMap::new();
    loop {
        for r in &d.rooms {
            let now = (r.state, r.progress_percent);
            if !json && said.insert(r.room_id.clone(), now) != Some(now) {
                eprintln!(
                    "playrack: room {}: {} {}% ({} of {} boards ready)",
                    r.room_id,
                    format!("{:?}", r.state).to_lowercase(),
                    r.progress_percent,
                    r.boards.ready,
                    r.boards.total
                );
            }
        }
        let done = d
            .rooms
            .iter()
            .all(|r| r.state == DeploymentRoomState::Ready);
        let failed = d
            .rooms
            .iter()
            .any(|r| r.state == DeploymentRoomState::Failed);
        if done || failed {
            return Ok(d);
        }
        if started.elapsed() > wait {
            return Err(CliError::Other(anyhow::anyhow!(
                "the deployment is not ready after {wait:?}; follow it with the tenant console"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        d = api.get(path).await?;
    }
}

/// A QR code of `text` in the terminal (two rows of modules per line).
fn print_qr(text: &str) {
    if let Ok(code) = qrcode::QrCode::new(text.as_bytes()) {
        let art = code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build();
        println!("{art}");
    }
}

/// `from`, `to` and `tenant_id`, those given.
fn range_query(
    from: Option<String>,
    to: Option<String>,
    tenant: Option<String>,
) -> Vec<(&'static str, String)> {
    [("from", from), ("to", to), ("tenant_id", tenant)]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
}

/// The heads of [`figure_cells`].
const FIGURE_HEADS: [&str; 6] = [
    "OPENS",
    "ASKED",
    "QUEUED",
    "PLAYS",
    "MINUTES",
    "CONVERSIONS",
];

/// Opens, plays asked, queued, plays, minutes and conversions as table cells.
fn figure_cells(f: &Figures) -> Vec<String> {
    vec![
        f.opens.to_string(),
        f.acquires.to_string(),
        f.queued.to_string(),
        f.plays.to_string(),
        format!("{:.1}", f.play_seconds as f64 / 60.0),
        f.conversions.to_string(),
    ]
}

/// A link's or campaign's figures, per day, then the total.
fn print_days(f: &LinkFigures) {
    println!("from {} to {}", f.from, f.to);
    let mut rows: Vec<Vec<String>> = f
        .days
        .iter()
        .map(|d| {
            let mut row = vec![d.day.clone()];
            row.extend(figure_cells(&d.figures));
            row
        })
        .collect();
    let mut total = vec!["TOTAL".to_owned()];
    total.extend(figure_cells(&f.total));
    rows.push(total);
    table(&[&["DAY"][..], &FIGURE_HEADS].concat(), rows);
}

/// `--embed-on`: a site's origin, checked as the controller checks it.
/// A setting of a partial update: `--no-x` clears it (`null`), `--x` sets it, neither leaves
/// it as it is.
fn set_or_clear<T>(clear: bool, v: Option<T>) -> Option<Option<T>> {
    if clear { Some(None) } else { v.map(Some) }
}

pub(crate) fn instant_arg(s: &str) -> Result<Timestamp, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| format!("`{s}` is not an RFC 3339 instant such as 2027-01-31T00:00:00Z"))
}

fn origin_arg(s: &str) -> Result<String, String> {
    embed_origin(s)
}
