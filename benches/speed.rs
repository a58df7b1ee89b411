//! `cargo bench --bench speed`: gatenet against the numpy reference (../shared/reference), both
//! measured in this one run, reported as ratios because this machine is noisy.
//!
//! 1. Whole process: `gatenet configs/or.toml` (the built binary, writing every artifact) against
//!    a Python process that imports numpy and trains the same 2-6-1 tanh network with Adam 0.05
//!    until every output is within 0.1.
//! 2. Time per optimizer step under Burn's Learner: runs of 200 and 2,200 full-batch epochs
//!    without early stopping; the difference over 2,000 epochs removes start-up and writing.
//!    Against numpy_mlp.py's own `time_steps` (median of 5 x 20,000 steps), the same net.
//!
//! Needs `python3 -m pip install numpy`; without it only gatenet's side is printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const RUNS: usize = 15;

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let reference = repo.join("../shared/reference");
    let work = std::env::temp_dir().join(format!("gatenet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("temp folder");
    let numpy = reference.join("numpy_mlp.py").is_file() && python(&reference, "import numpy").is_some();
    if !numpy {
        println!("(numpy reference unavailable: `python3 -m pip install numpy`; printing gatenet only)");
    }

    // 1. Whole process, interleaved so that both see the same machine load.
    let or = repo.join("configs/or.toml");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let train_or = "import numpy_mlp as m\n\
                    s, y = m.train_until(m.X_OR, m.Y_OR, [2, 6, 1], 'tanh', 'adam', 0.05, 'default', 42, 2000)\n\
                    print(s, y)";
    for _ in 0..RUNS {
        ours.push(seconds(|| gatenet(&work, &[or.to_str().unwrap()], true)));
        if numpy {
            theirs.push(seconds(|| {
                python(&reference, train_or);
            }));
        }
    }
    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    println!("whole process, train OR and write/print the result (median of {RUNS}):");
    println!("  gatenet configs/or.toml      {:8.1} ms", ours * 1e3);
    if numpy {
        println!("  numpy reference script       {:8.1} ms", theirs * 1e3);
        println!("  ratio gatenet / numpy        {:8.2}", ours / theirs);
    }

    // 2. Time per optimizer step under the Learner.
    let step = |pinned: bool| -> f64 {
        let mut per_step = Vec::new();
        for _ in 0..5 {
            let short = seconds(|| gatenet(&work, &[&config(&work, 200)], pinned));
            let long = seconds(|| gatenet(&work, &[&config(&work, 2200)], pinned));
            per_step.push((long - short) / 2000.0);
        }
        median(&mut per_step)
    };
    let (pinned, unpinned) = (step(true), step(false));
    println!("time per Adam step under Burn's Learner, OR 2-6-1, full batch (median of 5):");
    println!("  gatenet (pinned to one core) {:8.1} us", pinned * 1e6);
    println!("  gatenet, GATENET_NO_PIN=1    {:8.1} us", unpinned * 1e6);
    if numpy {
        let timing = "import numpy_mlp as m\n\
                      us, _ = m.time_steps(m.X_OR, m.Y_OR, [2, 6, 1], 'tanh', 'adam', 0.05, 'default')\n\
                      print(us)";
        let us: f64 = python(&reference, timing).and_then(|out| out.trim().parse().ok()).unwrap_or(f64::NAN);
        println!("  numpy reference              {us:8.1} us");
        println!("  ratio gatenet / numpy        {:8.2}", pinned * 1e6 / us);
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// A config for OR 2-6-1 tanh Adam 0.05 that runs exactly `epochs` epochs.
fn config(work: &Path, epochs: usize) -> String {
    let text = format!(
        "name = \"bench-{epochs}\"\n[data]\ngate = \"or\"\n[model]\nhidden_sizes = [6]\nactivation = \"tanh\"\n\
         [optimizer]\nname = \"adam\"\nlearning_rate = 0.05\n[training]\nnum_epochs = {epochs}\ntolerance = 0\n\
         checkpoint_every = 1000\n"
    );
    let path = work.join(format!("bench-{epochs}.toml"));
    std::fs::write(&path, text).expect("bench config");
    path.to_str().unwrap().to_string()
}

/// Runs the built binary; `pinned` is gatenet's default (it pins itself to one core), and
/// `false` sets GATENET_NO_PIN to show what pinning is worth.
fn gatenet(work: &Path, args: &[&str], pinned: bool) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatenet"));
    if !pinned {
        command.env("GATENET_NO_PIN", "1");
    }
    let out = command
        .args(args)
        .args(["--artifacts", "artifacts"])
        .current_dir(work)
        .output()
        .expect("gatenet runs");
    assert!(out.status.success(), "gatenet failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Runs a Python snippet in the reference folder with one BLAS thread; its stdout on success.
fn python(reference: &Path, code: &str) -> Option<String> {
    let out = Command::new("python3")
        .args(["-c", code])
        .env("OPENBLAS_NUM_THREADS", "1")
        .current_dir(reference)
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn seconds(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] }
}
