//! The YAML a manifest is written in, read into a small tree of [`Node`]s.
//!
//! The text is scanned and parsed by `saphyr-parser` (maintained, pure Rust, tested
//! against the YAML test suite): sesame only turns its events into a tree, the way
//! saphyr's own loader does, with the rules a manifest needs on top:
//! - a key written twice in one mapping is an error (a parser that keeps the last one
//!   would let a second `required: false` silently win); keys are compared as text;
//! - keys are plain or quoted scalars: no tags, anchors or aliases on keys, no
//!   collections as keys;
//! - tags (`!!str`) and a second document are refused: no manifest needs them, and a
//!   tag would change what a scalar means behind the manifest's back;
//! - control characters are refused anywhere (YAML forbids them; the parser lets some
//!   through);
//! - aliases may copy at most [`MAX_COPIED`] bytes in all, and collections nest at most
//!   [`MAX_DEPTH`] deep, so a small file cannot make sesame allocate gigabytes.
//!
//! Nothing from the text ever goes into a message: not a scalar (a `default:` may be a
//! secret), not an anchor or alias name (they sit where a value sits), and not the
//! parser's own message, which is replaced by a fixed one of ours (`scan_message`), in
//! case a version of it ever quotes the input.
//!
//! Scalars stay text: the manifest decides what `true`, `10` or `~` mean for each key
//! ([`Value::Null`] only marks an empty or `null`/`~` plain scalar). Positions are byte
//! offsets into the text; [`mark`] turns one into a line and column when a message
//! needs it.

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::borrow::Cow;
use std::fmt;

/// Deeper nesting is refused: no manifest needs it, and it bounds the recursion of
/// everything that walks the tree (and of dropping it).
pub const MAX_DEPTH: usize = 64;

/// What aliases and anchors may copy in all, in bytes: the text of every scalar and key
/// copied plus the size of every node. A manifest with a `defaults` mapping merged into
/// each of 10,000 secrets copies a few MB; a "billion laughs" or a few aliases of a
/// large scalar are refused before they cost more than this.
pub const MAX_COPIED: usize = 16 << 20;

/// Why `a: b: c` is refused (YAML's own words, and the usual fix).
const MAPPING_VALUE: &str =
    "mapping values are not allowed here (quote a value that contains \": \")";
const NO_TAGS: &str = "YAML tags (!) are not supported in a manifest";

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
/// and column stays where it was. The copy is made in one buffer of the text's size,
/// never grown or replaced, so the caller that zeroes it zeroes the only copy (it holds
/// the `default:` values).
pub fn normalize(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = rest[i + 1..].strip_prefix('\n').unwrap_or(&rest[i + 1..]);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Parses one YAML document whose line breaks are `\n` (see [`normalize`]). An empty
/// document (only comments) is a null root.
pub fn parse(text: &str) -> Result<Node<'_>, Error> {
    if let Some((at, message)) = unprintable(text) {
        return Err(Error {
            mark: mark(text, at),
            message: message.into(),
        });
    }
    // Blanks after the last line break are no line. The parser reads them as one more
    // (empty) line of a block scalar that ends the file: cut them off first.
    let last_line = text.rfind('\n').map_or(0, |i| i + 1);
    let text = if text[last_line..].bytes().all(|b| b == b' ' || b == b'\t') {
        &text[..last_line]
    } else {
        text
    };
    let mut reader = Reader::new(text);
    // Events are pulled rather than pushed into a receiver (`Parser::load`), so that a
    // refusal (a tag, too many bytes copied) stops the parser at once.
    let mut parser = Parser::new_from_str(text);
    let result = loop {
        match parser.next_event() {
            None => break Ok(()),
            Some(Ok((event, span))) => match reader.event(event, span) {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            },
            Some(Err(e)) => {
                let at = reader.offsets.byte(e.marker().index());
                break Err((at, Cow::Borrowed(scan_message(e.info()))));
            }
        }
    };
    match result {
        Ok(()) => Ok(reader.root.unwrap_or(Node {
            value: Value::Null,
            at: 0,
        })),
        Err((at, message)) => Err(Error {
            mark: mark(text, at),
            message: message.into_owned(),
        }),
    }
}

/// Where the first character YAML does not allow is, and why: the C0 and C1 controls
/// (but tab, line feed and U+0085), DEL, U+FFFE and U+FFFF, and a byte order mark
/// anywhere but at the start. (The parser lets some of them through.)
fn unprintable(text: &str) -> Option<(usize, &'static str)> {
    // A branch-free pass over 64-byte blocks first (it vectorises) looks for the bytes
    // they start with; only then are the characters looked at.
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
    if !any {
        return None;
    }
    text.char_indices().find_map(|(i, c)| match c {
        '\u{feff}' if i > 0 => Some((i, "a byte order mark may only start the text")),
        c if unprintable(c) => Some((i, "control characters are not allowed in YAML")),
        _ => None,
    })
}

type Problem = (usize, Cow<'static, str>);

fn fail<T>(at: usize, message: impl Into<Cow<'static, str>>) -> Result<T, Problem> {
    Err((at, message.into()))
}

/// Byte offsets of the parser's positions, which count characters. Positions arrive
/// nearly in order, so a cursor that walks from the last one costs one pass in all.
struct Offsets<'t> {
    text: &'t str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'t> Offsets<'t> {
    fn new(text: &'t str) -> Self {
        Offsets {
            text,
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    fn byte(&mut self, index: usize) -> usize {
        if self.ascii {
            return index.min(self.text.len());
        }
        while self.chars > index {
            let Some(c) = self.text[..self.bytes].chars().next_back() else {
                break;
            };
            self.chars -= 1;
            self.bytes -= c.len_utf8();
        }
        while self.chars < index {
            let Some(c) = self.text[self.bytes..].chars().next() else {
                break;
            };
            self.chars += 1;
            self.bytes += c.len_utf8();
        }
        self.bytes
    }
}

/// A collection whose end has not been read yet.
enum Open<'t> {
    Seq {
        at: usize,
        anchor: usize,
        items: Vec<Node<'t>>,
    },
    Map {
        at: usize,
        anchor: usize,
        entries: Vec<Entry<'t>>,
        /// `<<` values, with the index of the entry they come before.
        merges: Vec<(usize, Node<'t>)>,
        /// The key read, waiting for its value: text, offset, and whether it was plain.
        key: Option<(Cow<'t, str>, usize, bool)>,
    },
}

impl Open<'_> {
    fn wants_key(&self) -> bool {
        matches!(self, Open::Map { key: None, .. })
    }
}

/// The anchored nodes, by the parser's anchor id (ids count up from 1, one for each
/// `&` in the text).
enum Anchor<'t> {
    /// The anchored node is still being read: an alias to it would be a cycle.
    Open,
    /// The node, and what a copy of it costs (see [`weight`]).
    Done(Node<'t>, usize),
}

/// Turns the parser's events into the tree.
struct Reader<'t> {
    text: &'t str,
    offsets: Offsets<'t>,
    open: Vec<Open<'t>>,
    anchors: Vec<Anchor<'t>>,
    /// Bytes copied for anchors and aliases so far (bounded by [`MAX_COPIED`]).
    copied: usize,
    documents: usize,
    root: Option<Node<'t>>,
}

impl<'t> Reader<'t> {
    fn new(text: &'t str) -> Self {
        Reader {
            text,
            offsets: Offsets::new(text),
            open: Vec::new(),
            anchors: Vec::new(),
            copied: 0,
            documents: 0,
            root: None,
        }
    }

    /// Takes one event; `false` once the stream has ended.
    fn event(&mut self, event: Event<'t>, span: Span) -> Result<bool, Problem> {
        let at = self.offsets.byte(span.start.index());
        match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
            Event::StreamEnd => return Ok(false),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return fail(at, "a manifest is one YAML document (found a second one)");
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                refuse_tag(tag.as_deref(), at)?;
                let text = self.compact(text, at, span.end.index());
                if self.open.last().is_some_and(Open::wants_key) {
                    return self.key(text, style, anchor, at).map(|()| true);
                }
                let node = Node {
                    value: self.scalar(text, style, span.end.index()),
                    at,
                };
                self.close(node, anchor)?;
            }
            Event::Alias(id) => {
                if self.open.last().is_some_and(Open::wants_key) {
                    return fail(at, "an alias cannot be a key");
                }
                let node = match self.anchors.get(id) {
                    Some(Anchor::Done(node, weight)) => {
                        // Counted before the copy is made.
                        charge(&mut self.copied, *weight, at)?;
                        Node {
                            value: node.value.clone(),
                            at,
                        }
                    }
                    _ => {
                        return fail(
                            at,
                            "an alias (*) is inside the node its anchor names (a cycle)",
                        );
                    }
                };
                self.add(node)?;
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                refuse_tag(tag.as_deref(), at)?;
                if self.open.last().is_some_and(Open::wants_key) {
                    return fail(at, "a key must be a plain or quoted scalar");
                }
                if self.open.len() >= MAX_DEPTH {
                    return fail(at, format!("nested more than {MAX_DEPTH} levels deep"));
                }
                self.start_anchor(anchor);
                self.open
                    .push(if matches!(event, Event::SequenceStart(..)) {
                        Open::Seq {
                            at,
                            anchor,
                            items: Vec::new(),
                        }
                    } else {
                        Open::Map {
                            at,
                            anchor,
                            entries: Vec::new(),
                            merges: Vec::new(),
                            key: None,
                        }
                    });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.open.pop() {
                    Some(Open::Seq { at, anchor, items }) => (
                        Node {
                            value: Value::Seq(items),
                            at,
                        },
                        anchor,
                    ),
                    Some(Open::Map {
                        at,
                        anchor,
                        entries,
                        merges,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(merge(unique(entries)?, merges)?),
                            at,
                        },
                        anchor,
                    ),
                    None => return Ok(true),
                };
                self.close(node, anchor)?;
            }
        }
        Ok(true)
    }

    /// A scalar's text, without the parser's spare room. The parser builds a `String` for
    /// every scalar with room for its read-ahead buffer (128 bytes or more), which the tree
    /// of a manifest of 1,000 secrets kept as ~0.9 MB of peak memory. A scalar written as
    /// it reads (plain on one line, or quoted without escapes) is borrowed from the text
    /// instead; any other keeps only its length. `start` is in bytes, `end` in characters.
    fn compact(&mut self, text: Cow<'t, str>, start: usize, end: usize) -> Cow<'t, str> {
        let Cow::Owned(mut owned) = text else {
            return text;
        };
        let source: &'t str = self.text;
        let end = self.offsets.byte(end);
        let written = source.get(start..end).unwrap_or_default();
        let quoted = written
            .get(1..written.len().saturating_sub(1))
            .unwrap_or_default();
        if let Some(same) = [written, quoted].into_iter().find(|t| *t == owned) {
            return Cow::Borrowed(same);
        }
        owned.shrink_to_fit();
        Cow::Owned(owned)
    }

    /// A scalar's value; `end` is where the parser says it ends (in characters).
    fn scalar(&mut self, text: Cow<'t, str>, style: ScalarStyle, end: usize) -> Value<'t> {
        match style {
            ScalarStyle::Plain if matches!(&*text, "" | "~" | "null" | "Null" | "NULL") => {
                Value::Null
            }
            ScalarStyle::Plain => Value::Scalar { text, plain: true },
            // A `|` or `>` block whose last line ends the file without a line break: the
            // parser gives it one anyway (clip and keep chomping), which YAML does not.
            ScalarStyle::Literal | ScalarStyle::Folded
                if !self.text.ends_with('\n')
                    && text.ends_with('\n')
                    && self.offsets.byte(end) == self.text.len() =>
            {
                let mut text = text.into_owned();
                text.pop();
                Value::Scalar {
                    text: Cow::Owned(text),
                    plain: false,
                }
            }
            _ => Value::Scalar { text, plain: false },
        }
    }

    /// A mapping's key (the open mapping waits for one).
    fn key(
        &mut self,
        text: Cow<'t, str>,
        style: ScalarStyle,
        anchor: usize,
        at: usize,
    ) -> Result<(), Problem> {
        if anchor != 0 {
            return fail(at, "anchors on keys are not supported in a manifest");
        }
        let plain = style == ScalarStyle::Plain;
        if plain && text.is_empty() {
            return fail(at, "a key is missing before ':'");
        }
        if let Some(Open::Map { key, .. }) = self.open.last_mut() {
            *key = Some((text, at, plain));
        }
        Ok(())
    }

    /// Opens the anchor's slot before its node is read, so that an alias from inside
    /// finds it still open (a cycle).
    fn start_anchor(&mut self, id: usize) {
        if id == 0 {
            return;
        }
        if self.anchors.len() <= id {
            self.anchors.resize_with(id + 1, || Anchor::Open);
        }
        self.anchors[id] = Anchor::Open;
    }

    /// A complete node: kept for its anchor, if it has one, then added to its parent.
    fn close(&mut self, node: Node<'t>, anchor: usize) -> Result<(), Problem> {
        if anchor != 0 {
            self.start_anchor(anchor);
            let cost = weight(&node);
            charge(&mut self.copied, cost, node.at)?;
            self.anchors[anchor] = Anchor::Done(node.clone(), cost);
        }
        self.add(node)
    }

    /// Adds a complete node to the collection it is in, or makes it the root.
    fn add(&mut self, node: Node<'t>) -> Result<(), Problem> {
        match self.open.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map {
                entries,
                merges,
                key,
                ..
            }) => match key.take() {
                Some((key, _, true)) if key == "<<" => merges.push((entries.len(), node)),
                Some((key, key_at, _)) => entries.push(Entry {
                    key,
                    key_at,
                    value: node,
                }),
                // Keys are taken by `key` and refused otherwise before they get here.
                None => return fail(node.at, "a key must be a plain or quoted scalar"),
            },
        }
        Ok(())
    }
}

/// Counts `bytes` more copied by anchors and aliases against [`MAX_COPIED`].
fn charge(copied: &mut usize, bytes: usize, at: usize) -> Result<(), Problem> {
    *copied = copied.saturating_add(bytes);
    if *copied > MAX_COPIED {
        return fail(
            at,
            format!(
                "anchors and aliases copy more than {} MiB",
                MAX_COPIED >> 20
            ),
        );
    }
    Ok(())
}

fn refuse_tag(tag: Option<&Tag>, at: usize) -> Result<(), Problem> {
    match tag {
        Some(_) => fail(at, NO_TAGS),
        None => Ok(()),
    }
}

/// What a copy of `node` costs in bytes: the text of its scalars and keys, and the size
/// of each node and entry. Scalars are counted even when the tree borrows them from the
/// text, since the manifest copies each one out.
fn weight(node: &Node) -> usize {
    std::mem::size_of::<Node>()
        + match &node.value {
            Value::Null => 0,
            Value::Scalar { text, .. } => text.len(),
            Value::Seq(items) => items.iter().map(weight).sum(),
            Value::Map(entries) => entries
                .iter()
                .map(|e| std::mem::size_of::<Entry>() + e.key.len() + weight(&e.value))
                .sum(),
        }
}

/// A mapping's entries, if no key is written twice; else an error at the first key
/// that repeats one before it. Large mappings (`secrets:`) are checked by sorting
/// ([`crate::repeats`]), so that 10,000 secrets cost 10,000 × log comparisons rather
/// than 50 million; small ones, most of them, without allocating.
fn unique(entries: Vec<Entry<'_>>) -> Result<Vec<Entry<'_>>, Problem> {
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
                crate::shown::name(&entries[i].key)
            ),
        ),
        None => Ok(entries),
    }
}

/// Applies `<<` merge keys: each merged mapping's entries that the mapping does not set
/// itself are inserted where the `<<` was (earlier merges win over later ones).
fn merge<'t>(
    entries: Vec<Entry<'t>>,
    merges: Vec<(usize, Node<'t>)>,
) -> Result<Vec<Entry<'t>>, Problem> {
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

/// Our message for one of the parser's. Its messages are fixed texts today, but one
/// quotes a character of the input and any could in a later version: only a text found
/// in these tables is shown (ours, never the parser's string), anything else gets a
/// general message. Either way the error's line and column say where.
fn scan_message(theirs: &str) -> &'static str {
    const TABS: &str = "tabs are not allowed for indentation";
    /// Messages said better for a manifest's author.
    const OURS: &[(&str, &str)] = &[
        (
            "mapping values are not allowed in this context",
            MAPPING_VALUE,
        ),
        (
            "while parsing node, found unknown anchor",
            "an alias (*) names no anchor before it (quote a value that starts with *)",
        ),
        (
            "while scanning an anchor or alias, did not find expected alphabetic or numeric character",
            "an anchor (&) or alias (*) needs a name (quote a value that starts with & or *)",
        ),
        (
            "tabs disallowed within this context (block indentation)",
            TABS,
        ),
        ("tab cannot be used as indentation", TABS),
        ("tabs disallowed in this context", TABS),
        (
            "while scanning a quoted scalar, found unexpected end of stream",
            "this quote is never closed",
        ),
        (
            "while parsing a flow sequence, expected ',' or ']'",
            "expected ',' or ']' (is a [ never closed?)",
        ),
        (
            "while parsing a flow mapping, did not find expected ',' or '}'",
            "expected ',' or '}' (is a { never closed?)",
        ),
        (
            "while parsing a quoted scalar, found unknown escape character",
            "unknown escape in a double-quoted scalar",
        ),
        (
            "while parsing a quoted scalar, did not find expected hexadecimal number",
            "an escape (\\x, \\u, \\U) needs hex digits of a valid character",
        ),
        (
            "while parsing a quoted scalar, found invalid Unicode character escape code",
            "an escape (\\x, \\u, \\U) needs hex digits of a valid character",
        ),
        ("the handle wasn't declared", NO_TAGS),
        (
            "found unprintable character",
            "control characters are not allowed in YAML",
        ),
        (
            "a byte order mark must not appear inside a document",
            "a byte order mark may only start the text",
        ),
        (
            "while parsing a block mapping, did not find expected key",
            "expected a key (check the indentation)",
        ),
        (
            "while parsing a block collection, did not find expected '-' indicator",
            "expected a list item '-' (check the indentation)",
        ),
        (
            "simple key expect ':'",
            "expected a key and ':' (check the indentation and the line above)",
        ),
        (
            "simple key expected",
            "expected a key and ':' (check the indentation and the line above)",
        ),
        ("recursion limit exceeded", "nested too deeply"),
        (
            "comments must be separated from other tokens by whitespace",
            "a comment needs a blank before it (quote a value that contains #)",
        ),
        (
            "block sequence entries are not allowed in this context",
            "a list must start on a line of its own (after its key or anchor)",
        ),
        // The one message that quotes the input: one of these three characters.
        (
            "unexpected character: `%'",
            "'%', '@' and '`' cannot start a plain value: quote it",
        ),
        (
            "unexpected character: `@'",
            "'%', '@' and '`' cannot start a plain value: quote it",
        ),
        (
            "unexpected character: `\u{60}'",
            "'%', '@' and '`' cannot start a plain value: quote it",
        ),
    ];
    /// The parser's other messages, shown as they are (they quote nothing).
    const THEIRS: &[&str] = &[
        "\"-\" is only valid inside a block",
        "'-' must be followed by a valid YAML whitespace",
        "':' may not precede any of `[{` in flow mapping",
        "':' must be followed by a valid YAML whitespace",
        "a block scalar content cannot start with a tab",
        "comment intercepting the multiline text",
        "did not find expected <document start>",
        "did not find expected <document-start>",
        "did not find expected next token",
        "duplicate version directive",
        "expected whitespace",
        "illegal placement of ':' indicator",
        "invalid content after document end marker",
        "invalid indentation",
        "invalid indentation for anchor",
        "invalid indentation in flow construct",
        "invalid indentation in quoted scalar",
        "invalid trailing content after double-quoted scalar",
        "mapping keys are not allowed in this context",
        "misplaced bracket",
        "missing explicit document end marker before directive",
        "plain scalar cannot start with '-' followed by ,[]{}",
        "unexpected end of plain scalar",
        "unexpected eof",
        "while parsing a node, did not find expected node content",
        "while scanning a YAML directive, did not find expected digit or '.' character",
        "while scanning a YAML directive, did not find expected version number",
        "while scanning a YAML directive, found extremely long version number",
        "while scanning a block scalar, did not find expected comment or line break",
        "while scanning a block scalar, found an indentation indicator equal to 0",
        "while scanning a directive, could not find expected directive name",
        "while scanning a directive, did not find expected comment or line break",
        "while scanning a directive, found unexpected non-alphabetical character",
        "while scanning a plain scalar, found a tab",
        "while scanning a quoted scalar, found unexpected document indicator",
        "wrongly indented line in block scalar",
    ];
    if let Some((_, ours)) = OURS.iter().find(|(t, _)| *t == theirs) {
        return ours;
    }
    if let Some(known) = THEIRS.iter().find(|t| **t == theirs) {
        return known;
    }
    // Tags and directives have a dozen more messages of their own.
    if theirs.contains("tag") || theirs.contains("TAG") {
        return NO_TAGS;
    }
    "not valid YAML here"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as compact text: `{k: v, ...}`, `[a, ...]`, `"quoted"`, plain, `~`.
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

    /// Scalars written as they read are borrowed from the text; the others keep no spare
    /// room (the parser's `String`s came with 128 bytes or more each).
    #[test]
    fn scalars_are_borrowed_or_compact() {
        let text = "plain: one two\nsingle: 'a b'\ndouble: \"c d\"\nkey é: x\nescaped: \"e\\tf\"\nfolded: a\n  b\n";
        let Value::Map(entries) = parse(text).unwrap().value else {
            panic!("not a mapping")
        };
        let texts: Vec<(&Cow<str>, &Cow<str>)> = entries
            .iter()
            .map(|e| match &e.value.value {
                Value::Scalar { text, .. } => (&e.key, text),
                _ => panic!("not a scalar"),
            })
            .collect();
        for (key, text) in &texts[..4] {
            assert!(matches!(key, Cow::Borrowed(_)), "{key}");
            assert!(matches!(text, Cow::Borrowed(_)), "{key}");
        }
        for (key, text) in &texts[4..] {
            let Cow::Owned(owned) = text else {
                panic!("{key} borrowed")
            };
            assert_eq!(owned.capacity(), owned.len(), "{key}");
        }
        assert_eq!(texts[4].1.as_ref(), "e\tf");
        assert_eq!(texts[5].1.as_ref(), "a b");
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
        assert_eq!(tree(""), "~");
        assert_eq!(tree("---\na: b\n...\n"), "{a: b}");
        assert_eq!(tree("\u{feff}a: b\r\nc: d\r\n"), "{a: b, c: d}");
        assert_eq!(normalize("a\r\nb\rc\r\r\nd\r"), "a\nb\nc\n\nd\n");
        assert!(matches!(normalize("a\nb"), Cow::Borrowed("a\nb")));
        // What YAML allows and a manifest can live with: a directive, an explicit key,
        // a single pair in [ ].
        assert_eq!(tree("%YAML 1.2\n---\na: 1\n"), "{a: 1}");
        assert_eq!(tree("? a\n: b\n"), "{a: b}");
        assert_eq!(tree("a: [x: y]\n"), "{a: [{x: y}]}");
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
            tree("a: \"1\"\nb: '1'\nc: 1\nd: ''\n"),
            "{a: \"1\", b: \"1\", c: 1, d: \"\"}"
        );
        assert_eq!(tree("url: http://x:8080/a\n"), "{url: http://x:8080/a}");
        assert_eq!(tree("a: \"x\\t\n y\"\n"), "{a: \"x\\t y\"}");
        assert_eq!(tree("a: \"\u{85}\"\n"), "{a: \"\\u{85}\"}");
        assert_eq!(tree("a: one\n \t\n  two\n"), "{a: one\ntwo}");
        // Keys are text: `null: 1` has a key called null.
        assert_eq!(tree("null: 1\n'': 2\n"), "{null: 1, : 2}");
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
        assert_eq!(tree("a: |\n  x\n     \n"), "{a: \"x\\n   \\n\"}");
    }

    /// YAML gives a block scalar whose last line ends the file without a line break no
    /// line break at its end (the hand-written reader and the parser both added one).
    #[test]
    fn a_block_scalar_that_ends_the_file_gains_no_line_break() {
        assert_eq!(tree("a: |\n  x"), "{a: \"x\"}");
        assert_eq!(tree("a: |+\n  x"), "{a: \"x\"}");
        assert_eq!(tree("a: |-\n  x"), "{a: \"x\"}");
        assert_eq!(tree("a: >\n  x\n  y"), "{a: \"x y\"}");
        assert_eq!(tree("a: |\n  x\n  y  "), "{a: \"x\\ny  \"}");
        assert_eq!(tree("- |\n  é"), "[\"é\"]");
        assert_eq!(tree("a: |\n  x\n  # c"), "{a: \"x\\n# c\"}");
        assert_eq!(tree("a: |\r\n  x"), "{a: \"x\"}");
        // With a line break, or blanks after the last one, the line has its break.
        assert_eq!(tree("a: |\n  x\n"), "{a: \"x\\n\"}");
        assert_eq!(tree("a: |\n  x\n  "), "{a: \"x\\n\"}");
        assert_eq!(tree("a: |+\n  x\n  "), "{a: \"x\\n\"}");
        assert_eq!(tree("a: |+\n  x\n\n  "), "{a: \"x\\n\\n\"}");
        assert_eq!(tree("a: |\n  x\n# c"), "{a: \"x\\n\"}");
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
        assert_eq!(tree("x: &l\n- 1\ny: *l\n"), "{x: [1], y: [1]}");
        assert_eq!(tree("a:\n  <<:\n  b: 1\n"), "{a: {b: 1}}");
        // An alias names the latest anchor written before it.
        assert_eq!(tree("a: &b {e: &b 1}\nc: *b\n"), "{a: {e: 1}, c: 1}");
        // A copy is where its alias is.
        let root = parse("a: &x 1\nb: *x\n").unwrap();
        assert_eq!(root.entries().unwrap()[1].value.at, 11);
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
    }

    /// Aliases are bounded by the bytes they copy, not by a count of nodes: a few
    /// aliases of one large scalar are refused as soon as they would copy more than
    /// MAX_COPIED, and so is a "billion laughs" of tiny ones.
    #[test]
    fn aliases_are_bounded_by_the_bytes_they_copy() {
        let big = "x".repeat(2 << 20);
        let few = |n: usize| format!("a: &v {big}\nb: [{}]\n", vec!["*v"; n].join(", "));
        assert!(parse(&few(5)).is_ok());
        let e = error(&few(8));
        assert!(e.starts_with("2:"), "{e}");
        assert!(
            e.contains("anchors and aliases copy more than 16 MiB"),
            "{e}"
        );
        let laughs = (1..12).fold(
            "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_string(),
            |s, i| {
                format!(
                    "{s}a{i}: &a{i} [{}]\n",
                    vec![format!("*a{}", i - 1); 10].join(", ")
                )
            },
        );
        assert!(error(&laughs).contains("copy more than 16 MiB"));
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_one() {
        assert_eq!(
            error("a:\n  r: 1\n  r: 2\n"),
            "3:3: r: duplicate key (a key may appear once in a mapping)"
        );
        assert!(error("a: {x: 1, y: 2, x: 3}\n").starts_with("1:17: x: duplicate"));
        assert!(error("a: 1\n\"a\": 2\n").starts_with("2:1: a: duplicate"));
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
            ("a:\n  b:\n    c: 1\n   d: 2\n", "4:4: expected a key"),
            ("a:\n\tb: 1\n", "2:2: tabs are not allowed for indentation"),
            (
                "a: [1, 2\n",
                "2:1: expected ',' or ']' (is a [ never closed?)",
            ),
            (
                "a: {b: 1\n",
                "2:1: expected ',' or '}' (is a { never closed?)",
            ),
            ("a: 'x\n", "1:4: this quote is never closed"),
            ("a: \"\\q\"\n", "1:4: unknown escape"),
            ("a: \"\\xZZ\"\n", "1:4: an escape"),
            ("a: !!str x\n", "1:4: YAML tags (!) are not supported"),
            ("a: !x!y x\n", "1:4: YAML tags (!) are not supported"),
            ("- !foo [1]\n", "1:3: YAML tags (!) are not supported"),
            ("a: 1\n---\nb: 2\n", "2:1: a manifest is one YAML document"),
            ("a: - b\n", "1:4: a list must start on a line of its own"),
            ("x: &a - 1\n", "1:7: a list must start on a line of its own"),
            ("a: \"x\" y\n", "1:8: invalid trailing content"),
            ("a: \u{1}\n", "1:4: control characters"),
            ("a: \u{80}\n", "1:4: control characters"),
            ("a: \u{ffff}\n", "1:4: control characters"),
            ("a: 1\0\n", "1:5: control characters"),
            (
                "a: \u{feff}y\n",
                "1:4: a byte order mark may only start the text",
            ),
            ("b: [#0]\n", "1:5: a comment needs a blank before it"),
            (
                "a: x # c\n  y\n",
                "1:6: comment intercepting the multiline text",
            ),
            (
                "{%x: 1}\n",
                "1:2: '%', '@' and '`' cannot start a plain value",
            ),
            (
                "a: @x\n",
                "1:4: '%', '@' and '`' cannot start a plain value",
            ),
            ("x: &a\n&b y: 1\n", "2:1: anchors on keys are not supported"),
            ("*a: 1\n", "1:1: an alias (*) names no anchor before it"),
            ("a: &x 1\n*x : 2\n", "2:1: an alias cannot be a key"),
            ("{a: 1}: 2\n", "1:1: a key must be a plain or quoted scalar"),
            (
                "? [a]\n: 2\n",
                "1:3: a key must be a plain or quoted scalar",
            ),
            (": 2\n", "1:1: a key is missing before ':'"),
            (
                "x: &l\n  a: *l\n",
                "2:6: an alias (*) is inside the node its anchor names",
            ),
            (
                "x: &l [1, *l]\n",
                "1:11: an alias (*) is inside the node its anchor names",
            ),
            ("a: &\n", "1:4: an anchor (&) or alias (*) needs a name"),
            ("é: [1, 2\n", "2:1: expected ',' or ']'"),
            ("é: 'ü\n", "1:4: this quote is never closed"),
            (
                "\u{feff}a: b: c\n",
                "1:5: mapping values are not allowed here",
            ),
        ] {
            let e = error(text);
            assert!(e.starts_with(expected), "{text:?}: {e}");
        }
    }

    /// An anchor or alias name sits where a value sits (`default: *secret` is a value
    /// that starts with `*`), and so does every scalar: no message quotes either.
    #[test]
    fn messages_never_quote_a_name_or_a_scalar() {
        for text in [
            "default: *s3cr3t-Name\n",
            "a: &s3cr3t-Name [1, *s3cr3t-Name]\n",
            "a: &s3cr3t-Name\n  b: *s3cr3t-Name\n",
            "a: s3cr3t-Name: x\n",
            "a: 's3cr3t-Name\n",
            "a: \"s3cr3t-Name\\q\"\n",
            "a: !s3cr3t-Name x\n",
            "a: !!s3cr3t-Name x\n",
            "a: !s3cr3t!Name x\n",
            "a: [s3cr3t-Name\n",
            "a: {s3cr3t-Name\n",
            "a: \"s3cr3t-Name\" x\n",
            "a: |\n    s3cr3t-Name\n  x\n",
            "a: @s3cr3t-Name\n",
            "a: `s3cr3t-Name\n",
            "a: s3cr3t-Name\n---\nb: s3cr3t-Name\n",
            "%TAG !s3cr3t! tag:x\n---\na: !s3cr3t!Name 1\n",
            "%YAML s3cr3t-Name\n---\na: 1\n",
        ] {
            let e = error(text);
            assert!(
                !e.contains("s3cr3t") && !e.contains("Name"),
                "{text:?}: {e}"
            );
        }
    }

    /// The parser's message goes through only when it is one of the fixed texts known
    /// to quote nothing; every other text gets a message of ours.
    #[test]
    fn parser_messages_are_ours_or_known_fixed_texts() {
        assert_eq!(
            scan_message("unexpected character: `%'"),
            "'%', '@' and '`' cannot start a plain value: quote it"
        );
        assert_eq!(
            scan_message("unexpected character: `s3cr3t'"),
            "not valid YAML here"
        );
        assert_eq!(
            scan_message("while parsing node, found unknown anchor s3cr3t"),
            "not valid YAML here"
        );
        assert_eq!(scan_message("invalid indentation"), "invalid indentation");
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(error(&deep).starts_with("1:65: nested more than 64 levels"));
        // The parser itself stops at 256 levels of [ ].
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(error(&deep).starts_with("1:256: nested too deeply"));
        assert!(error(&"[".repeat(10_000)).contains("nested"));
        let deep: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(error(&deep).contains("nested more than 64 levels"));
        let ok: String = (0..63)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn positions_are_byte_offsets_with_characters_before_them() {
        let text = "é: 1\nü: [ä, ö]\n";
        let root = parse(text).unwrap();
        let entries = root.entries().unwrap();
        assert_eq!(entries[1].key_at, text.find('ü').unwrap());
        let Value::Seq(items) = &entries[1].value.value else {
            panic!()
        };
        assert_eq!(items[1].at, text.find('ö').unwrap());
        assert_eq!(mark(text, items[1].at), Mark { line: 2, column: 8 });
        // The cursor walks back as well as forward.
        let mut offsets = Offsets::new(text);
        assert_eq!(offsets.byte(6), 8);
        assert_eq!(offsets.byte(1), 2);
        assert_eq!(offsets.byte(99), text.len());
    }

    /// Every manifest the repository ships reads without an error.
    #[test]
    fn reads_every_shipped_yaml_file() {
        fn collect(dir: &std::path::Path, recurse: bool, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() && recurse {
                    collect(&p, recurse, out);
                } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    out.push(p);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["examples", "tests/fixtures", "."] {
            collect(&root.join(dir), dir != ".", &mut files);
        }
        assert!(files.len() > 3, "found the example manifests");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            if let Err(e) = parse(&normalize(&text)) {
                panic!("{}: {}: {}", f.display(), e.mark, e.message);
            }
        }
    }
}
