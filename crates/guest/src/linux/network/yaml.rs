//! A YAML subset for netplan and cloud-init configuration files.
//!
//! Supported: block mappings and sequences by indentation (a sequence may
//! sit at its key's indentation, as netplan files often write it), flow
//! sequences `[a, b]` and flow mappings `{k: v}` (also spread over lines),
//! plain, single- and double-quoted scalars, `#` comments, `---`, and
//! block scalars (`|`, `>`), kept as text. Not supported, and read as
//! plain text: anchors, aliases, tags, multi-document streams (the first
//! document is read). Aliases are deliberately not expanded: expansion is
//! how a small file becomes an exponentially large tree.
//!
//! Why not a crate: the maintained YAML crates either expand aliases
//! eagerly or have had unbounded recursion on nesting, and these files
//! use a small part of the language. Nesting deeper than [`MAX_DEPTH`]
//! is refused with an error naming the line.

/// Deepest nesting accepted (block and flow levels together).
pub const MAX_DEPTH: usize = 64;

/// Most lines read from one document.
pub const MAX_LINES: usize = 100_000;

/// A parsed YAML value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yaml {
    /// A mapping, keys in file order (a repeated key keeps both).
    Map(Vec<(String, Yaml)>),
    /// A sequence.
    List(Vec<Yaml>),
    /// A scalar, unquoted.
    Scalar(String),
    /// An empty value.
    Null,
}

impl Yaml {
    /// The value of `key` in a mapping (the last one if repeated).
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    /// Follows a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Yaml> {
        keys.iter().try_fold(self, |v, k| v.get(k))
    }
    /// A scalar's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Scalar(s) => Some(s),
            _ => None,
        }
    }
    /// A YAML 1.1 boolean (`true/yes/on`, `false/no/off`).
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_str()?.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "y" => Some(true),
            "false" | "no" | "off" | "n" => Some(false),
            _ => None,
        }
    }
    /// The mapping entries (empty for other values).
    pub fn entries(&self) -> &[(String, Yaml)] {
        match self {
            Yaml::Map(e) => e,
            _ => &[],
        }
    }
    /// A sequence's items as strings (a lone scalar counts as a
    /// one-item list, as cloud-init accepts `datasource_list: OpenStack`).
    pub fn string_list(&self) -> Vec<String> {
        match self {
            Yaml::List(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect(),
            Yaml::Scalar(s) => s
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Why a document was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

/// One significant line: number, indentation, content without comment.
#[derive(Debug, Clone)]
struct Line {
    number: usize,
    indent: usize,
    text: String,
}

/// Parses the first document of `text`.
pub fn parse(text: &str) -> Result<Yaml, YamlError> {
    let mut lines = Vec::new();
    let mut started = false;
    for (i, raw) in text.lines().enumerate().take(MAX_LINES) {
        let trimmed = raw.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            if started {
                break;
            }
            started = true;
            continue;
        }
        if trimmed == "..." {
            break;
        }
        let content = strip_comment(trimmed);
        if content.trim().is_empty() {
            continue;
        }
        started = true;
        let indent = content.len() - content.trim_start_matches(' ').len();
        lines.push(Line {
            number: i + 1,
            indent,
            text: content.trim().to_string(),
        });
    }
    let mut parser = Parser { lines, pos: 0 };
    if parser.lines.is_empty() {
        return Ok(Yaml::Null);
    }
    let indent = parser.lines.first().map_or(0, |l| l.indent);
    parser.block(indent, 0)
}

/// Removes a `#` comment that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') if prev_space || i == 0 => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev_space => return line.get(..i).unwrap_or(line),
            _ => {}
        }
        prev_space = c == ' ' || c == '\t' || c == '[' || c == '{' || c == ',';
    }
    line
}

/// Splits `key: value` at the first `:` followed by a space or the end,
/// outside quotes and brackets. `None` if the line is not a mapping entry.
fn split_key(text: &str) -> Option<(String, &str)> {
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') if i == 0 => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '[' | '{') if i == 0 => depth += 1,
            (None, ':') if depth == 0 => {
                let rest = text.get(i + 1..)?;
                if rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t') {
                    let key = unquote(text.get(..i)?.trim());
                    return Some((key, rest.trim()));
                }
            }
            _ => {}
        }
    }
    None
}

/// Removes matching outer quotes and resolves `''`/`\"` escapes.
fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 {
        if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            return inner.replace("''", "'");
        }
        if let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            return inner.replace("\\\"", "\"").replace("\\\\", "\\");
        }
    }
    s.to_string()
}

struct Parser {
    lines: Vec<Line>,
    pos: usize,
}

impl Parser {
    fn err(&self, reason: &str) -> YamlError {
        let line = self
            .lines
            .get(self.pos)
            .or_else(|| self.lines.last())
            .map_or(0, |l| l.number);
        YamlError {
            line,
            reason: reason.to_string(),
        }
    }

    fn peek(&self) -> Option<&Line> {
        self.lines.get(self.pos)
    }

    /// A block (mapping, sequence or lone scalar) at exactly `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Result<Yaml, YamlError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting deeper than the limit"));
        }
        let Some(first) = self.peek() else {
            return Ok(Yaml::Null);
        };
        if first.text == "-" || first.text.starts_with("- ") {
            self.sequence(indent, depth)
        } else if split_key(&first.text).is_some() {
            self.mapping(indent, depth)
        } else {
            let text = first.text.clone();
            self.pos += 1;
            self.value(&text, indent, depth)
        }
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Result<Yaml, YamlError> {
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent != indent || !(line.text == "-" || line.text.starts_with("- ")) {
                break;
            }
            let rest = line.text.get(1..).unwrap_or("");
            let offset = rest.len() - rest.trim_start().len() + 1;
            let rest = rest.trim().to_string();
            if rest.is_empty() {
                self.pos += 1;
                items.push(self.child(indent, depth)?);
            } else if split_key(&rest).is_some() || rest.starts_with("- ") {
                // "- key: v" opens a mapping at the column of "key".
                let number = line.number;
                if let Some(l) = self.lines.get_mut(self.pos) {
                    *l = Line {
                        number,
                        indent: indent + offset,
                        text: rest,
                    };
                }
                items.push(self.block(indent + offset, depth + 1)?);
            } else {
                self.pos += 1;
                items.push(self.value(&rest, indent, depth)?);
            }
        }
        Ok(Yaml::List(items))
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Result<Yaml, YamlError> {
        let mut entries = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent > indent {
                // Continuation of a multi-line plain scalar: not needed
                // by any reader here, skipped.
                self.pos += 1;
                continue;
            }
            if line.indent < indent {
                break;
            }
            let Some((key, rest)) = split_key(&line.text) else {
                break;
            };
            let rest = rest.to_string();
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.peek() {
                    // A sequence may sit at the key's own indentation.
                    Some(n)
                        if n.indent == indent && (n.text == "-" || n.text.starts_with("- ")) =>
                    {
                        self.sequence(indent, depth + 1)?
                    }
                    _ => self.child(indent, depth)?,
                }
            } else {
                self.value(&rest, indent, depth)?
            };
            entries.push((key, value));
        }
        Ok(Yaml::Map(entries))
    }

    /// The block under a line at `indent`, if the next line is deeper.
    fn child(&mut self, indent: usize, depth: usize) -> Result<Yaml, YamlError> {
        match self.peek() {
            Some(n) if n.indent > indent => {
                let child = n.indent;
                self.block(child, depth + 1)
            }
            _ => Ok(Yaml::Null),
        }
    }

    /// An inline value: block scalar header, flow collection or scalar.
    fn value(&mut self, text: &str, indent: usize, depth: usize) -> Result<Yaml, YamlError> {
        if text.starts_with('|') || text.starts_with('>') {
            let mut body = Vec::new();
            while let Some(n) = self.peek() {
                if n.indent <= indent {
                    break;
                }
                body.push(n.text.clone());
                self.pos += 1;
            }
            return Ok(Yaml::Scalar(body.join("\n")));
        }
        if text.starts_with('[') || text.starts_with('{') {
            let mut joined = text.to_string();
            let mut scan = Brackets::default();
            scan.feed(text);
            // A flow collection may continue on the following lines; each
            // line is scanned once.
            while scan.depth > 0 {
                let Some(n) = self.peek() else {
                    return Err(self.err("unclosed flow collection"));
                };
                scan.feed(&n.text);
                joined.push(' ');
                joined.push_str(&n.text);
                self.pos += 1;
            }
            let mut flow = Flow {
                chars: joined.chars().collect(),
                pos: 0,
            };
            return flow.value(depth).map_err(|reason| self.err(&reason));
        }
        Ok(Yaml::Scalar(unquote(text)))
    }
}

/// Bracket depth outside quotes, fed line by line.
#[derive(Default)]
struct Brackets {
    depth: i64,
    quote: Option<char>,
}

impl Brackets {
    fn feed(&mut self, text: &str) {
        for c in text.chars() {
            match (self.quote, c) {
                (None, '\'' | '"') => self.quote = Some(c),
                (Some(q), c) if c == q => self.quote = None,
                (None, '[' | '{') => self.depth += 1,
                (None, ']' | '}') => self.depth -= 1,
                _ => {}
            }
        }
    }
}

/// Flow-style (`[…]`, `{…}`) parser over characters.
struct Flow {
    chars: Vec<char>,
    pos: usize,
}

impl Flow {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Yaml, String> {
        if depth > MAX_DEPTH {
            return Err("nesting deeper than the limit".into());
        }
        self.skip_ws();
        match self.chars.get(self.pos) {
            Some('[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.chars.get(self.pos) {
                        Some(']') => {
                            self.pos += 1;
                            return Ok(Yaml::List(items));
                        }
                        Some(',') => self.pos += 1,
                        None => return Err("unclosed [".into()),
                        _ => items.push(self.value(depth + 1)?),
                    }
                }
            }
            Some('{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    self.skip_ws();
                    match self.chars.get(self.pos) {
                        Some('}') => {
                            self.pos += 1;
                            return Ok(Yaml::Map(entries));
                        }
                        Some(',') => self.pos += 1,
                        None => return Err("unclosed {".into()),
                        _ => {
                            let key = self.scalar(true);
                            self.skip_ws();
                            let value = if self.chars.get(self.pos) == Some(&':') {
                                self.pos += 1;
                                self.value(depth + 1)?
                            } else {
                                Yaml::Null
                            };
                            entries.push((key, value));
                        }
                    }
                }
            }
            _ => Ok(Yaml::Scalar(self.scalar(false))),
        }
    }

    /// A scalar up to `,`, `]`, `}` (and `:` for keys), quotes honoured.
    fn scalar(&mut self, key: bool) -> String {
        self.skip_ws();
        let mut out = String::new();
        if let Some(&q @ ('\'' | '"')) = self.chars.get(self.pos) {
            self.pos += 1;
            while let Some(&c) = self.chars.get(self.pos) {
                self.pos += 1;
                if c == q {
                    break;
                }
                out.push(c);
            }
            return out;
        }
        while let Some(&c) = self.chars.get(self.pos) {
            if c == ',' || c == ']' || c == '}' || (key && c == ':') {
                break;
            }
            out.push(c);
            self.pos += 1;
        }
        out.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netplan_shape() {
        let y = parse(
            "# netplan\nnetwork:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      match:\n        macaddress: \"52:54:00:12:34:56\"\n",
        )
        .unwrap();
        let eth0 = y.path(&["network", "ethernets", "eth0"]).unwrap();
        assert_eq!(eth0.get("dhcp4").and_then(Yaml::as_bool), Some(true));
        assert_eq!(
            eth0.path(&["match", "macaddress"]).and_then(Yaml::as_str),
            Some("52:54:00:12:34:56")
        );
    }

    #[test]
    fn sequences_and_flow() {
        let y = parse(
            "datasource_list: [ NoCloud, 'ConfigDrive' ]\ncloud_init_modules:\n - migrator\n - [ssh, always]\n - name: growpart\n   mode: auto\nusers:\n- default\nnetwork: {config: disabled}\nmulti: [ a,\n  b ]\n",
        )
        .unwrap();
        assert_eq!(
            y.get("datasource_list").unwrap().string_list(),
            ["NoCloud", "ConfigDrive"]
        );
        let mods = match y.get("cloud_init_modules").unwrap() {
            Yaml::List(l) => l.clone(),
            _ => panic!(),
        };
        assert_eq!(mods.len(), 3);
        assert_eq!(mods[2].get("name").and_then(Yaml::as_str), Some("growpart"));
        assert_eq!(mods[2].get("mode").and_then(Yaml::as_str), Some("auto"));
        assert_eq!(y.get("users").unwrap().string_list(), ["default"]);
        assert_eq!(
            y.path(&["network", "config"]).and_then(Yaml::as_str),
            Some("disabled")
        );
        assert_eq!(y.get("multi").unwrap().string_list(), ["a", "b"]);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let flow = format!("a: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&flow).unwrap_err().reason.contains("nesting"));
        let block: String = (0..500)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(parse(&block).unwrap_err().reason.contains("nesting"));
        let seq: String = (0..500).map(|i| format!("{}-\n", " ".repeat(i))).collect();
        assert!(parse(&seq).is_err());
    }

    #[test]
    fn many_unclosed_lines_are_linear() {
        let text = format!("a:\n{}", "  [\n".repeat(50_000));
        let start = std::time::Instant::now();
        assert!(parse(&text).is_err());
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn unclosed_flow_is_an_error() {
        assert!(parse("a: [b, c\n").is_err());
    }
}
