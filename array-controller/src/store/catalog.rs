//! Specs, games, versions, uploads and deployments.
