//! The config layer as a user meets it: a file loaded, every problem found and placed.

use super::*;

fn load_text(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.toml");
    std::fs::write(&path, text).unwrap();
    crate::data::dataset::Dataset::load(&path, false).map(|(config, _)| config)
}

fn problems(text: &str) -> Vec<String> {
    let err = load_text(text).expect_err("the config should be refused");
    err.problems.iter().map(|p| format!("{:?} {}: {}", p.at, p.key, p.message)).collect()
}

const MINIMAL: &str = "[data]\ngate = \"or\"\n";

#[test]
fn a_minimal_config_gets_every_default_and_the_file_stem_as_name() {
    let config = load_text(MINIMAL).unwrap();
    assert_eq!(config.name(), "test");
    assert_eq!(config.seed, 42);
    assert_eq!(config.optimizer.epsilon, Some(1e-8));
    assert_eq!(config.training.batch_size, Some(4));
}

#[test]
fn every_table_rejects_a_misspelled_key_by_name_with_a_suggestion() {
    for (table, bad, good) in [
        ("data", "gat = \"or\"", "gate"),
        ("model", "hiden_sizes = [2]", "hidden_sizes"),
        ("optimizer", "learning_rat = 0.1", "learning_rate"),
        ("training", "num_epoch = 3", "num_epochs"),
    ] {
        let text = format!("[data]\ngate = \"or\"\n[{table}]\n{bad}\n")
            .replace("[data]\ngate = \"or\"\n[data]\n", "[data]\n");
        let found = problems(&text).join("\n");
        assert!(found.contains(&format!("did you mean `{good}`")), "{table}: {found}");
        assert!(found.contains(&format!("[{table}]")), "{table}: {found}");
    }
    let top = problems("sed = 1\n[data]\ngate = \"or\"\n").join("\n");
    assert!(top.contains("did you mean `seed`") && top.contains("Some((1, 1))"), "{top}");
}

#[test]
fn all_problems_in_a_file_are_reported_with_line_and_column() {
    let found = problems(
        "[data]\ngate = \"or\"\n[model]\nactivation = \"tanhh\"\n[optimizer]\nlearning_rate = \"fast\"\n[training]\nnum_epochs = 0\n",
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].contains("Some((4, 1)) model.activation") && found[0].contains("did you mean \"tanh\""),
        "{found:?}"
    );
    assert!(
        found[1].contains("Some((6, 1)) optimizer.learning_rate") && found[1].contains("expected a number"),
        "{found:?}"
    );
}

#[test]
fn out_of_range_values_name_their_key_and_what_was_found() {
    let found = problems("[data]\ngate = \"or\"\n[model]\nhidden_sizes = [0]\n[optimizer]\nlearning_rate = -1.0\n[training]\nnum_epochs = 0\nbatch_size = 9\n").join("\n");
    for expected in [
        "model.hidden_sizes",
        "optimizer.learning_rate: expected a number > 0 and at most 1e6, found -1",
        "training.num_epochs: expected between 1 and 100000000, found 0",
        "training.batch_size",
    ] {
        assert!(found.contains(expected), "{expected} missing in {found}");
    }
}

#[test]
fn settings_that_do_not_apply_to_the_optimizer_are_refused() {
    let found = problems("[data]\ngate = \"or\"\n[optimizer]\nname = \"adam\"\nmomentum = 0.9\n").join("\n");
    assert!(found.contains("optimizer.momentum: does not apply to name = \"adam\""), "{found}");
}

#[test]
fn a_syntax_error_names_line_and_column() {
    let found = problems("[data]\ngate = \"or\n").join("\n");
    assert!(found.contains("Some((2,") && found.contains("invalid TOML"), "{found}");
}

#[test]
fn a_missing_data_table_says_what_to_add() {
    assert!(problems("seed = 1\n").join("\n").contains("add a [data] table"));
}

#[test]
fn the_resolved_config_reads_back_as_the_same_config() {
    let config =
        load_text("[data]\ngate = \"xor\"\n[optimizer]\nname = \"sgd\"\nlearning_rate = 0.5\n").unwrap();
    let again = load_text(&config.to_toml()).unwrap();
    assert_eq!(config.to_toml(), again.to_toml());
}

#[test]
fn a_sweep_with_ranges_is_written_back_as_a_config_that_reads_the_same() {
    let text = "[data]\ngate = \"or\"\n[sweep]\nactivation = [\"tanh\"]\n\
                learning_rate = { min = 1e-4, max = 0.5, log = true }\nwidth = { min = 2, max = 9 }\n\
                trials = 7\nhalving = 3\n";
    let config = load_text(text).unwrap();
    let written = config.to_toml();
    let sweep_part = written.split("[sweep]").nth(1).unwrap();
    assert!(!sweep_part.contains("[]"), "an axis left out is not written as an empty list: {written}");
    let again = load_text(&written).unwrap_or_else(|e| panic!("{e}\n{written}"));
    assert_eq!(again.sweep, config.sweep, "{written}");
    let sweep = again.sweep.unwrap();
    assert_eq!(sweep.search(), Search::Random, "a range makes a random search");
    assert_eq!(sweep.width, space::Space::Range(space::Range { min: 2, max: 9, log: false }));
}
