//! `-q` means the same for every command, before or after it: nothing but errors on the
//! screen, and the exit code says how it went.

use super::{gatenet, stderr, stdout};

const OR: &str = "[data]\ngate = \"or\"\n[optimizer]\nlearning_rate = 0.05\n[training]\nnum_epochs = 300\n";

#[test]
fn quiet_works_with_every_command_before_or_after_it_and_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("or.toml"), OR).unwrap();
    let runs: [&[&str]; 10] = [
        &["-q", "or.toml"],
        &["or.toml", "-q", "--resume"],
        &["-q", "train", "or.toml", "--resume"],
        &["-q", "check", "or.toml"],
        &["check", "or.toml", "--quiet"],
        &["-q", "predict", "artifacts/or", "--input", "1,0"],
        &["report", "artifacts/or", "-q"],
        &["-q", "gradcheck", "or.toml", "--points", "2"],
        &["-q", "sweep", "or.toml", "--seeds", "2"],
        &["sweep", "or.toml", "--seeds", "2", "-q"],
    ];
    for args in runs {
        let out = gatenet(args, root);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(format!("{}{}", stdout(&out), stderr(&out)), "", "{args:?} printed something");
    }
}

#[test]
fn without_quiet_a_finished_run_says_there_is_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("or.toml"), OR).unwrap();
    assert!(gatenet(&["or.toml", "-q"], dir.path()).status.success());
    let out = gatenet(&["or.toml", "--resume"], dir.path());
    assert!(out.status.success());
    assert!(stderr(&out).contains("nothing to do"), "{}", stderr(&out));
}

#[test]
fn quiet_still_prints_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = gatenet(&["-q", "check", "missing.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.toml: no such file"), "{}", stderr(&out));
}

#[test]
fn quiet_keeps_warnings_and_twice_quiet_drops_them() {
    let text = "name = \"or\"\n[data]\ngate = \"or\"\n[training]\nnum_epochs = 40\ntolerance = 0\ncheckpoint_every = 20\n";
    for (flag, warns) in [("-q", true), ("-qq", false)] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("or.toml"), text).unwrap();
        std::fs::write(root.join("longer.toml"), text.replace("num_epochs = 40", "num_epochs = 60")).unwrap();
        assert!(gatenet(&["or.toml", "-q"], root).status.success());
        // The newest checkpoint damaged: resuming skips it, from epoch 20.
        std::fs::write(root.join("artifacts/or/checkpoint/model-40.bpk"), b"").unwrap();
        let out = gatenet(&["longer.toml", flag, "--resume"], root);
        assert!(out.status.success(), "{flag}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{flag}");
        assert_eq!(
            stderr(&out).contains("warning: checkpoint of epoch 40 skipped"),
            warns,
            "{flag}: {}",
            stderr(&out)
        );
    }
}
