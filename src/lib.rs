//! gatenet: train small dense networks from one TOML config, on Burn 0.22. `main.rs` parses
//! the command line; `training::train::train` is the whole run. The folders are the layers,
//! each importing only from the ones below it (see README, Development):
//! commands > training > run > model > config > data > the files at this level.

pub mod checksum;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod failure;
pub mod input;
pub mod model;
pub mod names;
pub mod run;
pub mod shell;
pub mod training;
