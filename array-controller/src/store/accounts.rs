//! Tenants, accounts, sign-in tokens and API keys.
