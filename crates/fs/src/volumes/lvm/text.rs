//! The LVM2 text metadata format: `name { key = value }` sections,
//! numbers, strings and `[ ... ]` arrays, `#` comments.

use std::collections::BTreeMap;

/// Sections nest at most this deep (a VG's is 5 deep).
const MAX_DEPTH: usize = 16;
/// At most this many values in the whole text.
const MAX_ITEMS: usize = 1_000_000;

/// A value of the text format.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Int(i64),
    /// A quoted string.
    Str(String),
    /// An array.
    List(Vec<Value>),
    /// A section of named values, in order.
    Section(Section),
}

/// A section: its keys and values in the order written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    /// Keys and values.
    pub items: Vec<(String, Value)>,
}

impl Section {
    /// The first value named `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.items.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The number named `key`.
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.get(key) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// The string named `key`.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The section named `key`.
    pub fn section(&self, key: &str) -> Option<&Section> {
        match self.get(key) {
            Some(Value::Section(s)) => Some(s),
            _ => None,
        }
    }

    /// The subsections, by name.
    pub fn sections(&self) -> BTreeMap<&str, &Section> {
        self.items
            .iter()
            .filter_map(|(k, v)| match v {
                Value::Section(s) => Some((k.as_str(), s)),
                _ => None,
            })
            .collect()
    }

    /// The strings of the array named `key` (empty when absent).
    pub fn strings(&self, key: &str) -> Vec<&str> {
        match self.get(key) {
            Some(Value::List(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    items: usize,
}

/// Parses metadata text into its top-level section; the error says what
/// was expected and at which byte.
pub fn parse(text: &[u8]) -> Result<Section, String> {
    let mut p = Parser {
        text,
        pos: 0,
        items: 0,
    };
    let top = p.items_until(None, 0)?;
    Ok(top)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'#' {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.pos += 1;
                }
            } else if c.is_ascii_whitespace() || c == 0 {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn error(&self, expected: &str) -> String {
        format!("byte {}: expected {expected}", self.pos)
    }

    fn ident(&mut self) -> Result<String, String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"_.-+".contains(&c))
        {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("a name"));
        }
        Ok(
            String::from_utf8_lossy(self.text.get(start..self.pos).unwrap_or_default())
                .into_owned(),
        )
    }

    /// `key = value` and `name { ... }` items until `close` (or the end).
    fn items_until(&mut self, close: Option<u8>, depth: usize) -> Result<Section, String> {
        if depth > MAX_DEPTH {
            return Err(self.error(&format!("sections nested at most {MAX_DEPTH} deep")));
        }
        let mut section = Section::default();
        loop {
            self.skip_space();
            match (self.peek(), close) {
                (None, None) => return Ok(section),
                (None, Some(_)) => return Err(self.error("'}'")),
                (Some(c), Some(want)) if c == want => {
                    self.pos += 1;
                    return Ok(section);
                }
                _ => {}
            }
            let key = self.ident()?;
            self.skip_space();
            let value = match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    Value::Section(self.items_until(Some(b'}'), depth + 1)?)
                }
                Some(b'=') => {
                    self.pos += 1;
                    self.value(depth + 1)?
                }
                _ => return Err(self.error("'=' or '{' after a name")),
            };
            self.items += 1;
            if self.items > MAX_ITEMS {
                return Err(self.error(&format!("at most {MAX_ITEMS} values")));
            }
            section.items.push((key, value));
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        self.skip_space();
        match self.peek() {
            Some(b'"') => self.string().map(Value::Str),
            Some(b'[') => {
                if depth > MAX_DEPTH {
                    return Err(self.error(&format!("arrays nested at most {MAX_DEPTH} deep")));
                }
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::List(items));
                        }
                        Some(b',') => self.pos += 1,
                        None => return Err(self.error("']'")),
                        _ => {
                            items.push(self.value(depth + 1)?);
                            self.items += 1;
                            if self.items > MAX_ITEMS {
                                return Err(self.error(&format!("at most {MAX_ITEMS} values")));
                            }
                        }
                    }
                }
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == b'.') {
                    self.pos += 1;
                }
                let text =
                    String::from_utf8_lossy(self.text.get(start..self.pos).unwrap_or_default())
                        .into_owned();
                // Floats (rare, e.g. a version) keep their integer part.
                let int_part = text.split('.').next().unwrap_or_default();
                int_part
                    .parse::<i64>()
                    .map(Value::Int)
                    .map_err(|_| format!("byte {start}: number {text:?} out of range"))
            }
            _ => Err(self.error("a string, a number or '['")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error("a closing '\"'")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    if let Some(c) = self.peek() {
                        out.push(c);
                        self.pos += 1;
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_volume_group() {
        let text = br#"vg {
id = "abc"  # a comment
seqno = 3
status = ["RESIZEABLE", "READ"]
physical_volumes { pv0 { id = "x\"y" pe_start = 2048 } }
}
contents = "Text Format Volume Group"
"#;
        let top = parse(text).unwrap();
        let vg = top.section("vg").unwrap();
        assert_eq!(vg.int("seqno"), Some(3));
        assert_eq!(vg.strings("status"), vec!["RESIZEABLE", "READ"]);
        let pv = vg
            .section("physical_volumes")
            .unwrap()
            .section("pv0")
            .unwrap();
        assert_eq!(pv.str("id"), Some("x\"y"));
        assert!(parse(b"a { b = ").is_err());
        assert!(parse(&[b'['; 100]).is_err());
        let deep = "a {".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
