//! Synthetic 2-D datasets: held-out validation, early stopping on it, and the learned shapes.

use super::{assert_refused, config_file, gatenet, repo, stderr, train};

#[test]
fn every_synthetic_dataset_reaches_95_percent_validation_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["circle", "xor-points", "gauss", "moons", "spiral"] {
        let (out, summary) = train(&repo().join(format!("configs/{name}.toml")), dir.path());
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let summary = summary.unwrap();
        let accuracy = summary["valid_accuracy"].as_f64().unwrap();
        assert!(accuracy >= 0.95, "{name}: validation accuracy {accuracy}");
        assert!(summary["diagnosis"].as_array().unwrap().is_empty(), "{name}: no tolerance, no diagnosis");
        assert!(dir.path().join(format!("artifacts/{name}/boundary.png")).is_file());
        // 500 points, a fifth held out: the predictions list the 400 training rows.
        assert_eq!(summary["predictions"].as_array().unwrap().len(), 400, "{name}");
    }
}

#[test]
fn patience_stops_a_run_whose_validation_loss_stopped_improving() {
    let dir = tempfile::tempdir().unwrap();
    // Overlapping blobs (noise 1): the validation loss soon stops improving.
    let text = "name = \"patient\"\n[data]\nsynthetic = \"gauss\"\nsamples = 100\nnoise = 1.0\n[model]\nhidden_sizes = [16]\n\
                [optimizer]\nlearning_rate = 0.05\n[training]\nnum_epochs = 5000\ntolerance = 0\npatience = 20\n";
    let (out, summary) = train(&config_file(dir.path(), "patient.toml", text), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let epochs = summary.unwrap()["epochs_run"].as_u64().unwrap();
    assert!(epochs < 5000, "stopped early, at epoch {epochs}");
    let metrics = std::fs::read_to_string(dir.path().join("artifacts/patient/metrics.csv")).unwrap();
    let losses: Vec<f64> =
        metrics.lines().skip(1).map(|l| l.split(',').nth(4).unwrap().parse().unwrap()).collect();
    // The last epoch whose loss beat the best before it by more than 0.01%.
    let mut best = (1, losses[0]);
    for (i, &loss) in losses.iter().enumerate().skip(1) {
        if loss < best.1 * (1.0 - 1e-4) {
            best = (i + 1, loss);
        }
    }
    assert_eq!(epochs as usize, best.0 + 20, "20 epochs without improving on epoch {}", best.0);
}

#[test]
fn a_minimal_synthetic_config_stops_by_patience_instead_of_chasing_an_unreachable_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    // Four hidden units cannot learn the spiral: with the truth tables' tolerance of 0.1 the run
    // went on for all 1000 epochs and was diagnosed as not converged.
    let (out, summary) =
        train(&config_file(dir.path(), "spiral.toml", "[data]\nsynthetic = \"spiral\"\n"), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = summary.unwrap();
    assert_eq!(summary["stopped_by"], "patience", "{summary}");
    assert_eq!((summary["tolerance"].as_f64(), summary["patience"].as_u64()), (Some(0.0), Some(200)));
    assert!(summary["epochs_run"].as_u64().unwrap() < 1000, "{summary}");
    assert!(summary["diagnosis"].as_array().unwrap().is_empty(), "no tolerance to miss: {summary}");
    // A tolerance the config sets is kept, and brings no patience with it.
    let text = "[data]\nsynthetic = \"spiral\"\n[training]\nnum_epochs = 30\ntolerance = 0.1\n";
    let (_, summary) = train(&config_file(dir.path(), "strict.toml", text), dir.path());
    let summary = summary.unwrap();
    assert_eq!(
        (summary["tolerance"].as_f64(), summary["stopped_by"].as_str()),
        (Some(0.1), Some("num_epochs"))
    );
}

#[test]
fn check_says_why_each_default_is_what_it_is_and_leaves_the_files_own_settings_bare() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\nsynthetic = \"moons\"\n[training]\nnum_epochs = 500\n";
    let out = gatenet(&["check", config_file(dir.path(), "moons.toml", text).to_str().unwrap()], dir.path());
    let printed = super::stdout(&out);
    let line =
        |key: &str| printed.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap_or("").to_string();
    assert!(
        line("patience").starts_with("patience = 100  # default: for sampled data, a fifth of num_epochs"),
        "{printed}"
    );
    assert!(line("tolerance").contains("# default: none for sampled data"), "{printed}");
    assert!(line("samples").starts_with("samples = 500  # default: "), "{printed}");
    assert_eq!(line("num_epochs"), "num_epochs = 500", "the file's own setting has no comment");
    // Still a config file: it trains as the original does.
    let resolved = config_file(dir.path(), "resolved.toml", &printed);
    let again = gatenet(&["check", resolved.to_str().unwrap()], dir.path());
    assert!(again.status.success(), "{}", stderr(&again));
}

#[test]
fn data_settings_that_do_not_fit_the_data_source_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let both = config_file(dir.path(), "both.toml", "[data]\ngate = \"or\"\nsynthetic = \"circle\"\n");
    assert_refused(
        &gatenet(&["check", both.to_str().unwrap()], dir.path()),
        &["found `gate` and `synthetic`"],
    );
    let split = config_file(dir.path(), "split.toml", "[data]\ngate = \"or\"\nvalid_fraction = 0.2\n");
    assert_refused(
        &gatenet(&["check", split.to_str().unwrap()], dir.path()),
        &["data.valid_fraction", "its own rows"],
    );
    let noisy =
        config_file(dir.path(), "noisy.toml", "[data]\nsynthetic = \"moons\"\nnoise = 3\ninputs = 4\n");
    assert_refused(&gatenet(&["check", noisy.to_str().unwrap()], dir.path()), &["data.noise", "data.inputs"]);
}
