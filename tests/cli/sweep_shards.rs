//! `gatenet sweep --shard K/N` and `gatenet sweep merge`: a sweep split across processes, as a
//! job array runs it, and put back together.

use super::{assert_refused, config_file, gatenet, stderr};
use std::path::Path;

const SWEEP: &str = "[data]\ngate = \"xor\"\n[training]\nnum_epochs = 500\n\
                     [sweep]\nactivation = [\"tanh\", \"sigmoid\"]\nlearning_rate = [0.05, 0.5]\nseeds = 3\n";

/// sweep.csv without its wall-time column, the one that differs from run to run.
pub(super) fn rows_without_times(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let wall = header.iter().position(|h| h == "wall_seconds").expect("a wall_seconds column");
    reader
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != wall)
                .map(|(_, c)| c)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

fn shard(dir: &Path, config: &Path, k: usize, n: usize) {
    let out = gatenet(&["-q", "sweep", config.to_str().unwrap(), "--shard", &format!("{k}/{n}")], dir);
    assert!(out.status.success(), "shard {k}/{n}: {}", stderr(&out));
}

#[test]
fn three_shards_run_as_three_processes_merge_into_the_one_process_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "small.toml", SWEEP);
    let whole = gatenet(&["-q", "sweep", config.to_str().unwrap()], dir.path());
    assert!(whole.status.success(), "{}", stderr(&whole));
    for k in 0..3 {
        shard(dir.path(), &config, k, 3);
    }
    let shards: Vec<String> = (0..3).map(|k| format!("artifacts/small-sweep-shard-{k}-of-3")).collect();
    let mut args = vec!["sweep", "merge"];
    args.extend(shards.iter().map(String::as_str));
    args.extend(["--artifacts", "merged"]);
    let merged = gatenet(&args, dir.path());
    assert!(merged.status.success(), "{}", stderr(&merged));
    let one = rows_without_times(&dir.path().join("artifacts/small-sweep/sweep.csv"));
    assert_eq!(one.len(), 12);
    assert_eq!(rows_without_times(&dir.path().join("merged/small-sweep/sweep.csv")), one);
    for file in ["sweep.md", "sweep.png", "report.html"] {
        assert!(dir.path().join("merged/small-sweep").join(file).is_file(), "{file}");
    }
    // Each shard ran its third of the runs: places 0, 3, 6, 9 for shard 0.
    assert_eq!(rows_without_times(&dir.path().join(&shards[0]).join("sweep.csv")).len(), 4);
}

#[test]
fn merging_a_shard_twice_a_missing_shard_or_another_sweeps_shard_is_refused_naming_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "small.toml", SWEEP);
    let other = config_file(
        dir.path(),
        "other.toml",
        &SWEEP.replace("num_epochs = 500", "num_epochs = 400").replace("[data]", "name = \"small\"\n[data]"),
    );
    shard(dir.path(), &config, 0, 2);
    shard(dir.path(), &config, 1, 2);
    let (zero, one) = ("artifacts/small-sweep-shard-0-of-2", "artifacts/small-sweep-shard-1-of-2");
    let merge = |folders: &[&str]| {
        let mut args = vec!["sweep", "merge"];
        args.extend(folders);
        gatenet(&args, dir.path())
    };
    assert_refused(&merge(&[zero, zero]), &[zero, "are both shard 0 of 2"]);
    assert_refused(&merge(&[zero]), &["shard 1 of them is missing", zero]);
    assert_refused(&merge(&[zero, "artifacts"]), &["artifacts is not a finished sweep shard"]);
    // The other config's shard 1 lands in the same folder name: a shard of another sweep.
    std::fs::rename(dir.path().join(one), dir.path().join("kept-shard-1")).unwrap();
    shard(dir.path(), &other, 1, 2);
    assert_refused(&merge(&[zero, one]), &[one, "is a shard of another sweep than", zero]);
    // The same config over another grid is another sweep too.
    let other_grid = gatenet(
        &["-q", "sweep", config.to_str().unwrap(), "--shard", "1/2", "--activation", "relu"],
        dir.path(),
    );
    assert!(other_grid.status.success(), "{}", stderr(&other_grid));
    assert_refused(&merge(&[zero, one]), &[one, "is a shard of another sweep than"]);
    // A damaged shard.json is an error, never a panic.
    let record = dir.path().join(one).join("shard.json");
    let text = std::fs::read_to_string(&record).unwrap().replace("\"of\": 2", "\"of\": 0");
    std::fs::write(&record, text).unwrap();
    assert_refused(&merge(&[zero, one]), &["shard.json is damaged"]);
    assert!(merge(&[zero, "kept-shard-1"]).status.success());
}

#[test]
fn a_shard_out_of_range_or_an_auto_shard_without_a_scheduler_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "small.toml", SWEEP);
    let run = |shard: &str| gatenet(&["sweep", config.to_str().unwrap(), "--shard", shard], dir.path());
    assert_refused(&run("3/3"), &["--shard 3/3", "from 0 to N-1"]);
    assert_refused(&run("one/3"), &["expected K/N"]);
    let auto = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(["sweep", config.to_str().unwrap(), "--shard", "auto"])
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_refused(&auto, &["no $SLURM_ARRAY_TASK_ID", "--shard auto/N"]);
    let slurm = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(["-q", "sweep", config.to_str().unwrap(), "--shard", "auto"])
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(slurm.status.success(), "{}", stderr(&slurm));
    assert!(dir.path().join("artifacts/small-sweep-shard-2-of-3/shard.json").is_file());
}
