//! Error kinds, their hints, and the one map from a kind to a process exit code.
//!
//! Every failure a user can see is an [`Error`]: a [`Kind`] that decides the exit code (the table
//! in SPEC section 1), a message that says what happened and why, and hints that name the exact
//! command that gets the user unstuck. Nothing else in the crate chooses an exit code.

use std::fmt;

/// What went wrong, from the user's point of view. Each kind has exactly one exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Bad command-line usage (exit 2).
    Usage,
    /// The configuration is invalid (exit 2).
    Config,
    /// A precondition is not met and nothing was changed (exit 2).
    Precondition,
    /// A step ran and failed: tests, a configured command, a git operation (exit 1).
    StepFailed,
    /// Paused and resumable: a conflict to resolve, approval pending (exit 3).
    Paused,
    /// Approval was not granted (exit 4).
    NotApproved,
    /// A rollback failed; production may run mixed versions (exit 5).
    RollbackFailed,
    /// Interrupted by the user; state is saved (exit 130).
    Interrupted,
    /// A bug or an environment failure the tool did not anticipate (exit 1).
    Internal,
}

impl Kind {
    /// The process exit code for this kind (SPEC section 1, "Exit codes").
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::StepFailed | Kind::Internal => 1,
            Kind::Usage | Kind::Config | Kind::Precondition => 2,
            Kind::Paused => 3,
            Kind::NotApproved => 4,
            Kind::RollbackFailed => 5,
            Kind::Interrupted => 130,
        }
    }
}

/// A user-facing error: kind, message and hints.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hints: Vec<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(Kind::Precondition, message)
    }
    pub fn step(message: impl Into<String>) -> Self {
        Self::new(Kind::StepFailed, message)
    }
    pub fn paused(message: impl Into<String>) -> Self {
        Self::new(Kind::Paused, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }

    /// Adds a hint: a sentence or the exact command that gets the user unstuck.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Prefixes the message with context, keeping kind and hints.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// Turns a refusal into "paused" when something already changed: a question that cannot be
    /// asked is exit 2 before any change and exit 3 (resumable) after one (SPEC section 1).
    pub fn after_change(mut self, changed: bool) -> Self {
        if changed && self.kind.exit_code() == 2 {
            self.kind = Kind::Paused;
        }
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_spec_table() {
        assert_eq!(Kind::StepFailed.exit_code(), 1);
        assert_eq!(Kind::Precondition.exit_code(), 2);
        assert_eq!(Kind::Config.exit_code(), 2);
        assert_eq!(Kind::Paused.exit_code(), 3);
        assert_eq!(Kind::NotApproved.exit_code(), 4);
        assert_eq!(Kind::RollbackFailed.exit_code(), 5);
        assert_eq!(Kind::Interrupted.exit_code(), 130);
    }

    #[test]
    fn a_refusal_after_a_change_becomes_resumable() {
        let e = Error::usage("needs --yes").after_change(true);
        assert_eq!(e.exit_code(), 3);
        let e = Error::usage("needs --yes").after_change(false);
        assert_eq!(e.exit_code(), 2);
    }
}
