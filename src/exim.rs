//! exim (to be written)
