//! A CSV file as training data (`[data] csv = "..."`): read once when the config is loaded,
//! every cell checked, split into training and validation rows with the seed, and described by
//! a [`Schema`] (column names, classes, feature scaling) that the run folder keeps as
//! `data.json`, so that `predict` reads new rows the way training did.

use crate::config::csv_schema::{Request, Schema, held_out};
use crate::data::csv_rows::{Rows, at, number, utf8};
use crate::data::table::Table;
use crate::input::read_bytes;
use crate::names::suggest;
use std::collections::BTreeSet;
use std::path::Path;

/// A CSV file read as data: the rows with raw feature values (the network scales them).
#[derive(Debug)]
pub struct CsvData {
    pub schema: Schema,
    pub train: Table,
    pub valid: Table,
}

/// The largest CSV file read: its table is held in memory as float32, with the text while it
/// is parsed, so 1 GiB of text needs a few GiB of memory; a larger file is almost always a
/// mistake (the wrong file, a device).
pub const MAX_CSV_BYTES: u64 = 1 << 30;

impl CsvData {
    /// Reads and checks `path`. The error names the file, and the row (counting the header as
    /// row 1, as a spreadsheet does) and column where there is one.
    pub fn read(path: &Path, request: &Request) -> Result<CsvData, String> {
        let shown = path.display();
        let bytes = read_bytes(path, "CSV", MAX_CSV_BYTES).map_err(|e| format!("{shown}: {e}"))?;
        let sha256 = crate::checksum::sha256(&bytes);
        let text = utf8(bytes).map_err(|e| format!("{shown}: {e}"))?;
        let mut reader = Rows::new(&text).map_err(|e| format!("{shown}: {e}"))?;
        let header = reader.header.clone();
        let column = |name: &String| header.iter().position(|h| h == name);
        let features = features(request, &header, &shown)?;

        // One pass, keeping numbers for the features and the cells of the (few) target
        // columns as text until it is known whether they are numbers or class names: memory
        // stays near the size of the data, not of its cells as strings.
        let feature_columns: Vec<usize> = features.iter().filter_map(column).collect();
        let target_columns: Vec<usize> = request.targets.iter().filter_map(column).collect();
        let mut inputs = Vec::new();
        let mut cells: Vec<Vec<String>> = vec![Vec::new(); target_columns.len()];
        let mut lines = Vec::new();
        while let Some((line, record)) = reader.next_row().map_err(|e| format!("{shown}: {e}"))? {
            for (&c, name) in feature_columns.iter().zip(&features) {
                inputs.push(number(&record[c]).map_err(|e| at(&shown, line, name, e))?);
            }
            for (kept, &c) in cells.iter_mut().zip(&target_columns) {
                kept.push(record[c].to_string());
            }
            lines.push(line);
        }
        drop(reader);
        drop(text); // before the split copies the rows
        if lines.is_empty() {
            return Err(format!("{shown}: the file has a header but no rows"));
        }
        let classes = class_names(&cells, &lines, request, &shown)?;
        let targets = target_values(&cells, &lines, classes.as_deref(), request.targets, &shown)?;
        let output_width = classes.as_ref().map_or(target_columns.len(), Vec::len);
        let all = Table { input_width: features.len(), target_width: output_width, inputs, targets };

        let rows = all.rows();
        let held_out = held_out(rows, request.valid_fraction);
        if rows < held_out + 2 {
            return Err(format!(
                "{shown}: {rows} rows are too few: valid_fraction = {} holds out {held_out} for validation and training needs at least 2 more",
                request.valid_fraction
            ));
        }
        let target_range = classes.is_none().then(|| {
            all.targets.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
        });
        let (train, valid) = all.shuffled_split(held_out, request.seed);
        let (mean, std) = scaling(&train);
        let schema = Schema {
            features,
            targets: request.targets.to_vec(),
            classes,
            mean,
            std,
            sha256,
            rows,
            target_range,
        };
        Ok(CsvData { schema, train, valid })
    }
}

/// The feature columns: those listed, or every column but the targets; each column named in
/// `targets` and `features` must exist, once.
fn features(
    request: &Request,
    header: &[String],
    shown: &impl std::fmt::Display,
) -> Result<Vec<String>, String> {
    let column = |name: &String| header.iter().position(|h| h == name);
    let features: Vec<String> = match request.features {
        Some(list) => list.to_vec(),
        None => header.iter().filter(|h| !request.targets.contains(h)).cloned().collect(),
    };
    for (key, names) in [("targets", request.targets), ("features", &features[..])] {
        let mut seen = BTreeSet::new();
        for name in names {
            if column(name).is_none() {
                return Err(format!(
                    "{shown}: data.{key} names column {name:?}, which the header does not have{}; the columns are {}",
                    suggest(name, header, '"'),
                    crate::names::list(header, '"')
                ));
            }
            if !seen.insert(name) {
                return Err(format!("{shown}: data.{key} lists column {name:?} twice"));
            }
        }
    }
    if let Some(both) = features.iter().find(|f| request.targets.contains(f)) {
        return Err(format!(
            "{shown}: column {both:?} is both a target and a feature; a network that sees its answer learns nothing"
        ));
    }
    if features.is_empty() {
        return Err(format!("{shown}: no feature columns are left once the targets are taken out"));
    }

    Ok(features)
}

/// The targets, row-major: one-hot over `classes`, or the numbers of the target columns.
fn target_values(
    cells: &[Vec<String>],
    lines: &[u64],
    classes: Option<&[String]>,
    names: &[String],
    shown: &impl std::fmt::Display,
) -> Result<Vec<f32>, String> {
    let mut targets = Vec::with_capacity(lines.len() * cells.len());
    for (row, &line) in lines.iter().enumerate() {
        match classes {
            Some(names) => {
                let cell = &cells[0][row];
                targets.extend(names.iter().map(|n| if n == cell { 1.0 } else { 0.0 }));
            }
            None => {
                for (column, name) in cells.iter().zip(names) {
                    targets.push(number(&column[row]).map_err(|e| at(shown, line, name, e))?);
                }
            }
        }
    }
    Ok(targets)
}

/// The feature columns of a CSV file with a header, named as in `schema` (other columns, such
/// as the targets, are ignored), row-major: what `predict --csv` feeds a CSV run's network.
pub fn read_features(path: &Path, schema: &Schema) -> Result<Vec<f32>, String> {
    let shown = path.display();
    let text = read_bytes(path, "CSV", MAX_CSV_BYTES).and_then(utf8).map_err(|e| format!("{shown}: {e}"))?;
    let mut reader = Rows::new(&text).map_err(|e| format!("{shown}: {e}"))?;
    let header = &reader.header;
    let mut columns = Vec::new();
    for name in &schema.features {
        let found = header.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "{shown}: the run was trained on column {name:?}, which the header does not have{}; the run needs {}",
                suggest(name, header, '"'),
                crate::names::list(&schema.features, '"')
            )
        })?;
        columns.push(found);
    }
    let mut values = Vec::new();
    while let Some((line, record)) = reader.next_row().map_err(|e| format!("{shown}: {e}"))? {
        for (&c, name) in columns.iter().zip(&schema.features) {
            values.push(number(&record[c]).map_err(|e| at(&shown, line, name, e))?);
        }
    }
    if values.is_empty() {
        return Err(format!("{shown} has a header but no rows to predict"));
    }
    Ok(values)
}

/// The most classes a text target may have: more is an identifier or free text, not a label,
/// and its one-hot targets would take rows x classes x 4 bytes.
const MAX_CLASSES: usize = 1000;

/// The sorted class names when the one target column holds text; `None` for numeric targets.
/// `cells` holds each target column's cells, `lines` each row's line number.
fn class_names(
    cells: &[Vec<String>],
    lines: &[u64],
    request: &Request,
    file: &impl std::fmt::Display,
) -> Result<Option<Vec<String>>, String> {
    let names = request.targets;
    let mut text_columns = Vec::new();
    for (column, name) in cells.iter().zip(names) {
        // Asked for classes (`classes = true`, a cross-entropy loss): numbers are names too.
        let first = match (column.iter().position(|cell| number(cell).is_err()), request.classes) {
            (Some(first), _) => first,
            (None, true) => {
                text_columns.push((column, name));
                continue;
            }
            (None, false) => continue,
        };
        let numeric = column.iter().filter(|cell| number(cell).is_ok()).count();
        // Mostly numbers with a stray word is a typo in a numeric column, not a set of classes.
        if numeric * 2 > column.len() && !request.classes {
            let found = number(&column[first]).expect_err("found above");
            return Err(at(
                file,
                lines[first],
                name,
                format!("{found} (the other {numeric} rows are numbers)"),
            ));
        }
        if let Some(row) = column.iter().position(String::is_empty) {
            return Err(at(file, lines[row], name, "the cell is empty; expected a class name".into()));
        }
        text_columns.push((column, name));
    }
    let Some(&(column, name)) = text_columns.first() else { return Ok(None) };
    if cells.len() > 1 {
        return Err(format!(
            "{file}: column {name:?} holds text (class names), and a class column must be the only target; found targets {}",
            crate::names::list(names, '"')
        ));
    }
    let classes: BTreeSet<&str> = column.iter().map(String::as_str).collect();
    if classes.len() < 2 {
        return Err(format!("{file}: column {name:?} has a single class; classification needs at least 2"));
    }
    if classes.len() > MAX_CLASSES.min(column.len() / 2).max(2) {
        let some: Vec<&str> = classes.iter().take(3).copied().collect();
        return Err(format!(
            "{file}: column {name:?} has {} different values in {} rows ({}, ...): it looks like an identifier or free text, not classes; at most {MAX_CLASSES} classes, and half as many as rows, are accepted",
            classes.len(),
            column.len(),
            crate::names::list(&some, '"')
        ));
    }
    Ok(Some(classes.into_iter().map(str::to_string).collect()))
}

/// Per input column, the mean and the (population) standard deviation; a constant column gets
/// std 1, so that it reaches the network as 0 rather than as NaN.
fn scaling(table: &Table) -> (Vec<f32>, Vec<f32>) {
    let rows = table.rows() as f64;
    (0..table.input_width)
        .map(|c| {
            let column = || (0..table.rows()).map(|r| table.input_row(r)[c] as f64);
            let mean = column().sum::<f64>() / rows;
            let var = column().map(|v| (v - mean).powi(2)).sum::<f64>() / rows;
            // Relative to the mean only: a column that varies on a tiny scale is still a feature.
            // Identical values leave a spread of ~1e-16 of the mean from rounding in f64.
            let spread = var.sqrt();
            let std = if spread > 0.0 && spread > 1e-9 * mean.abs() { spread } else { 1.0 };
            (mean as f32, std as f32)
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, targets: &[&str]) -> Result<CsvData, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        CsvData::read(
            &path,
            &Request { targets: &targets, features: None, valid_fraction: 0.25, seed: 1, classes: false },
        )
    }

    #[test]
    fn a_text_target_becomes_sorted_classes_one_hot() {
        let data = read("a,kind\n1,dog\n2,cat\n3,dog\n4,cat\n", &["kind"]).unwrap();
        assert_eq!(data.schema.classes, Some(vec!["cat".to_string(), "dog".to_string()]));
        let mut pairs: Vec<(f32, Vec<f32>)> = (0..data.train.rows())
            .map(|r| (data.train.input_row(r)[0], data.train.target_row(r).to_vec()))
            .chain(
                (0..data.valid.rows())
                    .map(|r| (data.valid.input_row(r)[0], data.valid.target_row(r).to_vec())),
            )
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(pairs[0], (1.0, vec![0.0, 1.0]), "dog is class 1");
        assert_eq!(pairs[1], (2.0, vec![1.0, 0.0]), "cat is class 0");
    }

    #[test]
    fn scaling_comes_from_the_training_rows_and_a_constant_column_gets_std_one() {
        let data = read("a,b,y\n1,5,0\n2,5,1\n3,5,0\n4,5,1\n5,5,0\n6,5,1\n7,5,1\n8,5,0\n", &["y"]).unwrap();
        let a: Vec<f32> = (0..data.train.rows()).map(|r| data.train.input_row(r)[0]).collect();
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        assert!((data.schema.mean[0] - mean).abs() < 1e-6);
        assert_eq!((data.schema.mean[1], data.schema.std[1]), (5.0, 1.0));
    }

    #[test]
    fn a_feature_that_varies_on_a_tiny_scale_is_scaled_not_zeroed() {
        let data =
            read("a,y\n1e-14,0\n2e-14,1\n3e-14,0\n4e-14,1\n5e-14,0\n6e-14,1\n7e-14,1\n8e-14,0\n", &["y"])
                .unwrap();
        assert!(data.schema.std[0] < 1e-13, "std {}", data.schema.std[0]);
    }

    #[test]
    fn a_stray_word_in_a_numeric_column_names_its_line() {
        let err = read("a,y\n1,0\n2,1\n3,zero\n4,1\n5,0\n", &["y"]).unwrap_err();
        assert!(err.contains("t.csv:4: column \"y\"") && err.contains("\"zero\""), "{err}");
    }
}
