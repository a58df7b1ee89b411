//! The run folder `artifacts/<name>/`: the only module that spells a file name in it.
//!
//! ```text
//! artifacts/<name>/
//!   config.toml      the resolved config, written before training starts
//!   metrics.csv      one row per epoch
//!   checkpoint/      Burn's model-, optim- and scheduler-<epoch>.bpk, the two newest saves
//!   model.bpk        the final weights
//!   summary.json     the outcome, and every row's prediction before and after training
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    pub fn new(artifacts: &Path, name: &str) -> RunDir {
        RunDir {
            root: artifacts.join(name),
        }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.csv")
    }

    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoint")
    }

    pub fn model(&self) -> PathBuf {
        self.root.join("model.bpk")
    }

    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.json")
    }

    /// Makes the folder ready for a new run: files of a previous run in it are removed, so that
    /// nothing in it can be mistaken for part of this run. Anything else is left alone.
    pub fn prepare_fresh(&self) -> Result<(), String> {
        std::fs::create_dir_all(&self.root)
            .map_err(|e| format!("cannot create the run folder {}: {e}", self.root.display()))?;
        for file in [self.config(), self.metrics(), self.model(), self.summary()] {
            remove_if_present(&file)?;
        }
        let checkpoints = self.checkpoints();
        if checkpoints.is_dir() {
            for entry in std::fs::read_dir(&checkpoints)
                .map_err(|e| format!("cannot list {}: {e}", checkpoints.display()))?
            {
                let path = entry
                    .map_err(|e| format!("cannot list {}: {e}", checkpoints.display()))?
                    .path();
                if path.extension().is_some_and(|x| x == "bpk" || x == "tmp") {
                    remove_if_present(&path)?;
                }
            }
        }
        Ok(())
    }
}

fn remove_if_present(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!(
            "cannot remove {} of the previous run: {e}",
            path.display()
        )),
        _ => Ok(()),
    }
}

/// Writes a whole file or nothing: a sibling temporary file is written, synced and renamed over
/// the target, so a crash never leaves half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}
