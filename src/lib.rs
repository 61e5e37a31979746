//! sesame
