//! Commands gatenet prints for the user to run next, written so that a POSIX shell reads them
//! back as they were meant: paths with spaces or quotes included.

use std::path::Path;

/// The command that continues the run of `config` whose folder is under `artifacts`.
/// `--artifacts` is left out when it is the default, as a user would type it.
pub fn resume_command(config: &Path, artifacts: &Path) -> String {
    let artifacts = if artifacts == Path::new("artifacts") {
        String::new()
    } else {
        format!(" --artifacts {}", quoted(&artifacts.display().to_string()))
    };
    format!("gatenet {} --resume{artifacts}", quoted(&config.display().to_string()))
}

/// The command line that started this process, as `gatenet ARGS...` with `--resume` added
/// (once): what continues an interrupted sweep with the same grid.
pub fn resume_command_line(args: impl Iterator<Item = std::ffi::OsString>) -> String {
    let mut words: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    if !words.iter().any(|w| w == "--resume") {
        words.push("--resume".into());
    }
    let quoted: Vec<String> = words.iter().map(|w| quoted(w)).collect();
    format!("gatenet {}", quoted.join(" "))
}

/// A word as a POSIX shell reads it back: as it is when it has nothing the shell would
/// interpret, else in single quotes (a `'` inside written as `'\''`).
pub fn quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_with_spaces_and_quotes_is_read_back_as_one_word() {
        assert_eq!(quoted("configs/or.toml"), "configs/or.toml");
        assert_eq!(quoted("my runs/it's.toml"), "'my runs/it'\\''s.toml'");
        assert_eq!(quoted(""), "''");
    }

    #[test]
    fn the_default_artifacts_folder_is_not_spelled_out() {
        assert_eq!(resume_command(Path::new("or.toml"), Path::new("artifacts")), "gatenet or.toml --resume");
        assert_eq!(
            resume_command(Path::new("or.toml"), Path::new("my runs")),
            "gatenet or.toml --resume --artifacts 'my runs'"
        );
    }
}
