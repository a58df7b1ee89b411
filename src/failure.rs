//! Why gatenet stopped short, and the exit code that says so (documented in the README).

/// Exit codes.
pub const RUNTIME_FAILURE: u8 = 1;
pub const USAGE_OR_CONFIG: u8 = 2;
pub const DIVERGED: u8 = 3;
pub const INTERRUPTED: u8 = 130;

/// A failure with its one-paragraph message and exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// A usage, config or data error: nothing was trained.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { code: USAGE_OR_CONFIG, message: message.into() }
    }

    /// A failure during a run.
    pub fn runtime(message: impl Into<String>) -> Failure {
        Failure { code: RUNTIME_FAILURE, message: message.into() }
    }
}
