//! A CSV text read row by row, as `[data] csv` and `predict --csv` read it: the header checked,
//! every row as wide as it, each row's line number kept for messages, cells read as numbers.

/// The most columns a file may have: the widest input layer accepted.
const MAX_COLUMNS: usize = 100_000;

/// The rows of a CSV text after its header, one at a time, every row as wide as the header.
pub struct Rows<'a> {
    pub header: Vec<String>,
    text: &'a str,
    reader: csv::Reader<&'a [u8]>,
    record: csv::StringRecord,
    /// A byte offset and its 1-based line, where counting the next row's line resumes.
    counted: (usize, u64),
    /// Whether every row must be as wide as the header (not for [`Rows::numbers`]).
    as_wide: bool,
}

impl<'a> Rows<'a> {
    /// Reads and checks the header: every column named, no name twice.
    pub fn new(text: &'a str) -> Result<Rows<'a>, String> {
        let rows = Rows::numbers(text)?;
        for (i, name) in rows.header.iter().enumerate() {
            if name.is_empty() {
                return Err(format!(
                    "line 1: column {} has no name; the first line must name every column",
                    i + 1
                ));
            }
            if let Some(first) = rows.header[..i].iter().position(|h| h == name) {
                return Err(format!("line 1: columns {} and {} are both named {name:?}", first + 1, i + 1));
            }
        }
        Ok(Rows { as_wide: true, ..rows })
    }

    /// Rows of numbers whose first line may be a header or a row (the caller decides: it is
    /// `header`), each as wide as it likes: `predict --csv`, whose rows the network checks.
    pub fn numbers(text: &'a str) -> Result<Rows<'a>, String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut record = csv::StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(false) => {
                return Err("the file is empty; expected a header line of column names, then rows".into());
            }
            Err(e) => return Err(format!("line 1: {e}")),
            Ok(true) => {}
        }
        let header: Vec<String> = record.iter().map(str::to_string).collect();
        if header.len() > MAX_COLUMNS {
            return Err(format!(
                "the header has {} columns; at most {MAX_COLUMNS} are accepted",
                header.len()
            ));
        }
        Ok(Rows { header, text, reader, record, counted: (0, 1), as_wide: false })
    }

    /// The line the current record starts on. The csv crate's own count is off by one after a
    /// CRLF line end and after blank lines (its position is taken before it skips them), so
    /// the line is counted here, from the first byte of the record that is not a line end.
    fn line_of_record(&mut self) -> u64 {
        let bytes = self.text.as_bytes();
        let mut start = self.record.position().map_or(0, |p| p.byte() as usize).max(self.counted.0);
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        let (from, line) = self.counted;
        let line = line + bytes[from..start].iter().filter(|&&b| b == b'\n').count() as u64;
        self.counted = (start, line);
        line
    }

    /// The next row that is not blank, with its 1-based line number.
    pub fn next_row(&mut self) -> Result<Option<(u64, &csv::StringRecord)>, String> {
        loop {
            if !self.reader.read_record(&mut self.record).map_err(|e| e.to_string())? {
                return Ok(None);
            }
            let line = self.line_of_record();
            if self.record.len() == 1 && self.record[0].is_empty() {
                continue; // a blank line
            }
            if self.as_wide && self.record.len() != self.header.len() {
                return Err(format!(
                    "line {line}: expected {} cells, as in the header, found {}",
                    self.header.len(),
                    self.record.len()
                ));
            }
            return Ok(Some((line, &self.record)));
        }
    }
}

/// The bytes as text, or where the first byte that is not UTF-8 is.
pub fn utf8(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..offset];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
        format!("line {line}, byte {column} (offset {offset}): expected UTF-8 text, found a byte that is not")
    })
}

/// A cell as a finite number.
pub fn number(cell: &str) -> Result<f32, String> {
    if cell.is_empty() {
        return Err("the cell is empty; expected a number".into());
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= f32::MAX as f64 => Ok(v as f32),
        Ok(_) => Err(format!("expected a finite number, found {cell:?}")),
        Err(_) => Err(format!("expected a number, found {cell:?}")),
    }
}

/// Where a cell is, and what is wrong with it.
pub fn at(file: &impl std::fmt::Display, line: u64, column: &str, message: String) -> String {
    format!("{file}:{line}: column {column:?}: {message}")
}
