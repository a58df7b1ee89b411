//! `cargo bench --bench speed`: gatenet against the numpy reference (../shared/reference), both
//! measured in this one run, reported as ratios because this machine is noisy. Prints one
//! Markdown table (the one in BENCHMARKS.md), each figure a median with min and max:
//!
//! 1. Time per optimizer step under Burn's Learner: OR 2-6-1 tanh, Adam 0.05, full batch; runs
//!    of 200 and 2,200 epochs without early stopping on one core, whose difference over 2,000
//!    epochs removes start-up and writing. Against numpy_mlp.py's own `time_steps`, the same
//!    net, and candle's `or-step tanh adam`.
//! 2. Whole process: `gatenet configs/or.toml` (the built binary, writing every artifact)
//!    against a Python process that imports numpy and trains the same network until every
//!    output is within 0.1.
//! 3. Larger run: 100,000 rows x 16 features (label: x0 * x1 > 0, the reference's rule), MLP
//!    16-64-64-1 tanh, Adam 1e-3, batch 256, from a CSV file; one epoch's time is the
//!    difference of a 3-epoch and a 1-epoch run, halved, so that reading the file and starting
//!    up are not counted (numpy's loop has its data in memory too); on one core, then on every
//!    core. Against `larger_run` with one BLAS thread.
//! 4. A sweep: `gatenet sweep configs/question-sweep.toml` (360 runs of at most 2,000 epochs)
//!    against the same grid trained by numpy_mlp.py's `train_until`, one process per core.
//! 5. Peak resident memory of the OR run and of the 1-epoch larger run, from wait4(2).
//!
//! Needs `python3 -m pip install numpy`; without it only gatenet's side is printed. The candle
//! peer (../shared/reference/candle) is measured too when its binary is built, as its README
//! says, into ~/.cache/candle-reference (or the folder named by CANDLE_REFERENCE_BIN).

use gatenet::data::rng::SplitMix64;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let reference = repo.join("../shared/reference");
    let work = std::env::temp_dir().join(format!("gatenet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("temp folder");
    let numpy = reference.join("numpy_mlp.py").is_file() && python(&reference, "import numpy").is_some();
    if !numpy {
        println!("(numpy reference unavailable: `python3 -m pip install numpy`; printing gatenet only)\n");
    }
    let mut table = Vec::new();

    // 1. Time per optimizer step under the Learner, on one core (a run's epoch loop is one
    // thread; its pictures, drawn on two, cancel out in the difference).
    let mut steps = Vec::new();
    for _ in 0..7 {
        let short = gatenet(&work, &[&or_config(&work, 200)], true).seconds;
        let long = gatenet(&work, &[&or_config(&work, 2200)], true).seconds;
        steps.push((long - short) / 2000.0 * 1e6);
    }
    let numpy_step: Vec<f64> = if numpy {
        let timing = "import numpy_mlp as m\n\
                      _, runs = m.time_steps(m.X_OR, m.Y_OR, [2, 6, 1], 'tanh', 'adam', 0.05, 'default')\n\
                      print(*runs)";
        python(&reference, timing)
            .map(|out| out.split_whitespace().filter_map(|v| v.parse().ok()).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let candle = candle_binary();
    let candle_step: Vec<f64> = candle.as_ref().map_or_else(Vec::new, |bin| {
        // Its last line: "or-step tanh adam median_us_per_step N min N max N final_loss N"; one
        // figure per run, three runs.
        (0..3)
            .filter_map(|_| {
                let out = measure(candle_command(bin, &["or-step", "tanh", "adam"])).stdout;
                let words: Vec<&str> = out.split_whitespace().collect();
                let at = words.iter().position(|w| *w == "median_us_per_step")?;
                words.get(at + 1)?.parse().ok()
            })
            .collect()
    });
    table.push(Row::new(
        "1. us per Adam step under the Learner, OR 2-6-1, full batch",
        "<= numpy; 20",
        steps.clone(),
        numpy_step,
    ));
    table.push(Row::new("   the same against candle's step", "", steps, candle_step));

    // 2. Whole process, interleaved so that both see the same machine load.
    let or = repo.join("configs/or.toml");
    let train_or = "import numpy_mlp as m\n\
                    s, y = m.train_until(m.X_OR, m.Y_OR, [2, 6, 1], 'tanh', 'adam', 0.05, 'default', 42, 2000)\n\
                    print(s, y)";
    let (mut ours, mut theirs, mut candles, mut or_rss) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        let run = gatenet(&work, &[or.to_str().unwrap()], false);
        ours.push(run.seconds * 1e3);
        or_rss.push(run.peak_mb);
        if numpy {
            theirs.push(
                measure(Command::new("python3").args(["-c", train_or]).current_dir(&reference)).seconds * 1e3,
            );
        }
        if let Some(bin) = &candle {
            candles.push(measure(candle_command(bin, &["or-run"])).seconds * 1e3);
        }
    }
    table.push(Row::new(
        "2. whole process: train OR, write or print the result (ms)",
        "<= 10",
        ours.clone(),
        theirs,
    ));
    table.push(Row::new("   the same against candle's bare script", "<= 3x candle", ours, candles));

    // 3. and 4. The larger run.
    let rows = 100_000;
    let csv = larger_csv(&work, rows);
    let (mut sps, mut sps_all, mut larger_rss) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        for (one_core, into) in [(true, &mut sps), (false, &mut sps_all)] {
            let one = gatenet(&work, &[&larger_config(&work, 1)], one_core);
            let three = gatenet(&work, &[&larger_config(&work, 3)], one_core);
            let trained = rows as f64 * 0.99; // 1% held out for validation
            into.push(trained / ((three.seconds - one.seconds) / 2.0));
            larger_rss.push(one.peak_mb);
        }
    }
    let (numpy_sps, numpy_rss) = if numpy {
        let code = "import numpy_mlp as m\nr = m.larger_run(3)\nprint(r['samples_per_s_median'])";
        let mut command = Command::new("python3");
        command.args(["-c", code]).current_dir(&reference).env("OPENBLAS_NUM_THREADS", "1");
        let run = measure(&mut command);
        // Each repeat prints "larger run r: 850,000 samples/s, ...".
        let each = run.stdout.lines().filter_map(|l| {
            let figure = l.strip_prefix("larger run ")?.split(": ").nth(1)?.split(' ').next()?;
            figure.replace(',', "").parse::<f64>().ok()
        });
        (each.collect(), vec![run.peak_mb])
    } else {
        (Vec::new(), Vec::new())
    };
    table.push(Row::new("3. larger run: samples per second, one core", ">= numpy", sps, numpy_sps.clone()));
    table.push(Row::new(
        "   the same on every core, against numpy's one thread",
        ">= 1.5x numpy",
        sps_all,
        numpy_sps,
    ));

    // 4. A sweep, interleaved with the same grid in numpy, one process per core.
    let sweep_config = repo.join("configs/question-sweep.toml");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        ours.push(gatenet(&work, &["sweep", sweep_config.to_str().unwrap()], false).seconds);
        if numpy {
            let mut command = Command::new("python3");
            command.args(["-c", NUMPY_SWEEP]).current_dir(&reference).env("OPENBLAS_NUM_THREADS", "1");
            theirs.push(measure(&mut command).seconds);
        }
    }
    table.push(Row::new(
        "4. sweep: configs/question-sweep.toml, 360 runs, every core (s)",
        "<= numpy",
        ours,
        theirs,
    ));
    table.push(Row::new("5. peak memory (RSS), OR run (MB)", "<= 30", or_rss, Vec::new()));
    let data_mb = (rows * 17 * 4) as f64 / 1e6;
    table.push(Row::new(
        "   peak memory (RSS), larger run, 1 epoch (MB)",
        &format!("<= {:.0} (2 x {data_mb:.1} MB data + 50)", 2.0 * data_mb + 50.0),
        larger_rss,
        numpy_rss,
    ));
    println!(
        "| measure | goal | gatenet, median [min to max] | reference (numpy; candle where named), median [min to max] | ratio of medians [spread] |"
    );
    println!("|---|---|---|---|---|");
    for row in &table {
        println!("{row}");
    }
    println!(
        "\n(csv file of the larger run: {:.1} MB)",
        std::fs::metadata(&csv).map_or(0, |m| m.len()) as f64 / 1e6
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// question-sweep.toml's grid (3 activations x 2 optimizers x 3 rates x 2 inits x 10 seeds, OR
/// 2-6-1, at most 2,000 steps, tolerance 0.1) in numpy, one process per core.
const NUMPY_SWEEP: &str = r#"
import itertools, multiprocessing as mp, os
import numpy_mlp as m

def run(job):
    act, opt, lr, init, seed = job
    return m.train_until(m.X_OR, m.Y_OR, [2, 6, 1], act, opt, lr, init, seed, 2000)[0]

if __name__ == '__main__':
    grid = [['sigmoid', 'tanh', 'relu'], ['sgd', 'adam'], [1e-6, 0.05, 0.5], ['small', 'default'], range(10)]
    jobs = list(itertools.product(*grid))
    with mp.Pool(os.cpu_count()) as pool:
        steps = pool.map(run, jobs, chunksize=1)
    print(len(jobs), 'runs,', sum(s is not None for s in steps), 'converged')
"#;

/// The candle peer's binary, when it has been built (see ../shared/reference/candle/README.md).
fn candle_binary() -> Option<PathBuf> {
    let built = std::env::var_os("CANDLE_REFERENCE_BIN").map(PathBuf::from).or_else(|| {
        let home = std::env::var_os("HOME")?;
        Some(PathBuf::from(home).join(".cache/candle-reference/release/candlebench_app"))
    })?;
    built.is_file().then_some(built)
}

/// The candle binary with one thread, as its README says to run it.
fn candle_command(bin: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(bin);
    command.args(args).env("RAYON_NUM_THREADS", "1");
    command
}

/// One line of the table.
struct Row {
    measure: String,
    goal: String,
    ours: Vec<f64>,
    theirs: Vec<f64>,
}

impl Row {
    fn new(measure: &str, goal: &str, ours: Vec<f64>, theirs: Vec<f64>) -> Row {
        Row { measure: measure.into(), goal: goal.into(), ours, theirs }
    }
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |values: &[f64]| match stats(values) {
            None => "-".to_string(),
            Some((median, min, max)) => format!("{} [{} to {}]", number(median), number(min), number(max)),
        };
        // The ratio of the medians, and the widest it could be from the two spreads.
        let ratio = match (stats(&self.ours), stats(&self.theirs)) {
            (Some((a, a_min, a_max)), Some((b, b_min, b_max))) => {
                format!("{:.2} [{:.2} to {:.2}]", a / b, a_min / b_max, a_max / b_min)
            }
            _ => "-".into(),
        };
        write!(
            f,
            "| {} | {} | {} | {} | {ratio} |",
            self.measure,
            self.goal,
            show(&self.ours),
            show(&self.theirs)
        )
    }
}

fn number(value: f64) -> String {
    match value.abs() {
        v if v >= 10_000.0 => format!("{:.0}", value),
        v if v >= 100.0 => format!("{value:.0}"),
        _ => format!("{value:.1}"),
    }
}

/// Median, min and max.
fn stats(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    let median =
        if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] };
    Some((median, sorted[0], sorted[sorted.len() - 1]))
}

/// A config for OR 2-6-1 tanh Adam 0.05 that runs exactly `epochs` epochs.
fn or_config(work: &Path, epochs: usize) -> String {
    let text = format!(
        "name = \"bench-{epochs}\"\n[data]\ngate = \"or\"\n[model]\nhidden_sizes = [6]\nactivation = \"tanh\"\n\
         [optimizer]\nname = \"adam\"\nlearning_rate = 0.05\n[training]\nnum_epochs = {epochs}\ntolerance = 0\n\
         checkpoint_every = 1000\n"
    );
    let path = work.join(format!("bench-{epochs}.toml"));
    std::fs::write(&path, text).expect("bench config");
    path.to_str().unwrap().to_string()
}

/// The larger run's config, `epochs` epochs over larger.csv.
fn larger_config(work: &Path, epochs: usize) -> String {
    let text = format!(
        "name = \"larger-{epochs}\"\n[data]\ncsv = \"larger.csv\"\ntargets = [\"y\"]\nvalid_fraction = 0.01\n\
         [model]\nhidden_sizes = [64, 64]\nactivation = \"tanh\"\n[optimizer]\nname = \"adam\"\nlearning_rate = 0.001\n\
         [training]\nnum_epochs = {epochs}\nbatch_size = 256\ntolerance = 0\n"
    );
    let path = work.join(format!("larger-{epochs}.toml"));
    std::fs::write(&path, text).expect("bench config");
    path.to_str().unwrap().to_string()
}

/// 100,000 rows of 16 standard normal features and the label x0 * x1 > 0.
fn larger_csv(work: &Path, rows: usize) -> PathBuf {
    let mut rng = SplitMix64::new(0);
    let mut text: String = (0..16).map(|i| format!("x{i},")).collect::<String>() + "y\n";
    for _ in 0..rows {
        let x: Vec<f64> = (0..16).map(|_| rng.normal()).collect();
        for v in &x {
            text += &format!("{v:.5},");
        }
        text += if x[0] * x[1] > 0.0 { "1\n" } else { "0\n" };
    }
    let path = work.join("larger.csv");
    std::fs::write(&path, text).expect("larger.csv");
    path
}

/// What one process took.
struct Measured {
    seconds: f64,
    peak_mb: f64,
    stdout: String,
}

/// Runs the built binary, on CPU 0 alone with `one_core` (as `taskset -c 0` would).
fn gatenet(work: &Path, args: &[&str], one_core: bool) -> Measured {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatenet"));
    if one_core {
        use std::os::unix::process::CommandExt;
        // SAFETY: only an async-signal-safe libc call between fork and exec, on a set owned by
        // the closure.
        unsafe {
            command.pre_exec(|| {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(0, &mut set);
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
                Ok(())
            });
        }
    }
    command.args(args).args(["--artifacts", "artifacts", "-q"]).current_dir(work);
    measure(&mut command)
}

/// Runs `command` to its end: wall time, and peak RSS from the kernel's accounting of that
/// one child (wait4), so that no measuring tool is needed.
fn measure(mut command: impl std::borrow::BorrowMut<Command>) -> Measured {
    let command = command.borrow_mut();
    let start = Instant::now();
    // wait4 below reaps it: Child::wait would not report the child's resource usage.
    #[allow(clippy::zombie_processes)]
    let child = command.stdout(std::process::Stdio::piped()).spawn().expect("the command starts");
    let pid = child.id() as libc::pid_t;
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout {
        use std::io::Read;
        let _ = out.read_to_string(&mut stdout);
    }
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: waits for our own child, into values owned by this frame.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = start.elapsed().as_secs_f64();
    assert!(waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{command:?} failed");
    Measured { seconds, peak_mb: usage.ru_maxrss as f64 / 1024.0, stdout }
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
