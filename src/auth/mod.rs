//! Authentication: HS256 JSON Web Tokens, as PocketBase issues them.

pub mod jwt;

pub use jwt::{JwtError, Signer as JwtSigner};
