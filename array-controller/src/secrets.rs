//! Secrets the controller must read back — the session-token signing key and the tenants'
//! player-token keys — are sealed at rest with AES-256-GCM (`ring`, already the TLS stack's)
//! under a key the database never sees: `PLAYRACK_SECRET_KEY` (64 hex digits, the same on every
//! replica), or, without it, a key generated once in the data directory (mode 0600).
//!
//! A sealed value is `v1:` and base64 of nonce ‖ ciphertext ‖ tag, bound to what it is (the
//! purpose is the associated data), so one sealed secret cannot stand in for another. Values
//! stored before sealing existed are read as they are and sealed at start-up ([`seal_stored`]).

use crate::db::Db;
use crate::store::keys;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use std::path::Path;

const PREFIX: &str = "v1:";

/// Why a sealed value cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(
        "a stored secret cannot be opened: it was sealed with another secret key (set the same \
         PLAYRACK_SECRET_KEY on every controller) or it is damaged"
    )]
    Unopenable,
}

/// Seals and opens stored secrets.
pub struct Sealer {
    key: LessSafeKey,
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Sealer {
        Sealer {
            key: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).expect("32-byte key")),
        }
    }

    /// The configured key (64 hex digits), or the data directory's key file, created once.
    pub fn from_config(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Sealer> {
        let parse = |hex_key: &str| -> anyhow::Result<[u8; 32]> {
            hex::decode(hex_key.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| anyhow::anyhow!("the secret key must be 64 hex digits (32 bytes)"))
        };
        if let Some(k) = configured {
            return Ok(Sealer::new(parse(k)?));
        }
        let path = data_dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(Sealer::new(
                parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            ));
        }
        let key: [u8; 32] = rand::random();
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let tmp = path.with_extension("key.tmp");
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(hex::encode(key).as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
        }
        tracing::info!(path = %path.display(), "generated the secret key that seals stored secrets");
        Ok(Sealer::new(key))
    }

    /// `plain` sealed for `purpose`.
    pub fn seal(&self, purpose: &str, plain: &str) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM seals any length we store");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// The secret `stored` for `purpose`: opened if sealed, as it is if stored before sealing.
    pub fn open(&self, purpose: &str, stored: &str) -> Result<String, SealError> {
        let Some(b64) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let bytes = STANDARD.decode(b64).map_err(|_| SealError::Unopenable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Unopenable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let mut data = sealed.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Unopenable)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut data)
            .map_err(|_| SealError::Unopenable)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Unopenable)
    }
}

/// The purpose a tenant's player-token key is sealed for.
pub fn player_key_purpose(tenant: &str) -> String {
    format!("player-key:{tenant}")
}

/// The purpose the session signing key is sealed for.
pub const SESSION_KEY_PURPOSE: &str = "session-signing-key";

/// Seals the secrets stored before sealing existed, and checks that the stored ones open with
/// this key (a replica started with another key refuses to start, saying so).
pub async fn seal_stored(db: &Db, sealer: &Sealer) -> anyhow::Result<()> {
    let mut tx = db.write().await?;
    if let Some(stored) = keys::session_key_in(&mut tx).await? {
        let plain = sealer.open(SESSION_KEY_PURPOSE, &stored)?;
        if !stored.starts_with(PREFIX) {
            keys::reseal_session_key(&mut tx, &sealer.seal(SESSION_KEY_PURPOSE, &plain)).await?;
        }
    }
    for (tenant, stored) in keys::unsealed_player_keys(&mut tx).await? {
        let sealed = sealer.seal(&player_key_purpose(&tenant), &stored);
        keys::reseal_player_key(&mut tx, &tenant, &sealed).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_purpose() {
        let (a, b) = (Sealer::new([1; 32]), Sealer::new([2; 32]));
        let sealed = a.seal("player-key:ten_1", "s3cret");
        assert!(sealed.starts_with("v1:") && !sealed.contains("s3cret"));
        assert_ne!(
            sealed,
            a.seal("player-key:ten_1", "s3cret"),
            "a fresh nonce each time"
        );
        assert_eq!(a.open("player-key:ten_1", &sealed).unwrap(), "s3cret");
        assert!(b.open("player-key:ten_1", &sealed).is_err(), "another key");
        assert!(
            a.open("player-key:ten_2", &sealed).is_err(),
            "another purpose"
        );
        let mut damaged = sealed.clone();
        damaged.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert!(a.open("player-key:ten_1", &damaged).is_err());
        for junk in ["v1:", "v1:!!", "v1:AAAA"] {
            assert!(a.open("x", junk).is_err(), "{junk}");
        }
        // Stored before sealing: read as it is.
        assert_eq!(a.open("x", "plain-old").unwrap(), "plain-old");
    }
}
