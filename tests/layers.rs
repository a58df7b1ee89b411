//! The shape of the code, checked from its own `use crate::` lines (README, Development): the
//! folders of src/ are layers, and a module imports only from its own layer or those below it,
//! never in a circle; no file is over 400 lines and no function over 80.
//!
//! The same facts by hand: `grep -rn "crate::" src/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top first. A file directly in src/ is the ground floor (it imports nothing of
/// gatenet), except `cli.rs`, which only `main.rs` uses.
const LAYERS: [&str; 7] = ["cli", "commands", "training", "run", "model", "data", "config"];

fn rank(module: &str) -> usize {
    LAYERS.iter().position(|l| *l == module).map_or(LAYERS.len(), |p| p)
}

/// Every .rs file under src/ but main.rs and unit-test files, by its module path (`run::folder`).
fn modules() -> BTreeMap<String, PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&src).unwrap().with_extension("");
                let mut parts: Vec<String> =
                    relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                if parts.last().is_some_and(|p| p == "mod") {
                    parts.pop();
                }
                let name = parts.join("::");
                // A unit-test file (`mod tests;` under `#[cfg(test)]`) may use anything.
                if name != "main" && name != "lib" && !name.ends_with("tests") {
                    found.insert(name, path);
                }
            }
        }
    }
    found
}

/// The code of a file without its comments and unit tests (tests may use anything).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap();
    code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The modules a file imports from, resolved to the longest module path that exists, and
/// through a folder's `pub use sub::*` to the file that defines the item: `crate::config::Init`
/// is an import of `config::choices`, so a circle through a re-export is still seen.
fn imports(path: &Path, known: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let text = code(path);
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let path_end =
            rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        let words: Vec<&str> = rest[..path_end].split("::").collect();
        for n in (1..=words.len()).rev() {
            let name = words[..n].join("::");
            let Some(file) = known.get(&name) else { continue };
            // The items named after the module: `X`, or `{X, Y}`.
            let items: Vec<String> = match (words.get(n), rest[path_end..].starts_with('{')) {
                (Some(item), _) if !item.is_empty() => vec![item.to_string()],
                (_, true) => rest[path_end + 1..rest.find('}').unwrap()]
                    .split(',')
                    .map(|i| i.trim().split(' ').next().unwrap().to_string())
                    .filter(|i| !i.is_empty())
                    .collect(),
                _ => Vec::new(),
            };
            let mut through =
                items.iter().filter_map(|item| re_exported(&name, file, item, known)).peekable();
            if through.peek().is_none() {
                found.insert(name);
            } else {
                found.extend(through);
            }
            break;
        }
    }
    found
}

/// The submodule of folder module `module` that `item` comes from, when `module` re-exports it
/// (`pub use sub::*` or `pub use sub::{item, ...}`).
fn re_exported(module: &str, file: &Path, item: &str, known: &BTreeMap<String, PathBuf>) -> Option<String> {
    if !file.ends_with("mod.rs") {
        return None;
    }
    let names_item = |line: &str| line.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == item);
    let kinds = ["struct", "enum", "fn", "const", "type", "trait", "static"];
    for line in code(file).lines() {
        let Some((sub, rest)) = line.trim().strip_prefix("pub use ").and_then(|l| l.split_once("::")) else {
            continue;
        };
        let name = format!("{module}::{sub}");
        let Some(path) = known.get(&name) else { continue };
        let found = if rest == "*;" {
            let code = code(path);
            let defines = kinds.iter().any(|k| {
                code.match_indices(&format!("pub {k} {item}")).any(|(at, m)| {
                    !code[at + m.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
                })
            });
            defines || code.lines().any(|l| l.trim_start().starts_with("pub use ") && names_item(l))
        } else {
            names_item(rest)
        };
        if found {
            return Some(name);
        }
    }
    None
}

fn layer(module: &str) -> &str {
    match module.split_once("::") {
        Some((folder, _)) => folder,
        None if module == "cli" => "cli",
        None => module,
    }
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let known = modules();
    let mut upward = Vec::new();
    for (module, path) in &known {
        let own = rank(layer(module));
        for used in imports(path, &known) {
            if rank(layer(&used)) < own {
                upward.push(format!("{module} -> {used}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a higher layer (order: {LAYERS:?}, then src/*.rs):\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_modules_import_each_other_even_through_others() {
    let known = modules();
    let graph: BTreeMap<String, BTreeSet<String>> = known
        .iter()
        .map(|(m, p)| (m.clone(), imports(p, &known).into_iter().filter(|u| u != m).collect()))
        .collect();
    // A module is in a circle when it can reach itself.
    let mut circles = Vec::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = graph[start].iter().collect();
        while let Some(next) = stack.pop() {
            if next == start {
                circles.push(start.clone());
                break;
            }
            if seen.insert(next.clone()) {
                stack.extend(graph.get(next).into_iter().flatten());
            }
        }
    }
    assert!(circles.is_empty(), "modules in an import circle: {circles:?}");
}

#[test]
fn no_file_is_over_400_lines_and_no_function_over_80() {
    let mut long = Vec::new();
    let main = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs");
    for path in modules().into_values().chain([main]) {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let shown = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().display().to_string();
        if lines.len() > 400 {
            long.push(format!("{shown}: {} lines", lines.len()));
        }
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let is_fn = ["fn ", "pub fn ", "pub(crate) fn ", "const fn ", "pub const fn ", "unsafe fn "]
                .iter()
                .any(|p| trimmed.starts_with(p));
            if !is_fn || trimmed.ends_with(';') {
                continue;
            }
            // The function ends at the first `}` back at its own indentation.
            let close = format!("{}}}", " ".repeat(indent));
            if let Some(end) = lines[i..].iter().position(|l| l.trim_end() == close) {
                if end + 1 > 80 {
                    let name = trimmed.split('(').next().unwrap_or(trimmed);
                    long.push(format!("{shown}:{}: {name}: {} lines", i + 1, end + 1));
                }
            }
        }
    }
    assert!(long.is_empty(), "too long:\n{}", long.join("\n"));
}
