//! The promises of the `gatenet` binary, checked by running it on real configs in temporary
//! folders. Run in release (`cargo test --release`): training in a debug build is ~17x slower.
//! One test binary (as ripgrep's): training and config errors here, the rest in modules.

/// CSV data: classes, regression, scaling, and bad files.
mod csv;
/// Diagnosis of runs that do not converge, and the layer health behind it.
mod diagnosis;
/// `gatenet export` to ONNX and safetensors, checked with onnxruntime, onnx and safetensors.
mod export;
/// `gatenet gradcheck`: autodiff against finite differences.
mod gradcheck;
/// Bad inputs of every kind, a test each.
mod hardening;
/// `gatenet lr-find`: the range test and its checked suggestion.
mod lr_find;
/// The pictures a run draws.
mod pictures;
/// `gatenet predict` and `gatenet report`.
mod predict;
/// `-q` with every command.
mod quiet;
/// The README's examples, run and compared.
mod readme;
/// report.html, rendered by headless Chromium.
mod report_html;
/// `training.restore_best`: the best epoch's weights, kept across a resume.
mod restore_best;
/// Resuming: bit-identical continuation, damaged checkpoints, kill -9 and Ctrl-C.
mod resume;
/// `gatenet sweep`.
mod sweep;
/// `gatenet sweep` as a random search over ranges, and successive halving.
mod sweep_search;
/// `gatenet sweep --shard` and `sweep merge`.
mod sweep_shards;
/// Synthetic datasets, validation and patience.
mod synthetic;
/// TensorBoard event files, read back by TensorBoard's own reader.
mod tensorboard;
/// `gatenet trace`: the numbers of the first steps, checked by numpy.
mod trace;
/// The wgpu backend, in a build with `--features wgpu`.
#[cfg(feature = "wgpu")]
mod wgpu;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The configs in `configs/` that must converge with their own settings.
const GATES: [&str; 8] = ["or", "and", "nand", "nor", "xor", "xnor", "parity3", "majority4"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn gatenet(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatenet")).args(args).current_dir(cwd).output().expect("gatenet runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Trains `config` into `<dir>/artifacts` and returns the run's summary.json.
fn train(config: &Path, dir: &Path) -> (Output, Option<Value>) {
    let out = gatenet(&["train", config.to_str().unwrap(), "--artifacts", "artifacts"], dir);
    let name = config.file_stem().unwrap().to_str().unwrap();
    let summary = std::fs::read_to_string(dir.join("artifacts").join(name).join("summary.json"))
        .ok()
        .map(|text| serde_json::from_str(&text).expect("summary.json is JSON"));
    (out, summary)
}

/// A Python with `modules`, for the tests that check gatenet's files with the real clients:
/// `$GATENET_PYTHON`, else `python3`. Without one the test is skipped with the reason printed,
/// unless `GATENET_REQUIRE_CLIENTS` is set: `.ci/run` sets it (and installs the modules), so in
/// CI these tests always run.
fn python(modules: &[&str]) -> Option<PathBuf> {
    let python = PathBuf::from(std::env::var_os("GATENET_PYTHON").unwrap_or_else(|| "python3".into()));
    let import = format!("import {}", modules.join(", "));
    let found = Command::new(&python).args(["-c", &import]).output();
    match found {
        Ok(out) if out.status.success() => Some(python),
        _ if std::env::var_os("GATENET_REQUIRE_CLIENTS").is_some() => {
            panic!("GATENET_REQUIRE_CLIENTS is set, but {} cannot `{import}`", python.display())
        }
        _ => {
            eprintln!(
                "skipped: {} cannot `{import}` (make a venv with them and set GATENET_PYTHON, as .ci/run does)",
                python.display()
            );
            None
        }
    }
}

/// Headless Chromium, for the tests that render report.html: `$GATENET_CHROMIUM`, else
/// Debian's `chromium-headless-shell` or `chromium`. Skipped as [`python`] is, and required
/// where `GATENET_REQUIRE_CLIENTS` is set (`.ci/run` installs it).
fn chromium() -> Option<PathBuf> {
    let given = std::env::var_os("GATENET_CHROMIUM").map(PathBuf::from);
    let candidates = given.into_iter().chain(["chromium-headless-shell", "chromium"].map(PathBuf::from));
    for candidate in candidates {
        if Command::new(&candidate).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Some(candidate);
        }
    }
    if std::env::var_os("GATENET_REQUIRE_CLIENTS").is_some() {
        panic!("GATENET_REQUIRE_CLIENTS is set, but no headless Chromium runs (set GATENET_CHROMIUM)");
    }
    eprintln!(
        "skipped: no headless Chromium (apt-get install chromium-headless-shell, or set GATENET_CHROMIUM)"
    );
    None
}

/// Runs one of the checks in tests/python/ and asserts that it passed.
fn python_check(python: &Path, script: &str, args: &[&Path]) -> String {
    let out = Command::new(python)
        .arg(repo().join("tests/python").join(script))
        .args(args)
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{script} failed:\n{}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

/// `house.csv` in `dir` (40 rows: an area, an age and a price rising from 0.3 to 4.2) and a
/// config `<name>.toml` that diverges on it (SGD at 5: its loss passes 1e35 by epoch 11), with
/// `extra` lines at the end of its `[training]` table.
fn diverging_regression(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let rows: String =
        (0..40).map(|i| format!("{},{},{:.2}\n", 40 + 4 * i, i % 7, 0.3 + 0.1 * i as f64)).collect();
    std::fs::write(dir.join("house.csv"), format!("area_m2,age_years,price_k\n{rows}")).unwrap();
    let text = format!(
        "[data]\ncsv = \"house.csv\"\ntargets = [\"price_k\"]\n[model]\noutput_activation = \"identity\"\n\
         [optimizer]\nname = \"sgd\"\nlearning_rate = 5\n[training]\nloss = \"mse\"\nnum_epochs = 100\n{extra}"
    );
    config_file(dir, &format!("{name}.toml"), &text)
}

/// Runs `command`, a command line gatenet printed for the user to paste, in a shell in `dir`,
/// with this build's binary in place of `gatenet`; asserts that it succeeds.
fn pasted(command: &str, dir: &Path) -> Output {
    let line = command.replacen("gatenet", env!("CARGO_BIN_EXE_gatenet"), 1);
    let out = Command::new("sh").args(["-c", &line]).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "`{line}`: {}", stderr(&out));
    out
}

/// Writes `text` as `<dir>/<name>` and returns its path.
fn config_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn max_error(summary: &Value) -> f64 {
    let predictions = summary["predictions"].as_array().expect("predictions");
    let errors = predictions.iter().flat_map(|p| {
        let outputs = p["output"].as_array().unwrap().clone();
        let targets = p["target"].as_array().unwrap().clone();
        outputs.into_iter().zip(targets).map(|(o, t)| (o.as_f64().unwrap() - t.as_f64().unwrap()).abs())
    });
    errors.fold(0.0, f64::max)
}

/// Asserts a bad input ends with exit code 2, no panic, and an error naming `expected`.
fn assert_refused(out: &Output, expected: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "exit code for: {err}");
    assert!(!err.contains("panicked"), "a panic reached the user: {err}");
    for text in expected {
        assert!(err.contains(text), "expected {text:?} in: {err}");
    }
}

#[test]
fn every_gate_config_converges_with_every_output_within_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    for gate in GATES {
        let (out, summary) = train(&repo().join(format!("configs/{gate}.toml")), dir.path());
        assert!(out.status.success(), "{gate}: {}", stderr(&out));
        let summary = summary.expect("summary.json written");
        assert_eq!(summary["converged"], true, "{gate}: {summary}");
        assert!(summary["converged_epoch"].is_u64(), "{gate}");
        assert!(max_error(&summary) <= 0.1, "{gate}: {summary}");
        let rows = summary["predictions"].as_array().unwrap().len();
        assert!(
            rows == 4 || (gate == "parity3" && rows == 8) || (gate == "majority4" && rows == 16),
            "{gate}: {rows} rows"
        );
    }
}

#[test]
fn training_prints_the_table_before_and_after_and_where_the_artifacts_are() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = train(&repo().join("configs/or.toml"), dir.path());
    let text = stdout(&out);
    assert!(text.contains("before -> after"), "{text}");
    assert!(text.contains("converged: every output within 0.1 of its target from epoch"), "{text}");
    assert!(text.contains("artifacts/or/"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains(" -> ") && l.contains('|')).count(),
        5,
        "header and 4 rows: {text}"
    );
}

#[test]
fn a_run_folder_holds_config_metrics_checkpoints_model_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    train(&repo().join("configs/or.toml"), dir.path());
    let run = dir.path().join("artifacts/or");
    for file in ["config.toml", "metrics.csv", "model.bpk", "summary.json"] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    for key in ["name", "backend", "epochs_run", "final_loss", "converged", "converged_epoch", "wall_seconds"]
    {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    let epochs = summary["epochs_run"].as_u64().unwrap();
    let checkpoint = run.join(format!("checkpoint/model-{epochs}.bpk"));
    assert!(checkpoint.is_file(), "the last epoch is checkpointed: {}", checkpoint.display());
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(metrics.starts_with("epoch,train_loss,train_accuracy,learning_rate,"), "{metrics}");
    assert_eq!(metrics.lines().count() as u64, epochs + 1, "a header and one row per epoch");
    let resolved = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(
        resolved.contains("epsilon = 0.00000001") && resolved.contains("batch_size = 4"),
        "defaults written out: {resolved}"
    );
}

#[test]
fn the_same_config_twice_gives_identical_weights_and_metrics() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        assert!(train(&repo().join("configs/xor.toml"), dir.path()).0.status.success());
    }
    let read = |dir: &tempfile::TempDir, file: &str| {
        std::fs::read(dir.path().join("artifacts/xor").join(file)).unwrap()
    };
    assert_eq!(read(&a, "model.bpk"), read(&b, "model.bpk"), "model.bpk differs");
    let without_timing = |bytes: Vec<u8>| -> Vec<String> {
        let text = String::from_utf8(bytes).unwrap();
        text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string()).collect()
    };
    assert_eq!(without_timing(read(&a, "metrics.csv")), without_timing(read(&b, "metrics.csv")));
}

#[test]
fn a_piped_run_prints_a_progress_line_every_tenth_of_its_epochs_and_quiet_prints_none() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"progress\"\n[data]\ngate = \"or\"\n[model]\nhidden_sizes = [6]\n\
                [training]\nnum_epochs = 200\ntolerance = 0\n";
    let config = config_file(dir.path(), "progress.toml", text);
    let out = gatenet(&[config.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> =
        stderr(&out).lines().filter(|l| l.starts_with("epoch ")).map(String::from).collect();
    let epochs: Vec<String> = (1..=10).map(|tenth| format!("epoch {}/200 [", 20 * tenth)).collect();
    assert_eq!(lines.len(), 10, "{lines:?}");
    for (line, start) in lines.iter().zip(&epochs) {
        assert!(line.starts_with(start.as_str()), "{line} should start with {start}");
        assert!(
            line.contains("loss ") && line.contains("max error ") && line.ends_with("epochs/s"),
            "{line}"
        );
    }
    assert!(lines[9].contains("[####################]"), "the last line is a full bar: {}", lines[9]);
    let quiet = gatenet(&[config.to_str().unwrap(), "-q"], dir.path());
    assert!(quiet.status.success() && stderr(&quiet).is_empty(), "-q: {}", stderr(&quiet));
}

#[test]
fn a_full_batch_truth_table_validates_the_weights_after_each_epochs_update() {
    // The validation pass of epoch e and the training batch of epoch e + 1 see the same weights
    // and the same four rows: their losses are the same number.
    let dir = tempfile::tempdir().unwrap();
    assert!(train(&repo().join("configs/xor.toml"), dir.path()).0.status.success());
    let text = std::fs::read_to_string(dir.path().join("artifacts/xor/metrics.csv")).unwrap();
    let rows: Vec<Vec<f64>> =
        text.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    assert!(rows.len() > 10);
    let (train_loss, valid_loss) = (1, 4);
    for pair in rows.windows(2) {
        assert_eq!(pair[0][valid_loss], pair[1][train_loss], "epoch {}", pair[0][0]);
    }
    assert!(rows[0][valid_loss] < rows[0][train_loss], "epoch 1 is validated after its update");
}

#[test]
fn the_question_setting_honestly_does_not_converge() {
    let dir = tempfile::tempdir().unwrap();
    let (out, summary) = train(&repo().join("configs/or-question.toml"), dir.path());
    assert!(out.status.success(), "not converging is an outcome, not a failure: {}", stderr(&out));
    let summary = summary.unwrap();
    assert_eq!(summary["converged"], false);
    assert!(summary["converged_epoch"].is_null());
    assert!(stdout(&out).contains("not converged"), "{}", stdout(&out));
}

#[test]
fn median_epochs_to_converge_match_the_numpy_reference_within_a_quarter() {
    // Reference medians over seeds 0 to 19, from `python3 numpy_mlp.py --all` in
    // ../shared/reference (its README's table): OR 2-6-1 tanh Adam 0.05 took 29 steps, XOR 2-4-1
    // tanh Adam 0.05 took 57, and every seed converged. Same conventions here: torch's default
    // init, mean MSE, sigmoid output, Adam with epsilon 1e-8, converged = every output within 0.1.
    let dir = tempfile::tempdir().unwrap();
    for (gate, width, reference) in [("or", 6, 29.0), ("xor", 4, 57.0)] {
        let mut epochs: Vec<f64> = (0..20)
            .map(|seed| {
                let text = format!(
                    "seed = {seed}\n[data]\ngate = \"{gate}\"\n[model]\nhidden_sizes = [{width}]\nactivation = \"tanh\"\n\
                     [optimizer]\nname = \"adam\"\nlearning_rate = 0.05\n[training]\nnum_epochs = 2000\n"
                );
                let config = config_file(dir.path(), &format!("{gate}-{seed}.toml"), &text);
                let summary = train(&config, dir.path()).1.unwrap();
                assert_eq!(summary["converged"], true, "{gate} seed {seed} did not converge");
                summary["converged_epoch"].as_f64().unwrap()
            })
            .collect();
        epochs.sort_by(f64::total_cmp);
        let median = (epochs[9] + epochs[10]) / 2.0;
        assert!(
            (median - reference).abs() <= 0.25 * reference,
            "{gate}: median {median} vs reference {reference}: {epochs:?}"
        );
    }
}

#[test]
fn a_2000_epoch_run_leaves_at_most_20_files() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "[data]\ngate = \"xor\"\n[training]\nnum_epochs = 2000\ntolerance = 0\ncheckpoint_every = 100\n";
    let config = config_file(dir.path(), "long.toml", text);
    let (out, summary) = train(&config, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary.unwrap()["epochs_run"], 2000);
    let files = walk(&dir.path().join("artifacts/long"));
    assert!(files.len() <= 20, "{} files: {files:?}", files.len());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() { walk(&path) } else { vec![path] }
        })
        .collect()
}

#[test]
fn each_table_rejects_a_misspelled_key_by_name_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for (table, line, good) in [
        ("", "sed = 1", "seed"),
        ("[data]", "gates = \"or\"", "gate"),
        ("[model]", "activaton = \"tanh\"", "activation"),
        ("[optimizer]", "learning_rat = 0.1", "learning_rate"),
        ("[training]", "num_epoch = 10", "num_epochs"),
    ] {
        let text = match table {
            "" => format!("{line}\n[data]\ngate = \"or\"\n"),
            "[data]" => format!("[data]\n{line}\n"),
            _ => format!("[data]\ngate = \"or\"\n{table}\n{line}\n"),
        };
        let config = config_file(dir.path(), "typo.toml", &text);
        let out = gatenet(&["check", config.to_str().unwrap()], dir.path());
        let line_number = text.lines().position(|l| l == line).unwrap() + 1;
        assert_refused(
            &out,
            &[&format!("typo.toml:{line_number}:1"), "unknown key", &format!("did you mean `{good}`")],
        );
    }
}

#[test]
fn wrong_types_and_out_of_range_values_are_all_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"or\"\n[model]\nhidden_sizes = [0, 4]\nactivation = \"tanhh\"\n\
                [optimizer]\nlearning_rate = \"fast\"\n[training]\nnum_epochs = -3\n";
    let out = gatenet(&["check", config_file(dir.path(), "bad.toml", text).to_str().unwrap()], dir.path());
    assert_refused(
        &out,
        &[
            "4 problems",
            "bad.toml:4:1: model.hidden_sizes",
            "bad.toml:5:1: model.activation",
            "did you mean \"tanh\"",
            "bad.toml:7:1: optimizer.learning_rate",
            "expected a number",
            "bad.toml:9:1: training.num_epochs",
        ],
    );

    let text = "[data]\ngate = \"or\"\n[model]\nhidden_sizes = [0]\n[optimizer]\nlearning_rate = -0.5\n[training]\nnum_epochs = 0\nbatch_size = 5\n";
    let out = gatenet(&["check", config_file(dir.path(), "range.toml", text).to_str().unwrap()], dir.path());
    assert_refused(
        &out,
        &[
            "range.toml:4:1: model.hidden_sizes: expected every width between 1 and",
            "range.toml:6:1: optimizer.learning_rate: expected a number > 0 and at most 1e6, found -0.5",
            "range.toml:8:1: training.num_epochs: expected between 1 and 100000000, found 0",
            "range.toml:9:1: training.batch_size",
        ],
    );
}

#[test]
fn a_missing_config_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = gatenet(&["no/such/config.toml"], dir.path());
    assert_refused(&out, &["no/such/config.toml", "no such file"]);
}

#[test]
fn check_prints_the_resolved_config_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "c.toml", "[data]\ngate = \"nand\"\n");
    let out = gatenet(&["check", config.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let resolved = stdout(&out);
    assert!(
        resolved.contains("name = \"c\"")
            && resolved.contains("gate = \"nand\"")
            && resolved.contains("learning_rate = 0.01"),
        "{resolved}"
    );
    // 2-4-1: 2 x 4 + 4 + 4 x 1 + 1 weights and biases.
    assert!(resolved.starts_with("# 17 parameters; training needs about "), "{resolved}");
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "only the config itself is in the folder");
}

#[cfg(not(feature = "wgpu"))]
#[test]
fn wgpu_without_the_feature_says_how_to_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "gpu.toml", "backend = \"wgpu\"\n[data]\ngate = \"or\"\n");
    let out = gatenet(&[config.to_str().unwrap()], dir.path());
    assert_refused(&out, &["gpu.toml:1:1: backend", "--features wgpu"]);
}

#[test]
fn flex_trains_the_same_network_as_ndarray() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("configs/or.toml")).unwrap();
    let flex =
        config_file(dir.path(), "or-flex.toml", &text.replace("backend = \"ndarray\"", "backend = \"flex\""));
    let (out, flex_summary) = train(&flex, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, ndarray_summary) = train(&repo().join("configs/or.toml"), dir.path());
    let outputs = |s: &Value| -> Vec<f64> {
        s["predictions"].as_array().unwrap().iter().map(|p| p["output"][0].as_f64().unwrap()).collect()
    };
    let (a, b) = (outputs(&flex_summary.unwrap()), outputs(&ndarray_summary.unwrap()));
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-3), "flex {a:?} vs ndarray {b:?}");
}

#[test]
fn help_explains_every_option_and_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = gatenet(&["--help"], dir.path());
    let text = stdout(&out);
    for word in ["--artifacts", "--quiet", "train", "check", "Exit codes"] {
        assert!(text.contains(word), "--help lacks {word}: {text}");
    }
    let out = gatenet(&["--no-such-flag"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn settings_that_do_not_apply_are_refused_rather_than_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"or\"\n[optimizer]\nname = \"adam\"\nlearning_rate = 0.1\nmomentum = 0.9\n";
    let out = gatenet(&["check", config_file(dir.path(), "m.toml", text).to_str().unwrap()], dir.path());
    assert_refused(&out, &["m.toml:6:1: optimizer.momentum: does not apply to name = \"adam\""]);
}

#[test]
fn metrics_csv_records_each_epochs_learning_rate_as_its_schedule_sets_it() {
    let dir = tempfile::tempdir().unwrap();
    let (lr, epochs) = (0.5, 10);
    let pi = std::f64::consts::PI;
    let schedules: [(&str, Box<dyn Fn(f64) -> f64>); 4] = [
        ("schedule = \"constant\"", Box::new(move |_| lr)),
        (
            "schedule = \"step\"\nstep_epochs = 3\ngamma = 0.5",
            Box::new(move |e| lr * 0.5f64.powf(((e - 1.0) / 3.0).floor())),
        ),
        ("schedule = \"exponential\"\ngamma = 0.9", Box::new(move |e| lr * 0.9f64.powf(e - 1.0))),
        (
            "schedule = \"cosine\"\nmin_learning_rate = 0.01",
            Box::new(move |e| 0.01 + (lr - 0.01) * (1.0 + (pi * (e - 1.0) / epochs as f64).cos()) / 2.0),
        ),
    ];
    for (i, (schedule, expected)) in schedules.iter().enumerate() {
        let text = format!(
            "name = \"s{i}\"\n[data]\ngate = \"or\"\n[optimizer]\nname = \"sgd\"\nlearning_rate = {lr}\n{schedule}\n\
             [training]\nnum_epochs = {epochs}\ntolerance = 0\n"
        );
        let (out, _) = train(&config_file(dir.path(), &format!("s{i}.toml"), &text), dir.path());
        assert!(out.status.success(), "{schedule}: {}", stderr(&out));
        let metrics =
            std::fs::read_to_string(dir.path().join(format!("artifacts/s{i}/metrics.csv"))).unwrap();
        let mut lines = metrics.lines();
        let column = lines.next().unwrap().split(',').position(|c| c == "learning_rate").unwrap();
        let rates: Vec<f64> = lines.map(|l| l.split(',').nth(column).unwrap().parse().unwrap()).collect();
        assert_eq!(rates.len(), epochs, "{schedule}");
        for (epoch, rate) in (1..).zip(&rates) {
            let want = expected(epoch as f64);
            assert!(
                (rate - want).abs() <= 1e-12 * want,
                "{schedule}: epoch {epoch} ran at {rate}, expected {want}"
            );
        }
    }
}

#[test]
fn every_optimizer_schedule_and_activation_trains_without_error() {
    let dir = tempfile::tempdir().unwrap();
    let variants = [
        "[optimizer]\nname = \"sgd\"\nlearning_rate = 0.5\nmomentum = 0.9\nschedule = \"step\"\nstep_epochs = 50\n",
        "[optimizer]\nname = \"adamw\"\nlearning_rate = 0.05\nweight_decay = 0.01\nschedule = \"cosine\"\n",
        "[optimizer]\nname = \"rmsprop\"\nlearning_rate = 0.01\nschedule = \"exponential\"\ngamma = 0.995\n",
        "[model]\nactivation = \"relu\"\ninit = \"xavier\"\n[training]\nloss = \"bce\"\n",
        "[model]\nactivation = \"gelu\"\n",
        "[model]\nactivation = \"silu\"\n",
        "[model]\nactivation = \"leaky_relu\"\n",
        "[model]\nhidden_sizes = []\nactivation = \"identity\"\n[training]\nbatch_size = 1\n",
        "backend = \"flex\"\n[model]\nhidden_sizes = [3, 3]\nactivation = \"sigmoid\"\n[training]\nbatch_size = 2\n",
    ];
    for (i, variant) in variants.iter().enumerate() {
        let text = format!("[data]\ngate = \"and\"\n{variant}").replace(
            "[data]\ngate = \"and\"\nbackend = \"flex\"\n",
            "backend = \"flex\"\n[data]\ngate = \"and\"\n",
        );
        let config = config_file(dir.path(), &format!("v{i}.toml"), &format!("{text}\n"));
        let (out, summary) = train(&config, dir.path());
        assert!(out.status.success(), "variant {i}: {}", stderr(&out));
        let final_loss = summary.unwrap()["final_loss"].as_f64().unwrap();
        assert!(final_loss.is_finite(), "variant {i}: loss {final_loss}");
    }
}

#[test]
fn two_runs_of_one_config_save_byte_identical_checkpoints() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let text = "[data]\ngate = \"xor\"\n[model]\nhidden_sizes = [8, 8]\n[training]\nnum_epochs = 200\ntolerance = 0\n";
    for dir in [&a, &b] {
        let (out, _) = train(&config_file(dir.path(), "twice.toml", text), dir.path());
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let files = walk(&a.path().join("artifacts/twice/checkpoint"));
    assert_eq!(files.len(), 8, "two saves of model, optim, scheduler and manifest: {files:?}");
    for file in files {
        let name = file.file_name().unwrap();
        let other = b.path().join("artifacts/twice/checkpoint").join(name);
        assert!(
            std::fs::read(&file).unwrap() == std::fs::read(&other).unwrap(),
            "{name:?} differs between the runs"
        );
    }
}
