-- Enrolment tokens expire. Tokens issued before this have no expiry recorded and no longer
-- enrol anyone: an operator issues a new one.
ALTER TABLE rooms ADD COLUMN enrolment_token_expires_at BIGINT;
