//! Rendering rows with fixed columns: an aligned text table (for a terminal), JSON lines (one
//! object per row, keys in column order, every value a string) or CSV (RFC 4180, header row).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{AccessError, Result};

/// The name [`TableWriter::new`] gives its output in errors (standard output, usually).
pub(crate) const OUTPUT: &str = "the output";

/// How rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputFormat {
    /// An aligned table with an upper-case header (buffered until [`TableWriter::finish`]).
    Table,
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header row.
    Csv,
}

/// Writes rows of a fixed set of columns in one [`OutputFormat`].
#[derive(Debug)]
pub struct TableWriter<W: Write> {
    out: W,
    /// What `out` is, for errors.
    target: PathBuf,
    format: OutputFormat,
    columns: Vec<String>,
    buffered: Vec<Vec<String>>,
    rows: u64,
}

impl<W: Write> TableWriter<W> {
    /// Starts a table (CSV writes its header row now).
    pub fn new(out: W, format: OutputFormat, columns: &[&str]) -> Result<Self> {
        Self::writing_to(out, Path::new(OUTPUT), format, columns)
    }

    /// Starts a table whose output is the file `target` (named in errors).
    pub(crate) fn writing_to(
        out: W,
        target: &Path,
        format: OutputFormat,
        columns: &[&str],
    ) -> Result<Self> {
        let mut w = Self {
            out,
            target: target.to_path_buf(),
            format,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            buffered: Vec::new(),
            rows: 0,
        };
        if format == OutputFormat::Csv {
            let header: Vec<String> = columns.iter().map(|c| csv_field(c)).collect();
            writeln!(w.out, "{}", header.join(",")).map_err(|e| w.write_error(e))?;
        }
        Ok(w)
    }

    /// Writes one row (as many values as columns; missing values are empty).
    pub fn row<S: AsRef<str>>(&mut self, values: &[S]) -> Result<()> {
        let value = |i: usize| values.get(i).map_or("", AsRef::as_ref);
        self.rows += 1;
        match self.format {
            OutputFormat::Table => {
                self.buffered.push(
                    (0..self.columns.len())
                        .map(|i| value(i).to_owned())
                        .collect(),
                );
                Ok(())
            }
            OutputFormat::Csv => {
                let fields: Vec<String> = (0..self.columns.len())
                    .map(|i| csv_field(value(i)))
                    .collect();
                writeln!(self.out, "{}", fields.join(",")).map_err(|e| self.write_error(e))
            }
            OutputFormat::JsonLines => {
                let mut line = String::from("{");
                for (i, column) in self.columns.iter().enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    line.push_str(&json_string(column));
                    line.push(':');
                    line.push_str(&json_string(value(i)));
                }
                line.push('}');
                writeln!(self.out, "{line}").map_err(|e| self.write_error(e))
            }
        }
    }

    /// Writes what is buffered (the text table) and flushes; returns the number of rows.
    pub fn finish(mut self) -> Result<u64> {
        if self.format == OutputFormat::Table {
            let header: Vec<String> = self.columns.iter().map(|c| c.to_uppercase()).collect();
            let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
            for row in &self.buffered {
                for (w, v) in widths.iter_mut().zip(row) {
                    *w = (*w).max(v.chars().count());
                }
            }
            let buffered = std::mem::take(&mut self.buffered);
            for row in std::iter::once(&header).chain(buffered.iter()) {
                let mut line = String::new();
                for (i, (v, w)) in row.iter().zip(&widths).enumerate() {
                    if i + 1 == row.len() {
                        line.push_str(v);
                    } else {
                        line.push_str(v);
                        line.extend(std::iter::repeat_n(' ', w - v.chars().count() + 2));
                    }
                }
                writeln!(self.out, "{}", line.trim_end()).map_err(|e| self.write_error(e))?;
            }
        }
        self.out.flush().map_err(|e| self.write_error(e))?;
        Ok(self.rows)
    }

    fn write_error(&self, e: std::io::Error) -> AccessError {
        AccessError::io("write to", &self.target, e)
    }
}

/// One CSV field: quoted when it holds a comma, a quote or a line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// A JSON string literal.
fn json_string(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const COLS: &[&str] = &["id", "name"];

    /// A reader that has gone away.
    #[derive(Debug)]
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_closed_output_is_told_apart_from_a_failed_file() {
        let stdout = TableWriter::new(ClosedPipe, OutputFormat::Csv, COLS).unwrap_err();
        assert!(stdout.is_closed_output(), "{stdout}");
        assert!(
            stdout
                .to_string()
                .starts_with("could not write to the output")
        );

        let file = Path::new("/exports/grants.csv");
        let export =
            TableWriter::writing_to(ClosedPipe, file, OutputFormat::Csv, COLS).unwrap_err();
        assert!(!export.is_closed_output(), "{export}");
        assert!(
            export.to_string().contains("/exports/grants.csv"),
            "{export}"
        );
    }

    fn render(format: OutputFormat, rows: &[[&str; 2]]) -> String {
        let mut out = Vec::new();
        let mut w = TableWriter::new(&mut out, format, COLS).unwrap();
        for r in rows {
            w.row(r).unwrap();
        }
        assert_eq!(w.finish().unwrap(), rows.len() as u64);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_three_formats() {
        let rows = [["u1", "Zoë, \"Z\""], ["user:2", ""]];
        assert_eq!(
            render(OutputFormat::Csv, &rows),
            "id,name\nu1,\"Zoë, \"\"Z\"\"\"\nuser:2,\n"
        );
        assert_eq!(
            render(OutputFormat::JsonLines, &rows),
            "{\"id\":\"u1\",\"name\":\"Zoë, \\\"Z\\\"\"}\n{\"id\":\"user:2\",\"name\":\"\"}\n"
        );
        assert_eq!(
            render(OutputFormat::Table, &rows),
            "ID      NAME\nu1      Zoë, \"Z\"\nuser:2\n"
        );
    }
}
