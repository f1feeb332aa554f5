//! policy (to be written)
