//! A sweep split across the machines of a job array: `gatenet sweep CONFIG --shard K/N` runs
//! the runs whose place in the sweep's order is K modulo N (a fixed assignment, whatever the
//! timing) into `<name>-sweep-shard-K-of-N/`, with a `shard.json` that says which; `gatenet
//! sweep merge FOLDER...` puts the shards back together into the sweep.csv, sweep.md and
//! sweep.png one process would have written.

use crate::failure::Failure;
use crate::run::atomic::write_atomic;
use crate::run::folder::RunDir;
use crate::run::sweep_results::{RunResult, marked, read};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One shard of a sweep, as its `shard.json` records it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// The sweep's config name: the merged folder is `<name>-sweep`.
    pub name: String,
    /// From 0, of `of`.
    pub shard: usize,
    pub of: usize,
    /// Every run of the whole sweep; this shard's are at [`places`] in its order, in the order
    /// of the shard's sweep.csv.
    pub total: usize,
    /// The config every run started from (its grid left out), as sweep.md records it, and
    /// every (setting, seed) of the sweep in order: shards of one sweep share both.
    pub config_sha256: String,
    pub jobs_sha256: String,
}

/// The most runs a merged sweep may have: far beyond any grid, short of an allocation that
/// would abort.
const MAX_RUNS: usize = 10_000_000;

/// `K/N` for `--shard`, or `auto` (the scheduler's array index and count, from Slurm's
/// `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN` and `SLURM_ARRAY_TASK_COUNT`), or `auto/N`
/// (Kubernetes Indexed Jobs' `JOB_COMPLETION_INDEX`, which comes without a count).
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(usize, usize), String> {
    let number = |name: &str| -> Result<Option<usize>, String> {
        env(name)
            .map(|v| v.trim().parse::<usize>().map_err(|_| format!("${name} is {v:?}, not a whole number")))
            .transpose()
    };
    let slurm_first = || number("SLURM_ARRAY_TASK_MIN").map(|m| m.unwrap_or(0));
    let (k, n) = match text.split_once('/') {
        _ if text == "auto" => match (number("SLURM_ARRAY_TASK_ID")?, number("SLURM_ARRAY_TASK_COUNT")?) {
            // `--array=MIN-MAX:STEP`: the task's place in the array. A list of indices
            // (`--array=1,5,9`) has no step; give `--shard K/N` for those.
            (Some(id), Some(count)) => {
                let (min, step) = (slurm_first()?, number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1));
                (id.saturating_sub(min) / step, count)
            }
            _ => {
                return Err(
                    "--shard auto: no $SLURM_ARRAY_TASK_ID and $SLURM_ARRAY_TASK_COUNT (in a Kubernetes Indexed Job, give the count: --shard auto/N)"
                        .into(),
                );
            }
        },
        Some(("auto", n)) => {
            let n = n.parse().map_err(|_| format!("--shard auto/N: expected a whole number, found {n:?}"))?;
            let slurm =
                number("SLURM_ARRAY_TASK_ID")?.map(|id| id.saturating_sub(slurm_first().unwrap_or(0)));
            let k = number("JOB_COMPLETION_INDEX")?.or(slurm);
            (k.ok_or("--shard auto/N: no $JOB_COMPLETION_INDEX (or $SLURM_ARRAY_TASK_ID) to read the index from")?, n)
        }
        Some((k, n)) => match (k.parse(), n.parse()) {
            (Ok(k), Ok(n)) => (k, n),
            _ => return Err(format!("--shard: expected K/N (e.g. 0/3), auto or auto/N, found {text:?}")),
        },
        None => return Err(format!("--shard: expected K/N (e.g. 0/3), auto or auto/N, found {text:?}")),
    };
    if n == 0 || k >= n {
        return Err(format!("--shard {text}: expected a shard K from 0 to N-1 of N >= 1, found {k} of {n}"));
    }
    Ok((k, n))
}

/// The places in the sweep's order of the runs of shard `k` of `n`, of `total`.
pub fn places(total: usize, (k, n): (usize, usize)) -> Vec<usize> {
    (k..total).step_by(n).collect()
}

/// A shard's folder.
pub fn folder(artifacts: &Path, name: &str, (k, n): (usize, usize)) -> RunDir {
    RunDir::new(artifacts, &format!("{name}-sweep-shard-{k}-of-{n}"))
}

/// Writes the shard's `shard.json`, after its sweep files.
pub fn record(folder: &RunDir, shard: &Shard) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(shard).expect("a shard serializes") + "\n";
    write_atomic(&folder.shard_json(), json.as_bytes()).map_err(Failure::runtime)
}

/// The shards in `folders`, merged: every run of the sweep in its order, and the sweep's name.
/// Refuses (naming the folder) one that is no shard or an unfinished one, shards of another
/// sweep, a shard given twice, and a set with a shard missing.
pub fn merge(folders: &[PathBuf]) -> Result<(String, Vec<RunResult>), Failure> {
    let mut shards: Vec<(PathBuf, Shard, Vec<RunResult>)> = Vec::new();
    for path in folders {
        let shown = path.display();
        let (shard, results) = read_shard(path)?;
        if let Some((first, other, _)) = shards.first() {
            let same = (&other.name, other.of, other.total, &other.config_sha256, &other.jobs_sha256)
                == (&shard.name, shard.of, shard.total, &shard.config_sha256, &shard.jobs_sha256);
            if !same {
                return Err(Failure::usage(format!(
                    "{shown} is a shard of another sweep than {}: {} of {} shards of {} runs of `{}` (config SHA-256 {}), against {} of {} of `{}` ({})",
                    first.display(),
                    shard.shard,
                    shard.of,
                    shard.total,
                    shard.name,
                    shard.config_sha256.get(..12).unwrap_or_default(),
                    other.of,
                    other.total,
                    other.name,
                    other.config_sha256.get(..12).unwrap_or_default()
                )));
            }
        }
        if let Some((twice, _, _)) = shards.iter().find(|(_, s, _)| s.shard == shard.shard) {
            return Err(Failure::usage(format!(
                "{shown} and {} are both shard {} of {}: give each shard once",
                twice.display(),
                shard.shard,
                shard.of
            )));
        }
        shards.push((path.clone(), shard, results));
    }
    let Some((_, first, _)) = shards.first() else {
        return Err(Failure::usage("sweep merge: give the shard folders to merge"));
    };
    let (name, of, total) = (first.name.clone(), first.of, first.total);
    let missing: Vec<String> =
        (0..of).filter(|k| !shards.iter().any(|(_, s, _)| s.shard == *k)).map(|k| k.to_string()).collect();
    if !missing.is_empty() {
        return Err(Failure::usage(format!(
            "the sweep of `{name}` has {of} shards, and shard {} of them is missing (given: {})",
            missing.join(", "),
            shards.iter().map(|(p, _, _)| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    let mut placed: Vec<Option<RunResult>> = vec![None; total];
    for (_, shard, results) in shards {
        for (place, result) in places(shard.total, (shard.shard, shard.of)).into_iter().zip(results) {
            placed[place] = Some(result);
        }
    }
    Ok((name, placed.into_iter().flatten().collect()))
}

/// A shard folder's record and runs, checked against each other.
fn read_shard(path: &Path) -> Result<(Shard, Vec<RunResult>), Failure> {
    let dir = RunDir::at(path);
    let shown = path.display();
    let text = std::fs::read_to_string(dir.shard_json()).map_err(|e| {
        Failure::usage(format!("{shown} is not a finished sweep shard: cannot read its shard.json ({e})"))
    })?;
    let shard: Shard = serde_json::from_str(&text)
        .map_err(|e| Failure::usage(format!("{shown}/shard.json is damaged: {e}")))?;
    // What `record` writes: a shard K of N >= 1 of at most as many runs as a sweep has.
    if shard.of == 0 || shard.shard >= shard.of || shard.total > MAX_RUNS || shard.config_sha256.len() != 64 {
        return Err(Failure::usage(format!(
            "{shown}/shard.json is damaged: shard {} of {}, {} runs, config SHA-256 {:?}",
            shard.shard, shard.of, shard.total, shard.config_sha256
        )));
    }
    if marked(&dir) {
        return Err(Failure::usage(format!(
            "{shown} is an interrupted shard: continue it (its sweep command with --resume) before merging"
        )));
    }
    let results = read(&dir.sweep_csv()).map_err(Failure::usage)?;
    let expected = places(shard.total, (shard.shard, shard.of)).len();
    if results.len() != expected {
        return Err(Failure::usage(format!(
            "{shown}: its sweep.csv has {} runs, and shard {} of {} of {} runs has {expected}",
            results.len(),
            shard.shard,
            shard.of,
            shard.total
        )));
    }
    Ok((shard, results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_read_from_the_command_line_or_the_schedulers_environment() {
        let none = |_: &str| None;
        assert_eq!(parse("1/3", &none), Ok((1, 3)));
        assert!(parse("3/3", &none).unwrap_err().contains("from 0 to N-1"));
        let slurm = |name: &str| match name {
            "SLURM_ARRAY_TASK_ID" => Some("5".to_string()),
            "SLURM_ARRAY_TASK_MIN" => Some("4".to_string()),
            "SLURM_ARRAY_TASK_COUNT" => Some("3".to_string()),
            _ => None,
        };
        assert_eq!(parse("auto", &slurm), Ok((1, 3)));
        let kubernetes = |name: &str| (name == "JOB_COMPLETION_INDEX").then(|| "2".to_string());
        assert_eq!(parse("auto/3", &kubernetes), Ok((2, 3)));
        assert!(parse("auto", &kubernetes).unwrap_err().contains("--shard auto/N"));
        assert_eq!(places(7, (1, 3)), [1, 4]);
    }
}
