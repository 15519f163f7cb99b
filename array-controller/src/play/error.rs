//! [`PlayError`]: how playing fails, in the play core's own terms. The API boundary turns each
//! into problem+json (`From<PlayError> for ApiError`: status and stable code are decided
//! there, once), and the play core itself can tell a play that can never be served (a revoked
//! link) from a database that is briefly away — a queued ticket is expired for the first and
//! kept for the second.

use crate::error::ApiError;
use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    /// The link, game, session or ticket does not exist (or is another tenant's).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is malformed; the text says what to fix.
    #[error("{0}")]
    BadRequest(String),
    /// The player token is missing its key, malformed, forged or expired.
    #[error("{0}")]
    BadPlayerToken(&'static str),
    /// The request carries no play key at all.
    #[error(
        "send the play key acquire returned for this {0} as `Authorization: Bearer <play_key>`"
    )]
    NoPlayKey(&'static str),
    /// The request does not carry the play key of the ticket or session it names.
    #[error(
        "this {0} is not yours: send the play key acquire returned as `Authorization: Bearer <play_key>`"
    )]
    NotYourPlay(&'static str),
    #[error("this try-play link was revoked")]
    LinkRevoked,
    #[error("this try-play link has expired")]
    LinkExpired,
    #[error("this try-play link has no plays left")]
    LinkExhausted,
    #[error("the game's publisher is suspended")]
    PublisherSuspended,
    #[error("the game has no published version")]
    GameNotPlayable,
    /// Capacity kept changing under every retry of a reservation.
    #[error("capacity changed too fast to decide; try again")]
    Busy,
    /// A refusal from outside the play core, passed on as it is (an archive that does not
    /// exist or does not fit the instances).
    #[error(transparent)]
    Refused(ApiError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

impl PlayError {
    /// The play can never be served as asked (as opposed to failing for now): a queued ticket
    /// for it is expired rather than retried.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            PlayError::NotFound(_)
                | PlayError::BadRequest(_)
                | PlayError::BadPlayerToken(_)
                | PlayError::NoPlayKey(_)
                | PlayError::NotYourPlay(_)
                | PlayError::LinkRevoked
                | PlayError::LinkExpired
                | PlayError::LinkExhausted
                | PlayError::PublisherSuspended
                | PlayError::GameNotPlayable
                | PlayError::Refused(_)
        )
    }
}

impl From<ApiError> for PlayError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Internal(m) => PlayError::Internal(m),
            other => PlayError::Refused(other),
        }
    }
}

impl From<serde_json::Error> for PlayError {
    fn from(e: serde_json::Error) -> Self {
        PlayError::Internal(e.to_string())
    }
}

impl From<PlayError> for ApiError {
    fn from(e: PlayError) -> Self {
        let detail = e.to_string();
        match e {
            PlayError::NotFound(what) => ApiError::NotFound(what),
            PlayError::BadRequest(m) => ApiError::Validation(m),
            PlayError::BadPlayerToken(m) => ApiError::Unauthenticated(m),
            PlayError::NoPlayKey(_) => {
                ApiError::coded(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", detail)
            }
            PlayError::NotYourPlay(_) => {
                ApiError::coded(StatusCode::FORBIDDEN, "NOT_YOUR_PLAY", detail)
            }
            PlayError::LinkRevoked => ApiError::coded(StatusCode::GONE, "LINK_REVOKED", detail),
            PlayError::LinkExpired => ApiError::coded(StatusCode::GONE, "LINK_EXPIRED", detail),
            PlayError::LinkExhausted => ApiError::coded(StatusCode::GONE, "LINK_EXHAUSTED", detail),
            PlayError::PublisherSuspended => ApiError::Forbidden(detail),
            PlayError::GameNotPlayable => ApiError::conflict("GAME_NOT_PLAYABLE", detail),
            PlayError::Busy => ApiError::coded(StatusCode::SERVICE_UNAVAILABLE, "BUSY", detail),
            PlayError::Refused(e) => e,
            PlayError::Db(e) => e.into(),
            PlayError::Internal(m) => ApiError::Internal(m),
        }
    }
}

pub type PlayResult<T> = Result<T, PlayError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_keeps_its_status_and_code() {
        let cases = [
            (PlayError::LinkRevoked, 410, "LINK_REVOKED"),
            (PlayError::LinkExpired, 410, "LINK_EXPIRED"),
            (PlayError::LinkExhausted, 410, "LINK_EXHAUSTED"),
            (PlayError::GameNotPlayable, 409, "GAME_NOT_PLAYABLE"),
            (PlayError::PublisherSuspended, 403, "FORBIDDEN"),
            (PlayError::Busy, 503, "BUSY"),
            (PlayError::NotYourPlay("session"), 403, "NOT_YOUR_PLAY"),
            (PlayError::NoPlayKey("ticket"), 401, "UNAUTHENTICATED"),
            (PlayError::NotFound("ticket"), 404, "NOT_FOUND"),
            (PlayError::BadRequest("x".into()), 422, "VALIDATION_FAILED"),
            (PlayError::BadPlayerToken("x"), 401, "UNAUTHENTICATED"),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!((api.status().as_u16(), api.code()), (status, code));
        }
    }

    #[test]
    fn a_database_away_is_not_a_permanent_refusal() {
        assert!(!PlayError::Db(sqlx::Error::PoolTimedOut).is_permanent());
        assert!(!PlayError::Busy.is_permanent());
        assert!(PlayError::LinkRevoked.is_permanent());
        let refused = PlayError::from(ApiError::NotFound("archive"));
        assert!(refused.is_permanent());
        assert!(!PlayError::from(ApiError::Internal("x".into())).is_permanent());
    }
}
