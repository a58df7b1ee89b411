//! The config file: its schema (the TOML's mirror, with defaults), how it is loaded (spans,
//! problems, suggestions) and validated. The bottom layer of gatenet but for the data it names.

pub mod choices;
pub mod limits;
pub mod load;
pub mod schema;
mod validate;

pub use choices::*;
pub use schema::*;

#[cfg(test)]
mod tests;
