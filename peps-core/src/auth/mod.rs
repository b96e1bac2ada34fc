//! Authentication primitives: the password rule, password hashing, session tokens and
//! activation codes. The use cases that combine them are in [`crate::services::identity`].

pub mod activation;
pub mod device;
pub mod password;
pub mod token;

pub use activation::ActivationCodeValue;
pub use password::{Argon2Hasher, Password, PasswordHasher};
pub use token::SessionToken;
