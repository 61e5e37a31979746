//! sesame

pub mod formats;
pub mod strength;
