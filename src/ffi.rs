//! ffi (to be written)
