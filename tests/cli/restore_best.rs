//! `training.restore_best`: a run ends with the weights of its lowest validation loss, however
//! it ends, and keeps them across a resume.

use super::{config_file, gatenet, stderr, train};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Few noisy points and a large rate: the validation loss falls to a minimum (epoch 39), then
/// rises as the net fits the training points' noise.
fn overfitting(epochs: usize, restore_best: bool) -> String {
    format!(
        "name = \"overfit\"\n[data]\nsynthetic = \"gauss\"\nsamples = 40\nnoise = 0.6\n[model]\nhidden_sizes = [32]\n\
         [optimizer]\nname = \"adam\"\nlearning_rate = 0.1\n[training]\nnum_epochs = {epochs}\ntolerance = 0\n\
         checkpoint_every = 10\nrestore_best = {restore_best}\n"
    )
}

fn outputs(summary: &Value) -> Vec<Value> {
    summary["predictions"].as_array().unwrap().iter().map(|p| p["output"].clone()).collect()
}

fn summary_in(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("artifacts/overfit/summary.json")).unwrap())
        .unwrap()
}

#[test]
fn a_run_that_overfits_ends_with_the_weights_of_its_lowest_validation_loss() {
    let dir = tempfile::tempdir().unwrap();
    let (out, summary) = train(&config_file(dir.path(), "overfit.toml", &overfitting(300, true)), dir.path());
    let summary = summary.unwrap_or_else(|| panic!("{}", stderr(&out)));
    let best = summary["best_epoch"].as_u64().unwrap() as usize;
    assert_eq!(summary["restored_best"], true);
    // The lowest validation loss of metrics.csv, and the loss rose after it.
    let metrics = std::fs::read_to_string(dir.path().join("artifacts/overfit/metrics.csv")).unwrap();
    let losses: Vec<f64> =
        metrics.lines().skip(1).map(|l| l.split(',').nth(4).unwrap().parse().unwrap()).collect();
    let lowest = (0..losses.len()).min_by(|&a, &b| losses[a].total_cmp(&losses[b])).unwrap() + 1;
    assert_eq!(best, lowest);
    assert!(best < 300 && losses[299] > 1.2 * losses[best - 1], "the loss rose after epoch {best}");
    assert!(
        super::stdout(&out).contains(&format!("model.bpk holds epoch {best}'s, the lowest validation loss"))
    );
    // Its predictions are those of the same run stopped at that epoch.
    let other = tempfile::tempdir().unwrap();
    let (_, stopped) =
        train(&config_file(other.path(), "overfit.toml", &overfitting(best, false)), other.path());
    assert_eq!(outputs(&summary), outputs(&stopped.unwrap()), "the best epoch's weights, bit for bit");
    let predicted = |d: &Path| super::stdout(&gatenet(&["predict", "artifacts/overfit"], d));
    assert_eq!(predicted(dir.path()), predicted(other.path()));
}

#[test]
fn without_restore_best_a_run_keeps_its_last_weights_and_says_nothing_of_a_best() {
    let dir = tempfile::tempdir().unwrap();
    let (out, summary) =
        train(&config_file(dir.path(), "overfit.toml", &overfitting(300, false)), dir.path());
    let summary = summary.unwrap();
    assert_eq!((summary["best_epoch"].is_null(), &summary["restored_best"]), (true, &Value::Bool(false)));
    assert!(!super::stdout(&out).contains("restored"), "{}", super::stdout(&out));
    let best = tempfile::tempdir().unwrap();
    let (_, restored) =
        train(&config_file(best.path(), "overfit.toml", &overfitting(300, true)), best.path());
    assert_ne!(outputs(&summary), outputs(&restored.unwrap()));
    let checkpoints = std::fs::read_dir(dir.path().join("artifacts/overfit/checkpoint")).unwrap();
    assert!(checkpoints.flatten().all(|e| !e.file_name().to_string_lossy().starts_with("best-")));
}

#[test]
fn a_run_that_converges_keeps_its_converged_weights() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"or\"\n[optimizer]\nname = \"adam\"\nlearning_rate = 0.05\n[training]\nrestore_best = true\n";
    let (out, summary) = train(&config_file(dir.path(), "or.toml", text), dir.path());
    let summary = summary.unwrap_or_else(|| panic!("{}", stderr(&out)));
    assert_eq!(summary["converged"], true);
    // The last epoch is within the tolerance and has the lowest loss: nothing to restore.
    assert_eq!(summary["best_epoch"], summary["epochs_run"]);
    let predictions = summary["predictions"].as_array().unwrap();
    assert!(
        predictions
            .iter()
            .all(|p| (p["output"][0].as_f64().unwrap() - p["target"][0].as_f64().unwrap()).abs() <= 0.1)
    );
}

#[test]
fn the_best_weights_survive_kill_9_and_a_resume() {
    let dir = tempfile::tempdir().unwrap();
    let text = overfitting(3000, true);
    let straight = tempfile::tempdir().unwrap();
    let (_, expected) = train(&config_file(straight.path(), "overfit.toml", &text), straight.path());
    let expected = expected.unwrap();
    let config = config_file(dir.path(), "overfit.toml", &text);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(["-q", config.to_str().unwrap()])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once a checkpoint past the best epoch is complete, long before the run ends.
    let manifest = dir.path().join("artifacts/overfit/checkpoint/manifest-100.json");
    let started = Instant::now();
    while !manifest.is_file() {
        assert!(started.elapsed() < Duration::from_secs(30), "no checkpoint of epoch 100 after 30 s");
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!dir.path().join("artifacts/overfit/summary.json").exists(), "killed before the end");
    let resumed = gatenet(&["-q", config.to_str().unwrap(), "--resume"], dir.path());
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let summary = summary_in(dir.path());
    assert_eq!(summary["best_epoch"], expected["best_epoch"]);
    assert_eq!(
        summary["model_sha256"], expected["model_sha256"],
        "the same best weights as the uninterrupted run"
    );
}

#[test]
fn a_diverged_run_with_restore_best_still_ends_with_its_best_finite_weights() {
    let dir = tempfile::tempdir().unwrap();
    super::diverging_regression(dir.path(), "house", "restore_best = true\n");
    let out = gatenet(&["-q", "house.toml"], dir.path());
    assert_eq!(out.status.code(), Some(3), "diverged: {}", stderr(&out));
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("artifacts/house/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!((summary["diverged"].as_bool(), summary["restored_best"].as_bool()), (Some(true), Some(true)));
    assert!(summary["best_epoch"].as_u64().is_some(), "{summary}");
    let predicted = gatenet(&["predict", "artifacts/house", "--input", "100,3"], dir.path());
    assert!(predicted.status.success(), "model.bpk holds the best finite weights: {}", stderr(&predicted));
}
