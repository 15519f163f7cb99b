//! Playrack's web pages (player try-play page, tenant console, operator console).
//!
//! Served over HTTP by the portal issue; today the crate only reserves its place.
