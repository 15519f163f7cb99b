//! adb's public-key authentication: the key format and the signature check adbd performs.
//!
//! The host (adb) keeps an RSA-2048 key pair in `~/.android/adbkey{,.pub}`. When the device
//! demands authentication it sends `AUTH(TOKEN, 0, <20 random bytes>)`; the host signs the
//! token with `RSA_sign(NID_sha1, token, 20)` — PKCS#1 v1.5 with a SHA-1 DigestInfo, the
//! token standing in for the digest — and answers `AUTH(SIGNATURE, 0, sig)`. If no known key
//! verifies it the device sends a fresh token; once the host has tried all its keys it sends
//! `AUTH(RSAPUBLICKEY, 0, "<base64 key> user@host\0")` for the user to approve.
//!
//! The base64 text encodes Android's `RSAPublicKey` struct (all little-endian):
//!
//! ```text
//! u32 modulus_size_words;   // 64 for RSA-2048
//! u32 n0inv;                // -1 / n mod 2^32 (Montgomery constant)
//! u8  modulus[256];         // n, little-endian
//! u8  rr[256];              // R^2 mod n, little-endian
//! u32 exponent;             // 65537
//! ```
//!
//! This module parses that struct, an `adb_keys` file (one key per line, comment after the
//! base64), and verifies a token signature against a set of keys. The signature check itself
//! is delegated to the `rsa` crate.

use base64::Engine as _;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey, traits::PublicKeyParts};

/// Modulus length in bytes of the only key size adb uses.
pub const MODULUS_SIZE: usize = 256;
/// `modulus_size_words`: the modulus length in 32-bit words.
pub const MODULUS_SIZE_WORDS: u32 = (MODULUS_SIZE / 4) as u32;
/// Size of the encoded `RSAPublicKey` struct.
pub const ENCODED_KEY_SIZE: usize = 4 + 4 + MODULUS_SIZE + MODULUS_SIZE + 4;

/// Why a public key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("public key is not valid base64")]
    Base64,
    #[error("public key is {0} bytes, expected {ENCODED_KEY_SIZE}")]
    Length(usize),
    #[error("public key has modulus_size_words {0}, expected {MODULUS_SIZE_WORDS}")]
    ModulusSize(u32),
    #[error("public key's n0inv does not match its modulus")]
    N0Inv,
    #[error("public key rejected by RSA: {0}")]
    Rsa(String),
}

/// One adb public key, with the text it was read from (for logs and comparisons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdbPublicKey {
    pub key: RsaPublicKey,
    /// The comment after the base64, usually `user@host`.
    pub comment: String,
}

impl AdbPublicKey {
    /// Parses `"<base64> [comment]"`, as found in `adbkey.pub`, `adb_keys` and the payload of
    /// `AUTH(RSAPUBLICKEY)` (a trailing NUL is ignored).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim_end_matches('\0').trim();
        let (b64, comment) = match text.split_once(char::is_whitespace) {
            Some((b, c)) => (b, c.trim().to_string()),
            None => (text, String::new()),
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| KeyError::Base64)?;
        Ok(AdbPublicKey {
            key: decode_struct(&raw)?,
            comment,
        })
    }

    /// Whether `signature` is this key's signature of `token` (the check adbd makes).
    pub fn verifies(&self, token: &[u8], signature: &[u8]) -> bool {
        self.key
            .verify(Pkcs1v15Sign::new::<sha1::Sha1>(), token, signature)
            .is_ok()
    }
}

fn decode_struct(raw: &[u8]) -> Result<RsaPublicKey, KeyError> {
    if raw.len() != ENCODED_KEY_SIZE {
        return Err(KeyError::Length(raw.len()));
    }
    let u32_at = |i: usize| u32::from_le_bytes(raw[i..i + 4].try_into().unwrap());
    let words = u32_at(0);
    if words != MODULUS_SIZE_WORDS {
        return Err(KeyError::ModulusSize(words));
    }
    let n0inv = u32_at(4);
    let modulus = &raw[8..8 + MODULUS_SIZE];
    let exponent = u32_at(8 + 2 * MODULUS_SIZE);
    // n0inv * n ≡ -1 (mod 2^32): a cheap consistency check that catches corrupted keys.
    let n0 = u32::from_le_bytes(modulus[..4].try_into().unwrap());
    if n0inv.wrapping_mul(n0) != u32::MAX {
        return Err(KeyError::N0Inv);
    }
    RsaPublicKey::new(BigUint::from_bytes_le(modulus), BigUint::from(exponent))
        .map_err(|e| KeyError::Rsa(e.to_string()))
}

/// Encodes a key in adb's format (base64 of the `RSAPublicKey` struct, no comment).
/// Used to write `adb_keys` files and by tests; adbd itself only ever decodes.
pub fn encode_public_key(key: &RsaPublicKey) -> Result<String, KeyError> {
    let n = key.n();
    let modulus = n.to_bytes_le();
    if modulus.len() > MODULUS_SIZE || key.size() != MODULUS_SIZE {
        return Err(KeyError::Length(modulus.len()));
    }
    let e = key.e().to_bytes_le();
    if e.len() > 4 {
        return Err(KeyError::Rsa(
            "exponent does not fit the u32 of adb's format".into(),
        ));
    }
    let mut e4 = [0u8; 4];
    e4[..e.len()].copy_from_slice(&e);
    let exponent = u32::from_le_bytes(e4);
    // n0inv = -(n^-1) mod 2^32, by Newton iteration on the low word (n is odd).
    let n0 = u32::from_le_bytes(modulus[..4].try_into().unwrap());
    let mut inv: u32 = 1;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inv)));
    }
    let n0inv = inv.wrapping_neg();
    // rr = (2^(8*256))^2 mod n
    let rr = (BigUint::from(1u32) << (2 * 8 * MODULUS_SIZE)) % n;
    let mut raw = Vec::with_capacity(ENCODED_KEY_SIZE);
    raw.extend_from_slice(&MODULUS_SIZE_WORDS.to_le_bytes());
    raw.extend_from_slice(&n0inv.to_le_bytes());
    let mut padded = modulus;
    padded.resize(MODULUS_SIZE, 0);
    raw.extend_from_slice(&padded);
    let mut rr = rr.to_bytes_le();
    rr.resize(MODULUS_SIZE, 0);
    raw.extend_from_slice(&rr);
    raw.extend_from_slice(&exponent.to_le_bytes());
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// The keys an `adb_keys` file authorises.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdbKeys {
    pub keys: Vec<AdbPublicKey>,
}

impl AdbKeys {
    /// Parses an `adb_keys` file: one key per line; blank lines and lines starting with `#`
    /// are skipped, as are lines that do not decode (adbd logs and skips them too). The
    /// second value lists those bad lines (1-based) with the reason.
    pub fn parse(text: &str) -> (Self, Vec<(usize, KeyError)>) {
        let mut keys = Vec::new();
        let mut bad = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match AdbPublicKey::parse(line) {
                Ok(k) => keys.push(k),
                Err(e) => bad.push((i + 1, e)),
            }
        }
        (AdbKeys { keys }, bad)
    }

    /// The key that verifies `signature` over `token`, if any.
    pub fn find_signer(&self, token: &[u8], signature: &[u8]) -> Option<&AdbPublicKey> {
        self.keys.iter().find(|k| k.verifies(token, signature))
    }

    /// Whether the offered public key is one of ours.
    pub fn contains(&self, key: &AdbPublicKey) -> bool {
        self.keys.iter().any(|k| k.key == key.key)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A key pair made for these tests with `adb keygen`; the signature was made with
    /// `openssl pkeyutl -sign -pkeyopt digest:sha1` over [`TOKEN`], which is exactly what
    /// adb's `RSA_sign(NID_sha1, …)` produces.
    pub const PUBLIC_KEY: &str = include_str!("testdata/adbkey.pub");
    pub const TOKEN: &[u8; 20] = b"0123456789abcdefghij";
    pub const SIGNATURE: &[u8] = include_bytes!("testdata/token.sig");

    #[test]
    fn parses_adbs_own_key_file() {
        let key = AdbPublicKey::parse(PUBLIC_KEY).unwrap();
        assert_eq!(key.key.size(), 256);
        assert_eq!(key.key.e(), &BigUint::from(65537u32));
        assert!(!key.comment.is_empty());
    }

    #[test]
    fn re_encoding_gives_the_same_base64() {
        let key = AdbPublicKey::parse(PUBLIC_KEY).unwrap();
        let b64 = PUBLIC_KEY.split_whitespace().next().unwrap();
        assert_eq!(encode_public_key(&key.key).unwrap(), b64);
    }

    #[test]
    fn verifies_a_real_signature_and_refuses_a_wrong_one() {
        let key = AdbPublicKey::parse(PUBLIC_KEY).unwrap();
        assert!(key.verifies(TOKEN, SIGNATURE));
        assert!(!key.verifies(b"0123456789abcdefghiX", SIGNATURE));
        let mut sig = SIGNATURE.to_vec();
        sig[100] ^= 1;
        assert!(!key.verifies(TOKEN, &sig));
    }

    #[test]
    fn refuses_malformed_keys() {
        assert_eq!(AdbPublicKey::parse("!!!"), Err(KeyError::Base64));
        assert_eq!(
            AdbPublicKey::parse("QUJD user@host"),
            Err(KeyError::Length(3))
        );
        let b64 = PUBLIC_KEY.split_whitespace().next().unwrap();
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        raw[4] ^= 1; // n0inv
        let bad = base64::engine::general_purpose::STANDARD.encode(&raw);
        assert_eq!(AdbPublicKey::parse(&bad), Err(KeyError::N0Inv));
        raw[4] ^= 1;
        raw[0] = 32;
        let bad = base64::engine::general_purpose::STANDARD.encode(&raw);
        assert_eq!(AdbPublicKey::parse(&bad), Err(KeyError::ModulusSize(32)));
    }

    #[test]
    fn adb_keys_file_skips_comments_and_reports_bad_lines() {
        let text = format!("# operators\n\n{PUBLIC_KEY}\nnot-a-key x\n");
        let (keys, bad) = AdbKeys::parse(&text);
        assert_eq!(keys.keys.len(), 1);
        assert_eq!(bad, vec![(4, KeyError::Base64)]);
        assert!(keys.find_signer(TOKEN, SIGNATURE).is_some());
        assert!(keys.contains(&AdbPublicKey::parse(PUBLIC_KEY).unwrap()));
    }
}
