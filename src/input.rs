//! Reading a file a user names (a config, a CSV file): whole, with a size cap, and with the
//! words every such error uses.

use std::path::Path;

/// The bytes of a file a user names (a config, a CSV file), or why not, in the words every
/// such error uses: a folder, a missing file, or the system's reason. `kind` names what was
/// expected ("TOML", "CSV"); a file longer than `limit` bytes is refused, a regular file before
/// it is read, anything else (`/dev/zero`, a pipe) after reading that many.
pub fn read_bytes(path: &Path, kind: &str, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if path.is_dir() {
        return Err(format!("expected a {kind} file, found a directory"));
    }
    let too_large = || {
        let why = if kind == "TOML" {
            "a data file given as the config?"
        } else {
            "gatenet holds the whole table in memory"
        };
        Err(format!("expected a {kind} file of at most {} MiB, found a larger one ({why})", limit >> 20))
    };
    if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > limit) {
        return too_large();
    }
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|file| file.take(limit + 1).read_to_end(&mut bytes));
    read.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => format!("cannot read the file: {e}"),
    })?;
    if bytes.len() as u64 > limit { too_large() } else { Ok(bytes) }
}
