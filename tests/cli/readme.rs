//! The README's examples are the binary's real output: each is run here and compared.

use super::*;

/// The README's code blocks, each as (language, text), in order.
fn blocks() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut found = Vec::new();
    let mut parts = readme.split("```");
    parts.next();
    while let (Some(block), _) = (parts.next(), parts.next()) {
        let (language, text) = block.split_once('\n').unwrap_or((block, ""));
        found.push((language.trim().to_string(), text.to_string()));
    }
    found
}

/// The block that starts with `start`.
fn block(start: &str) -> String {
    blocks()
        .into_iter()
        .map(|(_, text)| text)
        .find(|t| t.starts_with(start))
        .unwrap_or_else(|| panic!("no README block starts with {start:?}"))
}

/// Milliseconds differ from run to run: `(1244 ms)` reads `(N ms)`, `14 ms)` reads `N ms)`.
fn without_timing(text: &str) -> String {
    let (mut out, mut rest) = (String::new(), text);
    while let Some(end) = rest.find(" ms)") {
        let digits = rest[..end].trim_end_matches(|c: char| c.is_ascii_digit());
        out.push_str(digits);
        out.push_str(if digits.len() < end { "N ms)" } else { " ms)" });
        rest = &rest[end + " ms)".len()..];
    }
    out + rest
}

#[test]
fn the_readmes_config_error_example_is_what_gatenet_says_for_its_bad_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        block("[data]\ngate = \"or\"\n\n[model]\nactivation = \"tanhh\""),
    )
    .unwrap();
    let out = gatenet(&["bad.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), block("error: bad.toml has 2 problems:"));
}

#[test]
fn the_readmes_or_question_outcome_and_diagnosis_are_what_the_run_prints() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = train(&repo().join("configs/or-question.toml"), dir.path());
    let printed = stdout(&out);
    let from = printed.find("not converged").expect("the outcome line");
    let until = printed.find("artifacts:").expect("the artifacts line");
    let shown = block("not converged: after 5000 epochs");
    assert_eq!(without_timing(&printed[from..until]), without_timing(&shown));
}

#[test]
fn the_readmes_first_run_is_what_training_or_prints() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = train(&repo().join("configs/or.toml"), dir.path());
    assert_eq!(
        without_timing(&stdout(&out)),
        without_timing(&block("or: 2-6-1 tanh, sigmoid output on ndarray"))
    );
}

#[test]
fn the_readmes_trace_excerpt_is_in_order_in_what_trace_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = gatenet(&["trace", repo().join("configs/or-question.toml").to_str().unwrap()], dir.path());
    let printed = stdout(&out);
    let shown = block("$ gatenet trace configs/or-question.toml");
    // The excerpt's lines, "..." marking what it leaves out, appear in the output in order.
    let mut rest = printed.as_str();
    for line in shown.lines().skip(1).filter(|l| l.trim() != "...") {
        let at = rest.find(line).unwrap_or_else(|| panic!("{line:?} is not in order in:\n{printed}"));
        rest = &rest[at + line.len()..];
    }
}

#[test]
fn the_readmes_lr_find_example_is_what_lr_find_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = gatenet(&["lr-find", repo().join("configs/or-question.toml").to_str().unwrap()], dir.path());
    let shown = block("$ gatenet lr-find configs/or-question.toml");
    let shown = shown.split_once('\n').unwrap().1;
    assert_eq!(stdout(&out), shown);
}
