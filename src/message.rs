//! message (to be written)
