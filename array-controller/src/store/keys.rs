//! The tenants' player-token keys and the controller's session signing key.
