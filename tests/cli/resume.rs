//! `--resume`: a run stopped anywhere and continued ends exactly where one uninterrupted run
//! ends; damaged checkpoints are skipped with a warning; nothing panics.

use super::{config_file, gatenet, stderr, walk};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// XOR with shuffled mini-batches (2 of the 4 rows per step) and no early stop, so that the data
/// order, the optimizer state and the epoch counter all have to be restored exactly.
fn config(optimizer: &str, epochs: usize, checkpoint_every: usize) -> String {
    let optimizer = match optimizer {
        "sgd" => "name = \"sgd\"\nlearning_rate = 0.3\nmomentum = 0.9",
        _ => "name = \"adam\"\nlearning_rate = 0.02",
    };
    format!(
        "name = \"run\"\n[data]\ngate = \"xor\"\n[model]\nhidden_sizes = [4]\n[optimizer]\n{optimizer}\n\
         [training]\nnum_epochs = {epochs}\nbatch_size = 2\ntolerance = 0\ncheckpoint_every = {checkpoint_every}\n"
    )
}

/// Trains `text` (written as `dir/run.toml`) into `dir/artifacts/run/`, with extra arguments.
fn run(dir: &Path, text: &str, extra: &[&str]) -> Output {
    let config = config_file(dir, "run.toml", text);
    let mut args = vec![config.to_str().unwrap(), "-q", "--artifacts", "artifacts"];
    args.extend(extra);
    let out = gatenet(&args, dir);
    assert!(!stderr(&out).contains("panicked"), "a panic reached the user: {}", stderr(&out));
    out
}

fn folder(dir: &Path) -> PathBuf {
    dir.join("artifacts/run")
}

/// The final weights and the metrics rows without the timing column.
fn outcome(dir: &Path) -> (Vec<u8>, Vec<String>) {
    let model = std::fs::read(folder(dir).join("model.bpk")).expect("model.bpk written");
    let metrics = std::fs::read_to_string(folder(dir).join("metrics.csv")).unwrap();
    let rows = metrics.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string()).collect();
    (model, rows)
}

/// The outcome of one uninterrupted run of `text`.
fn straight(text: &str) -> (Vec<u8>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(dir.path(), text, &[]).status.success());
    outcome(dir.path())
}

fn assert_same(dir: &Path, expected: &(Vec<u8>, Vec<String>), what: &str) {
    let (model, rows) = outcome(dir);
    assert!(model == expected.0, "{what}: model.bpk differs from the uninterrupted run");
    assert_eq!(rows.len(), expected.1.len(), "{what}: one metrics row per epoch");
    assert!(rows == expected.1, "{what}: metrics.csv rows differ from the uninterrupted run");
    let leftovers: Vec<_> =
        walk(&folder(dir)).into_iter().filter(|p| p.extension().is_some_and(|x| x == "tmp")).collect();
    assert!(leftovers.is_empty(), "{what}: stray temporary files {leftovers:?}");
}

#[test]
fn half_a_run_then_resume_equals_one_uninterrupted_run_for_sgd_momentum_and_adam() {
    for optimizer in ["sgd", "adam"] {
        let expected = straight(&config(optimizer, 120, 25));
        let dir = tempfile::tempdir().unwrap();
        assert!(run(dir.path(), &config(optimizer, 60, 25), &[]).status.success());
        let out = run(dir.path(), &config(optimizer, 120, 25), &["--resume"]);
        assert!(out.status.success(), "{optimizer}: {}", stderr(&out));
        assert_same(dir.path(), &expected, optimizer);
        let resolved = std::fs::read_to_string(folder(dir.path()).join("config.toml")).unwrap();
        assert!(
            resolved.starts_with("# resumed after epoch 60") && resolved.contains("num_epochs = 120"),
            "{resolved}"
        );
    }
}

#[test]
fn resume_from_an_older_epoch_discards_what_came_after_it() {
    let expected = straight(&config("sgd", 100, 20));
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &config("sgd", 60, 20), &[]); // keeps the checkpoints of epochs 40 and 60
    let out = run(dir.path(), &config("sgd", 100, 20), &["--resume-from", "40"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_same(dir.path(), &expected, "--resume-from 40");
}

/// Damages one file of the newest checkpoint (epoch 60) of a 60-epoch run saved every 20.
fn damaged_run(dir: &Path, damage: fn(&Path)) {
    assert!(run(dir, &config("sgd", 60, 20), &[]).status.success());
    damage(&folder(dir).join("checkpoint/optim-60.bpk"));
}

fn truncate(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

fn empty(path: &Path) {
    std::fs::write(path, b"").unwrap();
}

fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_truncated_empty_or_flipped_newest_checkpoint_is_skipped_with_a_warning() {
    let expected = straight(&config("sgd", 100, 20));
    for (what, damage) in [("truncated", truncate as fn(&Path)), ("empty", empty), ("flipped", flip_a_byte)] {
        let dir = tempfile::tempdir().unwrap();
        damaged_run(dir.path(), damage);
        let out = run(dir.path(), &config("sgd", 100, 20), &["--resume"]);
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        let warning = stderr(&out);
        assert!(
            warning.contains("warning: checkpoint of epoch 60 skipped: optim-60.bpk"),
            "{what}: {warning}"
        );
        assert_same(dir.path(), &expected, what);
    }
}

#[test]
fn with_every_checkpoint_damaged_resume_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    damaged_run(dir.path(), flip_a_byte);
    truncate(&folder(dir.path()).join("checkpoint/model-40.bpk"));
    let out = run(dir.path(), &config("sgd", 100, 20), &["--resume"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("no usable checkpoint")
            && message.contains("model-40.bpk")
            && message.contains("optim-60.bpk"),
        "{message}"
    );
}

#[test]
fn a_changed_hidden_size_is_refused_with_the_difference_listed() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &config("adam", 30, 10), &[]);
    let changed = config("adam", 60, 10)
        .replace("hidden_sizes = [4]", "hidden_sizes = [8]")
        .replace("gate = \"xor\"", "gate = \"xnor\"");
    let out = run(dir.path(), &changed, &["--resume"]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains("model.hidden_sizes: [4] -> [8]")
            && message.contains("data.gate: \"xor\" -> \"xnor\""),
        "{message}"
    );
}

#[test]
fn resuming_a_finished_run_changes_nothing_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &config("adam", 30, 10), &[]);
    let before = outcome(dir.path());
    // Not quiet: "nothing to do" is information, which -q leaves out.
    let out = gatenet(&["run.toml", "--resume", "--artifacts", "artifacts"], dir.path());
    assert!(out.status.success());
    assert!(stderr(&out).contains("nothing to do"), "{}", stderr(&out));
    assert!(outcome(dir.path()) == before, "a finished run was changed");
}

#[test]
fn resume_without_a_run_or_a_checkpoint_is_an_error_never_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &config("adam", 30, 10), &["--resume"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing to resume"), "{}", stderr(&out));
    assert!(!folder(dir.path()).join("metrics.csv").exists(), "--resume started a fresh run");
}

/// Starts a run in the background and waits until its first checkpoint is complete.
fn start(dir: &Path, text: &str) -> Child {
    start_under(dir, text, &[])
}

/// `start`, with gatenet's command line after `wrapper` (e.g. `unshare ...`).
fn start_under(dir: &Path, text: &str, wrapper: &[&str]) -> Child {
    let config = config_file(dir, "run.toml", text);
    let gatenet = env!("CARGO_BIN_EXE_gatenet");
    let (program, before) = wrapper.split_first().map_or((gatenet, &[][..]), |(p, rest)| (*p, rest));
    let child = Command::new(program)
        .args(before)
        .args(if wrapper.is_empty() { None } else { Some(gatenet) })
        .args([config.to_str().unwrap(), "-q", "--artifacts", "artifacts"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gatenet starts");
    let first = Instant::now();
    let checkpoints = folder(dir).join("checkpoint");
    let has_manifest = || {
        std::fs::read_dir(&checkpoints).into_iter().flatten().flatten().any(|e| {
            // A complete manifest, not the temporary file it is renamed from.
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("manifest-") && name.ends_with(".json")
        })
    };
    while !has_manifest() {
        assert!(first.elapsed() < Duration::from_secs(30), "no checkpoint after 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

#[test]
fn kill_9_at_random_moments_then_resume_ends_equal_to_the_uninterrupted_run() {
    // Half the trials save every epoch, so that many kills land during checkpoint writes.
    let texts = [config("sgd", 400, 1), config("sgd", 400, 7)];
    let expected = [straight(&texts[0]), straight(&texts[1])];
    let mut moment = 12_345u64; // a fixed pseudo-random sequence: reproducible trials
    let mut cut_short = 0;
    for trial in 0..10 {
        let text = &texts[trial % 2];
        let dir = tempfile::tempdir().unwrap();
        let mut child = start(dir.path(), text);
        moment = moment.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        std::thread::sleep(Duration::from_millis((moment >> 33) % 250));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let out = run(dir.path(), text, &["--resume"]);
        assert!(out.status.success(), "trial {trial}: {}", stderr(&out));
        cut_short += usize::from(!stderr(&out).contains("nothing to do"));
        assert_same(dir.path(), &expected[trial % 2], &format!("kill -9 trial {trial}"));
    }
    assert!(cut_short >= 5, "only {cut_short} of 10 kills landed before the run ended");
}

#[test]
fn ctrl_c_saves_the_epoch_exits_130_and_resumes_to_the_same_result() {
    let text = config("sgd", 3000, 500);
    let expected = straight(&text);
    let dir = tempfile::tempdir().unwrap();
    let child = start(dir.path(), &text);
    // SAFETY: sends SIGINT to the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{message}");
    assert!(message.contains("interrupted: epoch") && message.contains("--resume"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    let out = run(dir.path(), &text, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_same(dir.path(), &expected, "Ctrl-C");
}

#[test]
fn sigterm_and_sighup_save_the_epoch_exit_143_and_129_and_resume_to_the_same_result() {
    let text = config("sgd", 3000, 500);
    let expected = straight(&text);
    for (signal, code, name) in [(libc::SIGTERM, 143, "SIGTERM"), (libc::SIGHUP, 129, "SIGHUP")] {
        let dir = tempfile::tempdir().unwrap();
        let child = start(dir.path(), &text);
        // SAFETY: sends a signal to the child this test started.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let out = child.wait_with_output().unwrap();
        let message = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{name}: {message}");
        assert!(message.contains("interrupted: epoch") && message.contains(name), "{message}");
        assert!(!folder(dir.path()).join(".lock").exists(), "{name}: the lock was left behind");
        let out = run(dir.path(), &text, &["--resume"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_same(dir.path(), &expected, name);
    }
}

#[test]
fn sigterm_to_gatenet_running_as_pid_1_of_a_container_saves_and_resumes_the_same() {
    // A new pid namespace makes gatenet its pid 1, as in `docker run`: the kernel drops every
    // signal to a pid 1 that has no handler for it, so only a handled SIGTERM stops it.
    const UNSHARE: [&str; 5] = ["unshare", "--pid", "--fork", "--map-root-user", "--kill-child"];
    let works = Command::new(UNSHARE[0]).args(&UNSHARE[1..]).arg("true").status();
    if !works.is_ok_and(|s| s.success()) {
        eprintln!(
            "skipped: `unshare --pid --map-root-user` is not available here (util-linux, user namespaces)"
        );
        return;
    }
    let text = config("sgd", 3000, 500);
    let expected = straight(&text);
    let dir = tempfile::tempdir().unwrap();
    let child = start_under(dir.path(), &text, &UNSHARE);
    // unshare forks gatenet; its pid outside the namespace is unshare's only child.
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id())).unwrap();
    let inner: libc::pid_t = children.split_whitespace().next().expect("unshare's child").parse().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{inner}/status")).unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap_or_default().to_string();
    assert!(nspid.trim_end().ends_with("\t1"), "gatenet is pid 1 in its namespace: {nspid}");
    // SAFETY: signals the process this test started (through unshare).
    unsafe { libc::kill(inner, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted: epoch"), "{}", stderr(&out));
    let out = run(dir.path(), &text, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_same(dir.path(), &expected, "SIGTERM as pid 1");
}

#[test]
fn a_run_killed_after_its_last_checkpoint_is_finished_by_resume() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(dir.path(), &config("adam", 40, 10), &[]).status.success());
    let expected = outcome(dir.path());
    // As if the process died between the final checkpoint and model.bpk.
    std::fs::remove_file(folder(dir.path()).join("model.bpk")).unwrap();
    std::fs::remove_file(folder(dir.path()).join("summary.json")).unwrap();
    let out = run(dir.path(), &config("adam", 40, 10), &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(outcome(dir.path()) == expected, "the finished files are the uninterrupted run's");
    assert!(folder(dir.path()).join("summary.json").is_file());
}

#[test]
fn a_checkpoint_that_does_not_fit_the_network_is_refused_not_loaded() {
    // A checkpoint folder copied from a run of another width: every file is whole, but the
    // weights have other shapes, which Burn would panic on.
    let (wide, narrow) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(wide.path(), &config("adam", 20, 10).replace("hidden_sizes = [4]", "hidden_sizes = [8]"), &[]);
    run(narrow.path(), &config("adam", 20, 10), &[]);
    let (from, to) = (folder(wide.path()).join("checkpoint"), folder(narrow.path()).join("checkpoint"));
    for entry in std::fs::read_dir(&from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
    let out = run(narrow.path(), &config("adam", 40, 10), &["--resume"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("do not fit the network"), "{}", stderr(&out));
    // In gatenet's words, naming the tensor and both shapes; none of Burn's debug syntax.
    let said = stderr(&out);
    assert!(said.contains("layers.0.weight is [2, 8] in the file and [2, 4] in this network"), "{said}");
    for debug in ["Shape {", "dims", "Apply errors", "[\"", "Record validation"] {
        assert!(!said.contains(debug), "{debug:?} in: {said}");
    }
}

#[test]
fn a_new_rate_with_a_decaying_schedule_is_refused_rather_than_silently_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let decaying = config("adam", 30, 10)
        .replace("learning_rate = 0.02", "learning_rate = 0.02\nschedule = \"exponential\"");
    run(dir.path(), &decaying, &[]);
    let changed = decaying
        .replace("learning_rate = 0.02", "learning_rate = 0.01")
        .replace("num_epochs = 30", "num_epochs = 60");
    let out = run(dir.path(), &changed, &["--resume"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("optimizer.learning_rate: 0.02 -> 0.01"), "{}", stderr(&out));
}

#[test]
fn a_second_run_into_a_folder_in_use_is_refused_naming_the_other_process() {
    let dir = tempfile::tempdir().unwrap();
    let text = config("sgd", 3000, 500);
    let mut first = start(dir.path(), &text);
    let out = run(dir.path(), &text, &[]);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("in use by another gatenet process (pid {})", first.id())),
        "{}",
        stderr(&out)
    );
    // The killed run's lock is stale: resuming takes it over.
    let out = run(dir.path(), &text, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_second_ctrl_c_exits_at_once_and_the_last_complete_checkpoint_still_resumes() {
    let text = config("sgd", 3000, 7);
    let expected = straight(&text);
    let dir = tempfile::tempdir().unwrap();
    let child = start(dir.path(), &text);
    // SAFETY: sends SIGINT twice to the child this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let out = run(dir.path(), &text, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_same(dir.path(), &expected, "two Ctrl-C");
}

#[test]
fn an_edited_run_config_cannot_change_a_resumed_run_silently() {
    // batch_size = 2 trained the checkpoint; the run folder's config.toml is edited to 4 and
    // given back as the config: the change is named and refused, as if the config had said it.
    let dir = tempfile::tempdir().unwrap();
    assert!(run(dir.path(), &config("sgd", 60, 25), &[]).status.success());
    let stored = std::fs::read_to_string(folder(dir.path()).join("config.toml")).unwrap();
    assert!(stored.contains("batch_size = 2"), "{stored}");
    let edited =
        stored.replace("batch_size = 2", "batch_size = 4").replace("num_epochs = 60", "num_epochs = 80");
    std::fs::write(folder(dir.path()).join("config.toml"), &edited).unwrap();
    let out = run(dir.path(), &edited, &["--resume"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("training.batch_size: 2 -> 4"), "{}", stderr(&out));
    // An allowed change edited in (tolerance) is recorded like any changed config.
    let edited =
        stored.replace("tolerance = 0.0", "tolerance = 0.01").replace("num_epochs = 60", "num_epochs = 80");
    assert_ne!(edited, stored.replace("num_epochs = 60", "num_epochs = 80"), "the edit applies: {stored}");
    std::fs::write(folder(dir.path()).join("config.toml"), &edited).unwrap();
    let out = run(dir.path(), &edited, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let resumed = std::fs::read_to_string(folder(dir.path()).join("config.toml")).unwrap();
    assert!(
        resumed.starts_with("# resumed after epoch 60") && resumed.contains("training.tolerance"),
        "{resumed}"
    );
}

#[test]
fn the_command_printed_after_ctrl_c_continues_the_run_when_pasted_into_a_shell() {
    // A config in a folder with a space and a quote in its name.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("it's my runs");
    std::fs::create_dir_all(&folder).unwrap();
    let config = config_file(&folder, "run.toml", &config("sgd", 3000, 500));
    let child = Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .arg(&config)
        .args(["--artifacts", "my artifacts"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let manifest = dir.path().join("my artifacts/run/checkpoint/manifest-500.json");
    let started = Instant::now();
    while !manifest.exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "no checkpoint after 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    // SAFETY: sends SIGINT to the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let message = stderr(&child.wait_with_output().unwrap());
    let command = message.split('`').nth(1).unwrap_or_else(|| panic!("no command in: {message}"));
    super::pasted(command, dir.path());
    assert!(dir.path().join("my artifacts/run/summary.json").is_file(), "the run was finished");
}
