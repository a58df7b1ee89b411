//! The config file: its schema (the TOML's mirror, with defaults), how it is loaded (spans,
//! problems, suggestions) and validated. The bottom layer of gatenet: it reads the CSV file it
//! names only through the reader the data layer hands it (`Config::load_reading`).

pub mod choices;
pub mod csv_schema;
pub mod limits;
pub mod load;
pub mod schema;
pub mod space;
mod validate;
mod validate_sweep;

pub use choices::*;
pub use load::{ConfigError, Problem};
pub use schema::*;

#[cfg(test)]
mod tests;
