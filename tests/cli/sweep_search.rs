//! `gatenet sweep` as a search: axes given as ranges, settings drawn at random, and successive
//! halving, whose survivors go on from their checkpoints.

use super::sweep_shards::rows_without_times;
use super::{config_file, gatenet, pasted, repo, stderr, stdout};
use std::path::Path;

/// OR over two ranges, six trials of two seeds.
const SEARCH: &str = "seed = 5\n[data]\ngate = \"or\"\n[model]\nhidden_sizes = [4]\n[training]\nnum_epochs = 300\n\
                      [sweep]\nactivation = [\"tanh\", \"relu\"]\nlearning_rate = { min = 0.001, max = 1.0, log = true }\n\
                      width = { min = 2, max = 16 }\ntrials = 6\nseeds = 2\n";

fn sweep(dir: &Path, config: &Path, extra: &[&str]) -> std::process::Output {
    let args = [&["sweep", config.to_str().unwrap()][..], extra].concat();
    let out = gatenet(&args, dir);
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// sweep.csv's rows as maps from column to cell.
fn records(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| header.iter().map(String::from).zip(r.unwrap().iter().map(String::from)).collect())
        .collect()
}

#[test]
fn a_random_search_draws_the_same_trials_and_rows_twice_and_other_trials_under_another_seed() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&one, &two] {
        sweep(dir.path(), &config_file(dir.path(), "search.toml", SEARCH), &["-q"]);
    }
    let csv = |dir: &tempfile::TempDir| dir.path().join("artifacts/search-sweep/sweep.csv");
    let rows = rows_without_times(&csv(&one));
    assert_eq!(rows.len(), 6 * 2, "six trials of two seeds: {rows:?}");
    assert_eq!(rows, rows_without_times(&csv(&two)), "the same config draws the same trials");
    let drawn = records(&csv(&one));
    for row in &drawn {
        let rate: f64 = row["learning_rate"].parse().unwrap();
        let width: usize = row["width"].parse().unwrap();
        assert!((0.001..=1.0).contains(&rate) && (2..=16).contains(&width), "{row:?}");
        assert!(["tanh", "relu"].contains(&row["activation"].as_str()), "{row:?}");
    }
    let settings = |rows: &[std::collections::HashMap<String, String>]| -> Vec<String> {
        rows.iter().map(|r| format!("{} {} {}", r["activation"], r["learning_rate"], r["width"])).collect()
    };
    let other = tempfile::tempdir().unwrap();
    let reseeded = SEARCH.replace("seed = 5", "seed = 6");
    sweep(other.path(), &config_file(other.path(), "search.toml", &reseeded), &["-q"]);
    let redrawn = records(&other.path().join("artifacts/search-sweep/sweep.csv"));
    assert_ne!(settings(&drawn), settings(&redrawn), "another seed draws other trials");
}

#[test]
fn ranges_on_the_command_line_make_a_random_search_of_any_config() {
    let dir = tempfile::tempdir().unwrap();
    let or = repo().join("configs/or.toml");
    let out = sweep(
        dir.path(),
        &or,
        &["--learning-rate", "0.01..1:log", "--width", "2..8", "--trials", "4", "--seeds", "1"],
    );
    let table = stdout(&out);
    assert_eq!(
        table.lines().filter(|l| l.contains(" width ")).count(),
        4,
        "four trials, each with its width: {table}"
    );
    let rows = records(&dir.path().join("artifacts/or-sweep/sweep.csv"));
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| (2..=8).contains(&r["width"].parse::<usize>().unwrap())), "{rows:?}");
}

#[test]
fn a_grid_over_widths_sets_every_hidden_layer() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(
        dir.path(),
        "deep.toml",
        "[data]\ngate = \"xor\"\n[model]\nhidden_sizes = [4, 4]\n[training]\nnum_epochs = 200\n[sweep]\nwidth = [2, 8]\nseeds = 1\n",
    );
    let table = stdout(&sweep(dir.path(), &config, &[]));
    assert!(table.contains("init default width 2 |") && table.contains("init default width 8 |"), "{table}");
    let rows = records(&dir.path().join("artifacts/deep-sweep/sweep.csv"));
    assert_eq!(rows.iter().map(|r| r["width"].as_str()).collect::<Vec<_>>(), ["2", "8"]);
}

/// question-search.toml with nine trials of two seeds: rungs of 24, 74, 222, 666 and 2000
/// epochs, nine trials, then three, then one.
fn halving_sweep(dir: &Path) -> std::path::PathBuf {
    let config = repo().join("configs/question-search.toml");
    sweep(dir, &config, &["-q", "--trials", "9", "--seeds", "2"]);
    dir.join("artifacts/question-search-sweep")
}

#[test]
fn halving_trains_every_trial_to_the_first_rung_and_only_the_best_third_further() {
    let dir = tempfile::tempdir().unwrap();
    let folder = halving_sweep(dir.path());
    let md = std::fs::read_to_string(folder.join("sweep.md")).unwrap();
    // relu adam lr 0.198 converges on both seeds in rung 2 and leaves the race; one of the
    // other two goes on to 2000 epochs.
    for rung in ["| 1 | 24 | 9 | 0 | 3 |", "| 2 | 74 | 3 | 1 | 1 |", "| 5 | 2000 | 1 | 0 | 1 |"] {
        assert!(md.contains(rung), "{rung} in: {md}");
    }
    let rows = records(&folder.join("sweep.csv"));
    assert_eq!(rows.len(), 9 * 2, "every trial stays in sweep.csv, pruned ones too");
    let pruned: Vec<_> = rows.iter().filter(|r| r["state"] == "pruned").collect();
    assert!(!pruned.is_empty());
    for row in &pruned {
        assert!(["24", "74", "222"].contains(&row["epochs"].as_str()), "pruned where a rung ended: {row:?}");
        assert!(row["pruned_because"].contains("median validation loss"), "{row:?}");
        assert_eq!(row["converged"], "false", "{row:?}");
    }
    // A run that ended before its rung did (converged) is not pruned, however it ranked.
    let past_the_first: std::collections::BTreeSet<String> = rows
        .iter()
        .filter(|r| r["epochs"].parse::<usize>().unwrap() > 24)
        .map(|r| format!("{} {} {} {}", r["activation"], r["optimizer"], r["learning_rate"], r["init"]))
        .collect();
    assert!(past_the_first.len() <= 3, "only the best third trains past rung 1: {past_the_first:?}");
    // sweep.csv is in trial order, each trial's seeds together.
    for (i, row) in rows.iter().enumerate() {
        let metrics = folder.join("trials").join(format!("trial-{:03}-seed-{}", i / 2, row["seed"]));
        let epochs = std::fs::read_to_string(metrics.join("metrics.csv")).unwrap().lines().count() - 1;
        assert_eq!(
            epochs.to_string(),
            row["epochs"],
            "{}: metrics.csv has a row per epoch trained",
            metrics.display()
        );
    }
    assert!(folder.join("sweep.png").is_file());
}

/// Adam with a decaying rate, whose moments and schedule a continued run must pick up exactly;
/// no tolerance, so that no trial ends before the last rung: rungs of 10, 30 and 90 epochs.
const NEVER_DONE: &str = "[data]\ngate = \"xor\"\n[optimizer]\nname = \"adam\"\nschedule = \"exponential\"\n\
                          [training]\nnum_epochs = 90\ntolerance = 0\ncheckpoint_every = 7\n\
                          [sweep]\nlearning_rate = { min = 0.001, max = 0.1, log = true }\ntrials = 4\nseeds = 1\n\
                          halving = 3\nmin_epochs = 10\n";

#[test]
fn max_epochs_sets_the_last_rung_and_min_epochs_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "never.toml", NEVER_DONE);
    sweep(dir.path(), &config, &["-q", "--max-epochs", "120", "--min-epochs", "5"]);
    let md = std::fs::read_to_string(dir.path().join("artifacts/never-sweep/sweep.md")).unwrap();
    for rung in ["| 1 | 13 | 4 | 0 | 2 |", "| 2 | 40 | 2 | 0 | 1 |", "| 3 | 120 | 1 | 0 | 1 |"] {
        assert!(md.contains(rung), "{rung} in: {md}");
    }
}

#[test]
fn a_survivor_ends_with_the_weights_of_one_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    sweep(dir.path(), &config_file(dir.path(), "never.toml", NEVER_DONE), &["-q"]);
    let folder = dir.path().join("artifacts/never-sweep");
    // The survivor, continued after rung 1 and rung 2.
    let trials =
        std::fs::read_dir(folder.join("trials")).unwrap().map(|e| e.unwrap().path()).filter(|t| t.is_dir());
    let continued: Vec<_> = trials
        .filter(|t| std::fs::read_to_string(t.join("config.toml")).unwrap().matches("# resumed").count() >= 2)
        .collect();
    assert_eq!(continued.len(), 1, "four trials, then two, then one");
    for trial in continued {
        let config = std::fs::read_to_string(trial.join("config.toml")).unwrap();
        // The trial's config, less its resume history, under another name (the first line
        // that names: the run's; the optimizer's comes later).
        let own = config.lines().find(|l| l.starts_with("name = ")).unwrap();
        let whole: String = config
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| if l == own { "name = \"whole\"\n".to_string() } else { format!("{l}\n") })
            .collect();
        let again = config_file(dir.path(), "whole.toml", &whole);
        let out = gatenet(&[again.to_str().unwrap(), "-q"], dir.path());
        assert!(out.status.success(), "{}", stderr(&out));
        let survivor = std::fs::read(trial.join("model.bpk")).unwrap();
        let uninterrupted = std::fs::read(dir.path().join("artifacts/whole/model.bpk")).unwrap();
        assert!(
            survivor == uninterrupted,
            "{}: model.bpk differs from one run of its epochs",
            trial.display()
        );
    }
}

/// The table rows of a sweep.md: (setting, converged seeds, median epochs or infinity).
fn table(md: &str) -> Vec<(String, usize, f64)> {
    md.lines()
        .filter(|l| l.starts_with("| ") && l.contains(" init "))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let converged = cells[2].split('/').next().unwrap().parse().unwrap();
            (cells[1].to_string(), converged, cells[3].parse().unwrap_or(f64::INFINITY))
        })
        .collect()
}

/// The epochs a sweep trained, from its title: "name: N runs, E epochs in S s ...".
fn epochs_trained(md: &str) -> usize {
    let title = md.lines().next().unwrap();
    let before = title.split(" epochs in ").next().unwrap();
    before.rsplit(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("{title}"))
}

#[test]
fn random_search_with_halving_finds_a_best_quarter_setting_of_the_grid_in_a_third_of_its_epochs() {
    let dir = tempfile::tempdir().unwrap();
    for config in ["question-sweep", "question-search"] {
        sweep(dir.path(), &repo().join(format!("configs/{config}.toml")), &["-q"]);
    }
    let md = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("artifacts/{name}-sweep/sweep.md"))).unwrap()
    };
    let (grid, search) = (md("question-sweep"), md("question-search"));
    let mut medians: Vec<f64> = table(&grid).iter().map(|(_, _, median)| *median).collect();
    assert_eq!(medians.len(), 36, "{grid}");
    medians.sort_by(f64::total_cmp);
    let best_quarter = medians[36 / 4 - 1];
    let (setting, converged, median) = table(&search)[0].clone();
    assert!(converged >= 9, "the search's best, {setting}, converges on 9 of 10 seeds or more: {search}");
    assert!(
        median <= best_quarter,
        "{setting}: median {median} epochs, the grid's best quarter {best_quarter}"
    );
    let (grid_epochs, search_epochs) = (epochs_trained(&grid), epochs_trained(&search));
    assert!(3 * search_epochs <= grid_epochs, "{search_epochs} epochs against the grid's {grid_epochs}");
}

/// Every trial's model.bpk under `folder`'s trials/, by folder name.
fn trial_models(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut models: Vec<(String, Vec<u8>)> = std::fs::read_dir(folder.join("trials"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|t| t.is_dir())
        .map(|t| {
            (
                t.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(t.join("model.bpk")).unwrap(),
            )
        })
        .collect();
    models.sort();
    models
}

#[cfg(unix)]
#[test]
fn a_halving_sweep_stopped_after_its_first_rung_continues_with_resume_to_the_uninterrupted_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/question-search.toml");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(["sweep", config.to_str().unwrap(), "-q"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Stopped once a survivor of rung 1 is being continued (its config.toml records it).
    let folder = dir.path().join("artifacts/question-search-sweep");
    let continuing = || {
        let Ok(trials) = std::fs::read_dir(folder.join("trials")) else { return false };
        trials
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("config.toml")).ok())
            .any(|c| c.contains("# resumed"))
    };
    let waited = std::time::Instant::now();
    while !continuing() && waited.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "stopped by Ctrl-C: {}", stderr(&out));
    let rows = records(&folder.join("sweep.csv"));
    assert!(rows.iter().any(|r| r["state"] == "cut_short"), "the runs under way were cut short");
    assert!(
        rows.iter().any(|r| r["state"] == "cut_short" && r["epochs"] != "0"),
        "a cut run says how far it got"
    );
    // What rung 1 pruned is replayed from the trials' folders, not trained again.
    let pruned: Vec<std::path::PathBuf> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r["state"] == "pruned")
        .map(|(i, r)| folder.join(format!("trials/trial-{:03}-seed-{}/metrics.csv", i / 10, r["seed"])))
        .collect();
    assert!(!pruned.is_empty(), "rung 1 had pruned some");
    let written = |paths: &[std::path::PathBuf]| -> Vec<std::time::SystemTime> {
        paths.iter().map(|p| std::fs::metadata(p).unwrap().modified().unwrap()).collect()
    };
    let before = written(&pruned);
    let redrawn = gatenet(&["sweep", config.to_str().unwrap(), "--resume", "--trials", "26"], dir.path());
    super::assert_refused(&redrawn, &["cannot continue the interrupted sweep", "another config"]);

    pasted(stderr(&out).split('`').nth(1).expect("a command to continue"), dir.path());
    assert_eq!(
        written(&pruned),
        before,
        "the pruned trials' metrics.csv are as the interrupted sweep left them"
    );

    let straight = tempfile::tempdir().unwrap();
    sweep(straight.path(), &config, &["-q"]);
    let whole = straight.path().join("artifacts/question-search-sweep");
    assert_eq!(rows_without_times(&folder.join("sweep.csv")), rows_without_times(&whole.join("sweep.csv")));
    assert!(
        trial_models(&folder) == trial_models(&whole),
        "every trial's weights as in the uninterrupted sweep"
    );
}

#[test]
fn a_diverged_trial_leaves_the_race_and_is_never_the_best() {
    let dir = tempfile::tempdir().unwrap();
    // SGD at 5 diverges on this regression by epoch 13, within the first rung of 33 epochs;
    // the two small rates do not.
    let config = super::diverging_regression(dir.path(), "house", "");
    let out = sweep(
        dir.path(),
        &config,
        &["--learning-rate", "5,0.01,0.001", "--halving", "3", "--min-epochs", "30", "--seeds", "1"],
    );
    let md = std::fs::read_to_string(dir.path().join("artifacts/house-sweep/sweep.md")).unwrap();
    assert!(
        md.contains("| 1 | 33 | 3 | 1 | 1 |"),
        "the diverged trial ended by itself, one of two went on: {md}"
    );
    assert!(md.contains("Best: `tanh sgd lr 0.01 init default`"), "{md}");
    let table = stdout(&out);
    let first = table.lines().nth(2).unwrap();
    assert!(!first.contains(" lr 5 "), "the table starts with a trial that did not diverge: {table}");
    let last = table.lines().filter(|l| l.starts_with("| ")).last().unwrap();
    assert!(last.contains(" lr 5 "), "and ends with the one that did: {table}");
}
