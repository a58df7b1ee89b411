//! `gatenet sweep`: many seeds over a grid of settings, every run accounted for.

use super::{assert_refused, config_file, gatenet, pasted, repo, stderr, stdout};
use std::path::Path;

/// sweep.csv's rows as (setting, seed, converged, epochs) and the file's header.
fn csv_rows(folder: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(folder.join("sweep.csv")).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with(
        "activation,optimizer,learning_rate,init,seed,converged,epochs_to_converge,final_loss,wall_seconds"
    ));
    lines.map(|l| l.split(',').map(String::from).collect()).collect()
}

#[test]
fn a_sweep_writes_a_row_per_run_a_table_per_setting_and_a_picture() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/or.toml");
    let args = [
        "sweep",
        config.to_str().unwrap(),
        "--optimizer",
        "sgd,adam",
        "--learning-rate",
        "0.5,0.000001",
        "--seeds",
        "3",
        "--artifacts",
        "artifacts",
    ];
    let out = gatenet(&args, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let folder = dir.path().join("artifacts/or-sweep");
    let rows = csv_rows(&folder);
    assert_eq!(rows.len(), 2 * 2 * 3, "every run is a row, failures too");
    let failures = rows.iter().filter(|r| r[3 + 2] == "false").count();
    assert!(failures >= 6, "lr 1e-6 never converges in 1000 epochs: {rows:?}");
    let table = stdout(&out);
    assert!(table.contains("| tanh sgd lr 0.000001 init default | 0/3 |"), "{table}");
    assert!(table.contains("| tanh adam lr 0.5 init default | 3/3 |"), "{table}");
    assert!(std::fs::read_to_string(folder.join("sweep.md")).unwrap().contains("| setting | converged |"));
    assert!(std::fs::metadata(folder.join("sweep.png")).unwrap().len() > 10_000, "sweep.png drawn");
    assert!(
        !folder.join("checkpoint").exists() && !dir.path().join("artifacts/or").exists(),
        "sweeps write no runs"
    );
}

#[test]
fn a_sweep_table_in_the_config_sets_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "name = \"grid\"\n[data]\ngate = \"and\"\n[sweep]\nactivation = [\"tanh\", \"relu\"]\nseeds = 2\n";
    let config = config_file(dir.path(), "grid.toml", text);
    let out = gatenet(&["sweep", config.to_str().unwrap(), "--artifacts", "artifacts", "-q"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = csv_rows(&dir.path().join("artifacts/grid-sweep"));
    assert_eq!(rows.len(), 4);
    assert_eq!(rows.iter().filter(|r| r[0] == "relu").count(), 2);
}

#[test]
fn a_bad_grid_value_is_refused_with_the_option_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/or.toml");
    let out = gatenet(&["sweep", config.to_str().unwrap(), "--activation", "tanh,sigmoidd"], dir.path());
    assert_refused(&out, &["--activation", "\"sigmoidd\""]);
    let out = gatenet(&["sweep", config.to_str().unwrap(), "--seeds", "0"], dir.path());
    assert_refused(&out, &["--seeds"]);
}

/// The medians of ../shared/reference/numpy_mlp.py (its README's table, seeds 0 to 19), as steps
/// to converge; gatenet's epochs are steps here (full batch). Long (a minute or more): run with
/// `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn sweeps_reproduce_the_numpy_reference_medians_and_success_rates() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("or", 6, "sigmoid", "sgd", 0.5, 804.0),
        ("or", 6, "tanh", "sgd", 0.1, 934.5),
        ("or", 6, "tanh", "adam", 0.05, 29.0),
        ("xor", 4, "tanh", "adam", 0.05, 57.0),
        ("xor", 4, "tanh", "sgd", 0.1, 2507.5),
    ];
    let mut report = String::new();
    for (i, (gate, width, activation, optimizer, lr, reference)) in cases.into_iter().enumerate() {
        let text = format!(
            "name = \"case{i}\"\n[data]\ngate = \"{gate}\"\n[model]\nhidden_sizes = [{width}]\n[training]\nnum_epochs = 5000\n"
        );
        let config = config_file(dir.path(), &format!("case{i}.toml"), &text);
        let lr = lr.to_string();
        let args = [
            "sweep",
            config.to_str().unwrap(),
            "--activation",
            activation,
            "--optimizer",
            optimizer,
            "--learning-rate",
            &lr,
            "--seeds",
            "20",
            "--artifacts",
            "artifacts",
        ];
        let out = gatenet(&args, dir.path());
        assert!(out.status.success(), "{}", stderr(&out));
        let rows = csv_rows(&dir.path().join(format!("artifacts/case{i}-sweep")));
        let mut epochs: Vec<f64> =
            rows.iter().filter(|r| r[5] == "true").map(|r| r[6].parse().unwrap()).collect();
        epochs.sort_by(f64::total_cmp);
        let median = (epochs[9] + epochs[10]) / 2.0;
        report += &format!(
            "{gate} {activation} {optimizer} {lr}: {}/20 converged, median {median} (reference {reference})\n",
            epochs.len()
        );
        assert_eq!(epochs.len(), 20, "{report}");
        assert!((median - reference).abs() <= 0.25 * reference, "{report}");
    }
    println!("{report}");
}

#[test]
fn a_sweep_of_a_run_without_a_tolerance_compares_validation_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/fruit.toml");
    let args = [
        "sweep",
        config.to_str().unwrap(),
        "--learning-rate",
        "0.02",
        "--seeds",
        "2",
        "--artifacts",
        "artifacts",
    ];
    let out = gatenet(&args, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let row =
        table.lines().find(|l| l.starts_with("| tanh adam lr 0.02")).unwrap_or_else(|| panic!("{table}"));
    let accuracy: f64 = row.split('|').nth(6).unwrap().trim().trim_end_matches('%').parse().unwrap();
    assert!(accuracy >= 95.0, "the fruit classifier's median validation accuracy: {row}");
    let rows = csv_rows(&dir.path().join("artifacts/fruit-sweep"));
    assert!(rows.iter().all(|r| r[9].parse::<f64>().unwrap() >= 0.9), "per-run accuracy: {rows:?}");
}

#[test]
fn a_sweep_split_over_worker_processes_gives_the_rows_of_a_sweep_in_one_process() {
    let on_one_core = std::process::Command::new("taskset").args(["-c", "0", "true"]).status();
    if !on_one_core.is_ok_and(|s| s.success()) {
        eprintln!("skipped: taskset (util-linux) is needed to run a sweep on one core");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/or.toml");
    let grid = ["--activation", "sigmoid,tanh", "--learning-rate", "0.5,0.000001", "--seeds", "3"];
    let sweep = |artifacts: &str, one_core: bool| {
        let mut command = if one_core {
            let mut c = std::process::Command::new("taskset");
            c.args(["-c", "0", env!("CARGO_BIN_EXE_gatenet")]);
            c
        } else {
            std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        };
        let out = command
            .args(["sweep", config.to_str().unwrap()])
            .args(grid)
            .args(["--artifacts", artifacts])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        // Every column but wall_seconds (the 9th).
        let rows = csv_rows(&dir.path().join(artifacts).join("or-sweep"));
        rows.into_iter().map(|mut row| (row.remove(8), row).1).collect::<Vec<_>>()
    };
    let (alone, split) = (sweep("one", true), sweep("many", false));
    assert_eq!(alone.len(), 2 * 2 * 3);
    assert_eq!(alone, split, "the same rows, in the same order, to the last digit");
}

#[test]
fn a_sweep_that_cannot_write_its_folder_says_so_before_its_first_run() {
    // A file where the sweep folder goes. The grid would take hours: the sweep must stop first.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("artifacts")).unwrap();
    std::fs::write(dir.path().join("artifacts/question-sweep-sweep"), "a file").unwrap();
    let config = repo().join("configs/question-sweep.toml");
    let started = std::time::Instant::now();
    let out = gatenet(&["sweep", config.to_str().unwrap(), "--seeds", "10000"], dir.path());
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "it trained first");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot write into artifacts/question-sweep-sweep"), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn sigterm_to_a_sweep_stops_its_worker_processes_too() {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("stopped-sweep-artifacts");
    let config = repo().join("configs/question-sweep.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(["sweep", config.to_str().unwrap(), "--seeds", "10000", "--artifacts"])
        .arg(&artifacts)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The workers' command lines name the artifacts folder, as their parent's does.
    let workers = || -> usize {
        let needle = artifacts.to_string_lossy().into_owned();
        let procs = std::fs::read_dir("/proc").into_iter().flatten().flatten();
        procs
            .filter_map(|p| std::fs::read(p.path().join("cmdline")).ok())
            .map(|cmd| String::from_utf8_lossy(&cmd).replace('\0', " "))
            .filter(|cmd| cmd.contains(&needle) && cmd.contains("--worker="))
            .count()
    };
    let started = std::time::Instant::now();
    while workers() == 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "no worker started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signals the child this test started, and only it (not its workers).
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert_eq!(workers(), 0, "a worker outlived its sweep");
    let table = std::fs::read_to_string(artifacts.join("question-sweep-sweep/sweep.csv")).unwrap();
    assert!(table.lines().count() < 1000, "the sweep stopped early: {} rows", table.lines().count());
}

#[test]
fn a_value_listed_twice_is_one_setting() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/or.toml");
    let args = ["sweep", config.to_str().unwrap(), "--activation", "tanh,tanh", "--seeds", "2"];
    let out = gatenet(&args, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(csv_rows(&dir.path().join("artifacts/or-sweep")).len(), 2, "one setting, two seeds");
}

/// A sweep of slow runs (2000 epochs that never converge, about 0.3 s each), interrupted by
/// `signal` after `after`; its output.
#[cfg(unix)]
fn interrupted_sweep(dir: &Path, signal: i32, after: std::time::Duration) -> std::process::Output {
    let config = repo().join("configs/question-sweep.toml");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(["sweep", config.to_str().unwrap()])
        .args(SLOW_GRID)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    child.wait_with_output().unwrap()
}

const SLOW_GRID: [&str; 10] = [
    "--activation",
    "sigmoid",
    "--optimizer",
    "sgd",
    "--learning-rate",
    "0.000001",
    "--init",
    "small",
    "--seeds",
    "12",
];

/// The rows of sweep.csv without wall_seconds, which no two runs share.
fn without_times(folder: &Path) -> Vec<Vec<String>> {
    csv_rows(folder).into_iter().map(|mut row| (row.remove(8), row).1).collect()
}

#[cfg(unix)]
#[test]
fn an_interrupted_sweep_says_what_it_did_not_finish_and_the_printed_command_continues_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = interrupted_sweep(dir.path(), libc::SIGINT, std::time::Duration::from_millis(1200));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let said = stderr(&out);
    let counts = said.split("Ctrl-C: ").nth(1).unwrap_or_default();
    let numbers: Vec<usize> =
        counts.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    assert!(numbers.len() >= 4 && numbers[1] == 12, "finished of 12, cut short, never started: {said}");
    assert_eq!(numbers[0] + numbers[2] + numbers[3], 12, "every run accounted for: {said}");
    let folder = dir.path().join("artifacts/question-sweep-sweep");
    let md = std::fs::read_to_string(folder.join("sweep.md")).unwrap();
    assert!(md.contains("**Interrupted**") && md.contains(counts.split(';').next().unwrap()), "{md}");
    let rows = csv_rows(&folder);
    assert_eq!(rows.iter().filter(|r| r[11] == "finished").count(), numbers[0], "{rows:?}");

    let again = said.split('`').nth(1).expect("a command to continue");
    pasted(again, dir.path());
    assert!(!std::fs::read_to_string(folder.join("sweep.md")).unwrap().contains("Interrupted"));

    let straight = tempfile::tempdir().unwrap();
    let config = repo().join("configs/question-sweep.toml");
    let mut args = vec!["sweep", config.to_str().unwrap()];
    args.extend(SLOW_GRID);
    assert!(gatenet(&args, straight.path()).status.success());
    let expected = without_times(&straight.path().join("artifacts/question-sweep-sweep"));
    assert_eq!(without_times(&folder), expected, "continued = uninterrupted, to the last digit");
}

#[cfg(unix)]
#[test]
fn an_interrupted_sweep_never_replaces_a_complete_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/question-sweep.toml");
    let mut args = vec!["sweep", config.to_str().unwrap()];
    args.extend(SLOW_GRID);
    assert!(gatenet(&args, dir.path()).status.success());
    let folder = dir.path().join("artifacts/question-sweep-sweep");
    let complete: Vec<Vec<u8>> = ["sweep.csv", "sweep.md", "sweep.png"]
        .iter()
        .map(|f| std::fs::read(folder.join(f)).unwrap())
        .collect();
    let out = interrupted_sweep(dir.path(), libc::SIGTERM, std::time::Duration::from_millis(600));
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(stderr(&out).contains("question-sweep-sweep/interrupted/"), "{}", stderr(&out));
    for (file, bytes) in ["sweep.csv", "sweep.md", "sweep.png"].iter().zip(complete) {
        assert!(
            std::fs::read(folder.join(file)).unwrap() == bytes,
            "{file} of the complete sweep was changed"
        );
    }
    assert!(folder.join("interrupted/sweep.md").is_file());
}

#[test]
fn resuming_a_sweep_that_was_not_interrupted_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/or.toml");
    let out = gatenet(&["sweep", config.to_str().unwrap(), "--seeds", "1", "--resume"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing to continue"), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn an_interrupted_sweep_continues_only_with_the_config_it_began_with() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("configs/question-sweep.toml")).unwrap();
    std::fs::write(dir.path().join("question-sweep.toml"), &text).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(["sweep", "question-sweep.toml"])
        .args(SLOW_GRID)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(130));
    let changed = text.replace("num_epochs = 2000", "num_epochs = 1500");
    assert_ne!(changed, text);
    std::fs::write(dir.path().join("question-sweep.toml"), changed).unwrap();
    let mut args = vec!["sweep", "question-sweep.toml"];
    args.extend(SLOW_GRID);
    args.push("--resume");
    let out = gatenet(&args, dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("ran under another config"), "{}", stderr(&out));
}

#[test]
fn a_grid_too_large_on_the_command_line_is_refused_before_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/or.toml");
    let rates: Vec<String> = (1..=200).map(|i| format!("0.{i:03}")).collect();
    let rates = rates.join(",");
    let out = gatenet(
        &["sweep", config.to_str().unwrap(), "--seeds", "10000", "--learning-rate", &rates],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--seeds and the lists") && stderr(&out).contains("at most 1000000"),
        "{}",
        stderr(&out)
    );
}
