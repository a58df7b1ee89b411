//! `gatenet lr-find`: the learning-rate range test, its suggestion checked by training.

use super::{assert_refused, config_file, gatenet, repo, stderr, stdout, train};
use std::path::Path;

/// The rate `lr-find` says to use for the config at `path`, run in `dir`.
fn use_rate(path: &Path, dir: &Path) -> f64 {
    let out = gatenet(&["lr-find", path.to_str().unwrap()], dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let line = printed
        .lines()
        .find(|l| l.starts_with("use learning_rate = "))
        .unwrap_or_else(|| panic!("{printed}"));
    line["use learning_rate = ".len()..].split(':').next().unwrap().parse().unwrap()
}

/// The config at `path` with these top-level and `[optimizer]` settings replaced.
fn with(path: &Path, dir: &Path, name: &str, seed: Option<u64>, rate: Option<f64>) -> std::path::PathBuf {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|l| match (l.split('=').next().unwrap_or("").trim(), seed, rate) {
            ("seed", Some(seed), _) => format!("seed = {seed}"),
            ("learning_rate", _, Some(rate)) => format!("learning_rate = {rate}"),
            _ => l.to_string(),
        })
        .collect();
    config_file(dir, &format!("{name}.toml"), &lines.join("\n"))
}

#[test]
fn lr_find_rescues_the_original_question_within_its_own_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let question = repo().join("configs/or-question.toml");
    let rate = use_rate(&question, dir.path());
    let (out, summary) = train(&with(&question, dir.path(), "rescued", None, Some(rate)), dir.path());
    let summary = summary.unwrap_or_else(|| panic!("{}", stderr(&out)));
    assert!(summary["converged"].as_bool().unwrap(), "learning_rate = {rate}: {summary}");
    assert!(summary["epochs_run"].as_u64().unwrap() <= 5000);
    // The curve and the picture are written, and the same config suggests the same rate again.
    let folder = dir.path().join("artifacts/or-question-lr-find");
    let csv = std::fs::read_to_string(folder.join("lr_find.csv")).unwrap();
    assert!(csv.starts_with("step,learning_rate,loss,smoothed_loss\n") && csv.lines().count() > 50, "{csv}");
    let (width, height, _) = super::pictures::decode(&folder.join("lr_find.png"));
    assert_eq!((width, height), (900, 500));
    assert_eq!(use_rate(&question, dir.path()), rate);
    assert_eq!(std::fs::read_to_string(folder.join("lr_find.csv")).unwrap(), csv, "the same curve twice");
}

#[test]
fn the_rate_lr_find_suggests_for_or_and_xor_converges_for_seeds_0_to_9() {
    let dir = tempfile::tempdir().unwrap();
    for gate in ["or", "xor"] {
        for seed in 0..10 {
            let name = format!("{gate}-{seed}");
            let config =
                with(&repo().join(format!("configs/{gate}.toml")), dir.path(), &name, Some(seed), None);
            let rate = use_rate(&config, dir.path());
            let tried = with(&config, dir.path(), &format!("{name}-tried"), None, Some(rate));
            let (_, summary) = train(&tried, dir.path());
            let summary = summary.unwrap();
            assert!(
                summary["converged"].as_bool().unwrap(),
                "{gate}, seed {seed}, learning_rate = {rate}: {summary}"
            );
        }
    }
}

#[test]
fn lr_find_refuses_bad_configs_and_says_when_no_rate_makes_the_loss_fall() {
    let dir = tempfile::tempdir().unwrap();
    let bad = config_file(dir.path(), "bad.toml", "[data]\ngate = \"or\"\n[optimizer]\nname = \"adamm\"\n");
    assert_refused(
        &gatenet(&["lr-find", bad.to_str().unwrap()], dir.path()),
        &["bad.toml", "optimizer.name"],
    );
    let missing = gatenet(&["lr-find", "nowhere.toml"], dir.path());
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    // A frozen net cannot learn: no rate makes its loss fall, and lr-find says so, exit 1.
    let frozen = config_file(dir.path(), "frozen.toml", "[data]\ngate = \"or\"\n[model]\nfreeze = [1, 2]\n");
    let out = gatenet(&["lr-find", frozen.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("no rate to suggest: the smoothed loss never fell"), "{}", stdout(&out));
}
