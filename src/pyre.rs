//! pyre (to be written)
