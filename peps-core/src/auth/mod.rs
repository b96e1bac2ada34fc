//! Authentication primitives: the password rule, password hashing, session tokens,
//! activation codes and one-time passwords (the second factor). The use cases that combine them are in [`crate::services::identity`].

pub mod activation;
pub mod device;
pub mod password;
pub mod token;
pub mod totp;

pub use activation::ActivationCodeValue;
pub use password::{Argon2Hasher, Password, PasswordHasher};
pub use token::SessionToken;
