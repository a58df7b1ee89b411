//! `gatenet gradcheck`: autodiff against finite differences.

use super::{GATES, config_file, gatenet, repo, stderr, stdout};

#[test]
fn gradcheck_passes_on_every_shipped_config() {
    // Gradcheck runs on ndarray in float64 whatever the backend, so or-wgpu.toml is checked too;
    // 50 elements per parameter keep the wide nets quick.
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("configs")).unwrap() {
        let config = entry.unwrap().path();
        if config.extension().is_none_or(|e| e != "toml") {
            continue; // fruit.csv, the data of fruit.toml
        }
        let out = gatenet(&["gradcheck", config.to_str().unwrap(), "--points", "50"], dir.path());
        assert!(out.status.success(), "{}: {}{}", config.display(), stdout(&out), stderr(&out));
        assert!(
            stdout(&out).contains("pass: every gradient agrees"),
            "{}: {}",
            config.display(),
            stdout(&out)
        );
        checked += 1;
    }
    assert!(checked >= GATES.len() + 7, "every config was found: {checked}");
}

#[test]
fn gradcheck_passes_on_three_hidden_layers_with_every_activation_and_loss() {
    let dir = tempfile::tempdir().unwrap();
    for activation in ["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu", "identity"] {
        for (loss, output) in [("mse", "sigmoid"), ("bce", "sigmoid"), ("mse", "identity")] {
            let text = format!(
                "[data]\ngate = \"xor\"\n[model]\nhidden_sizes = [5, 4, 3]\nactivation = \"{activation}\"\noutput_activation = \"{output}\"\n\
                 [training]\nloss = \"{loss}\"\n"
            );
            let config = config_file(dir.path(), "deep.toml", &text);
            let out = gatenet(&["gradcheck", config.to_str().unwrap()], dir.path());
            assert!(out.status.success(), "{activation}, {loss}, {output}: {}", stdout(&out));
            assert_eq!(
                stdout(&out).matches("layer ").count(),
                8,
                "4 layers x weight and bias: {}",
                stdout(&out)
            );
        }
    }
}

#[test]
fn gradcheck_fails_naming_the_parameter_when_a_backward_pass_is_wrong() {
    // tanh_half_gradient: tanh whose backward is halved, as a hand-written backprop might be.
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"xor\"\n[model]\nhidden_sizes = [3]\nactivation = \"tanh_half_gradient\"\n";
    let out =
        gatenet(&["gradcheck", config_file(dir.path(), "broken.toml", text).to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = stdout(&out);
    assert!(report.contains("FAIL: the gradient of layer 1"), "{report}");
    assert!(report.contains("relative error 5.00e-1"), "off by the factor of two: {report}");
    assert!(
        !report.lines().any(|l| l.starts_with("  layer 2") && l.ends_with("FAILS")),
        "layer 2 is right: {report}"
    );
}

#[test]
fn gradcheck_can_check_a_random_subset_of_a_large_net() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[data]\ngate = \"and\"\n[model]\nhidden_sizes = [64, 64]\n";
    let out = gatenet(
        &["gradcheck", config_file(dir.path(), "wide.toml", text).to_str().unwrap(), "--points", "10"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("10/4096"), "{}", stdout(&out));
}
