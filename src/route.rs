//! route (to be written)
