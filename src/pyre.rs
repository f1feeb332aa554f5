//! Python `re` patterns on a bounded backtracking engine.
//!
//! API CONTRACT (implementation pending).

/// Flags, as Python's `re.I`, `re.M`, `re.U`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub ignorecase: bool,
    pub multiline: bool,
    pub unicode: bool,
}

/// Why a pattern could not be compiled (Python would raise `re.error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

/// A match could not be completed within the backtracking bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchLimitExceeded;

/// A compiled Python pattern.
#[derive(Debug, Clone)]
pub struct PyRegex {}

impl PyRegex {
    /// `re.compile(pattern, flags)`.
    pub fn compile(pattern: &str, flags: Flags) -> Result<PyRegex, PatternError> {
        let _ = (pattern, flags);
        Err(PatternError("not implemented".into()))
    }
    /// `pattern.search(text) is not None`.
    pub fn search(&self, text: &str) -> Result<bool, MatchLimitExceeded> {
        let _ = text;
        Ok(false)
    }
    /// `pattern.match(text) is not None` (anchored at the start only).
    pub fn match_start(&self, text: &str) -> Result<bool, MatchLimitExceeded> {
        let _ = text;
        Ok(false)
    }
}
