//! The hardening suite: bad inputs of every kind, one test each (the test name is the case), run
//! through the real binary. Each asserts the documented exit code, a message naming the problem,
//! no panic, and that an existing run folder (`artifacts/victim`, trained first) is unchanged.

use super::{gatenet, stderr, stdout, walk};
use std::path::Path;

/// The run every case must leave alone: 20 epochs, checkpoints at 10 and 20.
const VICTIM: &str = "[data]\ngate = \"or\"\n[model]\nhidden_sizes = [6]\n[optimizer]\nlearning_rate = 0.05\n\
                      [training]\nnum_epochs = 20\ntolerance = 0\ncheckpoint_every = 10\n";

/// Trains the victim, prepares the case, runs `args` in the folder and checks the outcome.
fn refused(args: &[&str], code: i32, words: &[&str], prepare: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("victim.toml"), VICTIM).unwrap();
    let trained = gatenet(&["victim.toml", "-q"], root);
    assert!(trained.status.success(), "the victim trains: {}", stderr(&trained));
    prepare(root);
    let before = snapshot(&root.join("artifacts"));
    let out = gatenet(args, root);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(code), "exit code; the output was: {said}");
    assert!(!said.contains("panicked"), "a panic reached the user: {said}");
    // Rust's debug text is not a message: Option, Burn's shapes, io::Error's fields.
    for debug in ["Some(", "{ dims", "Custom {", "kind:"] {
        assert!(!said.contains(debug), "debug text {debug:?} reached the user: {said}");
    }
    for word in words {
        assert!(said.contains(word), "expected {word:?} in: {said}");
    }
    assert_eq!(
        snapshot(&root.join("artifacts")),
        before,
        "the run folders are unchanged; the output was: {said}"
    );
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    files.sort();
    files
}

fn write(root: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The victim's config with `table`'s `line` added (or replacing the key it sets).
fn victim_with(table: &str, line: &str) -> String {
    let key = line.split('=').next().unwrap().trim();
    let mut out = String::new();
    let mut current = "";
    let mut added = false;
    for l in VICTIM.lines() {
        if l.starts_with('[') {
            if current == table && !added {
                out += &format!("{line}\n");
                added = true;
            }
            current = l.trim_matches(|c| c == '[' || c == ']');
            out += &format!("{l}\n");
            continue;
        }
        if current == table && l.split('=').next().unwrap().trim() == key {
            out += &format!("{line}\n");
            added = true;
            continue;
        }
        out += &format!("{l}\n");
    }
    match (added, table) {
        (true, _) => out,
        (false, "") => format!("{line}\n{out}"),
        (false, t) if current == t => format!("{out}{line}\n"),
        (false, t) => format!("{out}[{t}]\n{line}\n"),
    }
}

/// Flips one byte in the middle of a file.
fn damage(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(path, bytes).unwrap();
}

/// A case whose config file is `victim.toml` with one line set: trained into the victim's own
/// folder, so a config that were accepted would change it.
macro_rules! config_cases {
    ($($name:ident: $table:literal, $line:literal => [$($word:expr),*];)*) => {$(
        #[test]
        fn $name() {
            let text = victim_with($table, $line);
            refused(&["victim.toml"], 2, &["victim.toml", $($word),*], |root| write(root, "victim.toml", &text));
        }
    )*};
}

config_cases! {
    misspelled_top_level_key: "", "sed = 1" => ["victim.toml:1:1", "did you mean `seed`"];
    misspelled_data_key: "data", "gat = \"or\"" => ["[data]", "did you mean `gate`"];
    misspelled_model_key: "model", "hiden_sizes = [2]" => ["[model]", "did you mean `hidden_sizes`"];
    misspelled_optimizer_key: "optimizer", "learning_rat = 0.1" => ["[optimizer]", "did you mean `learning_rate`"];
    misspelled_training_key: "training", "num_epoch = 3" => ["[training]", "did you mean `num_epochs`"];
    misspelled_sweep_key: "sweep", "seed = 3" => ["[sweep]", "did you mean `seeds`"];
    sweep_range_with_min_above_max: "sweep", "learning_rate = { min = 1.0, max = 0.1 }" => ["victim.toml:12:1", "sweep.learning_rate", "expected min <= max, found min = 1 and max = 0.1"];
    sweep_log_range_from_zero: "sweep", "learning_rate = { min = 0, max = 1.0, log = true }" => ["victim.toml:12:1", "sweep.learning_rate", "found min = 0"];
    sweep_range_with_an_unknown_key: "sweep", "learning_rate = { min = 1e-3, max = 1.0, steps = 4 }" => ["victim.toml:12:1", "sweep.learning_rate", "unknown key `steps` in a range"];
    sweep_range_without_a_max: "sweep", "width = { min = 2 }" => ["victim.toml:12:1", "sweep.width", "missing field `max`"];
    sweep_width_range_from_zero: "sweep", "width = { min = 0, max = 8 }" => ["victim.toml:12:1", "sweep.width", "found min = 0"];
    sweep_width_as_a_fraction: "sweep", "width = [2.5]" => ["victim.toml:12:1", "sweep.width"];
    sweep_grid_over_a_range: "sweep", "learning_rate = { min = 1e-3, max = 1.0 }\nsearch = \"grid\"" => ["sweep.search", "only a random search samples"];
    sweep_trials_of_a_grid: "sweep", "trials = 5" => ["victim.toml:12:1", "sweep.trials", "set search = \"random\""];
    sweep_halving_by_one: "sweep", "halving = 1" => ["victim.toml:12:1", "sweep.halving", "found 1"];
    sweep_min_epochs_without_halving: "sweep", "min_epochs = 5" => ["victim.toml:12:1", "sweep.min_epochs", "set sweep.halving"];
    sweep_max_epochs_without_halving: "sweep", "max_epochs = 50" => ["victim.toml:12:1", "sweep.max_epochs", "set sweep.halving"];
    sweep_min_epochs_past_max_epochs: "sweep", "halving = 3\nmax_epochs = 10\nmin_epochs = 11" => ["victim.toml:14:1", "sweep.min_epochs", "the last rung's 10 epochs", "found 11"];
    sweep_min_epochs_past_num_epochs: "sweep", "halving = 3\nmin_epochs = 50" => ["victim.toml:13:1", "sweep.min_epochs", "found 50"];
    learning_rate_as_text: "optimizer", "learning_rate = \"fast\"" => ["optimizer.learning_rate", "expected a number"];
    hidden_sizes_not_an_array: "model", "hidden_sizes = 4" => ["model.hidden_sizes", "expected an array"];
    negative_seed: "", "seed = -1" => ["seed", "-1"];
    negative_learning_rate: "optimizer", "learning_rate = -0.5" => ["optimizer.learning_rate", "found -0.5"];
    zero_learning_rate: "optimizer", "learning_rate = 0" => ["optimizer.learning_rate", "found 0"];
    nan_learning_rate: "optimizer", "learning_rate = nan" => ["optimizer.learning_rate", "found NaN"];
    learning_rate_of_1e30: "optimizer", "learning_rate = 1e30" => ["optimizer.learning_rate", "at most 1e6"];
    zero_epochs: "training", "num_epochs = 0" => ["training.num_epochs", "found 0"];
    a_trillion_epochs: "training", "num_epochs = 1000000000000" => ["training.num_epochs", "found 1000000000000"];
    batch_larger_than_the_data: "training", "batch_size = 9" => ["training.batch_size", "4 training rows, found 9"];
    zero_batch_size: "training", "batch_size = 0" => ["training.batch_size", "found 0"];
    zero_width: "model", "hidden_sizes = [0]" => ["model.hidden_sizes", "found 0 at position 0"];
    width_of_a_billion: "model", "hidden_sizes = [1000000000]" => ["model.hidden_sizes", "found 1000000000"];
    too_many_parameters: "model", "hidden_sizes = [100000, 100000]" => ["model.hidden_sizes", "parameters"];
    unknown_activation: "model", "activation = \"tanhh\"" => ["model.activation", "did you mean \"tanh\""];
    unknown_output_activation: "model", "output_activation = \"softplus\"" => ["model.output_activation", "\"softplus\""];
    unknown_optimizer: "optimizer", "name = \"adamm\"" => ["optimizer.name", "did you mean \"adam\""];
    unknown_schedule: "optimizer", "schedule = \"linear\"" => ["optimizer.schedule", "\"linear\""];
    unknown_backend: "", "backend = \"cuda\"" => ["backend", "\"cuda\""];
    unknown_gate: "data", "gate = \"orr\"" => ["data.gate", "did you mean \"or\""];
    seventeen_gate_inputs: "data", "inputs = 17" => ["data.inputs", "found 17"];
    negative_tolerance: "training", "tolerance = -0.1" => ["training.tolerance", "found -0.1"];
    nan_tolerance: "training", "tolerance = nan" => ["training.tolerance", "found NaN"];
    zero_checkpoint_every: "training", "checkpoint_every = 0" => ["training.checkpoint_every", "found 0"];
    zero_patience: "training", "patience = 0" => ["training.patience", "found 0"];
    momentum_with_adam: "optimizer", "momentum = 0.9" => ["optimizer.momentum", "does not apply to name = \"adam\""];
    beta1_of_one: "optimizer", "beta1 = 1.0" => ["optimizer.beta1", "[0, 1)"];
    name_that_leaves_the_artifacts_folder: "", "name = \"../escape\"" => ["name", "\"../escape\""];
    valid_fraction_for_a_gate: "data", "valid_fraction = 0.2" => ["data.valid_fraction", "its own rows"];
    noise_for_a_gate: "data", "noise = 0.5" => ["data.noise", "`synthetic` data only"];
    cross_entropy_without_classes: "training", "loss = \"cross_entropy\"" => ["training.loss", "needs classes"];
    softmax_without_classes: "model", "output_activation = \"softmax\"" => ["model.output_activation", "needs classes"];
    freeze_a_layer_that_does_not_exist: "model", "freeze = [5]" => ["model.freeze", "found 5"];
    two_data_sources: "data", "synthetic = \"circle\"" => ["data", "found `gate` and `synthetic`"];
    csv_beside_a_gate: "data", "csv = \"d.csv\"" => ["data", "found `gate` and `csv`"];
}

/// A case with a file of its own (the config, or the CSV file a config reads).
macro_rules! file_cases {
    ($($name:ident: [$($arg:expr),*], $file:expr, $bytes:expr => $code:literal, [$($word:expr),*];)*) => {$(
        #[test]
        fn $name() {
            refused(&[$($arg),*], $code, &[$($word),*], |root| write(root, $file, $bytes));
        }
    )*};
}

/// The victim's folder name for a CSV config, so that an accepted one would overwrite it.
const CSV_CONFIG: &str = "name = \"victim\"\n[data]\ncsv = \"d.csv\"\ntargets = [\"y\"]\n";

/// Trains the CSV config on `csv`: refused, naming the config, the CSV and `words`.
fn csv_case(csv: &[u8], words: &[&str]) {
    refused(&["data.toml"], 2, &[&["data.toml", "d.csv"], words].concat(), |root| {
        write(root, "data.toml", CSV_CONFIG);
        write(root, "d.csv", csv);
    });
}

file_cases! {
    empty_config: ["victim.toml"], "victim.toml", "" => 2, ["victim.toml", "add a [data] table"];
    binary_garbage_config: ["victim.toml"], "victim.toml", [0xff, 0xfe, 0x00, 0x9c, 0x01] => 2, ["victim.toml", "UTF-8"];
    unclosed_table_header: ["victim.toml"], "victim.toml", "[data\ngate = \"or\"\n" => 2, ["victim.toml:1:", "invalid TOML"];
    unclosed_string: ["victim.toml"], "victim.toml", "[data]\ngate = \"or\n" => 2, ["victim.toml:2:", "invalid TOML"];
    duplicate_key: ["victim.toml"], "victim.toml", "[data]\ngate = \"or\"\ngate = \"and\"\n" => 2, ["victim.toml:3:", "invalid TOML"];
    unknown_table: ["victim.toml"], "victim.toml", "[data]\ngate = \"or\"\n[modle]\n" => 2, ["victim.toml:3:2", "did you mean `model`"];
    bce_without_a_sigmoid_output: ["victim.toml"], "victim.toml", "[data]\ngate = \"or\"\n[model]\noutput_activation = \"identity\"\n[training]\nloss = \"bce\"\n" => 2, ["victim.toml:6:1", "training.loss", "needs probabilities"];
    csv_without_targets: ["victim.toml"], "victim.toml", "[data]\ncsv = \"d.csv\"\n" => 2, ["data.targets", "add `targets"];
    config_in_a_path_with_spaces_and_non_ascii: ["my configs/ørn ø.toml"], "my configs/ørn ø.toml", "name = \"victim\"\n[data]\ngate = \"orr\"\n" => 2, ["my configs/ørn ø.toml:3:1", "did you mean \"or\""];
    predict_csv_of_the_wrong_width: ["predict", "artifacts/victim", "--csv", "rows.csv"], "rows.csv", "a,b,c\n1,0,1\n" => 2, ["rows.csv:2", "expected 2 comma-separated inputs, found 3"];
    predict_csv_with_text: ["predict", "artifacts/victim", "--csv", "rows.csv"], "rows.csv", "a,b\n1,0\nyes,no\n" => 2, ["rows.csv:3", "not a finite number"];
    gradcheck_of_a_bad_config: ["gradcheck", "victim.toml"], "victim.toml", "[data]\ngate = 1\n" => 2, ["victim.toml:2:1", "data.gate"];
    sweep_width_past_the_parameter_limit: ["sweep", "victim.toml"], "victim.toml", "[data]\ngate = \"or\"\n[model]\nhidden_sizes = [4, 4]\n[sweep]\nwidth = [8, 100000]\n" => 2, ["victim.toml:6:1", "sweep.width", "10000500001 parameters"];
    sweep_of_a_bad_config: ["sweep", "victim.toml"], "victim.toml", "[data]\ngate = \"or\"\n[sweep]\nseeds = 0\n" => 2, ["sweep.seeds", "found 0"];
}

#[test]
fn missing_config_file() {
    refused(&["nowhere.toml"], 2, &["nowhere.toml", "no such file"], |_| {});
}

#[test]
fn config_that_is_a_directory() {
    refused(&["folder.toml"], 2, &["folder.toml", "found a directory"], |root| {
        std::fs::create_dir(root.join("folder.toml")).unwrap()
    });
}

#[test]
fn unknown_command_line_flag() {
    refused(&["victim.toml", "--bogus"], 2, &["unexpected argument '--bogus'"], |_| {});
}

#[test]
fn sweep_with_zero_seeds_on_the_command_line() {
    refused(&["sweep", "victim.toml", "--seeds", "0"], 2, &["--seeds", "found 0"], |_| {});
}

#[test]
fn csv_missing_file() {
    refused(&["data.toml"], 2, &["data.toml", "data.csv", "d.csv", "no such file"], |root| {
        write(root, "data.toml", CSV_CONFIG)
    });
}

/// A case whose CSV file is bad: the CSV config (trained into the victim's folder) reads `d.csv`.
macro_rules! csv_cases {
    ($($name:ident: $bytes:literal => [$($word:expr),*];)*) => {$(
        #[test]
        fn $name() {
            csv_case($bytes, &[$($word),*]);
        }
    )*};
}

csv_cases! {
    csv_missing_column: b"a,b,z\n1,2,3\n" => ["\"y\"", "the columns are \"a\", \"b\", \"z\""];
    csv_duplicate_column: b"a,a,y\n1,2,3\n" => ["line 1", "columns 1 and 2", "\"a\""];
    csv_non_numeric_cell: b"a,b,y\n1,2,0\n3,x4,1\n5,6,0\n" => ["d.csv:3", "column \"b\"", "\"x4\""];
    csv_ragged_row: b"a,b,y\n1,2,0\n3,4\n5,6,1\n" => ["line 3", "expected 3 cells", "found 2"];
    csv_empty_file: b"" => ["the file is empty"];
    csv_header_only: b"a,b,y\n" => ["no rows"];
    csv_nan: b"a,b,y\n1,2,0\n3,NaN,1\n5,6,0\n" => ["d.csv:3", "column \"b\"", "finite", "\"NaN\""];
    csv_infinity: b"a,b,y\n1,inf,0\n3,4,1\n5,6,0\n" => ["d.csv:2", "column \"b\"", "finite", "\"inf\""];
    csv_empty_cell: b"a,b,y\n1,2,0\n3,,1\n5,6,0\n" => ["d.csv:3", "column \"b\"", "empty"];
    csv_too_few_rows: b"a,b,y\n1,2,0\n3,4,1\n" => ["2 rows are too few", "valid_fraction"];
    csv_not_utf8: b"a,b,y\n1,2,\xff\n" => ["line 2, byte 5 (offset 10)", "UTF-8"];
    csv_with_windows_line_ends_names_the_right_line: b"a,b,y\r\n1,2,0\r\n3,x4,1\r\n5,6,0\r\n" => ["d.csv:3", "column \"b\"", "\"x4\""];
    csv_with_blank_lines_names_the_right_line: b"a,b,y\n1,2,0\n\n\n3,x4,1\n5,6,0\n" => ["d.csv:5", "column \"b\"", "\"x4\""];
    csv_stray_word_in_a_numeric_target: b"a,y\n1,0\n2,1\n3,zero\n4,1\n5,0\n" => ["d.csv:4", "column \"y\"", "\"zero\""];
}

#[test]
fn csv_typo_in_one_of_two_numeric_targets() {
    refused(&["data.toml"], 2, &["d.csv:3", "column \"z\"", "\"n/a\""], |root| {
        write(root, "data.toml", "name = \"victim\"\n[data]\ncsv = \"d.csv\"\ntargets = [\"y\", \"z\"]\n");
        write(root, "d.csv", "a,y,z\n1,0,1\n2,1,n/a\n3,0,1\n4,1,0\n5,0,1\n");
    });
}

#[test]
fn csv_identifier_column_as_the_target() {
    let mut text = String::from("a,id\n");
    for i in 0..50 {
        text += &format!("{i},row-{i}\n");
    }
    refused(
        &["data.toml"],
        2,
        &["column \"id\" has 50 different values in 50 rows", "identifier"],
        move |root| {
            write(root, "data.toml", "name = \"victim\"\n[data]\ncsv = \"d.csv\"\ntargets = [\"id\"]\n");
            write(root, "d.csv", &text);
        },
    );
}

#[test]
fn csv_target_that_is_also_a_feature() {
    refused(&["data.toml"], 2, &["\"y\"", "both a target and a feature"], |root| {
        write(root, "data.toml", format!("{CSV_CONFIG}features = [\"a\", \"y\"]\n"));
        write(root, "d.csv", "a,y\n1,0\n2,1\n3,0\n4,1\n5,0\n");
    });
}

#[test]
fn resume_with_every_checkpoint_damaged() {
    refused(&["victim.toml", "--resume"], 2, &["model-20.bpk", "model-10.bpk"], |root| {
        let checkpoints = root.join("artifacts/victim/checkpoint");
        damage(&checkpoints.join("model-20.bpk"));
        damage(&checkpoints.join("model-10.bpk"));
    });
}

#[test]
fn resume_with_a_manifest_that_is_not_json() {
    refused(&["victim.toml", "--resume-from", "20"], 2, &["manifest-20.json"], |root| {
        write(root, "artifacts/victim/checkpoint/manifest-20.json", "{ not json")
    });
}

#[test]
fn resume_from_an_epoch_never_saved() {
    refused(
        &["victim.toml", "--resume-from", "15"],
        2,
        &["no checkpoint of epoch 15", "(epochs there: 10, 20)"],
        |_| {},
    );
}

#[test]
fn resume_with_a_different_network() {
    let text = victim_with("model", "hidden_sizes = [8]");
    refused(&["victim.toml", "--resume"], 2, &["model.hidden_sizes: [6] -> [8]"], move |root| {
        write(root, "victim.toml", &text)
    });
}

#[test]
fn resume_a_run_that_was_never_trained() {
    refused(&["other.toml", "--resume"], 2, &["nothing to resume", "artifacts/other"], |root| {
        write(root, "other.toml", VICTIM)
    });
}

#[test]
fn predict_on_a_folder_that_is_not_a_run() {
    refused(&["predict", "notarun"], 2, &["notarun", "no config.toml"], |root| {
        std::fs::create_dir(root.join("notarun")).unwrap()
    });
}

#[test]
fn predict_on_a_missing_folder() {
    refused(&["predict", "artifacts/nothing"], 2, &["artifacts/nothing", "not a folder"], |_| {});
}

#[test]
fn predict_with_too_many_inputs() {
    refused(
        &["predict", "artifacts/victim", "--input", "1,0,1"],
        2,
        &["expected 2 comma-separated inputs, found 3"],
        |_| {},
    );
}

#[test]
fn predict_with_words_for_inputs() {
    refused(
        &["predict", "artifacts/victim", "--input", "yes,no"],
        2,
        &["--input \"yes,no\"", "not a finite number"],
        |_| {},
    );
}

#[test]
fn predict_from_an_epoch_without_a_checkpoint() {
    refused(
        &["predict", "artifacts/victim", "--epoch", "7"],
        2,
        &["no checkpoint of epoch 7", "(epochs there: 10, 20)"],
        |_| {},
    );
}

#[test]
fn predict_with_a_damaged_model() {
    refused(&["predict", "artifacts/victim"], 2, &["model.bpk is damaged", "--epoch N"], |root| {
        damage(&root.join("artifacts/victim/model.bpk"))
    });
}

#[test]
fn predict_with_a_damaged_config() {
    refused(&["predict", "artifacts/victim"], 2, &["config.toml", "invalid TOML"], |root| {
        write(root, "artifacts/victim/config.toml", "[data\n")
    });
}

#[test]
fn report_on_a_folder_that_is_not_a_run() {
    refused(&["report", "notarun"], 2, &["notarun"], |root| {
        std::fs::create_dir(root.join("notarun")).unwrap()
    });
}

/// The built binary, copied where any user may run it (the target folder may be private).
fn binary_in(dir: &Path) -> std::path::PathBuf {
    let copy = dir.join("gatenet");
    std::fs::copy(env!("CARGO_BIN_EXE_gatenet"), &copy).unwrap();
    copy
}

#[test]
fn a_read_only_artifacts_folder_fails_before_epoch_1_naming_the_path() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(root, "victim.toml", VICTIM);
    std::fs::create_dir(root.join("artifacts")).unwrap();
    std::fs::set_permissions(root.join("artifacts"), std::fs::Permissions::from_mode(0o555)).unwrap();
    let mut command = std::process::Command::new(binary_in(root));
    command.arg("victim.toml").current_dir(root);
    // SAFETY: geteuid has no preconditions. Root writes into read-only folders, so the run is
    // made as `nobody` there.
    if unsafe { libc::geteuid() } == 0 {
        command.uid(65534).gid(65534);
    }
    let out = match command.output() {
        Ok(out) => out,
        // A user namespace without `nobody` mapped: there is no unprivileged user to be.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!("skipped: cannot run as nobody here ({e})");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("artifacts/victim") && said.contains("Permission denied"), "{said}");
    assert!(!said.contains("epoch 1"), "no epoch ran: {said}");
    assert!(walk(&root.join("artifacts")).is_empty(), "nothing was written");
}

/// Runs `command` under a file-size limit of `bytes` (`ulimit -f`), which stands in for a full
/// disk: a write past it fails (gatenet ignores the SIGXFSZ that comes with it).
fn limit_file_size(command: &mut std::process::Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe, and only touches the child.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

#[test]
fn a_full_disk_stops_the_run_at_the_write_that_failed_and_the_last_checkpoint_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "long.toml", VICTIM.replace("num_epochs = 20", "num_epochs = 200"));
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"));
    command.args(["long.toml", "-q"]).current_dir(root);
    // A file-size limit of 8 KiB (ulimit -f 8) stands in for a full disk: metrics.csv outgrows
    // it around epoch 48, and every later write of that file fails.
    limit_file_size(&mut command, 8192);
    let out = command.output().unwrap();
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(!said.contains("panicked"), "{said}");
    assert!(said.contains("cannot write artifacts/long/metrics.csv at epoch"), "{said}");
    let kept: usize = said
        .split("the checkpoint of epoch ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("names the intact checkpoint: {said}"));
    let run = root.join("artifacts/long");
    assert!(run.join(format!("checkpoint/manifest-{kept}.json")).is_file());
    assert!(!run.join("model.bpk").exists() && !run.join("summary.json").exists());

    let resumed = gatenet(&["long.toml", "-q", "--resume"], root);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let epochs: Vec<usize> =
        metrics.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert_eq!(epochs, (1..=200).collect::<Vec<_>>(), "every epoch once, the cut-off row replaced");
}

#[test]
fn a_picture_that_cannot_be_written_fails_the_run_leaves_no_partial_file_and_resume_draws_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "short.toml", VICTIM.to_string());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"));
    command.args(["short.toml", "-q"]).current_dir(root);
    // 30 KiB (ulimit -f 30): metrics.csv, the events, the checkpoints and model.bpk fit; the
    // pictures (loss.svg alone is about 50 KB) do not.
    limit_file_size(&mut command, 30 << 10);
    let out = command.output().unwrap();
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let picture = ["loss.svg", "loss.png", "layers.png", "boundary.png"].iter().any(|p| said.contains(p));
    assert!(said.contains("cannot write artifacts/short/") && picture, "{said}");
    assert!(said.contains("finish it with --resume"), "{said}");
    for debug in ["Error(", "Custom {", "kind:", "panicked"] {
        assert!(!said.contains(debug), "{debug} in: {said}");
    }
    let run = root.join("artifacts/short");
    let partial: Vec<_> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(partial.is_empty(), "{partial:?}");
    assert!(!run.join("summary.json").exists(), "the run is not marked finished");

    let resumed = gatenet(&["short.toml", "-q", "--resume"], root);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    for file in ["loss.png", "layers.png", "report.html", "summary.json"] {
        assert!(run.join(file).is_file(), "{file} after the resume");
    }
}

/// Runs `args` in `dir` with stdout a pipe whose reader is already gone, as `| head -0`'s is
/// by the time gatenet prints.
fn into_closed_pipe(args: &[&str], dir: &Path) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    std::process::Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(args)
        .current_dir(dir)
        .stdout(writer)
        .output()
        .unwrap()
}

#[test]
fn a_command_that_only_prints_ends_quietly_on_a_closed_pipe() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "victim.toml", VICTIM);
    let out = into_closed_pipe(&["check", "victim.toml"], dir.path());
    assert!(stderr(&out).is_empty(), "nothing said about it: {}", stderr(&out));
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "ended by the pipe, as a C tool is");
}

#[test]
fn a_training_run_finishes_even_when_its_output_pipe_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "victim.toml", VICTIM);
    let out = into_closed_pipe(&["victim.toml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("error:"), "{}", stderr(&out));
    let run = dir.path().join("artifacts/victim");
    assert!(run.join("model.bpk").is_file() && run.join("summary.json").is_file(), "the run is complete");
}

#[test]
fn sweep_with_an_absurd_learning_rate_on_the_command_line() {
    refused(
        &["sweep", "victim.toml", "--learning-rate", "0.05,1e30"],
        2,
        &["--learning-rate", "at most 1e6"],
        |_| {},
    );
}

#[test]
fn csv_regression_targets_with_a_sigmoid_output() {
    refused(
        &["data.toml"],
        2,
        &["model.output_activation", "the targets range from 1 to 9", "identity"],
        |root| {
            write(root, "data.toml", CSV_CONFIG);
            write(root, "d.csv", "a,y\n1,1\n2,3\n3,5\n4,7\n5,9\n");
        },
    );
}

#[test]
fn predict_with_a_data_json_that_names_other_columns() {
    refused(
        &["predict", "artifacts/victim", "--input", "1,2"],
        2,
        &["data.json names other columns"],
        |root| {
            let data =
                "name = \"victim\"\n[data]\ncsv = \"d.csv\"\ntargets = [\"y\"]\n[training]\nnum_epochs = 3\n";
            write(root, "data.toml", data);
            write(root, "d.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,1,0\n");
            let trained = gatenet(&["data.toml", "-q"], root);
            assert!(trained.status.success(), "{}", stderr(&trained));
            let schema = root.join("artifacts/victim/data.json");
            let text = std::fs::read_to_string(&schema).unwrap().replacen("\"a\"", "\"c\"", 1);
            std::fs::write(schema, text).unwrap();
        },
    );
}

/// A new folder holding the victim's config, untrained.
fn with_victim_config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("victim.toml"), VICTIM).unwrap();
    dir
}

/// A file outside every run folder, and links to it planted where gatenet writes.
#[cfg(unix)]
fn plant_links(root: &Path, names: &[&str]) -> std::path::PathBuf {
    let precious = root.join("precious.txt");
    std::fs::write(&precious, "keep me").unwrap();
    for name in names {
        let link = root.join(name);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&precious, link).unwrap();
    }
    precious
}

#[cfg(unix)]
#[test]
fn links_planted_at_temporary_names_never_redirect_a_write() {
    // The names the previous versions wrote through, before a new run and before a resume.
    let dir = with_victim_config();
    let root = dir.path();
    let names = [
        "artifacts/victim/config.toml.tmp",
        "artifacts/victim/summary.json.tmp",
        "artifacts/victim/metrics.csv.tmp",
    ];
    let precious = plant_links(root, &names);
    let out = gatenet(&["victim.toml", "-q"], root);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me", "a new run wrote through a link");
    plant_links(root, &[&names[..], &["artifacts/victim/checkpoint/manifest-20.json.tmp"]].concat());
    let longer = VICTIM.replace("num_epochs = 20", "num_epochs = 30");
    std::fs::write(root.join("victim.toml"), longer).unwrap();
    let out = gatenet(&["victim.toml", "-q", "--resume"], root);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me", "a resumed run wrote through a link");
}

#[cfg(unix)]
#[test]
fn a_link_planted_at_the_lock_is_refused_and_its_target_left_alone() {
    let dir = with_victim_config();
    let root = dir.path();
    let precious = plant_links(root, &["artifacts/victim/.lock"]);
    let out = gatenet(&["victim.toml", "-q"], root);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot lock") && stderr(&out).contains(".lock"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
}

#[test]
fn a_lock_naming_a_live_process_that_holds_nothing_does_not_block_a_run() {
    // pid 1 (init, always alive), pid 0, this test's own pid: none of them holds the folder.
    for pid in ["1", "0", &std::process::id().to_string()] {
        let dir = with_victim_config();
        let root = dir.path();
        write(root, "artifacts/victim/.lock", pid);
        let out = gatenet(&["victim.toml", "-q"], root);
        assert!(out.status.success(), "a .lock naming pid {pid} blocked the run: {}", stderr(&out));
        assert!(!root.join("artifacts/victim/.lock").exists(), "the lock goes with its run");
    }
}

#[test]
fn gradcheck_of_zero_points_which_would_check_nothing() {
    refused(
        &["gradcheck", "victim.toml", "--points", "0"],
        2,
        &["--points", "at least 1", "found \"0\""],
        |_| {},
    );
}

#[test]
fn an_endless_file_given_as_the_config() {
    refused(&["check", "/dev/zero"], 2, &["/dev/zero", "at most 4 MiB"], |_| {});
}

#[test]
fn a_data_file_of_several_megabytes_given_as_the_config() {
    refused(&["big.csv"], 2, &["big.csv", "at most 4 MiB", "a data file"], |root| {
        write(root, "big.csv", "a,b,y\n".to_string() + &"1.5,2.5,0\n".repeat(500_000));
    });
}

#[test]
fn predict_with_an_input_beyond_float32() {
    refused(
        &["predict", "artifacts/victim", "--input", "1e40,0"],
        2,
        &["input 1 is 1e40", "beyond the float32 range"],
        |_| {},
    );
}

#[test]
fn resume_into_a_folder_where_nothing_was_trained_leaves_no_folder() {
    let dir = with_victim_config();
    let out = gatenet(&["victim.toml", "-q", "--resume"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing to resume"), "{}", stderr(&out));
    assert!(!dir.path().join("artifacts/victim").exists(), "a failed resume left a folder");
}

#[test]
fn predict_after_the_models_checksum_was_deleted_from_summary_json() {
    refused(
        &["predict", "artifacts/victim", "--input", "1,0"],
        2,
        &["summary.json", "no model_sha256"],
        |root| {
            let path = root.join("artifacts/victim/summary.json");
            let mut summary: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            summary.as_object_mut().unwrap().remove("model_sha256");
            std::fs::write(path, serde_json::to_string_pretty(&summary).unwrap()).unwrap();
        },
    );
}

#[test]
fn resume_with_metrics_csv_deleted() {
    refused(&["victim.toml", "--resume"], 2, &["metrics.csv"], |root| {
        std::fs::remove_file(root.join("artifacts/victim/metrics.csv")).unwrap();
    });
}

#[test]
fn resume_with_a_metrics_csv_row_cut_in_half() {
    refused(&["victim.toml", "--resume"], 2, &["metrics.csv:", "expected the row of epoch"], |root| {
        let path = root.join("artifacts/victim/metrics.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let cut: String = text.lines().take(5).collect::<Vec<_>>().join("\n") + "\n3,0.2";
        std::fs::write(path, cut).unwrap();
    });
}

#[test]
fn a_config_file_whose_name_is_no_folder_name_trains_into_a_folder_derived_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = VICTIM.replace("num_epochs = 20", "num_epochs = 3");
    for (file, folder) in [("my or.toml", "my-or"), ("ünï cödé.toml", "ünï-cödé")] {
        std::fs::write(dir.path().join(file), &text).unwrap();
        let out = gatenet(&[file], dir.path());
        assert!(out.status.success(), "{file}: {}", stderr(&out));
        assert!(stdout(&out).contains(&format!("artifacts/{folder}/")), "{}", stdout(&out));
        assert!(dir.path().join("artifacts").join(folder).join("model.bpk").is_file(), "{folder}");
    }
}

#[test]
fn a_sweep_whose_folder_is_a_training_runs_folder() {
    refused(&["sweep", "or.toml", "--seeds", "1"], 2, &["artifacts/or-sweep", "training run"], |root| {
        write(root, "or-sweep.toml", VICTIM.replace("num_epochs = 20", "num_epochs = 2"));
        let trained = gatenet(&["or-sweep.toml", "-q"], root);
        assert!(trained.status.success(), "{}", stderr(&trained));
        write(root, "or.toml", VICTIM);
    });
}

#[test]
fn a_data_section_written_as_an_array_of_tables() {
    refused(
        &["tables.toml"],
        2,
        &["tables.toml:1:3", "data", "expected one table written [data]", "[[data]]"],
        |root| write(root, "tables.toml", "[[data]]\ngate = \"or\"\n"),
    );
}

#[test]
fn sweep_ranges_on_the_command_line() {
    refused(
        &["sweep", "victim.toml", "--learning-rate", "1..0.1:log"],
        2,
        &["--learning-rate", "min <= max"],
        |_| {},
    );
    refused(
        &["sweep", "victim.toml", "--learning-rate", "0.1:log"],
        2,
        &["--learning-rate", "MIN..MAX"],
        |_| {},
    );
    refused(
        &["sweep", "victim.toml", "--width", "4..x"],
        2,
        &["--width", "expected a number, found \"x\""],
        |_| {},
    );
    refused(
        &["sweep", "victim.toml", "--search", "grid", "--width", "2..8"],
        2,
        &["--search", "sweep.width is a range"],
        |_| {},
    );
}

#[test]
fn halving_with_a_shard_with_nothing_to_resume_or_with_a_cosine_schedule() {
    let halving = ["sweep", "victim.toml", "--halving", "3", "--seeds", "1"];
    refused(&[&halving[..], &["--shard", "0/2"]].concat(), 2, &["--shard", "one machine"], |_| {});
    refused(&[&halving[..], &["--resume"]].concat(), 2, &["nothing to continue", "without --resume"], |_| {});
    refused(&halving, 2, &["sweep.halving", "cosine"], |root| {
        write(root, "victim.toml", victim_with("optimizer", "schedule = \"cosine\""))
    });
}

#[test]
fn a_sweep_option_that_is_an_empty_number() {
    refused(
        &["sweep", "victim.toml", "--learning-rate", ""],
        2,
        &["--learning-rate", "expected a number"],
        |_| {},
    );
    refused(
        &["sweep", "victim.toml", "--activation", "tanhh"],
        2,
        &["--activation", "did you mean \"tanh\"?"],
        |_| {},
    );
}

#[test]
fn a_sweep_list_written_empty() {
    refused(&["sweep", "empty.toml"], 2, &["empty.toml:", "sweep.activation", "sweeps nothing"], |root| {
        write(root, "empty.toml", format!("{VICTIM}[sweep]\nactivation = []\nseeds = 1\n"))
    });
}

#[test]
fn a_csv_file_larger_than_a_gibibyte_is_refused_before_it_is_read() {
    refused(&["data.toml"], 2, &["d.csv", "at most 1024 MiB", "in memory"], |root| {
        write(root, "data.toml", CSV_CONFIG);
        // Sparse: 2 GiB on paper, no blocks on disk; reading it would take seconds and 2 GiB.
        std::fs::File::create(root.join("d.csv")).unwrap().set_len(2 << 30).unwrap();
    });
}

#[test]
fn predict_from_a_csv_that_never_ends() {
    refused(
        &["predict", "artifacts/victim", "--csv", "/dev/zero"],
        2,
        &["/dev/zero", "at most 1024 MiB"],
        |_| {},
    );
}

#[test]
fn run_options_before_a_command_they_are_not_for() {
    refused(
        &["--artifacts", "elsewhere", "check", "victim.toml"],
        2,
        &["--artifacts", "after the command"],
        |_| {},
    );
}

#[test]
fn a_config_before_a_command_and_another_after_it() {
    refused(
        &["victim.toml", "check", "victim.toml"],
        2,
        &["victim.toml before the command", "give the config once"],
        |_| {},
    );
}

#[test]
fn a_sweep_resumed_from_an_epoch() {
    refused(
        &["sweep", "victim.toml", "--resume-from", "10"],
        2,
        &["--resume-from", "a sweep continues with --resume"],
        |_| {},
    );
}
