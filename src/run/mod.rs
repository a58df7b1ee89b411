//! The run folder and what is in it: its paths and lock, checkpoints, metrics.csv, resuming,
//! summary.json, the diagnosis and the pictures.

pub mod atomic;
pub mod axes;
pub mod boundary;
pub mod canvas;
pub mod changes;
pub mod checkpoint;
pub mod diagnosis;
pub mod folder;
pub mod lock;
pub mod lr_find_picture;
pub mod metrics;
pub mod pictures;
pub mod report_html;
pub mod resume;
pub mod summary;
pub mod sweep_picture;
pub mod sweep_results;
pub mod tensorboard;
