//! The wgpu backend (built with `--features wgpu`): the same network as on the CPU, checkpoints
//! that move between backends, and CPU runs that never touch the GPU. On a machine without a
//! GPU these run on Mesa's software Vulkan driver (`apt-get install mesa-vulkan-drivers`).

use super::{config_file, gatenet, repo, stderr, train};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn outputs(summary: &Value) -> Vec<f64> {
    summary["predictions"].as_array().unwrap().iter().map(|p| p["output"][0].as_f64().unwrap()).collect()
}

#[test]
fn or_on_wgpu_converges_and_agrees_with_ndarray_within_a_thousandth() {
    let dir = tempfile::tempdir().unwrap();
    let (out, gpu) = train(&repo().join("configs/or-wgpu.toml"), dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let gpu = gpu.unwrap();
    assert_eq!(gpu["converged"], true, "{gpu}");
    let (_, cpu) = train(&repo().join("configs/or.toml"), dir.path());
    let (a, b) = (outputs(&gpu), outputs(&cpu.unwrap()));
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-3), "wgpu {a:?} vs ndarray {b:?}");
}

fn xor(backend: &str, epochs: usize) -> String {
    format!(
        "name = \"moved\"\nbackend = \"{backend}\"\n[data]\ngate = \"xor\"\n[optimizer]\nname = \"adam\"\nlearning_rate = 0.05\n\
         [training]\nnum_epochs = {epochs}\ntolerance = 0\ncheckpoint_every = 10\n"
    )
}

fn run_in(dir: &Path, text: &str, extra: &[&str]) -> std::process::Output {
    let config = config_file(dir, "moved.toml", text);
    let mut args = vec![config.to_str().unwrap(), "-q", "--artifacts", "artifacts"];
    args.extend(extra);
    gatenet(&args, dir)
}

#[test]
fn a_checkpoint_moves_between_wgpu_and_ndarray_both_ways() {
    for (first, second) in [("wgpu", "ndarray"), ("ndarray", "wgpu")] {
        let dir = tempfile::tempdir().unwrap();
        assert!(run_in(dir.path(), &xor(first, 30), &[]).status.success());
        let out = run_in(dir.path(), &xor(second, 60), &["--resume"]);
        assert!(out.status.success(), "{first} -> {second}: {}", stderr(&out));
        let metrics = std::fs::read_to_string(dir.path().join("artifacts/moved/metrics.csv")).unwrap();
        assert_eq!(metrics.lines().count(), 61, "{first} -> {second}: a row per epoch");
        let resolved = std::fs::read_to_string(dir.path().join("artifacts/moved/config.toml")).unwrap();
        assert!(resolved.contains(&format!("backend: \"{first}\" -> \"{second}\"")), "{resolved}");
    }
}

/// Runs gatenet with Vulkan and EGL pointed at no driver at all, so that any use of wgpu fails.
fn without_any_adapter(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gatenet"))
        .args(args)
        .current_dir(dir)
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        // wgpu falls back to GL through EGL: point the EGL loader at no vendor either.
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json")
        .output()
        .expect("gatenet runs")
}

#[test]
fn a_cpu_run_and_its_resume_in_a_wgpu_build_never_touch_the_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "moved.toml", &xor("ndarray", 30));
    let path = config.to_str().unwrap();
    let out = without_any_adapter(dir.path(), &[path, "-q", "--artifacts", "artifacts"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Resuming Adam restores optimizer state, which Burn creates on its default device.
    let config = config_file(dir.path(), "moved.toml", &xor("ndarray", 60));
    let out = without_any_adapter(
        dir.path(),
        &[config.to_str().unwrap(), "-q", "--artifacts", "artifacts", "--resume"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn no_adapter_is_a_clear_error_that_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("configs/or-wgpu.toml");
    let out = without_any_adapter(dir.path(), &[config.to_str().unwrap(), "--artifacts", "artifacts"]);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{message}");
    assert!(message.contains("no usable adapter") && message.contains("mesa-vulkan-drivers"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}
