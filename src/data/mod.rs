//! What a network learns from: tables of rows, truth tables, synthetic 2-D datasets and CSV
//! files, and the loader that batches them for Burn.

pub mod csv;
pub mod csv_rows;
pub mod dataset;
pub mod rng;
pub mod synthetic;
pub mod table;
