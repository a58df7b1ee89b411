//! Checkpoints that a crash cannot corrupt, and finding the newest one that is whole.
//!
//! Burn writes an epoch's model, optimizer and scheduler records as three independent files
//! and panics when it loads one that is missing or damaged. gatenet gives Burn its own
//! checkpointer, which writes each file atomically and records its SHA-256; once all three of
//! an epoch are on disk, a manifest (epoch, config hash, checksums, data order, convergence) is
//! written last, by atomic rename. Only an epoch with a manifest whose checksums match counts,
//! and every file is checked, and parsed, before Burn is asked to load it.

use crate::checksum::sha256;
use crate::run::atomic::write_atomic;
use crate::run::folder::{Part, RunDir};
use burn::tensor::Bytes;
use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// What makes an epoch's checkpoint count, stored as `manifest-<epoch>.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub epoch: usize,
    /// SHA-256 of the resolved config.toml the checkpoint was written under.
    pub config_sha256: String,
    /// That config.toml itself: what a resume compares the config it is given with, since the
    /// run folder's config.toml is a file the user can edit. Absent in manifests written before
    /// gatenet kept it (those resume against the run folder's config.toml).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_toml: Option<String>,
    /// Per part (`model`, `optim`, `scheduler`): its size and checksum.
    pub files: BTreeMap<String, FileSum>,
    /// The data order needs no generator state: each epoch's permutation is drawn from
    /// (seed, epoch) alone, so recording the seed is enough. The backends' own generators are not
    /// used after the weights are drawn (gatenet draws them on the host; no dropout).
    pub seed: u64,
    /// The early-stopping state: whether every output was within `tolerance` at this epoch.
    pub converged: bool,
    pub tolerance: f64,
    /// With `training.restore_best`: the epoch of the lowest validation loss up to this one,
    /// whose weights are the checkpoint's `best` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_epoch: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileSum {
    pub bytes: u64,
    pub sha256: String,
}

impl FileSum {
    fn of(bytes: &[u8]) -> FileSum {
        FileSum { bytes: bytes.len() as u64, sha256: sha256(bytes) }
    }
}

/// Collects what each epoch's manifest needs and writes the manifest when it is complete.
/// Shared by the three checkpointers (each on its own Burn thread) and the checkpointing
/// strategy, which announces an epoch before Burn writes any of its files.
pub struct Manifests {
    run: RunDir,
    config_toml: String,
    config_sha256: String,
    seed: u64,
    tolerance: f64,
    pending: Mutex<HashMap<usize, Pending>>,
}

#[derive(Default)]
struct Pending {
    converged: bool,
    best_epoch: Option<usize>,
    files: BTreeMap<String, FileSum>,
}

impl Manifests {
    pub fn new(run: RunDir, config_toml: &str, seed: u64, tolerance: f64) -> Arc<Manifests> {
        let config_sha256 = sha256(config_toml.as_bytes());
        let config_toml = config_toml.to_string();
        Arc::new(Manifests { run, config_toml, config_sha256, seed, tolerance, pending: Mutex::default() })
    }

    /// The run folder the checkpoints belong to.
    pub fn folder(&self) -> std::path::PathBuf {
        self.run.path().to_path_buf()
    }

    pub fn run(&self) -> &RunDir {
        &self.run
    }

    /// Called by the checkpointing strategy when it decides to save `epoch`; `best_epoch`
    /// when the checkpoint also holds the best weights so far (written with [`Self::write_best`]).
    pub fn announce(&self, epoch: usize, converged: bool, best_epoch: Option<usize>) {
        let mut pending = self.pending.lock().expect("manifest lock");
        pending.insert(epoch, Pending { converged, best_epoch, files: BTreeMap::new() });
    }

    /// Writes the best weights so far as the `best` part of the checkpoint of `epoch`.
    pub fn write_best(&self, epoch: usize, bytes: &[u8]) -> Result<(), String> {
        write_atomic(&self.run.checkpoint_file(Part::Best, epoch), bytes)?;
        self.file_written(epoch, Part::Best, FileSum::of(bytes))
    }

    fn file_written(&self, epoch: usize, part: Part, sum: FileSum) -> Result<(), String> {
        let mut pending = self.pending.lock().expect("manifest lock");
        let entry = pending.entry(epoch).or_default();
        entry.files.insert(part.name().to_string(), sum);
        if entry.files.len() < Part::ALL.len() + usize::from(entry.best_epoch.is_some()) {
            return Ok(());
        }
        let done = pending.remove(&epoch).expect("just looked up");
        let manifest = Manifest {
            epoch,
            config_sha256: self.config_sha256.clone(),
            config_toml: Some(self.config_toml.clone()),
            files: done.files,
            seed: self.seed,
            converged: done.converged,
            tolerance: self.tolerance,
            best_epoch: done.best_epoch,
        };
        // metrics.csv holds this epoch's row (the checkpointing strategy waited for it); it
        // reaches the disk before the manifest that makes the checkpoint count, so that after a
        // power cut a complete checkpoint never points past the metrics resume cuts back to.
        let metrics = self.run.metrics();
        std::fs::File::open(&metrics)
            .and_then(|file| file.sync_data())
            .map_err(|e| format!("cannot sync {}: {e}", metrics.display()))?;
        let json = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
        write_atomic(&self.run.manifest(epoch), json.as_bytes())
    }
}

/// Burn's checkpointer for one part: atomic writes, checksums into the manifest, and deletes
/// that remove the manifest first.
pub struct SafeCheckpointer {
    part: Part,
    manifests: Arc<Manifests>,
}

impl SafeCheckpointer {
    pub fn new(part: Part, manifests: Arc<Manifests>) -> SafeCheckpointer {
        SafeCheckpointer { part, manifests }
    }
}

impl<R: Checkpoint> Checkpointer<R> for SafeCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let mut bytes = record.checkpoint_into_bytes().map_err(CheckpointerError::Record)?;
        if self.part == Part::Optim {
            bytes = in_name_order(bytes).map_err(CheckpointerError::Unknown)?;
        }
        let path = self.manifests.run.checkpoint_file(self.part, epoch);
        write_atomic(&path, &bytes).map_err(CheckpointerError::Unknown)?;
        self.manifests.file_written(epoch, self.part, FileSum::of(&bytes)).map_err(CheckpointerError::Unknown)
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        let run = &self.manifests.run;
        run.remove_checkpoint_part(epoch, self.part).map_err(CheckpointerError::Unknown)?;
        // The best part is gatenet's: it goes with the model part.
        if self.part == Part::Model {
            run.remove_checkpoint_part(epoch, Part::Best).map_err(CheckpointerError::Unknown)?;
        }
        Ok(())
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        let path = self.manifests.run.checkpoint_file(self.part, epoch);
        let bytes = std::fs::read(&path).map_err(CheckpointerError::IOError)?;
        R::checkpoint_from_bytes(Bytes::from_bytes_vec(bytes)).map_err(CheckpointerError::Record)
    }
}

/// A burnpack file with its tensors sorted by name. Burn 0.22.1 writes an optimizer record's
/// tensors in the order of a `HashMap` of parameters, which differs from process to process:
/// the same state in other bytes, under another checksum. Sorted (the names are
/// `{param_id}.{field}`), two runs of one config save identical files, and Burn reads them by
/// name either way.
fn in_name_order(bytes: Bytes) -> Result<Bytes, String> {
    let reader =
        burn_pack::Reader::from_bytes(bytes).map_err(|e| format!("cannot read Burn's record: {e}"))?;
    let (scalars, metadata) = (reader.scalars().clone(), reader.metadata().clone());
    let mut tensors = reader.into_tensors().map_err(|e| format!("cannot read Burn's record: {e}"))?;
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    let mut writer = burn_pack::Writer::new(tensors);
    for (key, value) in &scalars {
        writer = writer.with_scalar(key, *value);
    }
    for (key, value) in &metadata {
        writer = writer.with_metadata(key, value);
    }
    writer.into_bytes().map_err(|e| format!("cannot write Burn's record: {e}"))
}

/// The newest complete checkpoint (or the one asked for), checked file by file.
pub struct Found {
    pub manifest: Manifest,
    /// One line per newer checkpoint that was skipped, naming the file and what is wrong.
    pub skipped: Vec<String>,
}

/// Finds the checkpoint to resume from: `wanted` or else the newest whose manifest and files
/// are whole. Every file is checked against its size and checksum and parsed as Burn's record,
/// so that nothing handed to Burn can make it panic.
pub fn find(run: &RunDir, wanted: Option<usize>) -> Result<Found, String> {
    let epochs = run.checkpoint_epochs();
    let folder = run.checkpoints().display().to_string();
    if let Some(epoch) = wanted {
        if !epochs.contains(&epoch) {
            let have = epochs.iter().rev().map(|e| e.to_string()).collect::<Vec<_>>().join(", ");
            let have = if have.is_empty() { "none".to_string() } else { have };
            return Err(format!("no checkpoint of epoch {epoch} in {folder} (epochs there: {have})"));
        }
        return check(run, epoch)
            .map(|manifest| Found { manifest, skipped: Vec::new() })
            .map_err(|why| format!("the checkpoint of epoch {epoch} cannot be used: {why}"));
    }
    let mut skipped = Vec::new();
    for epoch in epochs {
        match check(run, epoch) {
            Ok(manifest) => return Ok(Found { manifest, skipped }),
            Err(why) => skipped.push(format!("checkpoint of epoch {epoch} skipped: {why}")),
        }
    }
    if skipped.is_empty() {
        Err(format!(
            "no checkpoint in {folder}: the run stopped before its first save (training.checkpoint_every); start it again without --resume"
        ))
    } else {
        Err(format!("no usable checkpoint in {folder}:\n  {}", skipped.join("\n  ")))
    }
}

/// The manifest of `epoch` if it and all its files are whole.
fn check(run: &RunDir, epoch: usize) -> Result<Manifest, String> {
    let manifest_path = run.manifest(epoch);
    let name =
        |path: &std::path::Path| path.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("{} is missing: the run stopped while writing this checkpoint", name(&manifest_path))
        }
        _ => format!("cannot read {}: {e}", name(&manifest_path)),
    })?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| format!("{} is damaged: {e}", name(&manifest_path)))?;
    if manifest.epoch != epoch {
        return Err(format!("{} names epoch {}", name(&manifest_path), manifest.epoch));
    }
    let best = manifest.best_epoch.map(|_| Part::Best);
    for part in Part::ALL.into_iter().chain(best) {
        let path = run.checkpoint_file(part, epoch);
        let expected = manifest
            .files
            .get(part.name())
            .ok_or_else(|| format!("{} lists no {} file", name(&manifest_path), part.name()))?;
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{} is missing", name(&path)),
            _ => format!("cannot read {}: {e}", name(&path)),
        })?;
        let found = FileSum::of(&bytes);
        if found.bytes != expected.bytes {
            return Err(format!(
                "{} is truncated or padded: {} bytes, expected {}",
                name(&path),
                found.bytes,
                expected.bytes
            ));
        }
        if found.sha256 != expected.sha256 {
            return Err(format!("{} is damaged: its SHA-256 does not match the manifest", name(&path)));
        }
        let bytes = Bytes::from_bytes_vec(bytes);
        let parsed = match part {
            Part::Model | Part::Best => burn::store::ModuleRecord::from_bytes(bytes).map(|_| ()),
            Part::Optim => burn::optim::OptimizerRecord::checkpoint_from_bytes(bytes).map(|_| ()),
            Part::Scheduler => {
                burn::lr_scheduler::LrSchedulerRecord::checkpoint_from_bytes(bytes).map(|_| ())
            }
        };
        parsed.map_err(|e| format!("{} cannot be read as Burn's record: {e}", name(&path)))?;
    }
    Ok(manifest)
}

/// A Burn record error in gatenet's words. Burn 0.22.1 words a record that does not fit its
/// network as `Record validation error: Apply errors: ["layers.0.weight: shape mismatch,
/// expected Shape { dims: [2, 9] } but record has Shape { dims: [2, 6] }"]`; this gives
/// `layers.0.weight is [2, 6] in the file and [2, 9] in this network`, one entry per tensor,
/// without Burn's list or type syntax.
pub fn record_error(error: &burn::store::RecordError) -> String {
    let text = error.to_string();
    let text = text.trim_start_matches("Record validation error: ").trim_start_matches("Record I/O error: ");
    let (kind, list) = match text.split_once(": [") {
        Some((kind, list))
            if kind == "Apply errors" || kind == "Missing tensors" || kind == "Unused tensors" =>
        {
            (kind, list.trim_end_matches(']'))
        }
        _ => return text.replace("Shape { dims: ", "").replace(" }", ""),
    };
    let entries: Vec<String> = list
        .split("\", \"")
        .map(|entry| entry.trim_matches('"').replace("Shape { dims: ", "").replace(" }", ""))
        .map(|entry| match entry.split_once(": shape mismatch, expected ") {
            Some((tensor, shapes)) => match shapes.split_once(" but record has ") {
                Some((network, file)) => {
                    format!("{tensor} is {file} in the file and {network} in this network")
                }
                None => entry,
            },
            None => entry,
        })
        .collect();
    match kind {
        "Missing tensors" => format!("the file lacks {}", entries.join(", ")),
        "Unused tensors" => format!("the file has tensors this network does not: {}", entries.join(", ")),
        _ => entries.join("; "),
    }
}
