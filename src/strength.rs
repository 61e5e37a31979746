//! TEMPORARY stub; replaced by the formats branch.
pub fn entropy_bits(_value: &str) -> f64 {
    1000.0
}
pub fn is_weak(value: &str) -> bool {
    value == "changeme"
}
