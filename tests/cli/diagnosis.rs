//! The diagnosis of runs that do not converge, and the layer health behind it.

use super::{config_file, gatenet, repo, stderr, train};
use serde_json::Value;

fn codes(summary: &Value) -> Vec<String> {
    summary["diagnosis"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

fn finding<'a>(summary: &'a Value, code: &str) -> &'a Value {
    summary["diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {summary}"))
}

#[test]
fn the_question_setting_is_a_plateau_with_a_learning_rate_far_too_small() {
    let dir = tempfile::tempdir().unwrap();
    let (out, summary) = train(&repo().join("configs/or-question.toml"), dir.path());
    let summary = summary.unwrap();
    assert!(codes(&summary).contains(&"plateau".to_string()), "{summary}");
    let slow = finding(&summary, "slow_learning");
    let message = slow["message"].as_str().unwrap();
    assert!(message.contains("more epochs"), "an estimate of the epochs needed: {message}");
    assert!(slow["hint"].as_str().unwrap().contains("optimizer.learning_rate"), "{slow}");
    let plateau = finding(&summary, "plateau")["message"].as_str().unwrap().to_string();
    assert!(plateau.contains("the mean of the targets is 0.75"), "{plateau}");
    let report = super::stdout(&out);
    assert!(report.contains("diagnosis:") && report.contains("hint:"), "printed too: {report}");
}

#[test]
fn a_learning_rate_of_1000_diverges_exits_3_and_keeps_the_last_finite_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"boom\"\n[data]\ngate = \"or\"\n[model]\nhidden_sizes = [6]\noutput_activation = \"identity\"\n\
                [optimizer]\nname = \"sgd\"\nlearning_rate = 1000\n[training]\nnum_epochs = 100\ncheckpoint_every = 2\n";
    let config = config_file(dir.path(), "boom.toml", text);
    let out = gatenet(&[config.to_str().unwrap(), "--artifacts", "artifacts"], dir.path());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    let run = dir.path().join("artifacts/boom");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["diverged"], true);
    assert_eq!(codes(&summary), ["diverged"]);
    assert!(!run.join("model.bpk").exists(), "NaN weights are not saved as the model");
    let diverged_at = summary["epochs_run"].as_u64().unwrap();
    let kept = summary["last_checkpoint"].as_u64().expect("a checkpoint before the divergence");
    assert!(kept < diverged_at);
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let row: Vec<f64> =
        metrics.lines().nth(kept as usize).unwrap().split(',').map(|c| c.parse().unwrap()).collect();
    assert!(row.iter().all(|v| v.is_finite()), "the kept checkpoint's epoch is finite: {row:?}");
}

#[test]
fn a_sigmoid_net_with_small_weights_and_a_small_rate_is_found_stalled() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"stalled\"\n[data]\ngate = \"or\"\n[model]\nhidden_sizes = [6]\nactivation = \"sigmoid\"\ninit = \"small\"\n\
                [optimizer]\nname = \"sgd\"\nlearning_rate = 1e-3\n[training]\nnum_epochs = 1000\n";
    let (_, summary) = train(&config_file(dir.path(), "stalled.toml", text), dir.path());
    let found = codes(&summary.unwrap());
    assert!(
        found.iter().any(|c| ["plateau", "slow_learning", "vanishing_gradients"].contains(&c.as_str())),
        "{found:?}"
    );
}

#[test]
fn a_frozen_first_layer_shows_a_zero_gradient_and_the_diagnosis_names_it() {
    // The original question's bug: backprop that never reached the first layer.
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"frozen\"\n[data]\ngate = \"or\"\n[model]\nhidden_sizes = [6]\nactivation = \"sigmoid\"\ninit = \"small\"\nfreeze = [1]\n\
                [optimizer]\nname = \"sgd\"\nlearning_rate = 0.5\n[training]\nnum_epochs = 300\n";
    let (_, summary) = train(&config_file(dir.path(), "frozen.toml", text), dir.path());
    let metrics = std::fs::read_to_string(dir.path().join("artifacts/frozen/metrics.csv")).unwrap();
    let header: Vec<&str> = metrics.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (first, last) = (column("grad_norm_1"), column("grad_norm_2"));
    for row in metrics.lines().skip(1) {
        let cells: Vec<f64> = row.split(',').map(|c| c.parse().unwrap()).collect();
        assert_eq!(cells[first], 0.0, "layer 1 never gets a gradient: {row}");
        assert!(cells[last] > 0.0, "layer 2 does: {row}");
    }
    let message = finding(&summary.unwrap(), "no_gradient")["message"].as_str().unwrap().to_string();
    assert!(message.contains("layer 1"), "{message}");
}

#[test]
fn a_run_cut_short_is_told_it_needs_more_epochs_and_given_them_converges_with_no_diagnosis() {
    // The question's sigmoid net and small init, with a learning rate that does train it:
    // a long plateau, then convergence near epoch 1,500.
    let dir = tempfile::tempdir().unwrap();
    let text = |epochs: usize| {
        format!(
            "name = \"late\"\n[data]\ngate = \"or\"\n[model]\nhidden_sizes = [6]\nactivation = \"sigmoid\"\ninit = \"small\"\n\
             [optimizer]\nname = \"sgd\"\nlearning_rate = 0.5\n[training]\nnum_epochs = {epochs}\n"
        )
    };
    let (_, cut) = train(&config_file(dir.path(), "late.toml", &text(500)), dir.path());
    let cut = cut.unwrap();
    assert!(cut["converged_epoch"].is_null(), "{cut}");
    let more = finding(&cut, "needs_more_epochs");
    let hinted: usize =
        more["hint"].as_str().unwrap().rsplit(' ').next().unwrap().replace(',', "").parse().unwrap();
    let (_, given) = train(&config_file(dir.path(), "late.toml", &text(2 * hinted)), dir.path());
    let given = given.unwrap();
    assert!(given["converged_epoch"].as_u64().is_some(), "{given}");
    assert!(codes(&given).is_empty(), "a converged run is not diagnosed: {given}");
}
