//! gatenet: train small dense networks from one TOML config, on Burn 0.22. `main.rs` is the
//! command line; `train::train` is the whole run.

pub mod activation;
pub mod artifacts;
pub mod backend;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod config_file;
pub mod csv_data;
pub mod data;
pub mod diagnosis;
pub mod failure;
pub mod gradcheck;
pub mod health;
pub mod init;
pub mod interrupt;
pub mod loss;
pub mod measures;
pub mod metrics;
pub mod model;
pub mod names;
pub mod optim;
pub mod pictures;
pub mod pin;
pub mod predict;
pub mod renderer;
pub mod report;
pub mod resume;
pub mod shell;
pub mod stopping;
pub mod strategy;
pub mod summary;
pub mod sweep;
pub mod synthetic;
pub mod train;
