//! CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel shows Turkish letters
//! right), every cell quoted, and cells that a spreadsheet would run as a formula
//! neutralised with a leading apostrophe.

/// Starts a document: the byte-order mark and the header row.
pub fn document(header: &[&str]) -> String {
    let mut out = String::from("\u{feff}");
    row(&mut out, header.iter().copied());
    out
}

/// Appends one row.
pub fn row<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            out.push('\'');
        }
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quotes_doubled() {
        let mut out = document(&["a", "b"]);
        row(&mut out, ["=HYPERLINK(\"x\")", "Şükrü, \"İstanbul\""]);
        row(&mut out, ["@SUM(A1)", "-2+3"]);
        assert_eq!(
            out,
            "\u{feff}\"a\",\"b\"\r\n\"'=HYPERLINK(\"\"x\"\")\",\"Şükrü, \"\"İstanbul\"\"\"\r\n\"'@SUM(A1)\",\"'-2+3\"\r\n"
        );
    }
}
