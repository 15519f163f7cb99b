//! Webhook subscriptions, deliveries and attempts.
