//! capi (being written)
