//! Board agents' HTTP side: operators issue a room's enrolment token (it expires); an agent
//! trades it for a per-board credential, then opens the agent channel WebSocket with it.
//!
//! A board enrols once. A second enrolment of the same serial is refused until an operator
//! resets the board's enrolment (a reimaged board that lost its credential): otherwise anyone
//! with the room's token could take over a board's credential, commands and players.

use crate::agents::{CREDENTIAL_PREFIX, ENROLMENT_TOKEN_PREFIX, channel};
use crate::audit;
use crate::auth::{self, Caller};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::state::AppState;
use crate::store::{agents as store, topology};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use playrack_wire::agent::{EnrolRequest, EnrolResponse, EnrolmentToken};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_enrolment_token))
        .routes(routes!(enrol))
        .routes(routes!(reset_enrolment))
        .routes(routes!(connect))
}

/// How long an enrolment token lasts unless the operator asks otherwise, and at most.
const ENROLMENT_TOKEN_HOURS: u32 = 24;
const ENROLMENT_TOKEN_MAX_HOURS: u32 = 720;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnrolmentTokenParams {
    /// Hours the token enrols boards for: 1–720, 24 when absent.
    pub ttl_hours: Option<u32>,
}

/// Issues (or rotates) a room's enrolment token; the previous one stops working.
#[utoipa::path(post, path = "/v1/rooms/{id}/enrolment-token", tag = "topology", params(EnrolmentTokenParams),
    responses((status = 201, body = EnrolmentToken), (status = 422, body = playrack_wire::Problem)))]
async fn create_enrolment_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(room_id): Path<String>,
    crate::http::Query(params): crate::http::Query<EnrolmentTokenParams>,
) -> ApiResult<(StatusCode, axum::Json<EnrolmentToken>)> {
    caller.require_operator_admin()?;
    let hours = params.ttl_hours.unwrap_or(ENROLMENT_TOKEN_HOURS);
    if !(1..=ENROLMENT_TOKEN_MAX_HOURS).contains(&hours) {
        return Err(ApiError::Validation(format!(
            "ttl_hours must be 1–{ENROLMENT_TOKEN_MAX_HOURS}"
        )));
    }
    let token = format!("{ENROLMENT_TOKEN_PREFIX}{}", db::random_token(40));
    let expires_at = crate::now().plus_secs(i64::from(hours) * 3600);
    let mut tx = state.db.write().await?;
    if !store::set_enrolment_token(
        &mut tx,
        &room_id,
        &auth::sha256_hex(token.as_bytes()),
        expires_at.millis(),
    )
    .await?
    {
        return Err(ApiError::NotFound("room"));
    }
    audit::record(
        &mut tx,
        &caller,
        None,
        "room.enrolment_token",
        &room_id,
        serde_json::json!({"expires_at": expires_at}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(EnrolmentToken {
            room_id,
            token,
            expires_at,
        }),
    ))
}

/// Forgets a board's credential so it can enrol again (a reimaged board that lost it, or one
/// whose credential leaked). The board's agent channel on this replica is closed at once; the
/// credential no longer opens one anywhere.
#[utoipa::path(post, path = "/v1/boards/{id}/reset-enrolment", tag = "topology",
    responses((status = 204), (status = 404, body = playrack_wire::Problem)))]
async fn reset_enrolment(
    State(state): State<AppState>,
    caller: Caller,
    Path(board_id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_operator_admin()?;
    let mut tx = state.db.write().await?;
    if !store::reset_credential(&mut tx, &board_id).await? {
        return Err(ApiError::NotFound("board"));
    }
    audit::record(
        &mut tx,
        &caller,
        None,
        "board.reset_enrolment",
        &board_id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    state.agents.disconnect(&board_id);
    Ok(StatusCode::NO_CONTENT)
}

const BAD_ENROLMENT: ApiError = ApiError::Unauthenticated("the enrolment token is not valid");

/// A board agent enrols with its room's token: the board is found by serial (or created in the
/// room's `enrolled` array) and gets a fresh credential — once, until an operator resets it.
#[utoipa::path(post, path = "/v1/agents/enrol", tag = "topology", request_body = EnrolRequest, responses((status = 200, body = EnrolResponse), (status = 401, body = playrack_wire::Problem)))]
async fn enrol(
    State(state): State<AppState>,
    Json(req): Json<EnrolRequest>,
) -> ApiResult<axum::Json<EnrolResponse>> {
    if !req.enrolment_token.starts_with(ENROLMENT_TOKEN_PREFIX) {
        return Err(BAD_ENROLMENT);
    }
    let serial = req.serial.trim();
    if serial.is_empty() || serial.len() > 100 || req.model.trim().is_empty() {
        return Err(ApiError::Validation(
            "serial and model must be 1–100 characters".into(),
        ));
    }
    let now = crate::now();
    let mut tx = state.db.write().await?;
    let (room_id, expires_at) =
        store::room_of_enrolment_token(&mut tx, &auth::sha256_hex(req.enrolment_token.as_bytes()))
            .await?
            .ok_or(BAD_ENROLMENT)?;
    if expires_at.is_none_or(|at| at <= now.millis()) {
        return Err(ApiError::coded(
            StatusCode::UNAUTHORIZED,
            "ENROLMENT_TOKEN_EXPIRED",
            "the enrolment token has expired: ask an operator for a new one \
             (POST /v1/rooms/{id}/enrolment-token)",
        ));
    }
    let board_id = match topology::board_by_serial(&mut tx, serial).await? {
        Some((board_id, in_room)) => {
            if in_room != room_id {
                return Err(ApiError::conflict(
                    "BOARD_IN_OTHER_ROOM",
                    format!("board {serial} belongs to another room"),
                ));
            }
            if store::is_enrolled(&mut tx, &board_id).await? {
                return Err(ApiError::conflict(
                    "BOARD_ALREADY_ENROLLED",
                    format!(
                        "board {serial} is already enrolled; if it lost its credential, an \
                         operator resets its enrolment first (POST /v1/boards/{board_id}/reset-enrolment)"
                    ),
                ));
            }
            board_id
        }
        None => {
            let array_id = topology::enrolled_array(&mut tx, &room_id, now).await?;
            let board = playrack_wire::api::Board {
                id: db::new_id("brd"),
                array_id,
                serial: serial.to_owned(),
                model: req.model.trim().to_owned(),
                capacity: req.capacity.clone(),
                status: playrack_wire::api::BoardStatus::Active,
                agent_state: playrack_wire::api::AgentState::Offline,
                last_seen_at: None,
                agent_version: None,
                telemetry: None,
                hot: None,
                created_at: now,
            };
            super::topology::insert_board(&mut tx, &board).await?;
            board.id
        }
    };
    let credential = format!(
        "{CREDENTIAL_PREFIX}{}_{}",
        board_id.trim_start_matches("brd_"),
        db::random_token(40)
    );
    store::set_credential(
        &mut tx,
        &board_id,
        &auth::sha256_hex(credential.as_bytes()),
        &req.agent_version,
    )
    .await?;
    audit::record_as(
        &mut tx,
        &board_id,
        None,
        "board.enrol",
        &board_id,
        serde_json::json!({"serial": serial, "room_id": room_id}),
    )
    .await?;
    tx.commit().await?;
    let key = crate::play::lifecycle::signing_key(&state).await?;
    Ok(axum::Json(EnrolResponse {
        board_id,
        room_id,
        credential,
        session_token_key: Some(playrack_wire::session_token::public_key(&key)),
    }))
}

const BAD_CREDENTIAL: ApiError = ApiError::Unauthenticated("the board credential is not valid");

/// Resolves a board credential (`pbc_<board>_<secret>`) to its board id.
pub(crate) async fn board_of(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    let bearer = auth::bearer(headers).ok_or(BAD_CREDENTIAL)?;
    let rest = bearer
        .strip_prefix(CREDENTIAL_PREFIX)
        .ok_or(BAD_CREDENTIAL)?;
    let (suffix, _) = rest.split_once('_').ok_or(BAD_CREDENTIAL)?;
    let board_id = format!("brd_{suffix}");
    match store::credential_hash(&state.db.pool, &board_id).await? {
        Some(hash) if auth::constant_time_eq(&hash, &auth::sha256_hex(bearer.as_bytes())) => {
            Ok(board_id)
        }
        _ => Err(BAD_CREDENTIAL),
    }
}

/// The agent channel: a WebSocket authorised by the board credential. The credential is
/// checked first: a request without one learns nothing about the upgrade.
#[utoipa::path(get, path = "/v1/agents/connect", tag = "topology",
    responses((status = 101, description = "WebSocket upgrade"), (status = 401, body = playrack_wire::Problem),
              (status = 426, body = playrack_wire::Problem, description = "Not a WebSocket upgrade request")))]
async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let board_id = board_of(&state, &headers).await?;
    let ws = ws.map_err(|rej| {
        ApiError::coded(
            axum::http::StatusCode::UPGRADE_REQUIRED,
            "WEBSOCKET_REQUIRED",
            format!("connect with a WebSocket upgrade: {}", rej.body_text()),
        )
    })?;
    Ok(ws
        .max_message_size(channel::MAX_AGENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| channel::run(state, board_id, socket)))
}
