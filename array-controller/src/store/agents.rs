//! The agent side of boards: enrolment (rooms' enrolment tokens, boards' credentials), what
//! boards report on their channel (hello, heartbeats, instance and deployment reports), the
//! `board_commands` outbox, the `controllers` table with the lease judgement it feeds, and
//! `shell_runs`.
//!
//! The board's agent state is written here with [`topology::agent_state_text`], where it is
//! mapped; a shell run's state is mapped by [`shell_state_text`]. The queries that run for
//! every heartbeat or board report (and the outbox's, which run for every delivery pass) are
//! constants, so their plans can be checked.

use super::{slots, topology};
use crate::db::{Db, WriteTx};
use playrack_wire::Timestamp;
use playrack_wire::agent::InstanceReport;
use playrack_wire::api::{AgentState, ShellRun};
use sqlx::AnyPool;

/// The SQL of [`heartbeat`].
pub const HEARTBEAT: &str =
    "UPDATE boards SET agent_state = $1, last_seen_at = $2, telemetry = $3 WHERE id = $4";
/// The SQL of [`touch`] (every board report runs it).
pub const TOUCH: &str = "UPDATE boards SET last_seen_at = $1 WHERE id = $2";
/// The SQL of [`deployment_report`].
pub const DEPLOYMENT_REPORT: &str = "UPDATE deployments SET state = $1, progress_percent = $2, error = $3, updated_at = $4 \
         WHERE state <> $5 AND room_id = (SELECT a.room_id FROM boards b JOIN arrays a ON a.id = b.array_id WHERE b.id = $6) \
         AND version_id IN (SELECT id FROM versions WHERE sha256 = $7)";
/// The SQL of [`pending_commands`].
pub const PENDING_COMMANDS: &str = "SELECT id, body, expires_at FROM board_commands WHERE board_id = $1 \
         ORDER BY created_at, id LIMIT $2";
/// The SQL of [`command_done`].
pub const COMMAND_DONE: &str = "DELETE FROM board_commands WHERE id = $1 AND board_id = $2";
/// The SQL of [`stale_boards`] (the leader runs it every second).
pub const STALE_BOARDS: &str = "SELECT b.id FROM boards b LEFT JOIN controllers c ON c.id = b.controller_id \
         WHERE b.last_seen_at < $1 AND b.agent_state <> $2 \
         AND (c.id IS NULL OR c.seen_at < $1 OR (c.hearing_since IS NOT NULL AND c.hearing_since <= $1))";

// --- enrolment -------------------------------------------------------------------------------

/// Sets a room's enrolment token (its hash) and when it expires, replacing the previous one;
/// false if there is no such room.
pub async fn set_enrolment_token(
    tx: &mut WriteTx,
    room_id: &str,
    token_hash: &str,
    expires_at: i64,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE rooms SET enrolment_token_hash = $1, enrolment_token_expires_at = $2 WHERE id = $3",
    )
    .bind(token_hash)
    .bind(expires_at)
    .bind(room_id)
    .execute(&mut ***tx)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// The room whose enrolment token has this hash, and when the token expires (`None`: issued
/// before tokens expired, so expired).
pub async fn room_of_enrolment_token(
    tx: &mut WriteTx,
    token_hash: &str,
) -> Result<Option<(String, Option<i64>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, enrolment_token_expires_at FROM rooms WHERE enrolment_token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut ***tx)
    .await
}

/// Whether a board holds a credential (it enrolled and no operator has reset it since).
pub async fn is_enrolled(tx: &mut WriteTx, board_id: &str) -> Result<bool, sqlx::Error> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("SELECT credential_hash FROM boards WHERE id = $1")
            .bind(board_id)
            .fetch_optional(&mut ***tx)
            .await?;
    Ok(hash.flatten().is_some())
}

/// Forgets a board's credential, so the board can enrol again; false if there is no such board.
pub async fn reset_credential(tx: &mut WriteTx, board_id: &str) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query("UPDATE boards SET credential_hash = NULL WHERE id = $1")
        .bind(board_id)
        .execute(&mut ***tx)
        .await?;
    Ok(updated.rows_affected() > 0)
}

/// Gives a board a new credential (its hash) and records the agent version that enrolled.
pub async fn set_credential(
    tx: &mut WriteTx,
    board_id: &str,
    credential_hash: &str,
    agent_version: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE boards SET credential_hash = $1, agent_version = $2 WHERE id = $3")
        .bind(credential_hash)
        .bind(agent_version)
        .bind(board_id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// The hash of a board's credential (`None`: no such board, or it never enrolled).
pub async fn credential_hash(
    pool: &AnyPool,
    board_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    Ok(
        sqlx::query_scalar("SELECT credential_hash FROM boards WHERE id = $1")
            .bind(board_id)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}

// --- what boards report ----------------------------------------------------------------------

/// A board said hello to this replica: it is online, connected here, and its instances are the
/// ones it reports.
pub async fn hello(
    tx: &mut WriteTx,
    board_id: &str,
    replica_id: &str,
    agent_version: &str,
    signaling_url: &str,
    instances: &[InstanceReport],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE boards SET agent_state = $1, last_seen_at = $2, agent_version = $3, signaling_url = $4, controller_id = $5 \
         WHERE id = $6",
    )
    .bind(topology::agent_state_text(AgentState::Online))
    .bind(now)
    .bind(agent_version)
    .bind(signaling_url)
    .bind(replica_id)
    .bind(board_id)
    .execute(&mut ***tx)
    .await?;
    topology::replace_instances(tx, board_id, instances, now).await
}

/// A board's connection to this replica closed: it is offline (unless it is online through
/// another replica by now), and its slots follow.
pub async fn went_offline(
    tx: &mut WriteTx,
    board_id: &str,
    replica_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE boards SET agent_state = $1 WHERE id = $2 AND agent_state = $3 AND controller_id = $4",
    )
    .bind(topology::agent_state_text(AgentState::Offline))
    .bind(board_id)
    .bind(topology::agent_state_text(AgentState::Online))
    .bind(replica_id)
    .execute(&mut ***tx)
    .await?;
    slots::sync_board(tx, board_id).await
}

/// A heartbeat: the board is online, heard at `now`, with this telemetry (JSON `Telemetry`).
pub async fn heartbeat(
    db: &Db,
    board_id: &str,
    telemetry: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query(HEARTBEAT)
        .bind(topology::agent_state_text(AgentState::Online))
        .bind(now)
        .bind(telemetry)
        .bind(board_id)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// What a board's heat is judged against: its room's limits (CPU percent, °C) and its
/// judgment so far (why it takes no new plays, if it does not).
pub async fn heat(
    pool: &AnyPool,
    board_id: &str,
) -> Result<Option<(i64, i64, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.max_cpu_percent, r.max_temperature_c, b.hot FROM boards b \
         JOIN arrays a ON a.id = b.array_id JOIN rooms r ON r.id = a.room_id WHERE b.id = $1",
    )
    .bind(board_id)
    .fetch_optional(pool)
    .await
}

/// A heartbeat that changes the board's heat judgment (`hot`, `None`: it takes plays): the
/// telemetry, the judgment and whether its slots are offered to placement, together.
pub async fn heartbeat_judged(
    tx: &mut WriteTx,
    board_id: &str,
    telemetry: &str,
    now: i64,
    hot: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(HEARTBEAT)
        .bind(topology::agent_state_text(AgentState::Online))
        .bind(now)
        .bind(telemetry)
        .bind(board_id)
        .execute(&mut ***tx)
        .await?;
    sqlx::query("UPDATE boards SET hot = $1 WHERE id = $2")
        .bind(hot)
        .bind(board_id)
        .execute(&mut ***tx)
        .await?;
    super::slots::sync_board(tx, board_id).await
}

/// The board was heard at `now`.
pub async fn touch(db: &Db, board_id: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query(TOUCH)
        .bind(now)
        .bind(board_id)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// A board reported one instance: it is recorded, the board's warm count of its spec follows,
/// and the board was heard at `now`.
pub async fn instance_report(
    tx: &mut WriteTx,
    board_id: &str,
    instance: &InstanceReport,
    now: i64,
) -> Result<(), sqlx::Error> {
    topology::upsert_instance(tx, board_id, instance, now).await?;
    slots::recount_warm(tx, board_id, &instance.spec_id).await?;
    touch_in(tx, board_id, now).await
}

/// The board was heard at `now` (in the caller's transaction).
async fn touch_in(tx: &mut WriteTx, board_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(TOUCH)
        .bind(now)
        .bind(board_id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// A board removed one instance: its row goes, the board's warm count of its spec follows,
/// and the board was heard at `now`.
pub async fn instance_gone(
    tx: &mut WriteTx,
    board_id: &str,
    instance_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    if let Some(spec) = topology::remove_instance(tx, board_id, instance_id).await? {
        slots::recount_warm(tx, board_id, &spec).await?;
    }
    touch_in(tx, board_id, now).await
}

/// What a board said about a package (by its SHA-256).
#[derive(Debug, Clone)]
pub struct DeploymentReport<'a> {
    pub sha256: &'a str,
    pub state: playrack_wire::api::DeploymentRoomState,
    pub progress_percent: u8,
    pub error: Option<&'a str>,
}

/// A board's package report moves its room's deployment of every version with those bytes;
/// once a room is ready it stays ready (one board with the package is enough).
pub async fn deployment_report(
    db: &Db,
    board_id: &str,
    r: &DeploymentReport<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    use playrack_wire::api::DeploymentRoomState;
    sqlx::query(DEPLOYMENT_REPORT)
        .bind(super::catalog::deployment_state_text(r.state))
        .bind(i64::from(r.progress_percent.min(100)))
        .bind(r.error)
        .bind(now)
        .bind(super::catalog::deployment_state_text(
            DeploymentRoomState::Ready,
        ))
        .bind(board_id)
        .bind(r.sha256)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

// --- the command outbox ----------------------------------------------------------------------

/// Writes a command for a board (`body`: the JSON message sent as is), unless one with its id
/// is already waiting.
pub async fn insert_command(
    db: &Db,
    id: &str,
    board_id: &str,
    body: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    insert_command_on(&mut turn, id, board_id, body, now, expires_at).await
}

/// [`insert_command`] inside the caller's transaction (the command exists exactly when what
/// it is for is committed).
pub async fn insert_command_in(
    tx: &mut WriteTx,
    id: &str,
    board_id: &str,
    body: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    insert_command_on(tx, id, board_id, body, now, expires_at).await
}

async fn insert_command_on(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    board_id: &str,
    body: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT_COMMAND)
        .bind(id)
        .bind(board_id)
        .bind(body)
        .bind(now)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

const INSERT_COMMAND: &str = "INSERT INTO board_commands (id, board_id, body, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING";

/// A waiting command.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub id: String,
    pub body: String,
    pub expires_at: i64,
}

/// Up to `limit` of the board's waiting commands, oldest first.
pub async fn pending_commands(
    pool: &AnyPool,
    board_id: &str,
    limit: i64,
) -> Result<Vec<Pending>, sqlx::Error> {
    sqlx::query_as(PENDING_COMMANDS)
        .bind(board_id)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// A board's command is done (run, or dropped expired): it leaves the outbox.
pub async fn command_done(db: &Db, board_id: &str, id: &str) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query(COMMAND_DONE)
        .bind(id)
        .bind(board_id)
        .execute(&mut *turn)
        .await?;
    Ok(())
}

/// Sends a PostgreSQL notification on `channel` to every replica's listener.
pub async fn notify(pool: &AnyPool, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(pool)
        .await?;
    Ok(())
}

// --- controllers and the lease ---------------------------------------------------------------

/// Records that a replica is alive at `now` and since when it has heard boards (`None`: it
/// cannot now).
pub async fn report_hearing(
    db: &Db,
    replica_id: &str,
    now: Timestamp,
    hearing_since: Option<Timestamp>,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query(
        "INSERT INTO controllers (id, started_at, seen_at, hearing_since) VALUES ($1, $2, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, hearing_since = excluded.hearing_since",
    )
    .bind(replica_id)
    .bind(now.millis())
    .bind(hearing_since.map(Timestamp::millis))
    .execute(&mut *turn)
    .await?;
    Ok(())
}

/// Boards not lost yet, last heard before `cutoff`, whose replica either is gone (not seen
/// since `cutoff`, or never recorded) or has heard boards since `cutoff` at the latest. A board
/// of a replica that is alive but has not heard boards for that long is not among them.
pub async fn stale_boards(pool: &AnyPool, cutoff: Timestamp) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(STALE_BOARDS)
        .bind(cutoff.millis())
        .bind(topology::agent_state_text(AgentState::Lost))
        .fetch_all(pool)
        .await
}

/// Marks a board lost if it still was not heard since `cutoff`; true if this changed it.
pub async fn mark_lost(
    tx: &mut WriteTx,
    board_id: &str,
    cutoff: Timestamp,
) -> Result<bool, sqlx::Error> {
    let lost = topology::agent_state_text(AgentState::Lost);
    let changed = sqlx::query(
        "UPDATE boards SET agent_state = $1 WHERE id = $2 AND agent_state <> $1 AND last_seen_at < $3",
    )
    .bind(lost)
    .bind(board_id)
    .bind(cutoff.millis())
    .execute(&mut ***tx)
    .await?;
    Ok(changed.rows_affected() == 1)
}

// --- shell runs ------------------------------------------------------------------------------

/// Where a shell run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellState {
    /// Sent to the board; output may still come.
    Running,
    /// The command exited (its exit code is recorded).
    Done,
    /// The board could not run it.
    Failed,
}

/// A shell run state as the `shell_runs.status` column (and the API's `status`) spells it.
pub fn shell_state_text(s: ShellState) -> &'static str {
    match s {
        ShellState::Running => "running",
        ShellState::Done => "done",
        ShellState::Failed => "failed",
    }
}

/// A `shell_runs` row.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ShellRunRow {
    id: String,
    board_id: String,
    instance_id: String,
    command: String,
    requested_by: String,
    status: String,
    exit_code: Option<i64>,
    output: String,
    error: Option<String>,
    created_at: i64,
}

impl From<ShellRunRow> for ShellRun {
    fn from(r: ShellRunRow) -> Self {
        ShellRun {
            id: r.id,
            board_id: r.board_id,
            instance_id: r.instance_id,
            command: r.command,
            requested_by: r.requested_by,
            status: r.status,
            exit_code: r.exit_code.map(|c| c as i32),
            output: r.output,
            error: r.error,
            created_at: Timestamp(r.created_at),
        }
    }
}

/// A shell run to insert.
#[derive(Debug, Clone)]
pub struct NewShellRun<'a> {
    pub id: &'a str,
    pub board_id: &'a str,
    pub instance_id: &'a str,
    pub command: &'a str,
    pub requested_by: &'a str,
    pub created_at: Timestamp,
}

/// Inserts a running shell run with no output yet; the run as stored.
pub async fn insert_shell_run(
    tx: &mut WriteTx,
    r: &NewShellRun<'_>,
) -> Result<ShellRun, sqlx::Error> {
    let row: ShellRunRow = sqlx::query_as(
        "INSERT INTO shell_runs (id, board_id, instance_id, command, requested_by, status, output, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,'',$7) \
         RETURNING id, board_id, instance_id, command, requested_by, status, exit_code, output, error, created_at",
    )
    .bind(r.id)
    .bind(r.board_id)
    .bind(r.instance_id)
    .bind(r.command)
    .bind(r.requested_by)
    .bind(shell_state_text(ShellState::Running))
    .bind(r.created_at.millis())
    .fetch_one(&mut ***tx)
    .await?;
    Ok(row.into())
}

/// A shell run and its output so far.
pub async fn shell_run(pool: &AnyPool, id: &str) -> Result<Option<ShellRun>, sqlx::Error> {
    let row: Option<ShellRunRow> = sqlx::query_as(
        "SELECT id, board_id, instance_id, command, requested_by, status, exit_code, output, error, created_at \
         FROM shell_runs WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(ShellRun::from))
}

/// The output so far of a board's shell run that is still running.
pub async fn running_output(
    pool: &AnyPool,
    id: &str,
    board_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT output FROM shell_runs WHERE id = $1 AND board_id = $2 AND status = $3",
    )
    .bind(id)
    .bind(board_id)
    .bind(shell_state_text(ShellState::Running))
    .fetch_optional(pool)
    .await
}

/// Writes a shell run's output; with an exit code the run is done at `now`.
pub async fn record_output(
    db: &Db,
    id: &str,
    output: &str,
    exit_code: Option<i32>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    let state = if exit_code.is_some() {
        ShellState::Done
    } else {
        ShellState::Running
    };
    sqlx::query(
        "UPDATE shell_runs SET output = $1, exit_code = $2, status = $3, finished_at = $4 WHERE id = $5",
    )
    .bind(output)
    .bind(exit_code.map(i64::from))
    .bind(shell_state_text(state))
    .bind(exit_code.map(|_| now.millis()))
    .bind(id)
    .execute(&mut *turn)
    .await?;
    Ok(())
}

/// A board's shell run that is still running failed at `now` with `error`.
pub async fn fail_shell_run(
    db: &Db,
    id: &str,
    board_id: &str,
    error: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let mut turn = db.turn().await?;
    sqlx::query(
        "UPDATE shell_runs SET status = $1, error = $2, finished_at = $3 WHERE id = $4 AND board_id = $5 AND status = $6",
    )
    .bind(shell_state_text(ShellState::Failed))
    .bind(error)
    .bind(now.millis())
    .bind(id)
    .bind(board_id)
    .bind(shell_state_text(ShellState::Running))
    .execute(&mut *turn)
    .await?;
    Ok(())
}

/// Forgets replicas not seen since `cutoff` (long gone; their rows only say how they heard).
pub async fn forget_controllers(tx: &mut WriteTx, cutoff: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM controllers WHERE seen_at < $1")
        .bind(cutoff)
        .execute(&mut ***tx)
        .await?
        .rows_affected())
}
