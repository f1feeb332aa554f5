//! Helpers shared by integration tests.

pub mod debian;
pub mod dns_zone;
pub mod exim;
pub mod lists;
