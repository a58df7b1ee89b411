//! `gatenet trace`: every number of the first optimizer steps, checked by numpy
//! (tests/python/check_trace.py), against the weights `gatenet train` saves, and against the
//! numpy reference.

use super::{assert_refused, config_file, gatenet, python, python_check, repo, stderr, stdout};
use serde_json::Value;
use std::path::Path;

/// The config at `path` with `num_epochs = epochs`, as `<dir>/<name>.toml`.
fn with_epochs(path: &Path, dir: &Path, name: &str, epochs: usize) -> std::path::PathBuf {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|l| if l.starts_with("num_epochs") { format!("num_epochs = {epochs}") } else { l.to_string() })
        .collect();
    config_file(dir, &format!("{name}.toml"), &lines.join("\n"))
}

#[test]
fn a_trace_is_what_training_does_and_what_numpy_and_finite_differences_compute() {
    let Some(python) = python(&["numpy", "safetensors"]) else { return };
    // OR 2-6-1 tanh with Adam, and the question's sigmoid net with SGD; three steps each.
    for config in ["or", "or-question"] {
        let dir = tempfile::tempdir().unwrap();
        let steps = 3;
        let copy = with_epochs(&repo().join(format!("configs/{config}.toml")), dir.path(), config, steps);
        let out = gatenet(&["trace", copy.to_str().unwrap(), "--steps", &steps.to_string()], dir.path());
        assert!(out.status.success(), "{config}: {}", stderr(&out));
        let trace = dir.path().join(format!("artifacts/{config}-trace.json"));
        assert!(stdout(&out).contains(&format!(
            "every number, as JSON: {}",
            Path::new("artifacts").join(format!("{config}-trace.json")).display()
        )));
        // The same config trained for as many epochs (one full-batch step each), and exported.
        let trained = gatenet(&["-q", copy.to_str().unwrap()], dir.path());
        assert!(trained.status.success(), "{}", stderr(&trained));
        let run = dir.path().join("artifacts").join(config);
        let export = gatenet(&["-q", "export", run.to_str().unwrap(), "--format", "safetensors"], dir.path());
        assert!(export.status.success(), "{}", stderr(&export));
        let checked = python_check(&python, "check_trace.py", &[&trace, &run.join("model.safetensors")]);
        assert!(
            checked.contains("against central differences") && checked.contains("bit for bit"),
            "{checked}"
        );
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
        assert_eq!(json["steps"].as_array().unwrap().len(), steps);
        if config == "or" {
            // Adam's state: both moments per parameter, and its step count.
            let state: Vec<&str> = json["steps"][2]["layers"][0]["optimizer_state"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap())
                .collect();
            assert!(
                state.contains(&"weight momentum.moment_1") && state.contains(&"weight momentum.moment_2"),
                "{state:?}"
            );
        }
    }
}

/// Every number in a JSON value, nested arrays flattened row by row.
fn numbers(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(numbers).collect(),
        other => vec![other.as_f64().unwrap()],
    }
}

#[test]
fn one_traced_step_of_the_questions_net_matches_the_numpy_reference() {
    // The reference's numbers, from the trace's own first weights (the question's net, with a
    // rate that moves them: SGD at 0.5):
    //   gatenet trace q.toml --out q-trace.json, then in ../shared/reference's folder
    //   python3 -c "import json, numpy as np, numpy_mlp as ref;
    //     s = json.load(open('q-trace.json'))['steps'][0];
    //     net = ref.MLP([2, 6, 1], act='sigmoid', init='small');
    //     net.W = [np.array(l['weight_before']) for l in s['layers']];
    //     net.b = [np.array(l['bias_before']) for l in s['layers']];
    //     g = net.backward(net.forward(ref.X_OR), ref.Y_OR); print(net.loss(ref.X_OR, ref.Y_OR), g);
    //     ref.SGD(net.params(), 0.5).step(g); print(net.params())"
    let loss = 0.25019302103201224;
    let d_w1 = [
        2.1159330923271419e-05,
        -1.1387356686977821e-04,
        2.5637409530801980e-04,
        -2.9753230137266867e-04,
        -9.0576936128478508e-05,
        3.2482390948979241e-04,
        2.1158924265460831e-05,
        -1.1387231894363959e-04,
        2.5637063112844330e-04,
        -2.9752903889039854e-04,
        -9.0570688317645836e-05,
        3.2481816130276806e-04,
    ];
    let d_w2 = [
        -0.0625018470024853,
        -0.06259076123780545,
        -0.06251104922688726,
        -0.0626151639990955,
        -0.063092843698394,
        -0.06207788566899356,
    ];
    let d_b1 = [
        2.1175639730091295e-05,
        -1.1396309472382310e-04,
        2.5657554052353103e-04,
        -2.9776679679376767e-04,
        -9.0642616682149875e-05,
        3.2507607556657154e-04,
    ];
    let d_b2 = [-0.12519666430363835];
    let w2_after = [
        0.03057434810124265,
        0.03493648861890272,
        0.02305797061344363,
        0.04082116099954775,
        0.034442719349197,
        0.02065230383449678,
    ];
    let b2_after = [0.06259833215181917];

    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"or\"\n[model]\nhidden_sizes = [6]\nactivation = \"sigmoid\"\ninit = \"small\"\n\
                [optimizer]\nname = \"sgd\"\nlearning_rate = 0.5\n";
    let config = config_file(dir.path(), "q.toml", text);
    let out = gatenet(&["-q", "trace", config.to_str().unwrap(), "--out", "q-trace.json"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let trace: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("q-trace.json")).unwrap()).unwrap();
    let step = &trace["steps"][0];
    // float32 against the reference's float64: agreement to a few float32 roundings.
    let agree = |what: &str, got: Vec<f64>, want: &[f64]| {
        assert_eq!(got.len(), want.len(), "{what}");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-5 * w.abs() + 1e-9, "{what}: gatenet {g}, numpy {w}");
        }
    };
    agree("loss", vec![step["loss"].as_f64().unwrap()], &[loss]);
    let layer = |i: usize, key: &str| numbers(&step["layers"][i][key]);
    agree("dL/dW1", layer(0, "dL_dW"), &d_w1);
    agree("dL/db1", layer(0, "dL_db"), &d_b1);
    agree("dL/dW2", layer(1, "dL_dW"), &d_w2);
    agree("dL/db2", layer(1, "dL_db"), &d_b2);
    agree("W2 after", layer(1, "weight_after"), &w2_after);
    agree("b2 after", layer(1, "bias_after"), &b2_after);
    // Printed for a learner to read: each layer's table, with the names of the chain rule.
    let printed = stdout(&gatenet(&["trace", config.to_str().unwrap(), "--out", "again.json"], dir.path()));
    for name in ["dL/da1", "dL/dz1", "dL/dW1 = a0.T @ dL/dz1", "W2 before", "W2 after", "a2 = sigmoid(z2)"] {
        assert!(printed.contains(name), "{name} in:\n{printed}");
    }
}

#[test]
fn a_classifiers_mini_batch_steps_trace_as_training_takes_them() {
    let Some(python) = python(&["numpy", "safetensors"]) else { return };
    // fruit.toml: softmax over 3 classes, cross-entropy, 180 training rows in batches of 32:
    // six steps make its first epoch.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("configs/fruit.csv"), dir.path().join("fruit.csv")).unwrap();
    let copy = with_epochs(&repo().join("configs/fruit.toml"), dir.path(), "fruit", 1);
    let out = gatenet(&["-q", "trace", copy.to_str().unwrap(), "--steps", "6"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(gatenet(&["-q", copy.to_str().unwrap()], dir.path()).status.success());
    let run = dir.path().join("artifacts/fruit");
    assert!(
        gatenet(&["-q", "export", run.to_str().unwrap(), "--format", "safetensors"], dir.path())
            .status
            .success()
    );
    let trace = dir.path().join("artifacts/fruit-trace.json");
    // float32 sums over 32 rows of terms near 1e-3 round to a few 1e-6 relative, or 1e-9
    // absolute (the 4-row truth tables above stay within 1e-6 and 1e-9).
    let (relative, absolute) = (Path::new("1e-5"), Path::new("1e-8"));
    let model = run.join("model.safetensors");
    let checked = python_check(&python, "check_trace.py", &[&trace, &model, relative, absolute]);
    assert!(checked.contains("against central differences") && checked.contains("bit for bit"), "{checked}");
}

#[test]
fn trace_refuses_a_bad_config_or_step_count_as_training_does() {
    let dir = tempfile::tempdir().unwrap();
    let bad = config_file(dir.path(), "bad.toml", "[data]\ngate = \"orr\"\n");
    assert_refused(
        &gatenet(&["trace", bad.to_str().unwrap()], dir.path()),
        &["bad.toml", "data.gate", "did you mean"],
    );
    let good = config_file(dir.path(), "good.toml", "[data]\ngate = \"or\"\n");
    let zero = gatenet(&["trace", good.to_str().unwrap(), "--steps", "0"], dir.path());
    assert_eq!(zero.status.code(), Some(2), "{}", stderr(&zero));
    assert!(stderr(&zero).contains("expected a whole number of at least 1"), "{}", stderr(&zero));
}
