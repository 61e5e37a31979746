//! The YAML a manifest is written in, read into a small tree of [`Node`]s.
//!
//! Why sesame reads YAML itself: it sits on the start path of every container, and a
//! general YAML library cost ~49,000 instructions and ~15 µs per secret, and ~700 KB of
//! the binary (issue 5's budgets are 5 µs a secret and 2 MB in all). This reader covers
//! the YAML 1.2 that people write configuration in: block mappings and sequences, flow
//! `[…]` and `{…}` (over several lines too), plain, single- and double-quoted scalars
//! (every escape, line folding), literal `|` and folded `>` block scalars with their
//! chomping and indentation indicators, comments, `---`/`...`, anchors, aliases and
//! `<<` merge keys. What a manifest never needs is refused with its line and column:
//! tags (`!!str`), directives (`%YAML`), complex keys (`? `), anchors on keys, `key:
//! value` pairs inside `[…]`, content on a `---` line, several documents.
//!
//! Rules stricter than YAML's letter, on purpose:
//! - a key written twice in one mapping is an error (a parser that keeps the last one
//!   would let a second `required: false` silently win); keys are compared as text;
//! - tabs may not indent, nor separate `-` from a nested list or mapping (they make
//!   indentation ambiguous);
//! - a key in `{…}` and its `:` are on one line.
//!
//! `fuzz/fuzz_targets/yaml_differential.rs` reads every input with this reader and with
//! serde-saphyr and lists each difference that remains, with a minimal input and why.
//!
//! Scalars stay text: the manifest decides what `true`, `10` or `~` mean for each key
//! ([`Value::Null`] only marks an empty or `null`/`~` plain scalar). Scalars and keys
//! borrow from the text unless escapes or line folding changed them, so a typical
//! manifest parses with one allocation a mapping or list. Positions are byte offsets
//! into the text; [`mark`] turns one into a line and column when a message needs it, so
//! the parse itself does no line bookkeeping.

use std::borrow::Cow;
use std::fmt;

/// Deeper nesting is refused: no manifest needs it, and it bounds the recursion.
const MAX_DEPTH: usize = 64;
/// Why `a: b: c` is refused (YAML's own words, and the usual fix).
const MAPPING_VALUE: &str =
    "mapping values are not allowed here (quote a value that contains \": \")";

/// Nodes that aliases may copy in all (a "billion laughs" document is refused).
const MAX_ALIAS_NODES: usize = 100_000;

/// One node of the tree and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node<'t> {
    pub value: Value<'t>,
    /// Byte offset of the node's first character (for [`mark`]).
    pub at: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value<'t> {
    /// An empty value, or a plain `null`, `Null`, `NULL` or `~`.
    Null,
    /// A scalar's text, and whether it was written plain (unquoted): only a plain
    /// scalar can mean a number or a boolean.
    Scalar {
        text: Cow<'t, str>,
        plain: bool,
    },
    Seq(Vec<Node<'t>>),
    /// Entries in the order written; keys are unique.
    Map(Vec<Entry<'t>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry<'t> {
    pub key: Cow<'t, str>,
    /// Byte offset of the key.
    pub key_at: usize,
    pub value: Node<'t>,
}

impl<'t> Node<'t> {
    /// The entries of a mapping; an empty list for a null value (`NAME:` with nothing
    /// after it), `None` for anything else.
    pub fn entries(&self) -> Option<&[Entry<'t>]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            Value::Null => Some(&[]),
            _ => None,
        }
    }

    /// What kind of node this is, for messages ("found a list").
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A line and column, both counted from 1 (columns in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why the text is not YAML this reader accepts, and where.
#[derive(Debug, PartialEq, Eq)]
pub struct Error {
    pub mark: Mark,
    pub message: String,
}

/// Line and column of the byte offset `at` in `text`.
pub fn mark(text: &str, at: usize) -> Mark {
    let before = &text.as_bytes()[..at.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    // Columns count characters: skip UTF-8 continuation bytes.
    let bom = usize::from(line == 1 && text.starts_with('\u{feff}') && at >= 3);
    let column = 1 + before[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count()
        - bom;
    Mark { line, column }
}

/// The text with `\r\n` (and a lone `\r`) as `\n`, which [`parse`] needs; every line
/// and column stays where it was.
pub fn normalize(text: &str) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Parses one YAML document whose line breaks are `\n` (see [`normalize`]). An empty
/// document (only comments) is a null root.
pub fn parse(text: &str) -> Result<Node<'_>, Error> {
    // YAML's printable characters exclude the C0 and C1 controls (but tab, line feed
    // and U+0085), DEL, U+FFFE and U+FFFF. A branch-free pass over 64-byte blocks
    // first (it vectorises) looks for the bytes they start with; only then are the
    // characters looked at.
    let suspect =
        |b: &u8| *b < 0x20 && *b != b'\n' && *b != b'\t' || *b == 0x7f || *b == 0xC2 || *b == 0xEF;
    let any = text
        .as_bytes()
        .chunks(64)
        .any(|block| block.iter().fold(false, |seen, b| seen | suspect(b)));
    let unprintable = |c: char| {
        c < ' ' && c != '\n' && c != '\t'
            || ('\u{7f}'..='\u{9f}').contains(&c) && c != '\u{85}'
            || c == '\u{fffe}'
            || c == '\u{ffff}'
    };
    if any && let Some((i, _)) = text.char_indices().find(|&(_, c)| unprintable(c)) {
        return Err(Error {
            mark: mark(text, i),
            message: "control characters are not allowed in YAML".into(),
        });
    }
    if let Some((i, _)) = text.match_indices('\u{feff}').find(|&(i, _)| i > 0) {
        return Err(Error {
            mark: mark(text, i),
            message: "a byte order mark may only start the text".into(),
        });
    }
    Parser::new(text).document().map_err(|(at, message)| Error {
        mark: mark(text, at),
        message,
    })
}

type PResult<T> = std::result::Result<T, (usize, String)>;

fn fail<T>(at: usize, message: impl Into<String>) -> PResult<T> {
    Err((at, message.into()))
}

/// Where a node starts, which decides what it may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// At the start of its own line, or after `- `: any node.
    Line,
    /// After `key: ` on the key's line: not a mapping or a block sequence.
    AfterKey,
}

struct Parser<'t> {
    text: &'t str,
    s: &'t [u8],
    pos: usize,
    /// Where the first line starts: after a byte order mark, if there is one.
    bom: usize,
    depth: usize,
    /// Anchors in the order written; `None` while the anchored node is being read (an
    /// alias to it from inside would make a cycle).
    anchors: Vec<(&'t str, Option<Node<'t>>)>,
    alias_nodes: usize,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Blank, line break or end of text: what must follow `-`, `:` or `?` as indicators.
fn is_break_or_blank(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\n' || b == 0
}

fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Self {
        // A byte order mark is not content: the text starts after it.
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Parser {
            text,
            s: text.as_bytes(),
            pos: bom,
            bom,
            depth: 0,
            anchors: Vec::new(),
            alias_nodes: 0,
        }
    }

    /// The byte at `i`, or 0 past the end (the text has no NUL: `parse` refused it).
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    /// Byte column of `i` on its line (0-based). Indentation is spaces, so bytes suffice.
    fn column(&self, i: usize) -> usize {
        i - self.s[..i]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(self.bom, |n| n + 1)
    }

    /// Whether `i` is the first byte of a line.
    fn starts_line(&self, i: usize) -> bool {
        i == self.bom || i > 0 && self.at(i - 1) == b'\n'
    }

    /// Whether `i` starts a `---` or `...` line.
    fn is_document_marker(&self, i: usize) -> bool {
        self.starts_line(i)
            && (self.s[i..].starts_with(b"---") || self.s[i..].starts_with(b"..."))
            && is_break_or_blank(self.at(i + 3))
    }

    fn skip_blanks(&mut self) {
        while is_blank(self.peek()) {
            self.pos += 1;
        }
    }

    fn skip_to_line_end(&mut self) {
        self.pos = self.s[self.pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.s.len(), |i| self.pos + i);
    }

    /// Skips blanks, comments and empty lines up to the next content; returns its
    /// column, or `None` at the end of the text. A tab before content that starts a
    /// line is an error (tabs may not indent).
    fn next_content(&mut self) -> PResult<Option<usize>> {
        loop {
            let line_start = self.starts_line(self.pos);
            let start = self.pos;
            self.skip_blanks();
            match self.peek() {
                b'#' => self.skip_to_line_end(),
                b'\n' => self.pos += 1,
                0 => return Ok(None),
                _ => {
                    if line_start && self.s[start..self.pos].contains(&b'\t') {
                        return fail(start, "tabs are not allowed for indentation");
                    }
                    return Ok(Some(self.column(self.pos)));
                }
            }
        }
    }

    /// After a value on its line: only blanks and a comment may follow.
    fn end_of_line(&mut self) -> PResult<()> {
        self.skip_blanks();
        let had_blank = self.pos == 0 || is_break_or_blank(self.at(self.pos - 1));
        match self.peek() {
            b'\n' | 0 => Ok(()),
            b'#' if had_blank => {
                self.skip_to_line_end();
                Ok(())
            }
            b':' => fail(self.pos, MAPPING_VALUE),
            _ => fail(self.pos, "unexpected text after the value"),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return fail(
                self.pos,
                format!("nested more than {MAX_DEPTH} levels deep"),
            );
        }
        Ok(())
    }

    fn document(&mut self) -> PResult<Node<'t>> {
        let mut root = None;
        if self.next_content()?.is_some() {
            if self.peek() == b'%' {
                return fail(
                    self.pos,
                    "YAML directives (%) are not supported in a manifest",
                );
            }
            if self.is_document_marker(self.pos) && self.peek() == b'-' {
                self.pos += 3;
                self.end_of_line()?;
            }
        }
        if self.next_content()?.is_some() && !self.is_document_marker(self.pos) {
            root = Some(self.node(-1, Place::Line)?);
        }
        let ended = self.next_content()?.is_some()
            && self.is_document_marker(self.pos)
            && self.s[self.pos..].starts_with(b"...");
        if ended {
            self.pos += 3;
            self.end_of_line()?;
        }
        if self.next_content()?.is_some() {
            return fail(
                self.pos,
                if self.is_document_marker(self.pos) || ended {
                    "a manifest is one YAML document (found a second one)"
                } else {
                    "unexpected text (check the indentation)"
                },
            );
        }
        Ok(root.unwrap_or(Node {
            value: Value::Null,
            at: 0,
        }))
    }

    /// A node in block context starting at `self.pos` (on content), inside a block
    /// whose lines are indented `parent` (-1 at the root).
    fn node(&mut self, parent: isize, place: Place) -> PResult<Node<'t>> {
        self.enter()?;
        let node = self.node_inner(parent, place);
        self.depth -= 1;
        node
    }

    fn node_inner(&mut self, parent: isize, place: Place) -> PResult<Node<'t>> {
        let at = self.pos;
        let c = self.peek();
        let next = self.at(at + 1);
        match c {
            b'-' if is_break_or_blank(next) => {
                if place == Place::AfterKey {
                    return fail(at, "a list must start on the line after its key");
                }
                self.block_seq()
            }
            b'&' => self.anchored(parent, place),
            b'*' => {
                let node = self.alias()?;
                self.skip_blanks();
                if self.peek() == b':' {
                    return fail(at, "an alias cannot be a key");
                }
                self.end_of_line()?;
                Ok(node)
            }
            b'!' => fail(at, "YAML tags (!) are not supported in a manifest"),
            b'%' | b'@' | b'`' => fail(
                at,
                format!("{:?} cannot start a plain value: quote it", c as char),
            ),
            b'?' if is_break_or_blank(next) => {
                fail(at, "complex keys (? ) are not supported in a manifest")
            }
            b':' if is_break_or_blank(next) => fail(at, "a key is missing before ':'"),
            b']' | b'}' | b',' => fail(at, format!("unexpected {:?}", c as char)),
            b'|' | b'>' => self.block_scalar(parent),
            b'[' | b'{' => {
                let node = self.flow_node()?;
                self.skip_blanks();
                if self.peek() == b':' {
                    return fail(at, "a key must be a plain or quoted scalar");
                }
                self.end_of_line()?;
                Ok(node)
            }
            b'\'' | b'"' => {
                let text = self.quoted()?;
                self.skip_blanks();
                if self.peek() == b':' && is_break_or_blank(self.at(self.pos + 1)) {
                    if place == Place::AfterKey {
                        return fail(self.pos, MAPPING_VALUE);
                    }
                    if self.s[at..self.pos].contains(&b'\n') {
                        return fail(at, "a key must fit on one line");
                    }
                    return self.block_map(at, Some(text));
                }
                self.end_of_line()?;
                Ok(Node {
                    value: Value::Scalar { text, plain: false },
                    at,
                })
            }
            _ => {
                let (end, is_key) = self.plain_line(at);
                if is_key {
                    if place == Place::AfterKey {
                        return fail(end, MAPPING_VALUE);
                    }
                    return self.block_map(at, None);
                }
                self.plain_block(parent, at, end)
            }
        }
    }

    /// `&name` and the node it names (on this line, or below).
    fn anchored(&mut self, parent: isize, place: Place) -> PResult<Node<'t>> {
        let at = self.pos;
        let slot = self.open_anchor()?;
        self.skip_blanks();
        let node = match self.peek() {
            b'\n' | 0 | b'#' => {
                self.end_of_line()?;
                let starts_list = |p: &Self| p.peek() == b'-' && is_break_or_blank(p.at(p.pos + 1));
                match self.next_content()? {
                    Some(_) if self.is_document_marker(self.pos) => Node {
                        value: Value::Null,
                        at,
                    },
                    Some(col) if col as isize > parent && self.peek() == b'&' => {
                        return fail(self.pos, "a node has one anchor");
                    }
                    Some(col) if col as isize > parent => self.node(parent, Place::Line)?,
                    // `key: &a` and its list below, at the key's own indentation.
                    Some(col)
                        if col as isize == parent
                            && place == Place::AfterKey
                            && starts_list(self) =>
                    {
                        self.node(parent, Place::Line)?
                    }
                    _ => Node {
                        value: Value::Null,
                        at,
                    },
                }
            }
            b'&' => return fail(self.pos, "a node has one anchor"),
            b'*' => return fail(self.pos, "an alias cannot have an anchor"),
            b'-' if is_break_or_blank(self.at(self.pos + 1)) => {
                return fail(self.pos, "a list must start on the line after its anchor");
            }
            c => {
                // `&a key: value` would anchor the key, which a manifest has no use for.
                let quoted_or_flow = matches!(c, b'[' | b'{' | b'|' | b'>' | b'\'' | b'"');
                if !quoted_or_flow && self.plain_line(self.pos).1 {
                    return fail(at, "anchors on keys are not supported in a manifest");
                }
                self.node(parent, place)?
            }
        };
        self.anchors[slot].1 = Some(node.clone());
        Ok(node)
    }

    /// The name after an `&` or `*` at `self.pos` (maybe empty); leaves `self.pos` after it.
    fn indicator_name(&mut self) -> &'t str {
        self.pos += 1;
        let start = self.pos;
        while !is_break_or_blank(self.peek()) && !is_flow_indicator(self.peek()) {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// Reads `&name` and takes its slot, which the node fills once it is read: taken now,
    /// so anchors stay in the order they are written (an alias names the latest one
    /// before it), and an alias from inside the node finds it still empty (a cycle).
    fn open_anchor(&mut self) -> PResult<usize> {
        let at = self.pos;
        let name = self.indicator_name();
        if name.is_empty() {
            return fail(at, "an anchor needs a name");
        }
        self.anchors.push((name, None));
        Ok(self.anchors.len() - 1)
    }

    /// `*name`: a copy of the node the anchor named.
    fn alias(&mut self) -> PResult<Node<'t>> {
        let at = self.pos;
        let name = self.indicator_name();
        let node = match self.anchors.iter().rev().find(|(n, _)| *n == name) {
            None => return fail(at, format!("alias *{name} names no anchor before it")),
            Some((_, None)) => {
                return fail(
                    at,
                    format!("alias *{name} is inside the node it names (a cycle)"),
                );
            }
            Some((_, Some(node))) => node,
        };
        self.alias_nodes += count_nodes(node);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return fail(at, "aliases expand to too many nodes");
        }
        let mut node = node.clone();
        node.at = at;
        Ok(node)
    }

    /// Scans the first line of a plain scalar in block context from `start`: where it
    /// ends, and whether it is a key (`text:` followed by a blank or the line's end).
    fn plain_line(&self, start: usize) -> (usize, bool) {
        // Only `:`, `#` and the line's end can end it: skip to the next of those.
        let trimmed = |i: usize| {
            start
                + self.s[start..i]
                    .iter()
                    .rposition(|&b| !is_blank(b))
                    .map_or(0, |n| n + 1)
        };
        let mut i = start;
        loop {
            let Some(n) = self.s[i..]
                .iter()
                .position(|&b| matches!(b, b':' | b'#' | b'\n'))
            else {
                return (trimmed(self.s.len()), false);
            };
            i += n;
            match self.s[i] {
                b':' if is_break_or_blank(self.at(i + 1)) => return (trimmed(i), true),
                b'#' if i > start && is_blank(self.s[i - 1]) => return (trimmed(i), false),
                b'\n' => return (trimmed(i), false),
                _ => i += 1,
            }
        }
    }

    /// A plain scalar in block context: its first line ends at `end`; lines indented
    /// more than `parent` continue it (folded: one line break is a space, each empty
    /// line a newline). A comment ends it.
    fn plain_block(&mut self, parent: isize, at: usize, end: usize) -> PResult<Node<'t>> {
        let mut text = Cow::Borrowed(&self.text[at..end]);
        self.pos = end;
        self.end_of_line()?;
        // A comment ends it: a line after a comment cannot continue it.
        let mut commented = self.s[end..self.pos].contains(&b'#');
        while !commented {
            // Look ahead: empty lines, then a line indented more than `parent`.
            let save = self.pos;
            let mut empty = 0;
            let mut i = self.pos;
            let content = loop {
                if self.at(i) != b'\n' {
                    break None;
                }
                i += 1;
                let line = i;
                while self.at(i) == b' ' {
                    i += 1;
                }
                let mut j = i;
                while is_blank(self.at(j)) {
                    j += 1;
                }
                match self.at(j) {
                    // A line of blanks is empty (tabs too).
                    b'\n' => {
                        empty += 1;
                        i = j;
                    }
                    0 | b'#' => break None,
                    // A tab before content: not indentation this scalar can take.
                    _ if j > i => break None,
                    _ if (i - line) as isize > parent && !self.is_document_marker(line) => {
                        break Some(i);
                    }
                    _ => break None,
                }
            };
            let Some(start) = content else {
                self.pos = save;
                break;
            };
            let (line_end, is_key) = self.plain_line(start);
            if is_key {
                return fail(
                    line_end,
                    "mapping values are not allowed here (is the line above missing a ':'?, or quote a value that contains \": \")",
                );
            }
            let folded = text.to_mut();
            if empty == 0 {
                folded.push(' ');
            } else {
                folded.extend(std::iter::repeat_n('\n', empty));
            }
            folded.push_str(&self.text[start..line_end]);
            self.pos = line_end;
            self.end_of_line()?;
            commented = self.s[line_end..self.pos].contains(&b'#');
        }
        Ok(Node {
            value: plain_value(text),
            at,
        })
    }

    /// A block mapping whose first key starts at `at`; `quoted` is that key when it was
    /// quoted (already read, `self.pos` at its `:`).
    fn block_map(&mut self, at: usize, quoted: Option<Cow<'t, str>>) -> PResult<Node<'t>> {
        let indent = self.column(at);
        let mut entries: Vec<Entry> = Vec::new();
        let mut merges = Vec::new();
        let mut first = quoted.map(|k| (k, false));
        loop {
            let key_at = if first.is_some() { at } else { self.pos };
            let (key, plain) = match first.take() {
                Some(k) => k,
                None => self.block_key()?,
            };
            self.pos += 1; // the ':'
            self.skip_blanks();
            let value = match self.peek() {
                b'\n' | 0 | b'#' => {
                    self.end_of_line()?;
                    let value_at = self.pos;
                    match self.next_content()? {
                        Some(col) if col > indent => self.node(indent as isize, Place::Line)?,
                        Some(col)
                            if col == indent
                                && self.peek() == b'-'
                                && is_break_or_blank(self.at(self.pos + 1)) =>
                        {
                            self.enter()?;
                            let seq = self.block_seq();
                            self.depth -= 1;
                            seq?
                        }
                        _ => Node {
                            value: Value::Null,
                            at: value_at,
                        },
                    }
                }
                _ => self.node(indent as isize, Place::AfterKey)?,
            };
            if plain && key == "<<" {
                merges.push((entries.len(), value));
            } else {
                entries.push(Entry { key, key_at, value });
            }
            match self.next_content()? {
                Some(col) if col == indent && !self.is_document_marker(self.pos) => {}
                Some(col) if col > indent => {
                    return fail(
                        self.pos,
                        "this line is indented more than the keys above it",
                    );
                }
                _ => break,
            }
            match self.peek() {
                b'-' if is_break_or_blank(self.at(self.pos + 1)) => {
                    return fail(
                        self.pos,
                        "a list item where a key was expected (check the indentation)",
                    );
                }
                b'?' if is_break_or_blank(self.at(self.pos + 1)) => {
                    return fail(
                        self.pos,
                        "complex keys (? ) are not supported in a manifest",
                    );
                }
                _ => {}
            }
        }
        Ok(Node {
            value: Value::Map(merge(unique(entries)?, merges)?),
            at,
        })
    }

    /// A key in a block mapping (`self.pos` at its first character), up to its `:`.
    fn block_key(&mut self) -> PResult<(Cow<'t, str>, bool)> {
        let at = self.pos;
        match self.peek() {
            b'\'' | b'"' => {
                let key = self.quoted()?;
                if self.s[at..self.pos].contains(&b'\n') {
                    return fail(at, "a key must fit on one line");
                }
                self.skip_blanks();
                if self.peek() != b':' || !is_break_or_blank(self.at(self.pos + 1)) {
                    return fail(self.pos, "expected ':' after the key");
                }
                Ok((key, false))
            }
            b'&' => fail(at, "anchors on keys are not supported in a manifest"),
            b'*' => fail(at, "an alias cannot be a key"),
            b'!' => fail(at, "YAML tags (!) are not supported in a manifest"),
            b'[' | b'{' => fail(at, "a key must be a plain or quoted scalar"),
            b'|' | b'>' | b'%' | b'@' | b'`' | b',' | b']' | b'}' => fail(
                at,
                format!("{:?} cannot start a key: quote it", self.peek() as char),
            ),
            _ => {
                let (end, is_key) = self.plain_line(at);
                if is_key && end == at {
                    return fail(at, "a key is missing before ':'");
                }
                if !is_key {
                    return fail(
                        end.max(at),
                        "expected a key and ':' (check the indentation and the line above)",
                    );
                }
                // `plain_line` stopped at the ':' (after any blanks).
                let colon = self.s[end..]
                    .iter()
                    .position(|&b| b == b':')
                    .map_or(end, |i| end + i);
                self.pos = colon;
                Ok((Cow::Borrowed(&self.text[at..end]), true))
            }
        }
    }

    /// A block sequence whose first `-` is at `self.pos`.
    fn block_seq(&mut self) -> PResult<Node<'t>> {
        let at = self.pos;
        let indent = self.column(at);
        let mut items = Vec::new();
        loop {
            self.pos += 1; // the '-'
            let dash = self.pos;
            self.skip_blanks();
            // `-\t- a` or `-\tkey: v`: a tab would be the nested block's indentation.
            let tabbed = self.s[dash..self.pos].contains(&b'\t');
            let c = self.peek();
            let nested_block = c == b'-' && is_break_or_blank(self.at(self.pos + 1))
                || !matches!(
                    c,
                    b'[' | b'{' | b'|' | b'>' | b'\'' | b'"' | b'#' | b'\n' | 0
                ) && self.plain_line(self.pos).1;
            if tabbed && nested_block {
                return fail(dash, "tabs are not allowed for indentation");
            }
            let item = match self.peek() {
                b'\n' | 0 | b'#' => {
                    self.end_of_line()?;
                    let item_at = self.pos;
                    match self.next_content()? {
                        Some(col) if col > indent => self.node(indent as isize, Place::Line)?,
                        _ => Node {
                            value: Value::Null,
                            at: item_at,
                        },
                    }
                }
                _ => self.node(indent as isize, Place::Line)?,
            };
            items.push(item);
            match self.next_content()? {
                Some(col)
                    if col == indent
                        && self.peek() == b'-'
                        && is_break_or_blank(self.at(self.pos + 1))
                        && !self.is_document_marker(self.pos) => {}
                Some(col) if col > indent => {
                    return fail(
                        self.pos,
                        "this line is indented more than the list items above it",
                    );
                }
                _ => break,
            }
        }
        Ok(Node {
            value: Value::Seq(items),
            at,
        })
    }

    /// A literal (`|`) or folded (`>`) block scalar; `self.pos` at the indicator.
    fn block_scalar(&mut self, parent: isize) -> PResult<Node<'t>> {
        let at = self.pos;
        let folded = self.peek() == b'>';
        self.pos += 1;
        let mut chomp = b' ';
        let mut explicit = None;
        for _ in 0..2 {
            match self.peek() {
                b'-' | b'+' if chomp == b' ' => chomp = self.peek(),
                d @ b'1'..=b'9' if explicit.is_none() => explicit = Some((d - b'0') as usize),
                _ => break,
            }
            self.pos += 1;
        }
        if !is_break_or_blank(self.peek()) {
            return fail(
                self.pos,
                "a block scalar header is | or >, then optionally 1-9 and - or +",
            );
        }
        self.end_of_line()?;
        // The content's indentation: given, or that of the first non-empty line.
        let indent = match explicit {
            Some(d) => parent.max(0) as usize + d,
            None => {
                let mut i = self.pos;
                let mut found = None;
                // The widest of the empty lines before the text (it may not be wider).
                let mut widest = 0;
                while self.at(i) == b'\n' {
                    i += 1;
                    let line = i;
                    while self.at(i) == b' ' {
                        i += 1;
                    }
                    if self.at(i) != b'\n' {
                        found = Some(i - line);
                        break;
                    }
                    widest = widest.max(i - line);
                }
                match found {
                    Some(n) if n as isize > parent => {
                        if widest > n && self.at(i) != 0 {
                            return fail(
                                i,
                                "an empty line before a block scalar's text is indented more than the text",
                            );
                        }
                        n
                    }
                    _ => usize::MAX,
                }
            }
        };
        // Collect the lines that belong to it.
        let mut lines: Vec<&str> = Vec::new();
        let mut trailing_empty = 0;
        while self.peek() == b'\n' {
            let line = self.pos + 1;
            if line == self.s.len() {
                break;
            }
            let mut i = line;
            while self.at(i) == b' ' && i - line < indent {
                i += 1;
            }
            let end = self.s[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(self.s.len(), |n| i + n);
            let rest = &self.text[i..end];
            let at_end = end == self.s.len();
            if rest.bytes().all(|b| b == b' ') && (rest.is_empty() || at_end) {
                // An empty line. (Spaces beyond the indentation make a line of text;
                // blanks at the very end, with no line break after them, no line.)
                if !at_end {
                    lines.push("");
                    trailing_empty += 1;
                }
                self.pos = end;
                continue;
            }
            if i - line < indent || self.is_document_marker(line) {
                break;
            }
            lines.push(rest);
            trailing_empty = 0;
            self.pos = end;
        }
        // `self.pos` is at the line break ending the last line the scalar took.
        let content = &lines[..lines.len() - trailing_empty];
        let mut text = String::new();
        if folded {
            let mut prev_normal = None::<bool>;
            let mut empties = 0;
            for l in content {
                if l.is_empty() {
                    empties += 1;
                    continue;
                }
                let normal = !l.starts_with([' ', '\t']);
                match prev_normal {
                    None => text.extend(std::iter::repeat_n('\n', empties)),
                    Some(true) if normal => {
                        if empties == 0 {
                            text.push(' ');
                        } else {
                            text.extend(std::iter::repeat_n('\n', empties));
                        }
                    }
                    Some(_) => text.extend(std::iter::repeat_n('\n', empties + 1)),
                }
                text.push_str(l);
                prev_normal = Some(normal);
                empties = 0;
            }
        } else {
            for (i, l) in content.iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                text.push_str(l);
            }
        }
        let has_content = !content.is_empty();
        match chomp {
            b'-' => {}
            b'+' => {
                if has_content {
                    text.push('\n');
                }
                text.extend(std::iter::repeat_n('\n', trailing_empty));
            }
            _ => {
                if has_content {
                    text.push('\n');
                }
            }
        }
        Ok(Node {
            value: Value::Scalar {
                text: Cow::Owned(text),
                plain: false,
            },
            at,
        })
    }

    // ---- flow style ------------------------------------------------------------------

    /// Skips blanks, line breaks and comments inside `[…]` or `{…}`.
    fn skip_flow_space(&mut self) -> PResult<()> {
        // Where the current line starts, once a line break was passed, and whether a
        // tab stands in its indentation.
        let mut line: Option<(usize, bool)> = None;
        loop {
            match self.peek() {
                b'\n' => {
                    self.pos += 1;
                    line = Some((self.pos, false));
                }
                b'\t' => {
                    line = line.map(|(at, _)| (at, true));
                    self.pos += 1;
                }
                b' ' => self.pos += 1,
                b'#' if self.pos == 0 || is_break_or_blank(self.at(self.pos - 1)) => {
                    self.skip_to_line_end()
                }
                _ if self.is_document_marker(self.pos) => {
                    return fail(self.pos, "a document marker inside [ ] or { }");
                }
                _ => {
                    if let Some((at, true)) = line {
                        return fail(at, "tabs are not allowed for indentation");
                    }
                    return Ok(());
                }
            }
        }
    }

    /// A node in flow context (`self.pos` at its first character).
    fn flow_node(&mut self) -> PResult<Node<'t>> {
        self.enter()?;
        let node = self.flow_node_inner();
        self.depth -= 1;
        node
    }

    fn flow_node_inner(&mut self) -> PResult<Node<'t>> {
        let at = self.pos;
        match self.peek() {
            b'[' => self.flow_seq(),
            b'{' => self.flow_map(),
            b'\'' | b'"' => Ok(Node {
                value: Value::Scalar {
                    text: self.quoted()?,
                    plain: false,
                },
                at,
            }),
            b'*' => self.alias(),
            b'&' => {
                let slot = self.open_anchor()?;
                self.skip_flow_space()?;
                let node = match self.peek() {
                    b',' | b']' | b'}' => Node {
                        value: Value::Null,
                        at,
                    },
                    b'*' => return fail(self.pos, "an alias cannot have an anchor"),
                    _ => self.flow_node()?,
                };
                self.anchors[slot].1 = Some(node.clone());
                Ok(node)
            }
            b'!' => fail(at, "YAML tags (!) are not supported in a manifest"),
            b'#' => fail(
                at,
                "a comment needs a blank before it (quote a value that starts with #)",
            ),
            b'|' | b'>' => fail(
                at,
                "block scalars (| and >) cannot be used inside [ ] or { }",
            ),
            b']' | b'}' | b',' | 0 => fail(at, "expected a value"),
            b'%' | b'@' | b'`' => fail(
                at,
                format!(
                    "{:?} cannot start a plain value: quote it",
                    self.peek() as char
                ),
            ),
            c @ (b'-' | b'?' | b':')
                if is_break_or_blank(self.at(at + 1)) || is_flow_indicator(self.at(at + 1)) =>
            {
                fail(
                    at,
                    format!("unexpected {:?} inside [ ] or {{ }}", c as char),
                )
            }
            _ => {
                let text = self.plain_flow()?;
                Ok(Node {
                    value: plain_value(text),
                    at,
                })
            }
        }
    }

    /// A plain scalar inside `[…]` or `{…}`: it ends at `,`, `[`, `]`, `{`, `}`, at `:`
    /// before a blank or one of those, or at a comment. Line breaks fold to spaces.
    fn plain_flow(&mut self) -> PResult<Cow<'t, str>> {
        let mut text = Cow::Borrowed("");
        // Line breaks before the next segment: one folds to a space, and each empty
        // line between to a newline.
        let mut breaks = 0;
        loop {
            let start = self.pos;
            let mut end = start;
            loop {
                match self.peek() {
                    b'\n' | 0 => break,
                    b',' | b'[' | b']' | b'{' | b'}' => break,
                    b':' if is_break_or_blank(self.at(self.pos + 1))
                        || is_flow_indicator(self.at(self.pos + 1)) =>
                    {
                        break;
                    }
                    b'#' if self.pos > start && is_blank(self.at(self.pos - 1)) => break,
                    b' ' | b'\t' => {}
                    _ => end = self.pos + 1,
                }
                self.pos += 1;
            }
            if end > start {
                let segment = &self.text[start..end];
                if text.is_empty() {
                    text = Cow::Borrowed(segment);
                } else {
                    let folded = text.to_mut();
                    match breaks {
                        1 => folded.push(' '),
                        n => folded.extend(std::iter::repeat_n('\n', n - 1)),
                    }
                    folded.push_str(segment);
                }
            }
            // A line break continues the scalar when the next line goes on with it; a
            // comment ends it (a line after a comment cannot continue it).
            if self.peek() != b'\n' {
                self.pos = end;
                // Leave blanks before an indicator for the caller to skip.
                return Ok(text);
            }
            let save = end;
            breaks = 0;
            let mut i = self.pos;
            while self.at(i) == b'\n' {
                breaks += 1;
                let line = i + 1;
                i = line;
                while is_blank(self.at(i)) {
                    i += 1;
                }
                if self.at(i) != b'\n' && self.at(i) != b'#' && self.s[line..i].contains(&b'\t') {
                    return fail(line, "tabs are not allowed for indentation");
                }
                if self.is_document_marker(line) {
                    return fail(line, "a document marker inside [ ] or { }");
                }
            }
            let ends = match self.at(i) {
                0 | b'#' | b',' | b'[' | b']' | b'{' | b'}' => true,
                b':' => is_break_or_blank(self.at(i + 1)) || is_flow_indicator(self.at(i + 1)),
                _ => false,
            };
            if ends {
                self.pos = save;
                return Ok(text);
            }
            self.pos = i;
        }
    }

    fn flow_seq(&mut self) -> PResult<Node<'t>> {
        let at = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_flow_space()?;
            if self.peek() == b']' {
                self.pos += 1;
                break;
            }
            if self.peek() == 0 {
                return fail(at, "this [ is never closed");
            }
            let item = self.flow_node()?;
            self.skip_flow_space()?;
            if self.peek() == b':' {
                return fail(
                    self.pos,
                    "key: value pairs inside [ ] are not supported (use { })",
                );
            }
            items.push(item);
            match self.peek() {
                b',' => self.pos += 1,
                b']' => {}
                0 => return fail(at, "this [ is never closed"),
                _ => return fail(self.pos, "expected ',' or ']'"),
            }
        }
        Ok(Node {
            value: Value::Seq(items),
            at,
        })
    }

    fn flow_map(&mut self) -> PResult<Node<'t>> {
        let at = self.pos;
        self.pos += 1;
        let mut entries = Vec::new();
        let mut merges = Vec::new();
        loop {
            self.skip_flow_space()?;
            if self.peek() == b'}' {
                self.pos += 1;
                break;
            }
            let key_at = self.pos;
            let (key, plain) = match self.peek() {
                0 => return fail(at, "this { is never closed"),
                b'\'' | b'"' => (self.quoted()?, false),
                b'[' | b'{' => return fail(key_at, "a key must be a plain or quoted scalar"),
                b'?' if is_break_or_blank(self.at(key_at + 1)) => {
                    return fail(key_at, "complex keys (? ) are not supported in a manifest");
                }
                b'&' => return fail(key_at, "anchors on keys are not supported in a manifest"),
                b'*' => return fail(key_at, "an alias cannot be a key"),
                b'!' => return fail(key_at, "YAML tags (!) are not supported in a manifest"),
                b':' if is_break_or_blank(self.at(key_at + 1)) => {
                    return fail(key_at, "a key is missing before ':'");
                }
                b',' => return fail(key_at, "expected a key"),
                b'#' => {
                    return fail(
                        key_at,
                        "a comment needs a blank before it (quote a key that starts with #)",
                    );
                }
                c @ (b'%' | b'@' | b'`' | b'|' | b'>') => {
                    return fail(
                        key_at,
                        format!("{:?} cannot start a key: quote it", c as char),
                    );
                }
                c @ (b'-' | b':')
                    if is_break_or_blank(self.at(key_at + 1))
                        || is_flow_indicator(self.at(key_at + 1)) =>
                {
                    return fail(key_at, format!("unexpected {:?} inside {{ }}", c as char));
                }
                _ => (self.plain_flow()?, true),
            };
            self.skip_flow_space()?;
            if self.peek() == b':' && self.s[key_at..self.pos].contains(&b'\n') {
                return fail(
                    key_at,
                    "a key and its ':' must be on one line (quote a key that spans lines)",
                );
            }
            let value = if self.peek() == b':' {
                self.pos += 1;
                self.skip_flow_space()?;
                match self.peek() {
                    b',' | b'}' => Node {
                        value: Value::Null,
                        at: self.pos,
                    },
                    _ => self.flow_node()?,
                }
            } else {
                Node {
                    value: Value::Null,
                    at: self.pos,
                }
            };
            if plain && key == "<<" {
                merges.push((entries.len(), value));
            } else {
                entries.push(Entry { key, key_at, value });
            }
            self.skip_flow_space()?;
            match self.peek() {
                b',' => self.pos += 1,
                b'}' => {}
                0 => return fail(at, "this { is never closed"),
                _ => return fail(self.pos, "expected ',' or '}'"),
            }
        }
        Ok(Node {
            value: Value::Map(merge(unique(entries)?, merges)?),
            at,
        })
    }

    // ---- quoted scalars --------------------------------------------------------------

    /// A single- or double-quoted scalar (`self.pos` at the opening quote); leaves
    /// `self.pos` after the closing one. Line breaks inside fold as in plain scalars.
    fn quoted(&mut self) -> PResult<Cow<'t, str>> {
        let at = self.pos;
        let double = self.peek() == b'"';
        self.pos += 1;
        // Most quoted scalars are one line without escapes: then they are a slice.
        let quote = if double { b'"' } else { b'\'' };
        let rest = &self.s[self.pos..];
        if let Some(n) = rest
            .iter()
            .position(|&b| b == quote || b == b'\\' || b == b'\n')
            && rest[n] == quote
            && (double || rest.get(n + 1) != Some(&b'\''))
        {
            let text = &self.text[self.pos..self.pos + n];
            self.pos += n + 1;
            return Ok(Cow::Borrowed(text));
        }
        let mut text = String::new();
        // Where the text written by the last escape ends.
        let mut escaped = 0;
        loop {
            let start = self.pos;
            // Copy the run of ordinary characters in one go.
            while !matches!(self.peek(), b'\'' | b'"' | b'\\' | b'\n' | 0) {
                self.pos += 1;
            }
            text.push_str(&self.text[start..self.pos]);
            match self.peek() {
                0 => return fail(at, "this quote is never closed"),
                b'\'' if !double => {
                    if self.at(self.pos + 1) == b'\'' {
                        text.push('\'');
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        return Ok(Cow::Owned(text));
                    }
                }
                b'"' if double => {
                    self.pos += 1;
                    return Ok(Cow::Owned(text));
                }
                b'\\' if double => {
                    self.escape(&mut text)?;
                    escaped = text.len();
                }
                b'\n' => {
                    // Fold: trailing blanks go (not escaped ones: `\t` is content), one
                    // break is a space, each empty line a newline; the next line's
                    // leading blanks go.
                    let kept = text.trim_end_matches([' ', '\t']).len().max(escaped);
                    text.truncate(kept);
                    let mut empty = 0;
                    loop {
                        self.pos += 1;
                        if self.is_document_marker(self.pos) {
                            return fail(self.pos, "a document marker inside a quoted scalar");
                        }
                        self.skip_blanks();
                        if self.peek() != b'\n' {
                            break;
                        }
                        empty += 1;
                    }
                    if empty == 0 {
                        text.push(' ');
                    } else {
                        text.extend(std::iter::repeat_n('\n', empty));
                    }
                }
                c => {
                    // The other quote character, or a backslash in single quotes.
                    text.push(c as char);
                    self.pos += 1;
                }
            }
        }
    }

    /// One `\` escape of a double-quoted scalar (`self.pos` at the backslash).
    fn escape(&mut self, text: &mut String) -> PResult<()> {
        let at = self.pos;
        let c = self.at(at + 1);
        self.pos += 2;
        let simple = match c {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' | b'u' | b'U' => {
                let digits = match c {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = self.s.get(self.pos..self.pos + digits).unwrap_or(b"");
                let code = std::str::from_utf8(hex)
                    .ok()
                    .filter(|h| h.len() == digits && h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32);
                let Some(ch) = code else {
                    return fail(
                        at,
                        format!(
                            "\\{} needs {digits} hex digits of a valid character",
                            c as char
                        ),
                    );
                };
                self.pos += digits;
                ch
            }
            b'\n' => {
                // An escaped line break: the lines join with nothing between them.
                loop {
                    if self.is_document_marker(self.pos) {
                        return fail(self.pos, "a document marker inside a quoted scalar");
                    }
                    self.skip_blanks();
                    if self.peek() != b'\n' {
                        break;
                    }
                    text.push('\n');
                    self.pos += 1;
                }
                return Ok(());
            }
            _ => return fail(at, "unknown escape in a double-quoted scalar"),
        };
        text.push(simple);
        Ok(())
    }
}

/// A plain scalar's value: `null`, `~` and nothing are [`Value::Null`].
fn plain_value(text: Cow<'_, str>) -> Value<'_> {
    match &*text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        _ => Value::Scalar { text, plain: true },
    }
}

/// A mapping's entries, if no key is written twice; else an error at the first key
/// that repeats one before it. Large mappings (`secrets:`) are checked by sorting
/// ([`crate::repeats`]), so that 10,000 secrets cost 10,000 × log comparisons rather
/// than 50 million; small ones, most of them, without allocating.
fn unique(entries: Vec<Entry<'_>>) -> PResult<Vec<Entry<'_>>> {
    let repeat = if entries.len() <= 8 {
        (1..entries.len()).find(|&i| entries[..i].iter().any(|e| e.key == entries[i].key))
    } else {
        crate::repeats(&entries, |e| Some(&*e.key))
            .first()
            .map(|&(_, later)| later)
    };
    match repeat {
        Some(i) => fail(
            entries[i].key_at,
            format!(
                "{}: duplicate key (a key may appear once in a mapping)",
                entries[i].key
            ),
        ),
        None => Ok(entries),
    }
}

/// Applies `<<` merge keys: each merged mapping's entries that the mapping does not set
/// itself are inserted where the `<<` was (earlier merges win over later ones).
fn merge<'t>(entries: Vec<Entry<'t>>, merges: Vec<(usize, Node<'t>)>) -> PResult<Vec<Entry<'t>>> {
    if merges.is_empty() {
        return Ok(entries);
    }
    // The keys the mapping sets itself, then those merged so far: a set, so that
    // merging big mappings stays linear.
    let mut taken: std::collections::HashSet<Cow<'t, str>> =
        entries.iter().map(|e| e.key.clone()).collect();
    let mut out = Vec::with_capacity(entries.len());
    let mut rest = entries.into_iter();
    let mut done = 0;
    for (index, value) in merges {
        out.extend(rest.by_ref().take(index - done));
        done = index;
        let sources: Vec<Node<'t>> = match value.value {
            Value::Map(_) => vec![value],
            Value::Seq(items) => items,
            Value::Null => Vec::new(),
            _ => return fail(value.at, "<< merges a mapping, or a list of mappings"),
        };
        for source in sources {
            let Value::Map(merged) = source.value else {
                return fail(source.at, "<< merges a mapping, or a list of mappings");
            };
            out.extend(merged.into_iter().filter(|e| taken.insert(e.key.clone())));
        }
    }
    out.extend(rest);
    Ok(out)
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|e| count_nodes(&e.value)).sum(),
        _ => 0,
    }
}

/// The tree as serde-saphyr types it (the YAML 1.2 core schema, as JSON): how the unit
/// tests and `fuzz/fuzz_targets/yaml_differential.rs` compare this reader with
/// serde-saphyr. Built for tests and fuzzing only (`cargo fuzz` sets `cfg(fuzzing)`).
#[cfg(any(test, fuzzing))]
pub fn as_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Scalar { text, plain: false } => J::String(text.to_string()),
        Value::Scalar { text, plain: true } => match &**text {
            // The manifest itself takes only `true`/`false` (a deliberate strictness).
            "true" | "True" | "TRUE" => J::Bool(true),
            "false" | "False" | "FALSE" => J::Bool(false),
            // serde-saphyr reads `0440` as the float 440.0.
            t if t.len() > 1 && t.starts_with('0') && t.bytes().all(|b| b.is_ascii_digit()) => {
                J::from(t.parse::<f64>().unwrap())
            }
            t => t
                .parse::<i64>()
                .map(J::from)
                .ok()
                .or_else(|| {
                    let float = t.bytes().any(|b| b.is_ascii_digit())
                        && t.bytes()
                            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
                    float.then(|| t.parse::<f64>().ok().map(J::from)).flatten()
                })
                .unwrap_or_else(|| J::String(text.to_string())),
        },
        Value::Seq(items) => J::Array(items.iter().map(as_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|e| (e.key.to_string(), as_json(&e.value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as compact text: `{k: v, ...}`, `[a, ...]`, `'quoted'`, plain, `~`.
    fn show(node: &Node) -> String {
        match &node.value {
            Value::Null => "~".into(),
            Value::Scalar { text, plain: true } => text.to_string(),
            Value::Scalar { text, plain: false } => format!("{text:?}"),
            Value::Seq(items) => {
                format!(
                    "[{}]",
                    items.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
            Value::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|e| format!("{}: {}", e.key, show(&e.value)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn tree(text: &str) -> String {
        match parse(&normalize(text)) {
            Ok(root) => show(&root),
            Err(e) => panic!("{text:?}: {}: {}", e.mark, e.message),
        }
    }

    fn error(text: &str) -> String {
        match parse(&normalize(text)) {
            Ok(root) => panic!("{text:?} parsed as {}", show(&root)),
            Err(e) => format!("{}: {}", e.mark, e.message),
        }
    }

    #[test]
    fn block_mappings_and_sequences() {
        assert_eq!(
            tree("version: 1\nsecrets:\n  A:\n    min_length: 3\n  B:\n"),
            "{version: 1, secrets: {A: {min_length: 3}, B: ~}}"
        );
        assert_eq!(
            tree("keep_env:\n- PATH\n- LC_*\nscrub: false\n"),
            "{keep_env: [PATH, LC_*], scrub: false}"
        );
        assert_eq!(
            tree("a:\n  - x: 1\n    y: 2\n  - - n\n    - m\n  -\n  - # c\n    z\n"),
            "{a: [{x: 1, y: 2}, [n, m], ~, z]}"
        );
        assert_eq!(tree("# only a comment\n"), "~");
        assert_eq!(tree("---\na: b\n...\n"), "{a: b}");
        assert_eq!(tree("\u{feff}a: b\r\nc: d\r\n"), "{a: b, c: d}");
    }

    #[test]
    fn scalars_plain_quoted_and_folded() {
        assert_eq!(
            tree(
                "a: x y # c\nb: 'it''s'\nc: \"t\\tq\\\"\\u00e9\\x41\"\nd: a#b\ne: -1\nf: ~\ng: null\n"
            ),
            "{a: x y, b: \"it's\", c: \"t\\tq\\\"éA\", d: a#b, e: -1, f: ~, g: ~}"
        );
        assert_eq!(
            tree("a: one\n  two\n\n  three\nb: 'x\n  y'\nc: \"p \\\n  q\"\n"),
            "{a: one two\nthree, b: \"x y\", c: \"p q\"}"
        );
        assert_eq!(
            tree("a: \"1\"\nb: '1'\nc: 1\n"),
            "{a: \"1\", b: \"1\", c: 1}"
        );
        assert_eq!(tree("url: http://x:8080/a\n"), "{url: http://x:8080/a}");
        // An escaped blank before a line break is content, not folded away.
        assert_eq!(tree("a: \"x\\t\n y\"\n"), "{a: \"x\\t y\"}");
        assert_eq!(tree("a: \"\u{85}\"\n"), "{a: \"\\u{85}\"}");
        // A line of blanks (tabs too) is an empty line of the scalar.
        assert_eq!(tree("a: one\n \t\n  two\n"), "{a: one\ntwo}");
    }

    #[test]
    fn block_scalars_with_chomping_and_indentation() {
        assert_eq!(
            tree("a: |\n  l1\n   l2\n\n  l3\n\nb: x\n"),
            "{a: \"l1\\n l2\\n\\nl3\\n\", b: x}"
        );
        assert_eq!(tree("a: |-\n  x\n\n"), "{a: \"x\"}");
        assert_eq!(tree("a: |+\n  x\n\n"), "{a: \"x\\n\\n\"}");
        assert_eq!(
            tree("a: >\n  one\n  two\n\n  three\n    more\n  four\n"),
            "{a: \"one two\\nthree\\n  more\\nfour\\n\"}"
        );
        assert_eq!(tree("a: |2\n    x\n  y\n"), "{a: \"  x\\ny\\n\"}");
        assert_eq!(
            tree("a: |\n  # not a comment\nb: 1\n"),
            "{a: \"# not a comment\\n\", b: 1}"
        );
        assert_eq!(tree("a: |\nb: 1\n"), "{a: \"\", b: 1}");
        assert_eq!(tree("- |\n  x\n- y\n"), "[\"x\\n\", y]");
        // Spaces beyond the indentation are a line of text; blanks with no line
        // break after them at the end are no line.
        assert_eq!(tree("a: |\n  x\n     \n"), "{a: \"x\\n   \\n\"}");
        assert_eq!(tree("a: |+\n  x\n  "), "{a: \"x\\n\"}");
    }

    #[test]
    fn flow_collections_over_several_lines() {
        assert_eq!(
            tree("a: [x, 'y', \"z\",]\nb: {k: v, q: [1, 2], e: , n}\nc: []\nd: {}\n"),
            "{a: [x, \"y\", \"z\"], b: {k: v, q: [1, 2], e: ~, n: ~}, c: [], d: {}}"
        );
        assert_eq!(
            tree("a: [\n  one, # first\n  two\n]\nb: {\"k\":v}\n"),
            "{a: [one, two], b: {k: v}}"
        );
        assert_eq!(tree("- [a, [b, {c: d}]]\n"), "[[a, [b, {c: d}]]]");
        // An empty line folds to a newline, in flow style too.
        assert_eq!(tree("{k\n\nk, j\n  i}"), "{k\nk: ~, j i: ~}");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        assert_eq!(
            tree("base: &b {min_length: 32, format: hex}\nA:\n  <<: *b\n  format: base64\nB: *b\n"),
            "{base: {min_length: 32, format: hex}, A: {min_length: 32, format: base64}, B: {min_length: 32, format: hex}}"
        );
        assert_eq!(
            tree("x: &l\n  - 1\ny: *l\nz: {<<: [{a: 1}, {a: 2, b: 3}]}\n"),
            "{x: [1], y: [1], z: {a: 1, b: 3}}"
        );
        assert!(error("a: *nope\n").contains("names no anchor"));
        assert_eq!(tree("x: &l\n- 1\ny: *l\n"), "{x: [1], y: [1]}");
        assert_eq!(tree("a:\n  <<:\n  b: 1\n"), "{a: {b: 1}}");
        // An alias names the latest anchor written before it.
        assert_eq!(tree("a: &b {e: &b 1}\nc: *b\n"), "{a: {e: 1}, c: 1}");
        // Merging big mappings stays linear (it was quadratic once).
        let keys = |p: &str| {
            (0..20_000)
                .map(|i| format!("{p}{i}: {i}"))
                .collect::<Vec<_>>()
        };
        let big = format!(
            "base: &b {{{}}}\nm:\n  <<: *b\n{}\n",
            keys("b").join(", "),
            keys("  m").join("\n")
        );
        let root = parse(&big).unwrap();
        let Value::Map(top) = &root.value else {
            panic!()
        };
        assert_eq!(top[1].value.entries().map(<[_]>::len), Some(40_000));
        let laughs = (1..12).fold(
            "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_string(),
            |s, i| {
                format!(
                    "{s}a{i}: &a{i} [{}]\n",
                    vec![format!("*a{}", i - 1); 10].join(", ")
                )
            },
        );
        assert!(error(&laughs).contains("too many nodes"));
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_one() {
        assert_eq!(
            error("a:\n  r: 1\n  r: 2\n"),
            "3:3: r: duplicate key (a key may appear once in a mapping)"
        );
        assert!(error("a: {x: 1, y: 2, x: 3}\n").starts_with("1:17: x: duplicate"));
        // Large mappings are checked by sorting; the first repeat in the file is named.
        let mut big: String = (0..50).map(|i| format!("K{i}: {i}\n")).collect();
        big.push_str("K7: again\nK3: again\n");
        assert!(
            error(&big).starts_with("51:1: K7: duplicate"),
            "{}",
            error(&big)
        );
    }

    #[test]
    fn mistakes_have_a_line_a_column_and_a_reason() {
        for (text, expected) in [
            ("a: b: c\n", "1:5: mapping values are not allowed here"),
            (
                "a:\n  b: 1\n    c: 2\n",
                "3:6: mapping values are not allowed here",
            ),
            (
                "a:\n  b:\n    c: 1\n   d: 2\n",
                "4:4: this line is indented more",
            ),
            ("a:\n\tb: 1\n", "2:1: tabs are not allowed"),
            ("a: [1, 2\n", "1:4: this [ is never closed"),
            ("a: {b: 1\n", "1:4: this { is never closed"),
            ("a: 'x\n", "1:4: this quote is never closed"),
            ("a: \"\\q\"\n", "1:5: unknown escape"),
            ("a: !!str x\n", "1:4: YAML tags"),
            ("%YAML 1.2\n---\na: 1\n", "1:1: YAML directives"),
            ("a: 1\n---\nb: 2\n", "2:1: a manifest is one YAML document"),
            ("? a\n: b\n", "1:1: complex keys"),
            (
                "a: - b\n",
                "1:4: a list must start on the line after its key",
            ),
            ("a: [x: y]\n", "1:6: key: value pairs inside [ ]"),
            ("a: 1\nb\n", "2:2: expected a key and ':'"),
            ("a: \"x\" y\n", "1:8: unexpected text after the value"),
            ("a: \u{1}\n", "1:4: control characters"),
            // Found by differential fuzzing against serde-saphyr (fuzz/yaml_differential).
            ("b: [#0]\n", "1:5: a comment needs a blank before it"),
            ("b: {#0: 1}\n", "1:5: a comment needs a blank before it"),
            ("a: x # c\n  y\n", "2:3: this line is indented more"),
            ("{%x: 1}\n", "1:2: '%' cannot start a key"),
            ("{-}\n", "1:2: unexpected '-'"),
            ("x: &a &b 1\n", "1:7: a node has one anchor"),
            ("x: &a\n  &b 1\n", "2:3: a node has one anchor"),
            ("x: &a\n&b y: 1\n", "2:1: anchors on keys are not supported"),
            (
                "e: {m\n\n: 1}\n",
                "1:5: a key and its ':' must be on one line",
            ),
            (
                "x: &a - 1\n",
                "1:7: a list must start on the line after its anchor",
            ),
            (
                "a: \u{feff}y\n",
                "1:4: a byte order mark may only start the text",
            ),
            (
                "a: >\n   \n  x\n",
                "3:3: an empty line before a block scalar's text",
            ),
            ("a: [\n\tb]\n", "2:1: tabs are not allowed for indentation"),
            ("...\na: 1\n", "2:1: a manifest is one YAML document"),
            (
                "x: &l\n  a: *l\n",
                "2:6: alias *l is inside the node it names",
            ),
            (
                "x: &l [1, *l]\n",
                "1:11: alias *l is inside the node it names",
            ),
            ("y: &y 1\na: &x *y\n", "2:7: an alias cannot have an anchor"),
            (
                "\"a\\\n...\n\"\n",
                "2:1: a document marker inside a quoted scalar",
            ),
            ("-\t- a\n", "1:2: tabs are not allowed for indentation"),
            ("a: \u{80}\n", "1:4: control characters"),
            ("a: \u{ffff}\n", "1:4: control characters"),
            ("\u{feff}a: [1\n", "1:4: this [ is never closed"),
            ("é: [1, 2\n", "1:4: this [ is never closed"),
            ("{a: 1}: 2\n", "1:1: a key must be a plain or quoted scalar"),
        ] {
            let e = error(text);
            assert!(e.starts_with(expected), "{text:?}: {e}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = "[".repeat(10_000);
        assert!(error(&deep).contains("nested more than 64 levels"));
        let deep: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(error(&deep).contains("nested more than 64 levels"));
    }

    /// Every document the tests and examples use reads the same as serde-saphyr reads it
    /// (the general YAML library sesame used before; a dev-dependency only).
    #[test]
    fn reads_what_serde_saphyr_reads() {
        let mut texts: Vec<String> = CORPUS.iter().map(|s| s.to_string()).collect();
        let root = env!("CARGO_MANIFEST_DIR");
        for dir in ["examples", "tests/fixtures", "."] {
            collect_yaml(
                std::path::Path::new(root).join(dir).as_path(),
                dir != ".",
                &mut texts,
            );
        }
        assert!(
            texts.len() > CORPUS.len() + 3,
            "found the example manifests"
        );
        for text in &texts {
            let options = serde_saphyr::options! {
                duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
                strict_booleans: true,
            };
            let theirs: Result<serde_json::Value, _> =
                serde_saphyr::from_str_with_options(text, options);
            let normalized = normalize(text);
            let ours = parse(&normalized).map(|root| as_json(&root));
            match (ours, theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
                (Err(_), Err(_)) => {}
                (a, b) => panic!(
                    "{text}\nours: {:?}\nserde-saphyr: {b:?}",
                    a.map_err(|e| e.message)
                ),
            }
        }
    }

    fn collect_yaml(dir: &std::path::Path, recurse: bool, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() && recurse {
                collect_yaml(&p, recurse, out);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }

    const CORPUS: &[&str] = &[
        "version: 1\nsecrets:\n  A:\n    min_length: 3\n  B:\n",
        "keep_env:\n- PATH\n- LC_*\nscrub: false\n",
        "a:\n  - x: 1\n    y: 2\n  - - n\n    - m\n  -\n  - # c\n    z\n",
        "a: x y # c\nb: 'it''s'\nc: \"t\\tq\\\"\\u00e9\\x41\"\nd: a#b\ne: -1\nf: ~\ng: null\n",
        "a: one\n  two\n\n  three\nb: 'x\n  y'\nc: \"p \\\n  q\"\n",
        "a: |\n  l1\n   l2\n\n  l3\n\nb: x\n",
        "a: |-\n  x\n\n",
        "a: |+\n  x\n\n",
        "a: >\n  one\n  two\n\n  three\n    more\n  four\n",
        "a: >-\n  one\n\n\n  two\n",
        "a: |2\n    x\n  y\n",
        "a: |\n  # not a comment\nb: 1\n",
        "a: [x, 'y', \"z\",]\nb: {k: v, q: [1, 2], e: , n}\nc: []\nd: {}\n",
        "a: [\n  one, # first\n  two\n]\nb: {\"k\":v}\n",
        "base: &b {min_length: 32, format: hex}\nA:\n  <<: *b\n  format: base64\n",
        "x: &l\n  - 1\ny: *l\n",
        "a: 'multi\n\n  line'\n",
        "a: \"x\\ty\\n\"\n",
        "\"quoted key\": 1\n'k2': 2\n",
        "a:\n  b:\n    c:\n      d: 1\n  e: 2\n",
        "- a\n- b:\n    c\n",
        "a: 1 # comment\n# between\nb: 2\n",
        "a: -\n",
        "a: 12.5\nb: 1e3\nc: +7\n",
        "pattern: '^[0-9a-f]{64}$'\nurl: http://x/#frag\n",
        "description: >\n  The password\n  of the database.\n",
        "a: b: c\n",
        "a:\n  b: 1\n    c: 2\n",
        "a: [1, 2\n",
        "a: 'x\n",
        "a: 1\na: 2\n",
    ];
}
