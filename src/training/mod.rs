//! Training one run: the spine (`train`), gatenet's epoch loop inside Burn's Learner, the
//! measures of each step, stopping and saving, the progress line, the optimizer, the backend
//! and signals.

pub mod backend;
pub mod best;
pub mod interrupt;
pub mod lr_find;
pub mod measures;
pub mod optim;
pub mod pin;
pub mod progress;
pub mod step;
pub mod stopping;
pub mod strategy;
pub mod trace;
pub mod train;
