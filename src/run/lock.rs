//! A run folder held by one process: two runs never write into one folder.

use crate::run::folder::RunDir;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A run folder held by this process: an OS lock on `.lock` (which holds the pid, for the
/// message a second process prints). The kernel releases the lock when the process ends in any
/// way, so a lock never outlives its process, whatever pid the file names.
pub struct RunLock {
    path: PathBuf,
    _file: std::fs::File,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked: a process that opens the old file afterwards and locks it
        // sees that the path no longer names it, and starts again (see `RunDir::lock`).
        let _ = std::fs::remove_file(&self.path);
    }
}

impl RunDir {
    /// Takes the run folder for this process, so that two runs never write into one folder.
    pub fn lock(&self) -> Result<RunLock, String> {
        std::fs::create_dir_all(self.path())
            .map_err(|e| format!("cannot create the run folder {}: {e}", self.path().display()))?;
        let path = self.path().join(".lock");
        let fail = |e: std::io::Error| format!("cannot lock {}: {e}", path.display());
        for _ in 0..100 {
            let mut options = std::fs::OpenOptions::new();
            options.read(true).write(true).create(true);
            // A symlink planted at `.lock` is refused, not followed (and its target truncated).
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
            let mut file = options.open(&path).map_err(fail)?;
            match file.try_lock() {
                Ok(()) if names(&path, &file) => {
                    file.set_len(0).and_then(|_| write!(file, "{}", std::process::id())).map_err(fail)?;
                    return Ok(RunLock { path, _file: file });
                }
                // The holder finished and removed it between our open and our lock: again.
                Ok(()) => continue,
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder =
                        std::fs::read_to_string(&path).ok().and_then(|t| t.trim().parse::<u32>().ok());
                    let pid = holder.map_or_else(|| "pid unknown".to_string(), |pid| format!("pid {pid}"));
                    return Err(format!(
                        "{} is in use by another gatenet process ({pid}); wait for it, or stop it first",
                        self.path().display()
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
            }
        }
        Err(format!("cannot lock {}: other processes keep taking and releasing it", path.display()))
    }
}

/// Whether `path` still names the open `file`.
fn names(path: &Path, file: &std::fs::File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::symlink_metadata(path), file.metadata()) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, file);
        true
    }
}
