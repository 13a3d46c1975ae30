//! Random tokens and their hashes. Tokens travel to clients; only hashes are stored,
//! so a leaked database does not leak live sessions.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A random token of `bytes` bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a token, the form in which it is stored and looked up.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
