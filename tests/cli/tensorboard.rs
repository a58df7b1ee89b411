//! TensorBoard event files: every metrics.csv column as a series, read back by TensorBoard's
//! own `EventAccumulator` (tests/python/check_tensorboard.py), and a resumed run continuing its
//! series with one value per step.

use super::*;

fn xor(dir: &Path, epochs: usize) -> PathBuf {
    let text = format!(
        "[data]\ngate = \"xor\"\n[model]\nhidden_sizes = [4, 3]\n[training]\nnum_epochs = {epochs}\n\
         tolerance = 0\ncheckpoint_every = 20\n"
    );
    config_file(dir, "xor.toml", &text)
}

#[test]
fn tensorboard_reads_every_scalar_of_a_run_back_equal_to_metrics_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = train(&xor(dir.path(), 50), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let run = dir.path().join("artifacts/xor");
    assert!(run.join("tensorboard/events.out.tfevents.gatenet").is_file());
    let Some(python) = python(&["tensorboard", "numpy"]) else { return };
    let said = python_check(&python, "check_tensorboard.py", &[&run]);
    assert!(said.contains("x 50 epochs equal metrics.csv"), "{said}");
}

#[test]
fn a_run_resumed_from_an_earlier_checkpoint_has_exactly_one_value_per_step() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = xor(d, 60);
    let (out, _) = train(&config, d);
    assert!(out.status.success(), "{}", stderr(&out));
    // Back to epoch 40, then on to 80: epochs 41 to 60 are trained again, and must not appear
    // twice; then continued once more with --resume.
    let config = xor(d, 80);
    let args = ["train", config.to_str().unwrap(), "--artifacts", "artifacts", "--resume-from", "40"];
    let out = gatenet(&args, d);
    assert!(out.status.success(), "{}", stderr(&out));
    let config = xor(d, 90);
    let out = gatenet(&["train", config.to_str().unwrap(), "--artifacts", "artifacts", "--resume"], d);
    assert!(out.status.success(), "{}", stderr(&out));
    let Some(python) = python(&["tensorboard", "numpy"]) else { return };
    let said = python_check(&python, "check_tensorboard.py", &[&d.join("artifacts/xor")]);
    assert!(said.contains("x 90 epochs equal metrics.csv"), "{said}");
}
