//! site (to be written)
