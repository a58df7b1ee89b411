//! What the command line runs, one file a command: each loads its input, calls the layers
//! below, and returns what `main` prints.

pub mod check;
pub mod export;
pub mod gradcheck;
pub mod lr_find;
pub mod predict;
pub mod report;
pub mod sweep;
pub mod sweep_halving;
pub mod sweep_runs;
pub mod sweep_search;
pub mod sweep_shards;
pub mod sweep_trials;
pub mod trace;
