//! capi (to be written)
