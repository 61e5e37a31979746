//! sesame's YAML reader against serde-saphyr (the library it replaced): for any text,
//! both accept it with the same value, or both reject it. Ours must never panic or hang.
//!
//! Differences already understood are skipped by [`known`], one predicate per class, so
//! that fuzzing goes on to find new ones; each class is listed there with a minimal input.
//!   cd fuzz && ./seed.sh && cargo +nightly fuzz run -O yaml_differential corpus/yaml_differential \
//!       -- -max_len=512 -timeout=5
#![no_main]
use libfuzzer_sys::fuzz_target;
use sesame::yaml::{as_json, normalize, parse};

fuzz_target!(|text: &str| {
    let normalized = normalize(text);
    // Ours first, alone: a panic or a hang here is ours.
    let ours = parse(&normalized).map(|root| as_json(&root));
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        strict_booleans: true,
    };
    let theirs: Result<serde_json::Value, _> = serde_saphyr::from_str_with_options(text, options);
    let same = match (&ours, &theirs) {
        (Ok(a), Ok(b)) => a == b,
        (Err(_), Err(_)) => true,
        _ => false,
    };
    if same {
        return;
    }
    let ours_message = ours.as_ref().map_err(|e| e.message.as_str());
    if known(
        text,
        ours_message,
        theirs.as_ref().map_err(|e| e.to_string()),
    )
    .is_some()
    {
        return;
    }
    panic!(
        "{text:?}\nours: {:?}\nserde-saphyr: {:?}",
        ours.map_err(|e| format!("{}: {}", e.mark, e.message)),
        theirs.map_err(|e| e.to_string())
    );
});

/// The class of an understood difference, if this is one. Each class: a minimal input,
/// what each side does, which is right by YAML 1.2, and whose difference it is ("BUG in
/// ours" as found; a fixed class's predicate no longer matters, and can go once the fix
/// has run here a while). Found by ~6.5 million executions, December 2026.
fn known(
    text: &str,
    ours: Result<&serde_json::Value, &str>,
    theirs: Result<&serde_json::Value, String>,
) -> Option<&'static str> {
    // Constructs ours refuses on purpose (see src/yaml.rs's module doc), which YAML allows.
    const REFUSED: &[(&str, &str)] = &[
        // "!" -> serde-saphyr: "" (a non-specific tag on an empty scalar)
        ("YAML tags", "tags"),
        // "%YAML 1.2\n---\na: 1\n"
        ("YAML directives", "directives"),
        // "? a\n: b\n"
        ("complex keys", "complex keys"),
        // "&x a: 1\n"
        ("anchors on keys", "anchors on keys"),
        // "&l\n&k x: 1\n" -> serde-saphyr: {"x": 1}: &l names the mapping, &k the key; ours
        // refuses (anchors on keys), but says "a node has one anchor".
        ("a node has one anchor", "anchors on keys"),
        // "\tb", "k: a\n \tb\n" -> serde-saphyr: "b", {"k": "a b"}. YAML allows tabs as
        // separation after the indentation; ours refuses every tab at a line's start.
        ("tabs are not allowed", "tabs after indentation"),
        // "[e:]", "[a: 1]" -> serde-saphyr: [{"e": null}], [{"a": 1}]: single-pair mappings
        // in a flow sequence (YAML 1.2 7.4.1, ns-flow-pair); ours says "use { }".
        ("key: value pairs inside [ ]", "pairs in a flow sequence"),
        // "<a:\n<<:\n <a:\n  :" -> serde-saphyr: {"<a": null}: an empty key is a null key
        // (YAML 1.2 8.2.2, e-node), which a JSON object cannot hold unless, as here, a merge
        // drops it; ours: "a key is missing before ':'".
        ("a key is missing before ':'", "empty (null) keys"),
        // "{t\n:}", "{a\n b: 1}" -> serde-saphyr: {"t": null}, {"a b": 1}: in { } a key may
        // span lines, its `:` too (YAML 1.2 7.4.2; test suite NJ66, 4MUZ); ours refuses.
        ("must be on one line", "flow keys over several lines"),
    ];
    if let (Err(message), Ok(_)) = (ours, &theirs) {
        if let Some((_, class)) = REFUSED.iter().find(|(m, _)| message.contains(m)) {
            return Some(class);
        }
        // Ours is stricter, and right: "a:\n  <<:\n", "a:\n  <<: [~]\n" -> ours: error;
        // serde-saphyr: {"a": {}}. A merge key's value is a mapping or a list of mappings
        // (the YAML merge key type); serde-saphyr ignores a null there.
        if message.contains("<< merges a mapping") {
            return Some("merging null");
        }
        // Ours is right, at the top level only: "|\n \n#" -> ours: error "an empty line
        // before a block scalar's text is indented more than the text"; serde-saphyr: "".
        // A top-level block scalar may be indented 0 (n = -1), so `#` at column 0 is its
        // text, and the line of one space before it is indented more (YAML 1.2 8.1.1.1);
        // serde-saphyr takes the `#` for a comment.
        if message.contains("empty line before a block scalar's text") {
            return Some("top-level block scalar whose text is `#` at column 0");
        }
    }
    // serde-saphyr's: "b: [i\n\t#\nx]", "b: i\n\t#\n x" -> ours: error; serde-saphyr:
    // {"b": ["i\nx"]}, {"b": "i\nx"}. A comment line ends a plain scalar (YAML 1.2 7.3.3);
    // serde-saphyr takes a comment after a tab for an empty line (" #" it gets right).
    if ours.is_err() && theirs.is_ok() {
        let tab_comment = lines(text).iter().any(|line| {
            let blanks = line.trim_start_matches([' ', '\t']);
            blanks.starts_with('#') && line[..line.len() - blanks.len()].contains('\t')
        });
        if tab_comment {
            return Some("comment line after a tab inside a plain scalar");
        }
    }
    // The comparison's, not a difference: "~:\n", "null: 1\n" -> ours: a key "~" (keys are
    // text); serde-saphyr: error, a null key cannot be a JSON object's key.
    if let (Ok(_), Err(e)) = (ours, &theirs) {
        if e.contains("cannot deserialize null into string") {
            return Some("null as a key");
        }
    }
    // BUG in ours: "a #c\nb\n", "2 #\n\n}" -> ours: "a b", "2\n}"; serde-saphyr: error. A
    // comment ends a plain scalar (YAML 1.2 7.3.3: only empty lines may come between its
    // lines); ours goes on. Known when, without the comments, serde-saphyr reads ours.
    if let (Ok(a), Err(_)) = (ours, &theirs) {
        let without = without_comments(text);
        if without != text {
            let options = serde_saphyr::options! {
                duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
                strict_booleans: true,
            };
            let b = serde_saphyr::from_str_with_options::<serde_json::Value>(&without, options);
            // (Modulo spaces and line breaks: ours folds "{f\n#\nh}" to a key "f h".)
            if b.as_ref().is_ok_and(|b| folded(b) == folded(a)) {
                return Some("comment inside a multi-line plain scalar");
            }
        }
    }
    // BUG in ours (lenient): "\u{80}", "\u{ffff}", "a: \u{feff}y\n" -> ours: the character
    // as text; serde-saphyr: error. YAML 1.2 5.1 allows only printable characters in a
    // stream (not C1 controls other than U+0085, not U+FFFE/U+FFFF), and 5.2 no byte order
    // mark inside a document; ours refuses only C0 controls and DEL. (serde-saphyr also
    // skips a second leading BOM: "\u{feff}\u{feff}a: 1\n" -> {"a": 1}, ours {"\u{feff}a": 1}.)
    let non_printable =
        |c: char| matches!(c, '\u{80}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}');
    if text.chars().any(non_printable) || text.char_indices().any(|(i, c)| i > 0 && c == '\u{feff}')
    {
        return Some("non-printable characters");
    }
    // BUG in ours: "{%}", "{@a: 1}", "{a, |}", "{>a}", "{#}", "[#]", "{\"a\":#}", "{-}" -> ours: a
    // key or item "%", "@a", "#", ...; serde-saphyr: error. A plain scalar may not start
    // with an indicator (YAML 1.2 7.3.3, ns-plain-first), and a `#` not after a blank is
    // no comment; ours refuses these in block context and `%@`|>` in [ ], but takes them
    // as plain keys inside { }, and `#` as a plain item or value anywhere in flow.
    // `-` before `,` `]` `}` is no plain scalar either: ours refuses "[-]", reads "{-}".
    if ours.is_ok() && theirs.is_err() && flow_item_starts_with_indicator(text) {
        return Some("flow key or item starting with an indicator");
    }
    if let (Ok(_), Err(e)) = (ours, &theirs) {
        // BUG in ours: "a: |\n   \n  x\n" -> ours: {"a": " \nx\n"}; serde-saphyr: error.
        // A leading blank line of a block scalar may not have more spaces than its first
        // text line (YAML 1.2 8.1.1.1); ours keeps the extra spaces as content.
        if e.contains("wrongly indented line in block scalar") {
            return Some("block scalar: leading blank line indented more than the text");
        }
        // serde-saphyr's: "|\n\tx\n" -> ours: "\tx\n"; serde-saphyr: error. At the top
        // level a block scalar's indentation may be 0, and then a tab is content (YAML 1.2
        // 8.1.1.1 with n = -1).
        if e.contains("block scalar content cannot start with a tab") {
            return Some("top-level block scalar starting with a tab");
        }
    }
    // BUG in ours: "-\t- a\n" -> ours: [["a"]]; serde-saphyr: error. A compact nested
    // sequence must be indented with spaces after its `-` (YAML 1.2 8.2.1, s-indent(m);
    // test suite Y79Y); ours takes the tab as one column, so "x:\n-\t- a\n  - b\n" reads
    // as {"x": [["a", "b"]]}: the ambiguity the tab rule is there to prevent.
    if ours.is_ok() && theirs.is_err() && tab_then_dash(text) {
        return Some("tab between `-` and a nested `-`");
    }
    // BUG in ours: "x: &a &b 1\n" -> ours: {"x": 1}; serde-saphyr: error. A node has at
    // most one anchor (YAML 1.2 6.9, c-ns-properties); ours took several (now refused).
    // Still: "y: &y 1\na: &x *y\n" -> ours: {"y": 1, "a": 1}; serde-saphyr: error. An
    // alias has no properties (YAML 1.2 7.1), so no anchor; ours takes one.
    if ours.is_ok()
        && theirs.is_err()
        && (two_anchors(text) || two_anchors(&without_comments(text)))
    {
        return Some("two anchors on one node, or an anchor on an alias");
    }
    // The comparison's, not the parser's: the manifest decides what a scalar means, and
    // `as_json` types only booleans, decimal integers and simple floats, while
    // serde-saphyr also reads "0x1F", "0o17", "0b101", "1_000" (YAML 1.2
    // core schema: right), "0XE"/"0O17" (not core schema: serde-saphyr's), integers past
    // i64 as u64, and refuses ".inf"/".nan"/"1e400" (its default policy).
    match (ours, &theirs) {
        (Ok(a), Ok(b)) if same_but_typing(a, b) => return Some("scalar typing"),
        (Ok(_), Err(e)) if e.contains("non-finite float") => return Some("non-finite floats"),
        _ => {}
    }
    // BUG in ours: "a: |\n  x\n     \n" -> ours: {"a": "x\n"}; serde-saphyr: {"a": "x\n   \n"}
    // (and "a: |2\n     \n" -> "" against "   \n"). A last line of only spaces indented
    // more than the block scalar's content is content (YAML 1.2 8.1.1.2: trailing empty
    // lines are indented at most n); ours drops it as a trailing blank line.
    if let (Ok(a), Ok(b)) = (ours, &theirs) {
        let trailing_spaces = |a: &serde_json::Value, b: &serde_json::Value| match (a, b) {
            (serde_json::Value::String(a), serde_json::Value::String(b)) => {
                a.trim_end() == b.trim_end()
            }
            _ => false,
        };
        if (text.contains('|') || text.contains('>')) && same_but(a, b, &trailing_spaces) {
            return Some("block scalar: last lines of spaces indented more than the text");
        }
    }
    // BUG in ours: "x: &a\n- b\n" -> ours: error "a list item where a key was expected";
    // serde-saphyr: {"x": ["b"]}. A mapping's value may be a sequence at the key's own
    // indentation (YAML 1.2 8.2.1, seq-spaces), with an anchor on the key's line too;
    // ours reads "x:\n- b\n" but not with the anchor.
    if let (Err(message), Ok(_)) = (ours, &theirs) {
        if message.contains("a list item where a key was expected") && text.contains('&') {
            return Some("anchored value, then a list at the key's indentation");
        }
    }
    // BUG in ours: "&y\n---\n" -> ours: "---"; serde-saphyr: error (a second document);
    // "&y\n...\n" -> ours: "..."; serde-saphyr: null. `---` or `...` at a line's start
    // is a document marker, never a scalar (YAML 1.2 9.1.4); ours reads it as the value
    // of an anchor alone on the first line.
    if ours.is_ok() && text.contains('&') && has_document_marker(text) {
        return Some("document marker after a lone anchor");
    }
    // BUG in ours: "[k\n\nke]" -> ours: ["k ke"]; serde-saphyr: ["k\nke"]. An empty line
    // in a multi-line plain scalar is a line break, in flow as in block (YAML 1.2 6.5,
    // b-l-folded); ours folds it to a space inside [ ] and { } (quoted scalars and block
    // plain scalars are right).
    if let (Ok(a), Ok(b)) = (ours, &theirs) {
        if (text.contains('[') || text.contains('{')) && folded(a) == folded(b) {
            return Some("flow plain scalar folding an empty line to a space");
        }
    }
    // Ours refuses, serde-saphyr is lenient: "[?]" -> ours: error "unexpected '?'";
    // serde-saphyr: ["?"]. YAML reads `?` there as an explicit key (ns-plain-first does
    // not let a plain scalar start with `?` before `]`), so [{null: null}]; ours refuses
    // explicit keys, as everywhere.
    if let (Err(message), Ok(_)) = (ours, &theirs) {
        if message.contains("unexpected '?'") {
            return Some("`?` alone in flow");
        }
    }
    if let (Err(_), Ok(_)) = (ours, &theirs) {
        // Ours refuses valid YAML no manifest needs: "...\na: 1\n" -> ours: error "unexpected
        // text"; serde-saphyr: {"a": 1}. A `...` before any document ends nothing, and one
        // document follows (YAML 1.2 9.2, l-yaml-stream).
        if lines(text).iter().any(|line| line.starts_with("...")) {
            return Some("a document after `...`");
        }
        // Ours refuses valid YAML: "--- a\n", "--- |\n  x\n", "--- [a]\n" -> ours: error
        // "unexpected text after the value"; serde-saphyr: "a", "x\n", ["a"]. The root node
        // may start on the `---` line (YAML 1.2 9.1.4, l-explicit-document).
        // (Ours says "unexpected text after the value", or for "--- :D" "mapping values
        // are not allowed here".)
        if lines(text).iter().any(|line| {
            line.strip_prefix("---").is_some_and(|rest| {
                rest.starts_with([' ', '\t'])
                    && !rest.trim_start().is_empty()
                    && !rest.trim_start().starts_with('#')
            })
        }) {
            return Some("content on the `---` line");
        }
    }
    // BUG in ours: "\"x\"\n ...\n", ">\n  .\n ..." -> ours: "x", ".\n"; serde-saphyr: error.
    // `...` ends a document only at column 0 (YAML 1.2 9.1.4); indented, after a top-level
    // quoted or block scalar, it is more text, an error; ours ends the document there.
    if ours.is_ok() && theirs.is_err() {
        let indented_dots = lines(text)
            .iter()
            .any(|line| line.starts_with([' ', '\t']) && line.trim_start().starts_with("..."));
        if indented_dots {
            return Some("indented `...` after a top-level scalar");
        }
    }
    // BUG in ours (edge): "e: &b {e: &b}\nA: *b\n" -> ours: A = {"e": null}; serde-saphyr:
    // A = null. An alias names the anchor last written before it (YAML 1.2 7.1), here the
    // inner one; ours registers an anchor when its node ends, so the outer one wins. (With
    // "yx: &- [*-]" serde-saphyr refuses the recursion, ours takes an earlier &-.)
    if ours.is_ok() && anchor_reused(text) {
        return Some("anchor name reused inside its own node");
    }
    // BUG in ours: "\"a\\t\nb\"", "\"a\\ \nb\"" -> ours: "a b"; serde-saphyr: "a\t b", "a  b".
    // An escaped blank before a line break in a double-quoted scalar is content; only the
    // blanks written as such are trimmed before the fold (YAML 1.2 7.3.1, example 7.5);
    // ours trims `\t`, `\ `, `\x20` too.
    if let (Ok(a), Ok(b)) = (ours, &theirs) {
        let blanks = |a: &serde_json::Value, b: &serde_json::Value| match (a, b) {
            (serde_json::Value::String(a), serde_json::Value::String(b)) => {
                a.split_whitespace().eq(b.split_whitespace())
            }
            _ => typed_alike(a, b),
        };
        if escaped_blank_at_line_end(text) && same_but(a, b, &blanks) {
            return Some("escaped blank before a line break in \"...\"");
        }
    }
    // BUG in ours (edge): "a: |+\n  x\n  " -> ours: {"a": "x\n\n"}; serde-saphyr: "x\n". With
    // keep chomping, a last line of blanks without a line break is no empty line (l-empty
    // ends in a break, YAML 1.2 8.1.1.2); ours counts one more line break.
    if let (Ok(a), Ok(b)) = (ours, &theirs) {
        let last = text.rsplit('\n').next().unwrap_or("");
        let newlines = |a: &serde_json::Value, b: &serde_json::Value| match (a, b) {
            (serde_json::Value::String(a), serde_json::Value::String(b)) => {
                a.trim_end_matches('\n') == b.trim_end_matches('\n')
            }
            _ => typed_alike(a, b),
        };
        if text.contains('+')
            && !last.is_empty()
            && last.bytes().all(|b| b == b' ' || b == b'\t')
            && same_but(a, b, &newlines)
        {
            return Some("keep-chomped block scalar ending in blanks without a line break");
        }
    }
    // Keys compared as text (ours) or as typed values (serde-saphyr): "1:\n+1:\n",
    // "0x1: a\n1: b\n" -> ours: two keys; serde-saphyr: duplicate key (both are the int 1,
    // which YAML 1.2 3.2.1.3 calls equal). "1: a\n\"1\": b\n" -> ours: duplicate key;
    // serde-saphyr: {"1": "b"} (an int and a string differ). Per YAML serde-saphyr is
    // right; for a manifest, whose keys are names, ours is the useful reading.
    match (ours, &theirs) {
        (Ok(_), Err(e)) if e.contains("duplicate mapping key") => {
            return Some("key equality: text or typed value");
        }
        (Err(message), Ok(_)) if message.contains("duplicate key") => {
            return Some("key equality: text or typed value");
        }
        _ => {}
    }
    // BUG in ours (edge): "{m #\n:(}" -> ours: {"m": "("}; serde-saphyr: error. Without
    // the comment both read "{m\n:(}" as one key "m :(": `:` before a non-blank is no value
    // indicator after a plain key (YAML 1.2 7.4.2); after the comment, ours takes it as one.
    if ours.is_ok() && theirs.is_err() {
        let mut comment = false;
        let mut after_comment = false;
        for line in lines(text) {
            let start = line.trim_start_matches([' ', '\t']);
            if comment
                && start.starts_with(':')
                && start[1..].starts_with(|c: char| c != ' ' && c != '\t')
            {
                after_comment = true;
            }
            if without_comments(line) != line {
                comment = true;
            } else if !start.is_empty() {
                comment = false;
            }
        }
        if after_comment {
            return Some("`:x` on the line after a key and a comment, in { }");
        }
    }
    // BUG in ours (edge): "\"a\\\n...\n\"" -> ours: "a... "; serde-saphyr: error. A line
    // starting `---` or `...` is a document marker even inside a quoted scalar (YAML 1.2
    // 9.1.4, c-forbidden); ours refuses it, but not after an escaped line break.
    if let (Ok(_), Err(e)) = (ours, &theirs) {
        if e.contains("found unexpected document indicator") {
            return Some("document marker after an escaped line break in \"...\"");
        }
    }
    // BUG in ours (since 3ef3f95, anchors in the order written): "x: &l\n  a: *l\n",
    // "x: &l [1, *l]" -> ours: {"x": {"a": null}}, {"x": [1, null]}; serde-saphyr: error
    // "recursive references". An alias inside its own anchor's node is a cycle (YAML 1.2
    // 3.2.1.1), which a tree cannot hold; ours silently reads it as null.
    if let (Ok(_), Err(e)) = (ours, &theirs) {
        if e.contains("recursive references") {
            return Some("alias inside its own anchor's node");
        }
    }
    // BUG in ours (lenient): "{t:[]}", "{t:{}}" -> ours: {"t": []}, {"t": {}}; serde-saphyr:
    // error. After a plain key, `:` needs a blank before a flow collection (YAML 1.2 7.4.1:
    // only a JSON-like key, `{"t":[]}`, may have its value adjacent); as `{t:x}` and
    // `{t:"x"}` are one key "t:x", "t:\"x\"", in both.
    if let (Ok(_), Err(e)) = (ours, &theirs) {
        if e.contains("may not precede any of") {
            return Some("`:` right before [ or { after a plain key");
        }
    }
    // BUG in ours: "&a - x\n", "- &a - b\n" -> ours: ["x"], [["b"]]; serde-saphyr: error.
    // A block collection after node properties starts on the next line (YAML 1.2 8.2.3,
    // s-l+block-collection); ours reads a list on the anchor's line.
    if let (Ok(_), Err(e)) = (ours, &theirs) {
        if e.contains("block sequence entries are not allowed in this context")
            && text.contains('&')
        {
            return Some("anchor, then `- ` on the same line");
        }
    }
    // BUG in ours: "a: x\n\t\n  y\n" -> ours: error "this line is indented more than the
    // keys above it"; serde-saphyr: {"a": "x\ny"}. A line of blanks, tabs among them, is
    // an empty line inside a plain scalar (YAML 1.2 6.5, l-empty with s-flow-line-prefix);
    // ours ends the scalar there. (Between keys, such a line is fine in ours.)
    if ours.is_err() && theirs.is_ok() {
        let normalized = normalize(text);
        let tab_line = normalized
            .split('\n')
            .any(|line| line.contains('\t') && line.bytes().all(|b| b == b' ' || b == b'\t'));
        if tab_line {
            return Some("line of blanks with a tab inside a plain scalar");
        }
    }
    // Both lenient, serde-saphyr unevenly: "a: [\n\t]", "a: [x\n\t]", "a: {\n\tb: 1}",
    // "e: {m\n:}" -> ours: {"a": []}, ..., {"e": {"m": null}}; serde-saphyr: error ("tabs
    // disallowed", "found a tab", "illegal placement of ':'"). A flow collection's lines in
    // a block mapping's value must be indented more than the key (YAML 1.2 7.1; test suite
    // 9C9N), and a tab does not indent, so these are errors; but both read "a: [x,\ny]"
    // and "a: [x,\n\ty]", and ours refuses "a: [x,\n \ty]" (tabs rule), which is valid.
    // Also "b: {\nx\ny: 1}" -> ours {"b": {"x y": 1}}; serde-saphyr: error "illegal
    // placement of ':'" (it reads "b: {\n  x\n  y: 1}": a flow key may span lines, NJ66).
    if let (Ok(_), Err(e)) = (ours, &theirs) {
        if (e.contains("tabs disallowed")
            || e.contains("found a tab")
            || e.contains("illegal placement of ':'"))
            && (text.contains('[') || text.contains('{'))
        {
            return Some("flow lines not indented more than the key");
        }
    }
    None
}

/// The value with line breaks in its strings and keys as spaces, and runs of spaces as
/// one (keys sort again once folded), as JSON text.
fn folded(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    fn words(s: &str) -> String {
        s.split([' ', '\n'])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
    fn fold(v: &J) -> J {
        match v {
            J::String(s) => J::String(words(s)),
            J::Array(a) => J::Array(a.iter().map(fold).collect()),
            J::Object(o) => J::Object(o.iter().map(|(k, v)| (words(k), fold(v))).collect()),
            v => v.clone(),
        }
    }
    fold(v).to_string()
}

/// The text's lines, `\r\n` and `\r` as line breaks, without a byte order mark.
fn lines(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split(['\n', '\r']).collect()
}

/// The text without its comments: from a `#` after a blank (or at a line's start) to the
/// line's end; naive about quotes.
fn without_comments(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            let b = line.as_bytes();
            let at = (0..b.len())
                .find(|&i| b[i] == b'#' && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t'));
            at.map_or(line, |i| line[..i].trim_end())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a line (but the first) starts with `---` or `...` and a blank or its end.
fn has_document_marker(text: &str) -> bool {
    lines(text).iter().skip(1).any(|line| {
        (line.starts_with("---") || line.starts_with("..."))
            && matches!(line.as_bytes().get(3), None | Some(b' ' | b'\t' | b'\r'))
    })
}

/// Equal, but for scalars that ours leaves as text (or types as another number) and
/// serde-saphyr reads as a number or a boolean.
fn same_but_typing(ours: &serde_json::Value, theirs: &serde_json::Value) -> bool {
    same_but(ours, theirs, &typed_alike)
}

/// A scalar ours leaves as text (or types as another number), serde-saphyr as a number or
/// a boolean.
fn typed_alike(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::String(s), J::Number(_)) => s.bytes().any(|b| b.is_ascii_digit()),
        (J::String(s), J::Bool(b)) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        (J::Number(a), J::Number(b)) => a.as_f64() == b.as_f64(),
        _ => false,
    }
}

/// Equal in shape, and each pair of leaves equal or `alike`.
fn same_but(
    ours: &serde_json::Value,
    theirs: &serde_json::Value,
    alike: &dyn Fn(&serde_json::Value, &serde_json::Value) -> bool,
) -> bool {
    use serde_json::Value as J;
    match (ours, theirs) {
        (J::Array(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_but(a, b, alike))
        }
        (J::Object(a), J::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_but(v, w, alike)))
        }
        (a, b) => a == b || alike(a, b),
    }
}

/// Whether an anchor is followed, after blanks or line breaks, by another anchor or an
/// alias.
fn two_anchors(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        let name = b[i + 1..]
            .iter()
            .take_while(|&&n| {
                !matches!(
                    n,
                    b' ' | b'\t' | b'\n' | b'\r' | b',' | b'[' | b']' | b'{' | b'}'
                )
            })
            .count();
        let rest = &b[i + 1 + name..];
        c == b'&'
            && name > 0
            && rest
                .iter()
                .find(|&&n| !matches!(n, b' ' | b'\t' | b'\n' | b'\r'))
                .is_some_and(|n| *n == b'&' || *n == b'*')
    })
}

/// Whether a line ends (but for blanks) in an escaped blank: `\ `, `\<tab>`, `\t`,
/// `\x20`, `\x09`, `\u0020`, `\u0009`.
fn escaped_blank_at_line_end(text: &str) -> bool {
    lines(text).iter().any(|line| {
        let l = line.trim_end_matches([' ', '\t']);
        l.len() < line.len() && l.ends_with('\\')
            || ["\\t", "\\x20", "\\x09", "\\u0020", "\\u0009"]
                .iter()
                .any(|e| l.ends_with(e))
    })
}

/// Whether an anchor name is written twice.
fn anchor_reused(text: &str) -> bool {
    let mut names: Vec<&str> = text
        .split('&')
        .skip(1)
        .map(|rest| {
            rest.split([' ', '\t', '\n', '\r', ',', '[', ']', '{', '}'])
                .next()
                .unwrap_or("")
        })
        .filter(|name| !name.is_empty())
        .collect();
    names.sort_unstable();
    names.windows(2).any(|w| w[0] == w[1])
}

/// Whether a `-` is followed by blanks with a tab among them, then another `-`.
fn tab_then_dash(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        let blanks = b[i + 1..]
            .iter()
            .take_while(|&&n| n == b' ' || n == b'\t')
            .count();
        c == b'-'
            && b[i + 1..i + 1 + blanks].contains(&b'\t')
            && b.get(i + 1 + blanks) == Some(&b'-')
    })
}

/// Whether `[`, `{`, `,` or `:` is followed (after blanks) by `%`, `@`, `` ` ``, `|`, `>`
/// or `#`, or by `-` and a flow indicator.
fn flow_item_starts_with_indicator(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        let blanks = b[i + 1..]
            .iter()
            .take_while(|&&n| matches!(n, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        let next = &b[i + 1 + blanks..];
        b"[{,:".contains(&c)
            && match next {
                [b'-', f, ..] => b",[]{}".contains(f),
                [n, ..] => b"%@`|>#".contains(n),
                [] => false,
            }
    })
}
