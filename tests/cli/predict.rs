//! `gatenet predict` and `gatenet report`: the artifacts answer for the run.

use super::{assert_refused, gatenet, repo, stdout, train};

#[test]
fn predict_prints_the_outputs_of_summary_json_to_6_decimals() {
    let dir = tempfile::tempdir().unwrap();
    let (_, summary) = train(&repo().join("configs/or.toml"), dir.path());
    let out = gatenet(&["predict", "artifacts/or"], dir.path());
    assert!(out.status.success());
    let text = stdout(&out);
    // Each row ends in its output, printed with 6 decimals.
    let printed: Vec<f64> =
        text.lines().skip(2).map(|l| l.rsplit(' ').next().unwrap().parse().unwrap()).collect();
    let stored: Vec<f64> = summary.unwrap()["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["output"][0].as_f64().unwrap())
        .collect();
    assert_eq!(printed.len(), stored.len(), "{text}");
    for (a, b) in printed.iter().zip(&stored) {
        assert!((a - b).abs() <= 1e-6, "predict {a} vs summary.json {b}");
    }
}

#[test]
fn predict_answers_given_rows_a_csv_file_and_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (_, summary) = train(&repo().join("configs/or.toml"), dir.path());
    let summary = summary.unwrap();
    let first = format!("{:.6}", summary["predictions"][0]["output"][0].as_f64().unwrap());
    let out = gatenet(&["predict", "artifacts/or", "--input", "0,0", "--input", "1, 1"], dir.path());
    let text = stdout(&out);
    assert!(text.lines().count() == 2 && text.starts_with(&format!("0 0 -> {first}")), "{text}");
    std::fs::write(dir.path().join("rows.csv"), "a,b\n0,0\n1,1\n").unwrap();
    let out = gatenet(&["predict", "artifacts/or", "--csv", "rows.csv"], dir.path());
    let text = stdout(&out);
    assert!(text.starts_with("in1,in2,out1\n") && text.contains(&format!("0,0,{first}")), "{text}");
    let epoch = summary["epochs_run"].as_u64().unwrap().to_string();
    let out = gatenet(&["predict", "artifacts/or", "--epoch", &epoch, "--input", "0,0"], dir.path());
    assert!(stdout(&out).contains(&first), "the last checkpoint holds the final weights: {}", stdout(&out));
}

#[test]
fn predict_refuses_a_folder_that_is_not_a_run_wrong_widths_and_non_numbers() {
    let dir = tempfile::tempdir().unwrap();
    train(&repo().join("configs/or.toml"), dir.path());
    assert_refused(&gatenet(&["predict", "."], dir.path()), &["not a gatenet run folder"]);
    assert_refused(&gatenet(&["predict", "no/such/run"], dir.path()), &["no/such/run", "not a folder"]);
    assert_refused(
        &gatenet(&["predict", "artifacts/or", "--input", "1,0,1"], dir.path()),
        &["expected 2", "found 3"],
    );
    assert_refused(
        &gatenet(&["predict", "artifacts/or", "--input", "1,x"], dir.path()),
        &["input 2", "\"x\""],
    );
    std::fs::write(dir.path().join("bad.csv"), "0,0\n1,oops\n").unwrap();
    assert_refused(
        &gatenet(&["predict", "artifacts/or", "--csv", "bad.csv"], dir.path()),
        &["bad.csv:2", "\"oops\""],
    );
    assert_refused(
        &gatenet(&["predict", "artifacts/or", "--epoch", "7"], dir.path()),
        &["no checkpoint of epoch 7"],
    );
}

#[test]
fn report_tells_the_run_from_its_artifacts_alone() {
    let dir = tempfile::tempdir().unwrap();
    train(&repo().join("configs/or-question.toml"), dir.path());
    let out = gatenet(&["report", "artifacts/or-question"], dir.path());
    assert!(out.status.success());
    let text = stdout(&out);
    for expected in
        ["learning_rate = 0.000001", "not converged", "diagnosis:", "plateau", "pictures:", "boundary.png"]
    {
        assert!(text.contains(expected), "{expected} missing from: {text}");
    }
}

#[test]
fn report_of_an_unfinished_run_prints_a_command_that_continues_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let text = "name = \"half\"\n[data]\ngate = \"or\"\n[training]\nnum_epochs = 40\ntolerance = 0\ncheckpoint_every = 20\n";
    std::fs::write(root.join("half.toml"), text).unwrap();
    assert!(gatenet(&["half.toml", "-q", "--artifacts", "my runs"], root).status.success());
    // A run killed after its last checkpoint, before its summary.
    std::fs::remove_file(root.join("my runs/half/summary.json")).unwrap();
    let said = stdout(&gatenet(&["report", "my runs/half"], root));
    let expected = "gatenet 'my runs/half/config.toml' --resume --artifacts 'my runs'";
    assert!(said.contains(expected), "{said}");
    super::pasted(expected, root);
    assert!(root.join("my runs/half/summary.json").is_file(), "the command finished the run");
}
