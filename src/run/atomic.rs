//! Writing a file whole or not at all, the way every file gatenet writes is written: a new
//! temporary file beside it, synced, renamed over it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes a whole file or nothing: a new temporary file beside the target is written, synced and
/// renamed over it, and the folder is synced, so that a crash never leaves half a file and the
/// rename itself survives a power cut.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let (tmp, mut file) = create_beside(path).map_err(fail)?;
    let written =
        file.write_all(bytes).and_then(|_| file.sync_all()).and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    // Best effort: some file systems cannot sync a folder, and the file itself is whole.
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::File::open(folder).and_then(|f| f.sync_all());
    }
    Ok(())
}

/// The `n` of the next temporary name.
static TEMPORARY_NAMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A new file beside `path`, named `<name>.<pid>-<n>.tmp`. It is opened with `create_new`
/// (O_CREAT | O_EXCL), which refuses any path that exists, a symlink included, without
/// following it: a link planted at a temporary name can never redirect gatenet's write into
/// another file. A taken name is skipped, and never removed.
pub(crate) fn create_beside(path: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = path.file_name().map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    for _ in 0..1000 {
        let n = TEMPORARY_NAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_file_name(format!("{name}.{}-{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("every temporary name beside it is taken"))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_planted_at_the_next_temporary_names_are_skipped_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let precious = dir.path().join("precious.txt");
        std::fs::write(&precious, "keep me").unwrap();
        let target = dir.path().join("summary.json");
        let next = TEMPORARY_NAMES.load(std::sync::atomic::Ordering::Relaxed);
        for n in next..next + 5 {
            let name = format!("summary.json.{}-{n}.tmp", std::process::id());
            std::os::unix::fs::symlink(&precious, dir.path().join(name)).unwrap();
        }
        write_atomic(&target, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}");
    }
}
