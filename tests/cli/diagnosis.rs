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

#[test]
fn the_epochs_a_cut_short_run_is_told_to_train_are_enough_when_it_resumes_with_them() {
    // SGD at these rates learns XOR slowly, then fast, then slowly again near the targets,
    // converging at epochs 159, 316 and 629: the hint must reach them, not fall short.
    for (rate, cut_at) in [(2.0, 100), (1.0, 300), (0.5, 400)] {
        let dir = tempfile::tempdir().unwrap();
        let text = |epochs: usize| {
            format!(
                "name = \"cut\"\n[data]\ngate = \"xor\"\n[optimizer]\nname = \"sgd\"\nlearning_rate = {rate}\n\
                 [training]\nnum_epochs = {epochs}\n"
            )
        };
        let (_, cut) = train(&config_file(dir.path(), "cut.toml", &text(cut_at)), dir.path());
        let cut = cut.unwrap();
        let more = finding(&cut, "needs_more_epochs");
        let hint = more["hint"].as_str().unwrap();
        assert!(hint.starts_with("continue with --resume"), "{hint}");
        let hinted: usize = hint.rsplit(' ').next().unwrap().replace(',', "").parse().unwrap();
        let config = config_file(dir.path(), "cut.toml", &text(hinted));
        let out = super::gatenet(
            &["-q", config.to_str().unwrap(), "--artifacts", "artifacts", "--resume"],
            dir.path(),
        );
        assert!(out.status.success(), "{}", super::stderr(&out));
        let summary: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("artifacts/cut/summary.json")).unwrap(),
        )
        .unwrap();
        assert!(
            summary["converged_epoch"].as_u64().is_some(),
            "rate {rate}: {hinted} epochs were not enough: {summary}"
        );
    }
}

/// Trains `[data] gate = "xor"` with these settings for 300 epochs; its summary.json.
fn xor_with(dir: &std::path::Path, name: &str, settings: (&str, f64, &str, &str)) -> Value {
    let (optimizer, rate, activation, init) = settings;
    let text = format!(
        "[data]\ngate = \"xor\"\n[model]\nactivation = \"{activation}\"\ninit = \"{init}\"\n\
         [optimizer]\nname = \"{optimizer}\"\nlearning_rate = {rate}\n[training]\nnum_epochs = 300\n"
    );
    train(&config_file(dir, &format!("{name}.toml"), &text), dir).1.unwrap()
}

#[test]
fn a_loss_that_ends_above_where_it_started_is_found_rising_and_a_rise_is_never_a_plateau() {
    // XOR, relu, SGD at 50: the first step throws the loss up, and it never comes back.
    let dir = tempfile::tempdir().unwrap();
    let summary = xor_with(dir.path(), "rose", ("sgd", 50.0, "relu", "default"));
    let rose = finding(&summary, "loss_rose");
    let message = rose["message"].as_str().unwrap();
    assert!(message.contains("before the first update"), "{message}");
    assert!(rose["hint"].as_str().unwrap().starts_with("lower optimizer.learning_rate from 50"), "{rose}");
    if let Some(plateau) = summary["diagnosis"].as_array().unwrap().iter().find(|f| f["code"] == "plateau") {
        // A plateau is a loss that moved by less than 1% either way, never a rise.
        let message = plateau["message"].as_str().unwrap();
        let changed: f64 =
            message.split("changed by ").nth(1).unwrap().split('%').next().unwrap().parse().unwrap();
        assert!(changed.abs() < 1.0, "{message}");
    }
}

#[test]
fn no_hint_contradicts_another_or_suggests_what_the_run_already_uses() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("sgd", 50.0, "relu", "default"),
        ("adam", 5.0, "tanh", "default"),
        ("adam", 1e-5, "tanh", "default"),
        ("sgd", 1e-3, "sigmoid", "small"),
        ("adam", 2.0, "sigmoid", "xavier"),
        ("rmsprop", 3.0, "relu", "default"),
    ];
    for (i, case) in cases.into_iter().enumerate() {
        let summary = xor_with(dir.path(), &format!("case{i}"), case);
        let findings = summary["diagnosis"].as_array().unwrap();
        let hints: Vec<&str> = findings.iter().map(|f| f["hint"].as_str().unwrap()).collect();
        let says = |words: &str| hints.iter().any(|h| h.contains(words));
        assert!(
            !(says("raise optimizer.learning_rate") && says("lower optimizer.learning_rate")),
            "{case:?}: {hints:?}"
        );
        let (optimizer, _, activation, init) = case;
        for hint in &hints {
            for own in [
                format!("name = \"{optimizer}\""),
                format!("activation = \"{activation}\""),
                format!("init = \"{init}\""),
            ] {
                assert!(!hint.contains(&own), "{case:?} already has {own}: {hint}");
            }
        }
        for f in findings {
            // The code is printed before the message: the message does not say it again.
            let said = f["code"].as_str().unwrap().replace('_', " ");
            assert!(!f["message"].as_str().unwrap().starts_with(&said), "{f}");
        }
    }
}

#[test]
fn a_run_stopped_by_patience_says_so_and_a_classifier_is_measured_by_its_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("configs/fruit.csv"), dir.path().join("fruit.csv")).unwrap();
    std::fs::copy(repo().join("configs/fruit.toml"), dir.path().join("fruit.toml")).unwrap();
    let (out, summary) = train(&dir.path().join("fruit.toml"), dir.path());
    let summary = summary.unwrap();
    assert_eq!(summary["stopped_by"], "patience", "{summary}");
    let report = super::stdout(&out);
    assert!(report.contains("stopped early by training.patience"), "{report}");
    assert!(report.contains("the validation loss had not improved for 30 epochs"), "{report}");
    assert!(report.contains(&format!("after {} of 300 epochs", summary["epochs_run"])), "{report}");
    assert!(report.contains("validation accuracy") && !report.contains("largest error"), "{report}");
}

#[test]
fn a_regression_is_measured_by_its_rmse_not_by_an_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,y\n");
    for i in 0..40 {
        text += &format!("{i},{}\n", 0.5 * i as f64 + 3.0);
    }
    std::fs::write(dir.path().join("line.csv"), text).unwrap();
    let config = "[data]\ncsv = \"line.csv\"\ntargets = [\"y\"]\n[model]\noutput_activation = \"identity\"\n\
                  [training]\nnum_epochs = 50\ntolerance = 0\n";
    let (out, summary) = train(&config_file(dir.path(), "line.toml", config), dir.path());
    let summary = summary.unwrap();
    assert_eq!(summary["task"], "regression");
    assert_eq!(summary["stopped_by"], "num_epochs");
    let report = super::stdout(&out);
    // RMSE, MAE and R² over every validation row; the RMSE is the square root of the
    // validation MSE that metrics.csv holds.
    let fit = &summary["regression"];
    let (rmse, mae, r2) =
        (fit["rmse"].as_f64().unwrap(), fit["mae"].as_f64().unwrap(), fit["r2"].as_f64().unwrap());
    let from_loss = summary["final_loss"].as_f64().unwrap().sqrt();
    assert!((rmse - from_loss).abs() <= 1e-4 * from_loss.max(1.0), "{rmse} vs {from_loss}");
    assert!(mae <= rmse && r2 <= 1.0, "{fit}");
    assert!(report.contains(&format!("validation RMSE {rmse:.4}, MAE {mae:.4}, R² {r2:.4}")), "{report}");
    assert!(!report.contains("accuracy"), "{report}");
}
