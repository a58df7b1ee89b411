//! CSV data: the shipped fruit table, classes and regression, the scaling `predict` applies,
//! and every way a CSV file can be wrong.

use super::{assert_refused, config_file, gatenet, repo, stderr, stdout, train, walk};
use gatenet::data::rng::SplitMix64;
use serde_json::Value;
use std::path::Path;

/// configs/fruit.csv: 80 apples, oranges and lemons each, measured (weight in grams, width and
/// height in cm, skin hue in degrees), in a shuffled order. Apples are red (hue near 4) or,
/// one in three, green (near 90); oranges near 36 and lemons near 56 overlap a little in hue and
/// are told apart by their size and shape too.
fn fruit_csv() -> String {
    let mut rng = SplitMix64::new(2026);
    let mut rows = Vec::new();
    for (fruit, weight, width, height) in [
        ("apple", (170.0, 25.0), (7.5, 0.6), (7.2, 0.6)),
        ("orange", (150.0, 20.0), (7.2, 0.5), (7.0, 0.5)),
        ("lemon", (110.0, 15.0), (5.8, 0.5), (7.5, 0.6)),
    ] {
        for i in 0..80 {
            let mut draw = |(mean, sd): (f64, f64)| mean + sd * rng.normal();
            let hue = match fruit {
                "apple" if i % 3 == 2 => draw((90.0, 10.0)),
                "apple" => draw((4.0, 6.0)).rem_euclid(360.0),
                "orange" => draw((36.0, 4.0)),
                _ => draw((56.0, 4.0)),
            };
            let (w, x, y) = (draw(weight), draw(width), draw(height));
            rows.push(format!("{w:.0},{x:.1},{y:.1},{hue:.0},{fruit}"));
        }
    }
    for i in (1..rows.len()).rev() {
        rows.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    format!("weight_g,width_cm,height_cm,hue_deg,fruit\n{}\n", rows.join("\n"))
}

#[test]
fn the_shipped_fruit_csv_is_what_its_generator_writes() {
    let path = repo().join("configs/fruit.csv");
    if std::env::var_os("GATENET_WRITE_FRUIT").is_some() {
        std::fs::write(&path, fruit_csv()).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), fruit_csv(), "regenerate: GATENET_WRITE_FRUIT=1");
}

fn copy_fruit(dir: &Path) {
    std::fs::copy(repo().join("configs/fruit.csv"), dir.join("fruit.csv")).unwrap();
    std::fs::copy(repo().join("configs/fruit.toml"), dir.join("fruit.toml")).unwrap();
}

#[test]
fn the_fruit_classifier_reaches_95_percent_and_predict_on_its_csv_reproduces_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (out, summary) = train(&repo().join("configs/fruit.toml"), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = summary.unwrap();
    let accuracy = summary["valid_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.95, "validation accuracy {accuracy}");
    assert!(summary["network"].as_str().unwrap().starts_with("4-16-3 "), "{}", summary["network"]);

    let run = dir.path().join("artifacts/fruit");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("data.json")).unwrap()).unwrap();
    assert_eq!(schema["classes"], serde_json::json!(["apple", "lemon", "orange"]));
    let mean_weight = schema["mean"][0].as_f64().unwrap();
    assert!((120.0..170.0).contains(&mean_weight), "weights are standardized around {mean_weight}");

    let csv = repo().join("configs/fruit.csv");
    let out = gatenet(&["predict", run.to_str().unwrap(), "--csv", csv.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let answer = stdout(&out);
    let mut lines = answer.lines();
    assert_eq!(
        lines.next().unwrap(),
        "weight_g,width_cm,height_cm,hue_deg,predicted_fruit,p_apple,p_lemon,p_orange"
    );
    let by_inputs: std::collections::HashMap<String, Vec<f64>> = lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[..4].join(","), cells[5..].iter().map(|c| c.parse().unwrap()).collect())
        })
        .collect();
    assert_eq!(by_inputs.len() + duplicates(&csv), 240, "one answer per row");
    // Every training row's outputs in summary.json are what predict says for the raw row: the
    // scaling in data.json was applied.
    for prediction in summary["predictions"].as_array().unwrap() {
        let inputs: Vec<String> = prediction["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap().to_string())
            .collect();
        let predicted = &by_inputs[&inputs.join(",")];
        for (p, s) in predicted.iter().zip(prediction["output"].as_array().unwrap()) {
            assert!((p - s.as_f64().unwrap()).abs() < 1e-5, "{inputs:?}: {predicted:?} vs {s}");
        }
    }
}

/// Rows of the file whose inputs repeat an earlier row's.
fn duplicates(csv: &Path) -> usize {
    let text = std::fs::read_to_string(csv).unwrap();
    let inputs: Vec<String> =
        text.lines().skip(1).map(|l| l.rsplit_once(',').unwrap().0.to_string()).collect();
    inputs.len() - inputs.iter().collect::<std::collections::HashSet<_>>().len()
}

#[test]
fn predict_names_the_class_of_rows_given_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = train(&repo().join("configs/fruit.toml"), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let run = dir.path().join("artifacts/fruit");
    let out = gatenet(
        &["predict", run.to_str().unwrap(), "--input", "180,7.8,7.4,4", "--input", "105,5.6,7.6,56"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let answer = stdout(&out);
    let lines: Vec<&str> = answer.lines().collect();
    assert!(lines[0].contains("-> apple ("), "{answer}");
    assert!(lines[1].contains("-> lemon ("), "{answer}");
}

#[test]
fn a_regression_target_trains_with_mse_and_an_identity_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SplitMix64::new(7);
    let mut text = String::from("a,b,y\n");
    for _ in 0..200 {
        let (a, b) = (10.0 * rng.unit(), 100.0 * rng.unit());
        text += &format!("{a:.3},{b:.3},{:.4}\n", 2.0 * a - 0.05 * b + 1.0);
    }
    std::fs::write(dir.path().join("line.csv"), text).unwrap();
    let config = "[data]\ncsv = \"line.csv\"\ntargets = [\"y\"]\n[model]\nhidden_sizes = [8]\n\
                  output_activation = \"identity\"\n[optimizer]\nlearning_rate = 0.02\n\
                  [training]\nnum_epochs = 1500\ntolerance = 0.1\n";
    let (out, summary) = train(&config_file(dir.path(), "line.toml", config), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = summary.unwrap();
    assert!(summary["converged"].as_bool().unwrap(), "every output within 0.1: {}", summary["max_error"]);
    let run = dir.path().join("artifacts/line");
    let out = gatenet(&["predict", run.to_str().unwrap(), "--input", "5,50"], dir.path());
    let answer: f64 = stdout(&out).split("-> ").nth(1).unwrap().trim().parse().unwrap();
    assert!((answer - 8.5).abs() < 0.3, "2*5 - 0.05*50 + 1 = 8.5, predicted {answer}");
}

#[test]
fn resuming_on_a_changed_csv_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    copy_fruit(dir.path());
    let config = dir.path().join("fruit.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace("num_epochs = 300", "num_epochs = 20");
    std::fs::write(&config, text).unwrap();
    let (out, _) = train(&config, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = dir.path().join("fruit.csv");
    let changed = std::fs::read_to_string(&csv).unwrap().replacen("\n1", "\n2", 1);
    std::fs::write(&csv, changed).unwrap();
    let before = snapshot(&dir.path().join("artifacts/fruit"));
    let out =
        gatenet(&["train", config.to_str().unwrap(), "--artifacts", "artifacts", "--resume"], dir.path());
    assert_refused(&out, &["fruit.csv", "not the one the run trained on"]);
    assert_eq!(snapshot(&dir.path().join("artifacts/fruit")), before, "the run folder is untouched");
}

/// Every file of a folder with its bytes.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    files.sort();
    files
}

#[test]
fn config_mistakes_about_the_csv_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.csv"), "a,b,kind\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,1,x\n").unwrap();
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "missing file",
            "csv = \"nope.csv\"\ntargets = [\"kind\"]",
            &["data.csv", "nope.csv", "no such file"],
        ),
        ("no targets", "csv = \"d.csv\"", &["data.targets", "add `targets"]),
        (
            "target is a feature",
            "csv = \"d.csv\"\ntargets = [\"kind\"]\nfeatures = [\"a\", \"kind\"]",
            &["\"kind\"", "both a target and a feature"],
        ),
        (
            "misspelled feature",
            "csv = \"d.csv\"\ntargets = [\"kind\"]\nfeatures = [\"A\"]",
            &["data.features", "\"A\"", "did you mean \"a\""],
        ),
        (
            // Said in so many words: a class column with no loss set trains with cross-entropy.
            "classes with mse",
            "csv = \"d.csv\"\ntargets = [\"kind\"]\n[training]\nloss = \"mse\"",
            &["training.loss", "\"kind\" holds 2 classes", "cross_entropy"],
        ),
        ("two sources", "gate = \"or\"\ncsv = \"d.csv\"\ntargets = [\"kind\"]", &["found `gate` and `csv`"]),
    ];
    for (case, data, expected) in cases {
        let config = config_file(dir.path(), "c.toml", &format!("[data]\n{data}\n"));
        let out = gatenet(&["train", config.to_str().unwrap(), "--artifacts", "artifacts"], dir.path());
        assert_refused(&out, expected);
        assert!(!dir.path().join("artifacts").exists(), "{case}: nothing was created");
    }
}

#[test]
fn summary_json_lists_at_most_1000_training_rows_and_counts_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b,y\n");
    let mut rng = SplitMix64::new(3);
    for _ in 0..1500 {
        let (a, b) = (rng.unit(), rng.unit());
        text += &format!("{a:.4},{b:.4},{}\n", u8::from(a > b));
    }
    std::fs::write(dir.path().join("many.csv"), text).unwrap();
    let config = "[data]\ncsv = \"many.csv\"\ntargets = [\"y\"]\n[training]\nnum_epochs = 2\ntolerance = 0\n";
    let (out, summary) = train(&config_file(dir.path(), "many.toml", config), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = summary.unwrap();
    assert_eq!(summary["training_rows"], 1200, "1500 rows, a fifth held out");
    assert_eq!(summary["predictions"].as_array().unwrap().len(), 1000);
    assert!(
        stdout(&out).contains("1200 training rows, the first 1000 listed in summary.json"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn predict_alone_lists_a_csv_runs_training_rows_and_refuses_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_fruit(dir.path());
    let config = dir.path().join("fruit.toml");
    let (out, _) = train(&config, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = gatenet(&["predict", "artifacts/fruit"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    assert!(listed.contains("weight_g width_cm height_cm hue_deg | target | output"), "{listed}");
    assert_eq!(listed.lines().count(), 2 + 180, "a header and the 180 training rows: {listed}");

    let csv = dir.path().join("fruit.csv");
    std::fs::write(&csv, std::fs::read_to_string(&csv).unwrap().replacen("\n1", "\n2", 1)).unwrap();
    let out = gatenet(&["predict", "artifacts/fruit"], dir.path());
    assert_refused(&out, &["fruit.csv has changed since the run trained on it", "--input", "--csv"]);

    std::fs::write(dir.path().join("rows.csv"), "weight_g,width_cm,hue_deg\n150,7,30\n").unwrap();
    let out = gatenet(&["predict", "artifacts/fruit", "--csv", "rows.csv"], dir.path());
    assert_refused(&out, &["rows.csv", "\"height_cm\"", "which the header does not have"]);
}

#[test]
fn a_class_column_trains_as_classes_with_no_output_activation_or_loss_set() {
    let dir = tempfile::tempdir().unwrap();
    copy_fruit(dir.path());
    let text =
        "[data]\ncsv = \"fruit.csv\"\ntargets = [\"fruit\"]\n[training]\nnum_epochs = 30\ntolerance = 0\n";
    let config = config_file(dir.path(), "plain.toml", text);
    let out = gatenet(&["check", config.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let resolved = stdout(&out);
    assert!(resolved.contains("output_activation = \"softmax\""), "{resolved}");
    assert!(resolved.contains("loss = \"cross_entropy\""), "{resolved}");
    let (out, summary) = train(&config, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary.unwrap()["task"], "classes");
    // What the file says still wins, and a contradiction is named.
    let sigmoid = config_file(
        dir.path(),
        "sigmoid.toml",
        &text.replace("[training]", "[model]\noutput_activation = \"sigmoid\"\n[training]"),
    );
    assert_refused(&gatenet(&["check", sigmoid.to_str().unwrap()], dir.path()), &["3 classes", "softmax"]);
}

#[test]
fn an_integer_class_column_trains_as_classes_when_the_config_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SplitMix64::new(3);
    let mut text = String::from("x,digit\n");
    for _ in 0..90 {
        let digit = (rng.unit() * 3.0) as usize;
        text += &format!("{:.3},{digit}\n", digit as f64 + 0.2 * rng.unit());
    }
    std::fs::write(dir.path().join("digits.csv"), text).unwrap();
    let base = "[data]\ncsv = \"digits.csv\"\ntargets = [\"digit\"]\n";
    // `classes` is a CSV key: a truth table is refused naming it.
    let gate = config_file(dir.path(), "gate.toml", "[data]\ngate = \"or\"\nclasses = true\n");
    assert_refused(
        &gatenet(&["check", gate.to_str().unwrap()], dir.path()),
        &["gate.toml:3", "data.classes", "`csv` data"],
    );
    // Numbers alone are a regression target, and cross-entropy on them says what to set.
    let plain =
        config_file(dir.path(), "plain.toml", &format!("{base}[model]\noutput_activation = \"softmax\"\n"));
    assert_refused(&gatenet(&["check", plain.to_str().unwrap()], dir.path()), &["classes = true"]);
    for (name, extra) in [("flag", "classes = true\n"), ("loss", "[training]\nloss = \"cross_entropy\"\n")] {
        let config = config_file(dir.path(), &format!("{name}.toml"), &format!("{base}{extra}"));
        let out = gatenet(&["check", config.to_str().unwrap()], dir.path());
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(stdout(&out).contains("output_activation = \"softmax\""), "{name}: {}", stdout(&out));
        let (out, summary) = train(&config, dir.path());
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_eq!(summary.unwrap()["task"], "classes", "{name}");
        let data: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("artifacts/{name}/data.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(data["classes"], serde_json::json!(["0", "1", "2"]), "{name}");
    }
}
