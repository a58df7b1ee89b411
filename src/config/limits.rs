//! The largest values a config may hold, each with the reason it is the limit: past them a
//! value is a typo, or would take more than this machine has.

/// The widest hidden layer accepted: far past what a dense net on tabular data needs, and small
/// enough that a typo like `1000000000` is refused before anything is allocated.
pub const MAX_WIDTH: usize = 100_000;

/// The most epochs accepted: 10^8 epochs take about 8 hours at gatenet's fastest, and keep
/// every count of optimizer steps far below the 2^31 at which Burn's step scheduler stops.
pub const MAX_EPOCHS: usize = 100_000_000;

/// The largest learning rate accepted. 1000 still trains (and diverges, which gatenet reports
/// and diagnoses); a rate like 1e30 is a typo, and every weight would be at its limit after the
/// first step.
pub const MAX_LEARNING_RATE: f64 = 1e6;

/// The most runs a sweep accepts (settings x seeds).
pub const MAX_SWEEP_RUNS: usize = 1_000_000;

/// The most parameters accepted: 10^8 weights take 1.6 GB with Adam's two moments and a
/// gradient (4 bytes each), a sixth of this project's 24 GB machines; refused before allocating.
pub const MAX_PARAMETERS: usize = 100_000_000;

/// The most inputs a truth table may have: 2^16 = 65,536 rows.
pub const MAX_GATE_INPUTS: usize = 16;
