//! Fuzzing the readers of files a user hands gatenet: the config loader, the CSV reader, and the
//! metrics.csv, data.json and sweep.csv readers that `--resume`, `predict` and `sweep --resume`
//! trust. None may panic on any bytes.
//!
//! A mutation fuzzer (cargo-fuzz needs a nightly compiler, which this project does not use):
//! inputs start from a corpus of real files (every config in configs/, CSV and metrics
//! samples) and are mutated with byte flips, insertions, deletions, duplications, splices and
//! tokens that matter to each format (keys, table headers, quotes, numbers such as nan, -1,
//! 1e309 and 2^64). Inputs the reader accepts join the corpus, so that later mutations start
//! deeper in the format. A panic saves the input under target/fuzz-crashes/ and fails the test.
//!
//! Each target runs for GATENET_FUZZ_SECONDS seconds (default 3, what CI runs), one target at a
//! time (they share the process's panic hook):
//! `GATENET_FUZZ_SECONDS=600 cargo test --release --test fuzz`.

use gatenet::config::Config;
use gatenet::config::csv_schema::{Request, Schema};
use gatenet::data::csv::{CsvData, read_features};
use gatenet::data::rng::SplitMix64;
use gatenet::run::metrics::CutCsv;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn budget() -> Duration {
    let seconds = std::env::var("GATENET_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    Duration::from_secs_f64(seconds)
}

/// Tokens that mean something in every target's format.
const NUMBERS: [&str; 16] = [
    "0",
    "-1",
    "1",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "18446744073709551616",
    "4294967296",
    "1e-45",
    "0.5",
    "-0",
    "100000",
    "1000000000",
    "9223372036854775807",
    "+1",
];

/// Runs `target` on mutated inputs for the time budget; `Ok` inputs join the corpus.
fn fuzz(name: &str, corpus: Vec<Vec<u8>>, tokens: &[&str], mut target: impl FnMut(&[u8]) -> bool) {
    // The panic hook is the process's: one target at a time swaps it.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut corpus = corpus;
    let mut rng =
        SplitMix64::new(std::env::var("GATENET_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1));
    let started = Instant::now();
    let (mut runs, mut accepted) = (0u64, 0u64);
    // The default hook would print every caught panic; the input is what matters.
    std::panic::set_hook(Box::new(|_| {}));
    while started.elapsed() < budget() {
        let input = mutate(&corpus, tokens, &mut rng);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(&input)));
        runs += 1;
        match outcome {
            Ok(true) => {
                accepted += 1;
                if corpus.len() < 2000 {
                    corpus.push(input);
                }
            }
            Ok(false) => {}
            Err(panic) => {
                let _ = std::panic::take_hook();
                let folder = repo().join("target/fuzz-crashes");
                std::fs::create_dir_all(&folder).unwrap();
                let saved = folder.join(format!("{name}-{runs}"));
                std::fs::write(&saved, &input).unwrap();
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                panic!(
                    "{name}: a panic after {runs} inputs ({why:?}); the input is in {}:\n{}",
                    saved.display(),
                    String::from_utf8_lossy(&input)
                );
            }
        }
    }
    let _ = std::panic::take_hook();
    println!(
        "{name}: {runs} inputs in {:.0} s, {accepted} accepted, no panic",
        started.elapsed().as_secs_f64()
    );
    assert!(runs > 100, "{name}: the fuzzer ran ({runs} inputs)");
}

fn mutate(corpus: &[Vec<u8>], tokens: &[&str], rng: &mut SplitMix64) -> Vec<u8> {
    let mut below = |n: usize| (rng.next_u64() % n.max(1) as u64) as usize;
    let mut input = corpus[below(corpus.len())].clone();
    for _ in 0..1 + below(6) {
        let at = below(input.len() + 1);
        match below(8) {
            0 if !input.is_empty() => {
                let (i, bit) = (at.min(input.len() - 1), below(8));
                input[i] ^= 1 << bit;
            }
            1 => input.insert(at, below(256) as u8),
            2 if !input.is_empty() => {
                let end = (at + 1 + below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            3 => {
                let end = (at + below(64)).min(input.len());
                let copy = input[at..end].to_vec();
                let to = below(input.len() + 1);
                input.splice(to..to, copy);
            }
            4 => {
                let other = &corpus[below(corpus.len())];
                let from = below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            5 | 6 => {
                let token = tokens[below(tokens.len())];
                input.splice(at..at, token.bytes());
            }
            _ => {
                // A number where a number was: the values a reader must range-check.
                let number = NUMBERS[below(NUMBERS.len())];
                let start =
                    (0..at).rev().take_while(|&i| input[i].is_ascii_digit() || input[i] == b'.').last();
                let start = start.unwrap_or(at);
                let mut end = at;
                while end < input.len() && (input[end].is_ascii_digit() || input[end] == b'.') {
                    end += 1;
                }
                input.splice(start..end, number.bytes());
            }
        }
    }
    input
}

#[test]
fn the_config_loader_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.csv"), "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,1,0\n").unwrap();
    std::fs::write(dir.path().join("k.csv"), "a,kind\n1,x\n2,y\n3,x\n4,y\n5,x\n").unwrap();
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(repo().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    corpus.push(b"[data]\ncsv = \"d.csv\"\ntargets = [\"y\"]\n".to_vec());
    corpus.push(b"[data]\ncsv = \"k.csv\"\ntargets = [\"kind\"]\n[model]\noutput_activation = \"softmax\"\n[training]\nloss = \"cross_entropy\"\n".to_vec());
    let tokens = [
        "[data]\n",
        "[model]\n",
        "[optimizer]\n",
        "[training]\n",
        "[sweep]\n",
        "\"",
        "=",
        "\n",
        "[",
        "]",
        ",",
        "#",
        "gate = ",
        "inputs = ",
        "synthetic = ",
        "samples = ",
        "csv = ",
        "targets = ",
        "features = ",
        "hidden_sizes = ",
        "activation = ",
        "output_activation = ",
        "freeze = ",
        "init = ",
        "name = ",
        "learning_rate = ",
        "schedule = ",
        "step_epochs = ",
        "gamma = ",
        "momentum = ",
        "beta1 = ",
        "num_epochs = ",
        "batch_size = ",
        "tolerance = ",
        "patience = ",
        "loss = ",
        "checkpoint_every = ",
        "valid_fraction = ",
        "noise = ",
        "seed = ",
        "backend = ",
        "device = ",
        "seeds = ",
        "\"softmax\"",
        "\"cross_entropy\"",
        "\"cosine\"",
        "\"step\"",
        "\"wgpu\"",
        "\"majority\"",
        "\"spiral\"",
        "[1000000000]",
        "[]",
        "[0]",
        "\"../x\"",
        "\"d.csv\"",
        "[\"y\"]",
        "[\"a\", \"y\"]",
        "{}",
        "'''",
        "\u{0}",
        "\u{feff}",
        "é",
    ];
    let path = dir.path().join("fuzz.toml");
    fuzz("config", corpus, &tokens, |bytes| {
        std::fs::write(&path, bytes).unwrap();
        let stored = Config::load_stored(&path).is_ok();
        match gatenet::data::dataset::Dataset::load(&path, false).map(|(config, _)| config) {
            Ok(config) => {
                // What a run does with a loaded config before it allocates the network.
                let _ = (
                    config.to_toml(),
                    gatenet::commands::check::estimate(&config).to_string(),
                    config.layers(),
                );
                let _ = gatenet::run::changes::changes(&config, &config);
                true
            }
            Err(error) => {
                let _ = error.to_string();
                stored
            }
        }
    });
}

#[test]
fn the_csv_reader_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = vec![
        std::fs::read(repo().join("configs/fruit.csv")).unwrap(),
        b"a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,1,0\n".to_vec(),
        b"x,\"quoted, name\",y\n1.5,-2e3,a\n\"3\",4,b\n5,6,a\n7,8,b\n".to_vec(),
        b"a,y\r\n1,0\r\n2,1\r\n3,0\r\n4,1\r\n".to_vec(),
    ];
    let tokens = [
        ",", "\n", "\r\n", "\"", "\"\"", " ", "y", "a", "fruit", "apple", "nan", "inf", "", "\u{0}", "é",
        ",,", "\n\n",
    ];
    let path = dir.path().join("fuzz.csv");
    let out = dir.path().join("out.csv");
    let mut rng = SplitMix64::new(7);
    let choices: Vec<Vec<String>> = vec![
        vec!["y".into()],
        vec!["fruit".into()],
        vec!["a".into()],
        vec!["y".into(), "b".into()],
        vec!["missing".into()],
    ];
    fuzz("csv", corpus, &tokens, |bytes| {
        std::fs::write(&path, bytes).unwrap();
        let targets = &choices[(rng.next_u64() % choices.len() as u64) as usize];
        let share = [0.2, 0.5, 0.9, 0.01][(rng.next_u64() % 4) as usize];
        // Features chosen by the config half of the time, named as in the corpus's headers.
        let named: Vec<String> = ["a", "b", "weight_g", "x"].iter().map(|s| s.to_string()).collect();
        let features =
            rng.next_u64().is_multiple_of(2).then_some(&named[..(rng.next_u64() % 4) as usize + 1]);
        let request = Request {
            targets,
            features,
            valid_fraction: share,
            seed: rng.next_u64(),
            classes: rng.next_u64() % 4 == 0,
        };
        match CsvData::read(&path, &request) {
            Ok(data) => {
                // What predict does with a run's schema and a file of rows.
                let schema: &Schema = &data.schema;
                std::fs::write(&out, bytes).unwrap();
                let _ = read_features(&out, schema);
                assert_eq!(data.train.rows() + data.valid.rows(), schema.rows);
                true
            }
            Err(message) => {
                assert!(message.contains("fuzz.csv"), "the error names the file: {message}");
                false
            }
        }
    });
}

#[test]
fn the_data_json_reader_that_predict_trusts_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    std::fs::write(&csv, "a,b,kind\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,1,x\n").unwrap();
    let targets = vec!["kind".to_string()];
    let request = Request { targets: &targets, features: None, valid_fraction: 0.2, seed: 1, classes: false };
    let schema = CsvData::read(&csv, &request).unwrap().schema;
    let corpus = vec![serde_json::to_vec_pretty(&schema).unwrap()];
    let tokens =
        ["\"", ",", "[", "]", "{", "}", ":", "null", "\"classes\"", "\"mean\"", "\"std\"", "nan", "1e39"];
    let path = dir.path().join("data.json");
    fuzz("data.json", corpus, &tokens, |bytes| {
        std::fs::write(&path, bytes).unwrap();
        match Schema::read(&path) {
            Ok(schema) => {
                // What predict then does with it: a network of its widths, over rows of its width.
                let _ = read_features(&csv, &schema);
                schema.output_width() > 0 && schema.std.iter().all(|s| *s > 0.0)
            }
            Err(message) => {
                assert!(message.contains("data.json"), "the error names the file: {message}");
                false
            }
        }
    });
}

#[test]
fn the_metrics_reader_that_resume_trusts_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    // A real metrics.csv of 30 epochs of OR.
    let config = dir.path().join("m.toml");
    std::fs::write(&config, "[data]\ngate = \"or\"\n[training]\nnum_epochs = 30\ntolerance = 0\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args([config.to_str().unwrap(), "-q", "--artifacts", "a"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let corpus = vec![std::fs::read(dir.path().join("a/m/metrics.csv")).unwrap()];
    let tokens = [",", "\n", "nan", "inf", "-1", "1e309", "", "epoch", "\u{0}"];
    let path = dir.path().join("metrics.csv");
    let mut epoch = 0usize;
    fuzz("metrics", corpus, &tokens, |bytes| {
        std::fs::write(&path, bytes).unwrap();
        epoch = (epoch + 7) % 35;
        CutCsv::read(&path, epoch, 2).is_ok()
    });
}

#[test]
fn the_sweep_csv_reader_that_sweep_resume_trusts_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/or.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(["sweep", config.to_str().unwrap(), "--activation", "leaky_relu,tanh", "--seeds", "2", "-q"])
        .args(["--artifacts", "a"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = dir.path().join("a/or-sweep/sweep.csv");
    // What a sweep writes, it reads back: every name and number.
    assert_eq!(gatenet::run::sweep_results::read(&written).unwrap().len(), 4);
    let corpus = vec![std::fs::read(&written).unwrap()];
    let tokens = [",", "\n", "\"", "nan", "-1", "1e309", "", "finished", "cut_short", "leaky_relu", "\u{0}"];
    let path = dir.path().join("sweep.csv");
    fuzz("sweep.csv", corpus, &tokens, |bytes| {
        std::fs::write(&path, bytes).unwrap();
        match gatenet::run::sweep_results::read(&path) {
            Ok(results) => !results.is_empty(),
            Err(message) => {
                assert!(message.contains("sweep.csv"), "the error names the file: {message}");
                false
            }
        }
    });
}
