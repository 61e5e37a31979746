//! sesame

pub mod user;
