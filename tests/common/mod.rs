//! Helpers shared by integration tests.

pub mod dns_zone;
pub mod exim;
