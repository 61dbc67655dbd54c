//! A `;`-separated record reader with the quoting rules of Python's `csv`
//! module (the reader pabulib files are written for): a field starting with
//! `"` is quoted, `""` inside it is one `"`, it may contain `;` and line
//! breaks, and text after its closing quote is kept as it is. Records end
//! at `\n`, `\r\n` or `\r`.

use std::borrow::Cow;

/// One record: the line it starts on (1-based) and its fields.
pub(crate) struct Record<'a> {
    pub line: usize,
    pub fields: Vec<Cow<'a, str>>,
    /// Whether the first field was quoted (a quoted name is never a section line).
    pub first_quoted: bool,
}

/// Iterator over the records of a text.
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

/// A quoted field was not closed before the end of the text.
#[derive(Debug)]
pub(crate) struct Unterminated {
    pub line: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader { text, pos: 0, line: 1 }
    }

    /// The next record, `None` at the end of the text. Blank lines give a
    /// record with one empty field.
    pub fn next_record(&mut self) -> Option<Result<Record<'a>, Unterminated>> {
        let bytes = self.text.as_bytes();
        if self.pos >= bytes.len() {
            return None;
        }
        let start_line = self.line;
        let mut fields: Vec<Cow<'a, str>> = Vec::new();
        let first_quoted = bytes.get(self.pos) == Some(&b'"');
        loop {
            // Start of a field.
            if bytes.get(self.pos) == Some(&b'"') {
                let quote_line = self.line;
                let mut buf = String::new();
                self.pos += 1;
                let mut seg = self.pos;
                loop {
                    match bytes.get(self.pos) {
                        None => return Some(Err(Unterminated { line: quote_line })),
                        Some(b'"') => {
                            if bytes.get(self.pos + 1) == Some(&b'"') {
                                buf.push_str(&self.text[seg..self.pos + 1]);
                                self.pos += 2;
                                seg = self.pos;
                            } else {
                                buf.push_str(&self.text[seg..self.pos]);
                                self.pos += 1;
                                break;
                            }
                        }
                        Some(b'\n') => {
                            self.line += 1;
                            self.pos += 1;
                        }
                        Some(b'\r') => {
                            if bytes.get(self.pos + 1) != Some(&b'\n') {
                                self.line += 1;
                            }
                            self.pos += 1;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                // Text after the closing quote is kept as is (Python's lenient mode).
                buf.push_str(self.unquoted());
                fields.push(Cow::Owned(buf));
            } else {
                fields.push(Cow::Borrowed(self.unquoted()));
            }
            // After a field: a separator, an end of line or the end.
            match bytes.get(self.pos) {
                Some(b';') => self.pos += 1,
                Some(b'\r') => {
                    self.pos += 1 + usize::from(bytes.get(self.pos + 1) == Some(&b'\n'));
                    self.line += 1;
                    break;
                }
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                    break;
                }
                _ => break,
            }
        }
        Some(Ok(Record { line: start_line, fields, first_quoted }))
    }

    /// The text from here to the next `;`, line end or end of text.
    fn unquoted(&mut self) -> &'a str {
        let start = self.pos;
        let rest = &self.text.as_bytes()[start..];
        self.pos += rest.iter().position(|b| matches!(b, b';' | b'\n' | b'\r')).unwrap_or(rest.len());
        &self.text[start..self.pos]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(usize, Vec<String>)> {
        let mut r = Reader::new(text);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record() {
            let rec = rec.expect("terminated");
            out.push((rec.line, rec.fields.iter().map(|f| f.to_string()).collect()));
        }
        out
    }

    #[test]
    fn quoting_like_python() {
        let recs = all("a;\"b;c\";d\r\n\"x\"\"y\";\"Odkupmy\" i my\n\"multi\nline\";z\n\nlast");
        assert_eq!(recs[0], (1, vec!["a".into(), "b;c".into(), "d".into()]));
        assert_eq!(recs[1], (2, vec!["x\"y".into(), "Odkupmy i my".into()]));
        assert_eq!(recs[2], (3, vec!["multi\nline".into(), "z".into()]));
        assert_eq!(recs[3], (5, vec!["".into()]));
        assert_eq!(recs[4], (6, vec!["last".into()]));
        assert_eq!(recs.len(), 5);
    }

    #[test]
    fn unterminated_quote() {
        let mut r = Reader::new("a\n\"open;b\nc");
        assert!(r.next_record().expect("one").is_ok());
        match r.next_record() {
            Some(Err(Unterminated { line })) => assert_eq!(line, 2),
            _ => panic!("expected an unterminated quote"),
        }
    }

    #[test]
    fn trailing_separator() {
        assert_eq!(all("a;b;\n"), vec![(1, vec!["a".into(), "b".into(), "".into()])]);
    }
}
