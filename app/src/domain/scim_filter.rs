//! SCIM 2.0 filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a hand-written tokenizer and
//! recursive-descent parser, a renderer that writes them back as filter text, and an evaluator
//! that tests a filter against a JSON resource (or one element of a multi-valued attribute).
//!
//! Identity providers (Okta, Entra ID, OneLogin…) send these strings verbatim, so every
//! malformed input is an `Err` with a sentence that says what and where, never a panic; input
//! length and nesting are bounded because the text comes from the network.
//!
//! Evaluation choices (RFC 7644 leaves these open; see [`matches_with`]):
//! - attribute names and schema URNs match JSON keys case-insensitively; unqualified names are
//!   looked up at the top level only (not inside extension objects);
//! - a multi-valued attribute (JSON array) matches when any element does; a complex value
//!   compared without a sub-attribute (`emails eq "x"`) compares its `value` sub-attribute;
//! - strings compare case-insensitively unless the caller marks the attribute case-exact;
//!   `co`/`sw`/`ew` apply to strings only; `gt`/`ge`/`lt`/`le` to numbers and strings
//!   (lexicographic, which orders ISO 8601 timestamps); booleans only to `eq`/`ne`;
//! - `ne` is the exact complement of `eq` ("no value equals"), so a missing attribute, or one
//!   of another type, is `ne` anything; every other operator is false on a missing attribute;
//! - `eq null` never matches (use `pr`) and `ne null` means present, like `pr`;
//! - `pr` is true when the value is not null, not an empty string, not an empty array and, for
//!   a complex value, has at least one present sub-attribute.
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Value};

/// Longest filter or path accepted, in bytes. Real filters are well under 200 bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not ( … )` and value filters `[ … ]`: bounds the parser's
/// recursion. Long `and`/`or` chains are bounded by [`MAX_FILTER_LEN`] instead (at most ~510
/// terms, which rendering, evaluation and drop walk recursively in well under 1 MiB of stack;
/// a test checks it).
pub const MAX_DEPTH: usize = 32;

/// The prefix shared by the core schema URNs (`…:core:2.0:User`, `…:core:2.0:Group`): an
/// attribute qualified by one of them is the resource's own top-level attribute.
const CORE_SCHEMA_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:";

/// `[urn:]name[.sub]`, e.g. `userName`, `name.givenName`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`. Names keep the
/// case they were written in; comparisons ignore it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// The schema URN, without the `:` that joins it to the name.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`; `value` is a JSON string, number, boolean or null.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    /// `path pr`
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    /// `not ( filter )`
    Not(Box<Filter>),
    /// `path[filter]`: some element of the multi-valued `path` matches `filter`, whose
    /// attribute names are relative to the element. `emails[type eq "work"].value eq "x"`
    /// (sent by some identity providers) parses as `emails[type eq "work" and value eq "x"]`,
    /// which means the same.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// A PATCH operation's `path`: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`, each
/// optionally URN-qualified. `attr.sub` is always `None`: the sub-attribute is in `sub` whether
/// or not there is a filter, so callers read it from one place.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    /// Which elements of the multi-valued `attr` the operation targets.
    pub filter: Option<Filter>,
    pub sub: Option<String>,
}

/// Why a filter or path was refused. `position` is the 1-based character where the problem
/// is (one past the end when the input stopped too early).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
    pub position: Option<usize>,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{} at position {p}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FilterError {}

/// Whether `urn` is one of the core schemas (User, Group…), whose attributes sit at the top
/// level of a resource rather than under the URN.
pub fn is_core_schema(urn: &str) -> bool {
    urn.len() > CORE_SCHEMA_PREFIX.len()
        && urn.get(..CORE_SCHEMA_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(CORE_SCHEMA_PREFIX))
}

impl AttrPath {
    /// Parses `[urn:]name[.sub]` on its own (no filter), e.g. for a `sortBy` or `attributes`
    /// parameter.
    pub fn parse(text: &str) -> Result<AttrPath, FilterError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(FilterError { message: "the attribute path is empty".into(), position: None });
        }
        if trimmed.len() > MAX_FILTER_LEN {
            return Err(too_long("attribute path"));
        }
        let start = text.len() - text.trim_start().len();
        let end = start + trimmed.len();
        match word_end(text, start) {
            Some(e) if e == end => attr_path(text, start, end),
            _ => Err(FilterError {
                message: format!("{:?} is not an attribute path", shorten(trimmed)),
                position: Some(char_pos(text, start)),
            }),
        }
    }

    /// Whether this is the attribute `name` (`[urn:]name[.sub]`), ignoring case and ignoring a
    /// core schema URN on either side: `urn:…:core:2.0:User:userName` is `userName`. An
    /// extension attribute is only itself with its URN.
    pub fn is(&self, name: &str) -> bool {
        let Ok(other) = AttrPath::parse(name) else { return false };
        fn ext(urn: &Option<String>) -> Option<&str> {
            urn.as_deref().filter(|u| !is_core_schema(u))
        }
        fn same(a: Option<&str>, b: Option<&str>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
        }
        self.name.eq_ignore_ascii_case(&other.name)
            && same(self.sub.as_deref(), other.sub.as_deref())
            && same(ext(&self.urn), ext(&other.urn))
    }
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn from_word(word: &str) -> Option<CompareOp> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Binding strength: `or` < `and` < everything else.
fn precedence(filter: &Filter) -> u8 {
    match filter {
        Filter::Or(..) => 1,
        Filter::And(..) => 2,
        _ => 3,
    }
}

/// One operand of `and`/`or`. The parser folds chains to the left, so an operand of the same
/// strength on the right needs parentheses for the text to parse back to the same tree.
fn write_operand(f: &mut fmt::Formatter<'_>, operand: &Filter, strength: u8, right: bool) -> fmt::Result {
    let p = precedence(operand);
    if p < strength || (right && p == strength) {
        write!(f, "({operand})")
    } else {
        write!(f, "{operand}")
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // serde_json writes strings with JSON escapes, which is the filter syntax too.
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(a, b) => {
                write_operand(f, a, 2, false)?;
                f.write_str(" and ")?;
                write_operand(f, b, 2, true)
            }
            Filter::Or(a, b) => {
                write_operand(f, a, 1, false)?;
                f.write_str(" or ")?;
                write_operand(f, b, 1, true)
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    /// An attribute path or a keyword (operator, `and`, `or`, `not`, `true`, `false`, `null`):
    /// which one depends on where it stands, so attributes may share a keyword's spelling.
    Word(&'a str),
    Str(String),
    Num(Value),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
}

#[derive(Debug)]
struct Token<'a> {
    tok: Tok<'a>,
    /// Byte offsets into the input.
    start: usize,
    end: usize,
}

/// 1-based character position of byte offset `byte` (always a char boundary here).
fn char_pos(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.chars().count()) + 1
}

fn too_long(what: &str) -> FilterError {
    FilterError { message: format!("the {what} is longer than {MAX_FILTER_LEN} bytes"), position: None }
}

/// Quotes `s` for a message, cut short so an abusive input does not fill the log.
fn shorten(s: &str) -> String {
    const KEEP: usize = 30;
    match s.char_indices().nth(KEEP) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '$'
}

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '$')
}

/// The end of the word starting at `start`, if a word starts there.
fn word_end(text: &str, start: usize) -> Option<usize> {
    let rest = text.get(start..)?;
    if !rest.chars().next().is_some_and(word_start) {
        return None;
    }
    Some(start + rest.find(|c: char| !word_char(c)).unwrap_or(rest.len()))
}

fn lex(text: &str) -> Result<Vec<Token<'_>>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        let err = |message: String| FilterError { message, position: Some(char_pos(text, start)) };
        let single = |tok| Token { tok, start, end: start + 1 };
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(single(Tok::LParen));
            }
            ')' => {
                chars.next();
                tokens.push(single(Tok::RParen));
            }
            '[' => {
                chars.next();
                tokens.push(single(Tok::LBracket));
            }
            ']' => {
                chars.next();
                tokens.push(single(Tok::RBracket));
            }
            '.' => {
                chars.next();
                tokens.push(single(Tok::Dot));
            }
            '"' => {
                chars.next();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => {
                            end = Some(i + 1);
                            break;
                        }
                        _ => {}
                    }
                }
                let Some(end) = end else { return Err(err("unterminated string starting".into())) };
                let raw = &text[start..end];
                // serde_json decodes the escapes (\uXXXX and surrogate pairs included) exactly as
                // RFC 7644 asks: filter strings are JSON strings.
                let decoded = serde_json::from_str::<String>(raw).map_err(|_| {
                    let what = if raw.chars().any(char::is_control) { "control character" } else { "invalid escape" };
                    err(format!("{what} in the string starting"))
                })?;
                tokens.push(Token { tok: Tok::Str(decoded), start, end });
            }
            '-' | '0'..='9' => {
                let rest = &text[start..];
                let len = rest
                    .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
                    .unwrap_or(rest.len());
                let raw = &rest[..len];
                let number = serde_json::from_str::<Value>(raw)
                    .ok()
                    .filter(Value::is_number)
                    .ok_or_else(|| err(format!("invalid number {:?}", shorten(raw))))?;
                while chars.peek().is_some_and(|&(i, _)| i < start + len) {
                    chars.next();
                }
                tokens.push(Token { tok: Tok::Num(number), start, end: start + len });
            }
            c if word_start(c) => {
                let end = word_end(text, start).unwrap_or(start + 1);
                while chars.peek().is_some_and(|&(i, _)| i < end) {
                    chars.next();
                }
                tokens.push(Token { tok: Tok::Word(&text[start..end]), start, end });
            }
            other => return Err(err(format!("unexpected character {:?}", other.to_string()))),
        }
    }
    Ok(tokens)
}

/// RFC 7644 ATTRNAME (`ALPHA *(ALPHA / DIGIT / "-" / "_")`), plus a leading `$` for `$ref`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = match chars.next() {
        Some('$') => chars.clone().next().is_some_and(|c| c.is_ascii_alphabetic()),
        Some(c) => c.is_ascii_alphabetic(),
        None => false,
    };
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Splits the word `text[start..end]` into `[urn:]name[.sub]`. The URN is everything before
/// the last colon: URNs contain dots (`2.0`) but attribute names contain no colons.
fn attr_path(text: &str, start: usize, end: usize) -> Result<AttrPath, FilterError> {
    let word = &text[start..end];
    let err = |message: String| Err(FilterError { message, position: Some(char_pos(text, start)) });
    let (urn, rest) = match word.rfind(':') {
        Some(i) => (Some(&word[..i]), &word[i + 1..]),
        None => (None, word),
    };
    if let Some(urn) = urn {
        let prefix_ok = urn.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
        if !prefix_ok || urn.len() < 5 || urn.split(':').any(str::is_empty) {
            return err(format!("invalid schema URN in {:?}", shorten(word)));
        }
    }
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    if !valid_name(name) {
        return err(format!("invalid attribute name in {:?}", shorten(word)));
    }
    if let Some(sub) = sub {
        if sub.contains('.') {
            return err(format!("too many \".\" in {:?} (only one sub-attribute level exists)", shorten(word)));
        }
        if !valid_name(sub) {
            return err(format!("invalid sub-attribute name in {:?}", shorten(word)));
        }
    }
    Ok(AttrPath { urn: urn.map(str::to_string), name: name.to_string(), sub: sub.map(str::to_string) })
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token<'a>>,
    next: usize,
    depth: usize,
}

fn is_word(tok: Option<&Token<'_>>, keyword: &str) -> bool {
    matches!(tok, Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(keyword))
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Result<Self, FilterError> {
        Ok(Parser { text, tokens: lex(text)?, next: 0, depth: 0 })
    }

    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.next)
    }

    fn peek_tok(&self) -> Option<&Tok<'a>> {
        self.peek().map(|t| &t.tok)
    }

    fn bump(&mut self) -> Option<&Token<'a>> {
        let t = self.tokens.get(self.next);
        self.next += 1;
        t
    }

    fn pos_of(&self, byte: usize) -> Option<usize> {
        Some(char_pos(self.text, byte))
    }

    /// Where the next token starts, or one past the end of the input.
    fn here(&self) -> usize {
        self.peek().map_or(self.text.trim_end().len(), |t| t.start)
    }

    /// How the next token reads in a message.
    fn describe_next(&self) -> Option<String> {
        self.peek().map(|t| match &t.tok {
            Tok::Str(_) => "a string".to_string(),
            _ => format!("{:?}", shorten(&self.text[t.start..t.end])),
        })
    }

    /// "expected X after "prev" but found Y at position N".
    fn expected(&self, what: &str) -> FilterError {
        let mut message = format!("expected {what}");
        if let Some(prev) = self.next.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            message.push_str(&format!(" after {:?}", shorten(&self.text[prev.start..prev.end])));
        }
        if let Some(found) = self.describe_next() {
            message.push_str(&format!(" but found {found}"));
        }
        FilterError { message, position: self.pos_of(self.here()) }
    }

    fn enter(&mut self, at: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError {
                message: format!("the filter nests more than {MAX_DEPTH} levels deep"),
                position: self.pos_of(at),
            });
        }
        Ok(())
    }

    /// Consumes the `)` or `]` closing the group opened at byte `open`.
    fn close(&mut self, closer: Tok<'static>, open: usize) -> Result<(), FilterError> {
        let (c, o) = if closer == Tok::RParen { (")", "(") } else { ("]", "[") };
        match self.peek_tok() {
            Some(t) if *t == closer => {
                self.bump();
                self.depth -= 1;
                Ok(())
            }
            None => {
                Err(FilterError { message: format!("missing {c:?} to close the {o:?}"), position: self.pos_of(open) })
            }
            Some(_) => Err(self.expected(&format!("\"and\", \"or\" or {c:?}"))),
        }
    }

    /// After a complete top-level filter: only the end of the input may follow.
    fn finish(&self) -> Result<(), FilterError> {
        match self.peek() {
            None => Ok(()),
            Some(Token { tok: Tok::RParen, start, .. }) => Err(FilterError {
                message: "unexpected \")\" with no matching \"(\"".into(),
                position: self.pos_of(*start),
            }),
            Some(Token { tok: Tok::RBracket, start, .. }) => Err(FilterError {
                message: "unexpected \"]\" with no matching \"[\"".into(),
                position: self.pos_of(*start),
            }),
            Some(_) => Err(self.expected("\"and\" or \"or\"")),
        }
    }

    /// `or` binds loosest; chains fold to the left.
    fn or(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.and(in_value)?;
        while is_word(self.peek(), "or") {
            self.bump();
            let right = self.and(in_value)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.unary(in_value)?;
        while is_word(self.peek(), "and") {
            self.bump();
            let right = self.unary(in_value)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        match self.peek() {
            Some(Token { tok: Tok::LParen, start, .. }) => {
                let open = *start;
                self.bump();
                self.enter(open)?;
                let inner = self.or(in_value)?;
                self.close(Tok::RParen, open)?;
                Ok(inner)
            }
            Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case("not") => {
                // `not` followed by an operator or `[` is an attribute that happens to be
                // called "not"; otherwise RFC 7644 requires `not (…)`.
                match self.tokens.get(self.next + 1).map(|t| &t.tok) {
                    Some(Tok::Word(op)) if op.eq_ignore_ascii_case("pr") || CompareOp::from_word(op).is_some() => {
                        self.attr_exp(in_value)
                    }
                    Some(Tok::LBracket) => self.attr_exp(in_value),
                    _ => {
                        self.bump();
                        let Some(Token { tok: Tok::LParen, start, .. }) = self.peek() else {
                            return Err(self.expected("\"(\""));
                        };
                        let open = *start;
                        self.bump();
                        self.enter(open)?;
                        let inner = self.or(in_value)?;
                        self.close(Tok::RParen, open)?;
                        Ok(Filter::Not(Box::new(inner)))
                    }
                }
            }
            Some(Token { tok: Tok::Word(_), .. }) => self.attr_exp(in_value),
            _ => Err(self.expected("an attribute name")),
        }
    }

    /// Reads an attribute path word.
    fn path(&mut self) -> Result<AttrPath, FilterError> {
        match self.peek() {
            Some(Token { tok: Tok::Word(_), start, end }) => {
                let (start, end) = (*start, *end);
                self.bump();
                attr_path(self.text, start, end)
            }
            _ => Err(self.expected("an attribute name")),
        }
    }

    /// `path pr`, `path op value`, or `path[filter]` (optionally `].sub pr|op value`).
    fn attr_exp(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let path = self.path()?;
        if let Some(Token { tok: Tok::LBracket, start, .. }) = self.peek() {
            let open = *start;
            if in_value {
                return Err(FilterError {
                    message: "value filters cannot be nested".into(),
                    position: self.pos_of(open),
                });
            }
            let mut filter = self.value_filter(&path, open)?;
            if self.peek_tok() == Some(&Tok::Dot) {
                self.bump();
                let sub = self.sub_name()?;
                let tail = self.operation(AttrPath { urn: None, name: sub, sub: None })?;
                filter = Filter::And(Box::new(filter), Box::new(tail));
            }
            return Ok(Filter::ValuePath { path, filter: Box::new(filter) });
        }
        self.operation(path)
    }

    /// `[filter]` after `path`, the `[` at byte `open` not yet consumed.
    fn value_filter(&mut self, path: &AttrPath, open: usize) -> Result<Filter, FilterError> {
        if path.sub.is_some() {
            return Err(FilterError {
                message: "a value filter must follow an attribute name, not a sub-attribute".into(),
                position: self.pos_of(open),
            });
        }
        self.bump();
        self.enter(open)?;
        let filter = self.or(true)?;
        self.close(Tok::RBracket, open)?;
        Ok(filter)
    }

    /// The plain name after `].`
    fn sub_name(&mut self) -> Result<String, FilterError> {
        match self.peek() {
            Some(Token { tok: Tok::Word(w), .. }) if valid_name(w) => {
                let name = w.to_string();
                self.bump();
                Ok(name)
            }
            _ => Err(self.expected("a sub-attribute name")),
        }
    }

    /// `pr` or `op value` after `path`.
    fn operation(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        let op = match self.peek() {
            Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case("pr") => {
                self.bump();
                return Ok(Filter::Present(path));
            }
            Some(Token { tok: Tok::Word(w), start, .. }) => match CompareOp::from_word(w) {
                Some(op) => op,
                None => {
                    let prev = self.next.checked_sub(1).and_then(|i| self.tokens.get(i));
                    let after =
                        prev.map_or(String::new(), |p| format!(" after {:?}", shorten(&self.text[p.start..p.end])));
                    return Err(FilterError {
                        message: format!("unknown operator {:?}{after}", shorten(w)),
                        position: self.pos_of(*start),
                    });
                }
            },
            _ => return Err(self.expected("an operator")),
        };
        self.bump();
        let value = match self.peek_tok() {
            Some(Tok::Str(s)) => Value::String(s.clone()),
            Some(Tok::Num(n)) => n.clone(),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Value::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Value::Bool(false),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => Value::Null,
            _ => return Err(self.expected("a value (a quoted string, a number, true, false or null)")),
        };
        self.bump();
        Ok(Filter::Compare { path, op, value })
    }
}

fn check_input(text: &str, what: &str) -> Result<(), FilterError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(too_long(what));
    }
    if text.trim().is_empty() {
        return Err(FilterError { message: format!("the {what} is empty"), position: None });
    }
    Ok(())
}

/// Parses a `filter` query parameter (or the `filter` of a `/.search` request).
pub fn parse_filter(text: &str) -> Result<Filter, FilterError> {
    check_input(text, "filter")?;
    let mut parser = Parser::new(text)?;
    let filter = parser.or(false)?;
    parser.finish()?;
    Ok(filter)
}

/// Parses the `path` of a PATCH operation.
pub fn parse_path(text: &str) -> Result<PatchPath, FilterError> {
    check_input(text, "path")?;
    let mut parser = Parser::new(text)?;
    let mut attr = parser.path()?;
    let mut sub = attr.sub.take();
    let mut filter = None;
    if let Some(Token { tok: Tok::LBracket, start, .. }) = parser.peek() {
        let open = *start;
        // Put `sub` back so value_filter sees `emails.value[…]` and refuses it.
        attr.sub = sub.take();
        filter = Some(parser.value_filter(&attr, open)?);
        if parser.peek_tok() == Some(&Tok::Dot) {
            parser.bump();
            sub = Some(parser.sub_name()?);
        }
    }
    match parser.peek() {
        None => Ok(PatchPath { attr, filter, sub }),
        Some(_) => Err(parser.expected("the end of the path")),
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// Whether `resource` (a SCIM resource, or one element of a multi-valued attribute) matches
/// `filter`, with every string compared case-insensitively (SCIM's default `caseExact=false`).
pub fn matches(filter: &Filter, resource: &Value) -> bool {
    matches_with(filter, resource, &|_| false)
}

/// [`matches`], with `case_exact(path)` saying which attributes compare strings exactly
/// (`id`, `externalId`, member `value`s…). Inside a value filter the path given is qualified
/// by the multi-valued attribute: `members[value eq "x"]` asks about `members.value`. See the
/// module documentation for how missing, multi-valued and mistyped values are treated.
pub fn matches_with(filter: &Filter, resource: &Value, case_exact: &dyn Fn(&AttrPath) -> bool) -> bool {
    eval(filter, resource, None, case_exact)
}

fn eval(filter: &Filter, resource: &Value, parent: Option<&AttrPath>, case_exact: &dyn Fn(&AttrPath) -> bool) -> bool {
    match filter {
        Filter::Compare { path, op, value } => {
            let exact = match parent {
                Some(p) if path.urn.is_none() && path.sub.is_none() => {
                    case_exact(&AttrPath { urn: p.urn.clone(), name: p.name.clone(), sub: Some(path.name.clone()) })
                }
                _ => case_exact(path),
            };
            compare(&resolve(resource, path), *op, value, exact)
        }
        Filter::Present(path) => resolve(resource, path).into_iter().any(present),
        Filter::And(a, b) => eval(a, resource, parent, case_exact) && eval(b, resource, parent, case_exact),
        Filter::Or(a, b) => eval(a, resource, parent, case_exact) || eval(b, resource, parent, case_exact),
        Filter::Not(inner) => !eval(inner, resource, parent, case_exact),
        // Only complex elements can be selected; scalars have no sub-attributes to test.
        Filter::ValuePath { path, filter } => resolve(resource, path)
            .into_iter()
            .filter(|element| element.is_object())
            .any(|element| eval(filter, element, Some(path), case_exact)),
    }
}

/// `key` in `object`, exact spelling first, then ignoring ASCII case (SCIM names are ASCII).
fn get_ci<'v>(object: &'v Value, key: &str) -> Option<&'v Value> {
    let map: &Map<String, Value> = object.as_object()?;
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Pushes `value`, or each element of it if it is an array.
fn flatten_into<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    match value {
        Value::Array(items) => out.extend(items.iter()),
        other => out.push(other),
    }
}

/// Every value `path` names in `resource`, arrays flattened (empty when missing).
fn resolve<'v>(resource: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    let scope = match path.urn.as_deref() {
        None => Some(resource),
        Some(urn) => get_ci(resource, urn).or(if is_core_schema(urn) { Some(resource) } else { None }),
    };
    let mut out = Vec::new();
    let Some(value) = scope.and_then(|s| get_ci(s, &path.name)) else { return out };
    match &path.sub {
        None => flatten_into(value, &mut out),
        Some(sub) => {
            let mut parents = Vec::new();
            flatten_into(value, &mut parents);
            for parent in parents {
                if let Some(v) = get_ci(parent, sub) {
                    flatten_into(v, &mut out);
                }
            }
        }
    }
    out
}

/// RFC 7644 `pr`: a non-empty value, or for a complex value a non-empty sub-attribute.
fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(present),
        Value::Object(map) => map.values().any(present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(values: &[&Value], op: CompareOp, wanted: &Value, exact: bool) -> bool {
    if wanted.is_null() {
        return op == CompareOp::Ne && values.iter().any(|v| present(v));
    }
    // A complex value without a sub-attribute stands for its `value` (RFC 7644 §3.4.2.2).
    let mut candidates = values
        .iter()
        .filter_map(|v| if v.is_object() { get_ci(v, "value") } else { Some(*v) })
        .filter(|v| !v.is_null());
    match op {
        CompareOp::Ne => !candidates.any(|c| compare_one(c, CompareOp::Eq, wanted, exact)),
        _ => candidates.any(|c| compare_one(c, op, wanted, exact)),
    }
}

fn fold(s: &str, exact: bool) -> Cow<'_, str> {
    if exact {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

fn number_order(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    // Integers compare exactly; f64 would round above 2^53.
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

fn ordered(order: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => order == Ordering::Equal,
        CompareOp::Ne => order != Ordering::Equal,
        CompareOp::Gt => order == Ordering::Greater,
        CompareOp::Ge => order != Ordering::Less,
        CompareOp::Lt => order == Ordering::Less,
        CompareOp::Le => order != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn compare_one(actual: &Value, op: CompareOp, wanted: &Value, exact: bool) -> bool {
    match (actual, wanted) {
        (Value::String(a), Value::String(b)) => {
            let (a, b) = (fold(a, exact), fold(b, exact));
            match op {
                CompareOp::Co => a.contains(b.as_ref()),
                CompareOp::Sw => a.starts_with(b.as_ref()),
                CompareOp::Ew => a.ends_with(b.as_ref()),
                _ => ordered(a.cmp(&b), op),
            }
        }
        (Value::Number(a), Value::Number(b)) => number_order(a, b).is_some_and(|o| ordered(o, op)),
        (Value::Bool(a), Value::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(text: &str) -> Filter {
        match parse_filter(text) {
            Ok(f) => f,
            Err(e) => panic!("{text:?} should parse: {e}"),
        }
    }

    fn err(text: &str) -> String {
        match parse_filter(text) {
            Ok(f) => panic!("{text:?} should not parse, got {f:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn attr(name: &str) -> AttrPath {
        AttrPath { urn: None, name: name.into(), sub: None }
    }

    fn sub(name: &str, sub: &str) -> AttrPath {
        AttrPath { urn: None, name: name.into(), sub: Some(sub.into()) }
    }

    fn cmp(path: AttrPath, op: CompareOp, value: Value) -> Filter {
        Filter::Compare { path, op, value }
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    #[test]
    fn every_comparison_operator() {
        for (word, op) in [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ] {
            assert_eq!(p(&format!("userName {word} \"x\"")), cmp(attr("userName"), op, json!("x")));
            let upper = word.to_uppercase();
            assert_eq!(p(&format!("userName {upper} \"x\"")), cmp(attr("userName"), op, json!("x")));
        }
        assert_eq!(p("title pr"), Filter::Present(attr("title")));
        assert_eq!(p("title PR"), Filter::Present(attr("title")));
    }

    #[test]
    fn values() {
        let v = |text: &str| match p(&format!("a eq {text}")) {
            Filter::Compare { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(v(r#""a\"b""#), json!("a\"b"));
        assert_eq!(v(r#""tab\there \u00e9 \\ \/""#), json!("tab\there é \\ /"));
        assert_eq!(v(r#""héllo""#), json!("héllo"));
        assert_eq!(v(r#""""#), json!(""));
        assert_eq!(v("42"), json!(42));
        assert_eq!(v("-7"), json!(-7));
        assert_eq!(v("3.25"), json!(3.25));
        assert_eq!(v("-0.5"), json!(-0.5));
        assert_eq!(v("1e3"), json!(1000.0));
        assert_eq!(v("true"), json!(true));
        assert_eq!(v("FALSE"), json!(false));
        assert_eq!(v("True"), json!(true));
        assert_eq!(v("null"), Value::Null);
        assert_eq!(v("NULL"), Value::Null);
    }

    #[test]
    fn attribute_paths() {
        assert_eq!(p("name.givenName eq \"Ann\""), cmp(sub("name", "givenName"), CompareOp::Eq, json!("Ann")));
        assert_eq!(p("emails.value co \"@x\""), cmp(sub("emails", "value"), CompareOp::Co, json!("@x")));
        assert_eq!(p("members.$ref pr"), Filter::Present(sub("members", "$ref")));
        let number = p(&format!("{ENTERPRISE}:employeeNumber eq \"42\""));
        assert_eq!(
            number,
            cmp(
                AttrPath { urn: Some(ENTERPRISE.into()), name: "employeeNumber".into(), sub: None },
                CompareOp::Eq,
                json!("42")
            )
        );
        assert_eq!(
            p(&format!("{CORE_USER}:userName eq \"ann\"")),
            cmp(
                AttrPath { urn: Some(CORE_USER.into()), name: "userName".into(), sub: None },
                CompareOp::Eq,
                json!("ann")
            )
        );
        assert_eq!(
            p(&format!("{ENTERPRISE}:manager.value eq \"26118915\"")),
            cmp(
                AttrPath { urn: Some(ENTERPRISE.into()), name: "manager".into(), sub: Some("value".into()) },
                CompareOp::Eq,
                json!("26118915")
            )
        );
        assert_eq!(AttrPath::parse(" name.familyName ").ok(), Some(sub("name", "familyName")));
        assert!(AttrPath::parse("name familyName").is_err());
        assert!(AttrPath::parse("").is_err());
    }

    #[test]
    fn precedence_and_grouping() {
        let a = || cmp(attr("a"), CompareOp::Eq, json!(1));
        let b = || cmp(attr("b"), CompareOp::Eq, json!(2));
        let c = || cmp(attr("c"), CompareOp::Eq, json!(3));
        assert_eq!(p("a eq 1 or b eq 2 and c eq 3"), or(a(), and(b(), c())));
        assert_eq!(p("a eq 1 and b eq 2 or c eq 3"), or(and(a(), b()), c()));
        assert_eq!(p("(a eq 1 or b eq 2) and c eq 3"), and(or(a(), b()), c()));
        assert_eq!(p("a eq 1 and b eq 2 and c eq 3"), and(and(a(), b()), c()));
        assert_eq!(p("a eq 1 or (b eq 2 or c eq 3)"), or(a(), or(b(), c())));
        assert_eq!(p("a eq 1 OR b eq 2 AND c eq 3"), or(a(), and(b(), c())));
        assert_eq!(p("((((a eq 1))))"), a());
        assert_eq!(p("((a eq 1) and ((b eq 2) or (c eq 3)))"), and(a(), or(b(), c())));
        assert_eq!(p("  a eq 1\t"), a());
    }

    #[test]
    fn not() {
        let a = cmp(attr("a"), CompareOp::Eq, json!(1));
        assert_eq!(p("not (a eq 1)"), Filter::Not(Box::new(a.clone())));
        assert_eq!(p("NOT(a eq 1)"), Filter::Not(Box::new(a.clone())));
        assert_eq!(p("not (not (a eq 1))"), Filter::Not(Box::new(Filter::Not(Box::new(a.clone())))));
        assert_eq!(
            p("b pr and not (a eq 1 or c pr)"),
            and(Filter::Present(attr("b")), Filter::Not(Box::new(or(a, Filter::Present(attr("c"))))))
        );
        // An attribute may be called "not" (or "and"): position decides.
        assert_eq!(p("not eq 1"), cmp(attr("not"), CompareOp::Eq, json!(1)));
        assert_eq!(p("and pr and or pr"), and(Filter::Present(attr("and")), Filter::Present(attr("or"))));
    }

    #[test]
    fn value_paths() {
        assert_eq!(
            p(r#"emails[type eq "work" and value co "@x"]"#),
            Filter::ValuePath {
                path: attr("emails"),
                filter: Box::new(and(
                    cmp(attr("type"), CompareOp::Eq, json!("work")),
                    cmp(attr("value"), CompareOp::Co, json!("@x"))
                ))
            }
        );
        // The sub-attribute form identity providers send is the same as its conjunction.
        assert_eq!(
            p(r#"emails[type eq "work"].value eq "a@b.c""#),
            p(r#"emails[type eq "work" and value eq "a@b.c"]"#)
        );
        assert_eq!(p(r#"emails[type eq "work"].value pr"#), p(r#"emails[type eq "work" and value pr]"#));
        assert_eq!(
            p(r#"emails[type eq "work" or type eq "home"].value ew "@x""#).to_string(),
            r#"emails[(type eq "work" or type eq "home") and value ew "@x"]"#
        );
        assert_eq!(
            p(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#),
            Filter::ValuePath {
                path: attr("members"),
                filter: Box::new(cmp(attr("value"), CompareOp::Eq, json!("2819c223-7f76-453a-919d-413861904646")))
            }
        );
        assert_eq!(
            p(r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#).to_string(),
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#
        );
        assert_eq!(p(r#"emails[not (type eq "work")]"#).to_string(), r#"emails[not (type eq "work")]"#);
    }

    #[test]
    fn identity_provider_requests() {
        assert_eq!(
            p(r#"userName eq "test.user@okta.local""#),
            cmp(attr("userName"), CompareOp::Eq, json!("test.user@okta.local"))
        );
        assert_eq!(
            p(r#"userName eq "non-existent user""#),
            cmp(attr("userName"), CompareOp::Eq, json!("non-existent user"))
        );
        assert_eq!(
            p(r#"externalId eq "abc" and userName eq "x""#),
            and(cmp(attr("externalId"), CompareOp::Eq, json!("abc")), cmp(attr("userName"), CompareOp::Eq, json!("x")))
        );
        assert_eq!(p(r#"displayName eq "Group 1""#), cmp(attr("displayName"), CompareOp::Eq, json!("Group 1")));
        assert_eq!(
            p(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#),
            cmp(sub("meta", "lastModified"), CompareOp::Gt, json!("2011-05-13T04:42:34Z"))
        );
        assert_eq!(p(r#"userName EQ "x" AND active Eq True"#), p(r#"userName eq "x" and active eq true"#));
        assert_eq!(p(r#"UserName Eq "x""#), cmp(attr("UserName"), CompareOp::Eq, json!("x")));
        // Entra ID's probe for a user that does not exist.
        assert!(parse_filter(r#"userName eq "7b3c6e6d-2ba2-4c14-9a1d-d1fe0b7e2a93""#).is_ok());
    }

    #[test]
    fn malformed_filters_say_what_and_where() {
        assert_eq!(err(""), "the filter is empty");
        assert_eq!(err("   "), "the filter is empty");
        assert_eq!(err("userName"), r#"expected an operator after "userName" at position 9"#);
        assert_eq!(
            err("userName eq"),
            r#"expected a value (a quoted string, a number, true, false or null) after "eq" at position 12"#
        );
        assert_eq!(
            err("userName eq bob"),
            r#"expected a value (a quoted string, a number, true, false or null) after "eq" but found "bob" at position 13"#
        );
        assert_eq!(err(r#"userName foo "x""#), r#"unknown operator "foo" after "userName" at position 10"#);
        assert_eq!(err(r#"userName eq "x"#), "unterminated string starting at position 13");
        assert_eq!(err(r#"userName eq "x\"#), "unterminated string starting at position 13");
        assert_eq!(err(r#"userName eq "\q""#), "invalid escape in the string starting at position 13");
        assert_eq!(err("userName eq \"a\u{1}\""), "control character in the string starting at position 13");
        assert_eq!(err(r#"(userName eq "x""#), r#"missing ")" to close the "(" at position 1"#);
        assert_eq!(err(r#"((userName eq "x")"#), r#"missing ")" to close the "(" at position 1"#);
        assert_eq!(err(r#"userName eq "x")"#), r#"unexpected ")" with no matching "(" at position 16"#);
        assert_eq!(err(r#"emails[type eq "x""#), r#"missing "]" to close the "[" at position 7"#);
        assert_eq!(err(r#"emails[type eq "x"]]"#), r#"unexpected "]" with no matching "[" at position 20"#);
        assert_eq!(
            err(r#"emails[type eq "x")"#),
            r#"expected "and", "or" or "]" after "\"x\"" but found ")" at position 19"#
        );
        assert_eq!(
            err(r#"userName eq "x" garbage"#),
            r#"expected "and" or "or" after "\"x\"" but found "garbage" at position 17"#
        );
        assert_eq!(err(r#"userName eq "x" and"#), r#"expected an attribute name after "and" at position 20"#);
        assert_eq!(
            err(r#"userName eq "x" or 5"#),
            r#"expected an attribute name after "or" but found "5" at position 20"#
        );
        assert_eq!(err("()"), r#"expected an attribute name after "(" but found ")" at position 2"#);
        assert_eq!(err("not a eq 1"), r#"expected "(" after "not" but found "a" at position 5"#);
        assert_eq!(err("emails[]"), r#"expected an attribute name after "[" but found "]" at position 8"#);
        assert_eq!(err("emails[a[b eq 1]]"), "value filters cannot be nested at position 9");
        assert_eq!(
            err("emails.value[a eq 1]"),
            "a value filter must follow an attribute name, not a sub-attribute at position 13"
        );
        assert_eq!(err("emails[a eq 1]."), r#"expected a sub-attribute name after "." at position 16"#);
        assert_eq!(err("emails[a eq 1].b"), r#"expected an operator after "b" at position 17"#);
        assert_eq!(err("a.b.c eq 1"), r#"too many "." in "a.b.c" (only one sub-attribute level exists) at position 1"#);
        assert_eq!(err("a. eq 1"), r#"invalid sub-attribute name in "a." at position 1"#);
        assert_eq!(err("a-b:c eq 1"), r#"invalid schema URN in "a-b:c" at position 1"#);
        assert_eq!(err("urn::x eq 1"), r#"invalid schema URN in "urn::x" at position 1"#);
        assert_eq!(err("urn:x: eq 1"), r#"invalid attribute name in "urn:x:" at position 1"#);
        assert_eq!(err("a eq 1.2.3"), r#"invalid number "1.2.3" at position 6"#);
        assert_eq!(err("a eq 01"), r#"invalid number "01" at position 6"#);
        assert_eq!(err("a eq -"), r#"invalid number "-" at position 6"#);
        assert_eq!(err("a eq 1 # b"), r##"unexpected character "#" at position 8"##);
        assert_eq!(err("é eq 1"), r#"unexpected character "é" at position 1"#);
        assert_eq!(err("a eq \"é\" )"), r#"unexpected ")" with no matching "(" at position 10"#);
        assert_eq!(err("a pr \"x\""), r#"expected "and" or "or" after "pr" but found a string at position 6"#);
    }

    #[test]
    fn limits() {
        let deep = |n: usize| format!("{}a eq 1{}", "(".repeat(n), ")".repeat(n));
        assert!(parse_filter(&deep(MAX_DEPTH)).is_ok());
        assert_eq!(
            parse_filter(&deep(MAX_DEPTH + 1)).map_err(|e| e.to_string()),
            Err(format!("the filter nests more than {MAX_DEPTH} levels deep at position {}", MAX_DEPTH + 1))
        );
        let nots = format!("{}a eq 1{}", "not (".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(parse_filter(&nots).is_err());
        // Deep input far past the limit is refused, not a stack overflow.
        assert!(parse_filter(&"(".repeat(4000)).is_err());
        let long = format!("userName eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
        assert_eq!(err(&long), format!("the filter is longer than {MAX_FILTER_LEN} bytes"));
        assert!(parse_path(&"a".repeat(MAX_FILTER_LEN + 1)).is_err());
        // A long but legal chain stays within the limit and evaluates.
        let chain = vec!["a eq 1"; 400].join(" or ");
        assert!(chain.len() <= MAX_FILTER_LEN);
        assert!(matches(&p(&chain), &json!({"a": 1})));
        assert_eq!(parse_filter(&p(&chain).to_string()), Ok(p(&chain)));
    }

    #[test]
    fn longest_chains_fit_a_small_stack() {
        // The deepest tree the length limit allows, on a thread with half of tokio's 2 MiB.
        let worker = std::thread::Builder::new().stack_size(1024 * 1024).spawn(|| {
            for joiner in [" or ", " and "] {
                let mut text = String::from("a pr");
                while text.len() + joiner.len() + 4 <= MAX_FILTER_LEN {
                    text.push_str(joiner);
                    text.push_str("a pr");
                }
                let f = p(&text);
                assert_eq!(parse_filter(&f.to_string()).as_ref(), Ok(&f));
                assert!(matches(&f, &json!({"a": 1})));
                assert!(!matches(&f, &json!({"b": 1})));
            }
        });
        match worker.map(|w| w.join()) {
            Ok(Ok(())) => {}
            other => panic!("the chain test failed: {other:?}"),
        }
    }

    #[test]
    fn patch_paths() {
        let path = |text: &str| match parse_path(text) {
            Ok(path) => path,
            Err(e) => panic!("{text:?} should parse: {e}"),
        };
        assert_eq!(path("displayName"), PatchPath { attr: attr("displayName"), filter: None, sub: None });
        assert_eq!(
            path("name.givenName"),
            PatchPath { attr: attr("name"), filter: None, sub: Some("givenName".into()) }
        );
        assert_eq!(
            path(&format!("{ENTERPRISE}:employeeNumber")),
            PatchPath {
                attr: AttrPath { urn: Some(ENTERPRISE.into()), name: "employeeNumber".into(), sub: None },
                filter: None,
                sub: None
            }
        );
        assert_eq!(
            path(&format!("{ENTERPRISE}:manager.value")),
            PatchPath {
                attr: AttrPath { urn: Some(ENTERPRISE.into()), name: "manager".into(), sub: None },
                filter: None,
                sub: Some("value".into())
            }
        );
        assert_eq!(
            path(r#"members[value eq "2819c223"]"#),
            PatchPath {
                attr: attr("members"),
                filter: Some(cmp(attr("value"), CompareOp::Eq, json!("2819c223"))),
                sub: None
            }
        );
        assert_eq!(
            path(r#"emails[type eq "work"].value"#),
            PatchPath {
                attr: attr("emails"),
                filter: Some(cmp(attr("type"), CompareOp::Eq, json!("work"))),
                sub: Some("value".into())
            }
        );
        assert_eq!(
            path(r#"addresses[type eq "work" and primary eq true].streetAddress"#).to_string(),
            r#"addresses[type eq "work" and primary eq true].streetAddress"#
        );
        for text in [
            "displayName",
            "name.givenName",
            r#"members[value eq "2819c223"]"#,
            r#"emails[type eq "work"].value"#,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ] {
            assert_eq!(path(text).to_string(), text);
        }
        let perr = |text: &str| parse_path(text).map(|p| p.to_string()).unwrap_or_else(|e| e.to_string());
        assert_eq!(perr(""), "the path is empty");
        assert_eq!(perr("[a eq 1]"), r#"expected an attribute name but found "[" at position 1"#);
        assert_eq!(perr("emails[type eq 1"), r#"missing "]" to close the "[" at position 7"#);
        assert_eq!(perr("emails[a[b eq 1]]"), "value filters cannot be nested at position 9");
        assert_eq!(
            perr("emails.value[type eq 1]"),
            "a value filter must follow an attribute name, not a sub-attribute at position 13"
        );
        assert_eq!(
            perr("emails[type eq 1].value.x"),
            r#"expected a sub-attribute name after "." but found "value.x" at position 19"#
        );
        assert_eq!(perr("emails[type eq 1]."), r#"expected a sub-attribute name after "." at position 19"#);
        assert_eq!(
            perr("userName eq \"x\""),
            r#"expected the end of the path after "userName" but found "eq" at position 10"#
        );
        assert_eq!(perr("emails[]"), r#"expected an attribute name after "[" but found "]" at position 8"#);
    }

    #[test]
    fn attr_path_is() {
        let user_name = p(&format!("{CORE_USER}:userName pr"));
        let Filter::Present(core) = user_name else { panic!() };
        assert!(core.is("userName"));
        assert!(core.is("USERNAME"));
        assert!(core.is(&format!("{CORE_USER}:username")));
        assert!(attr("userName").is(&format!("{CORE_USER}:userName")));
        assert!(!core.is("displayName"));
        let number = AttrPath { urn: Some(ENTERPRISE.into()), name: "employeeNumber".into(), sub: None };
        assert!(number.is(&format!("{}:EmployeeNumber", ENTERPRISE.to_lowercase())));
        assert!(!number.is("employeeNumber"));
        assert!(sub("name", "givenName").is("Name.GivenName"));
        assert!(!sub("name", "givenName").is("name"));
        assert!(!attr("name").is("name.givenName"));
        assert!(!attr("name").is("not a path"));
    }

    fn user() -> Value {
        json!({
            "schemas": [CORE_USER, ENTERPRISE],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "ABC",
            "userName": "Test.User@okta.local",
            "displayName": "Test User",
            "title": "",
            "nickName": null,
            "active": true,
            "loginCount": 42,
            "score": 2.5,
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [
                {"value": "test.user@work.example", "type": "work", "primary": true},
                {"value": "tu@home.example", "type": "home"}
            ],
            "phoneNumbers": [],
            "roles": ["admin", "auditor"],
            "meta": {"lastModified": "2011-05-13T04:42:34Z", "resourceType": "User"},
            ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "26118915", "displayName": "Boss"}}
        })
    }

    fn m(text: &str) -> bool {
        matches(&p(text), &user())
    }

    #[test]
    fn evaluate_strings() {
        assert!(m(r#"userName eq "test.user@okta.local""#));
        assert!(m(r#"USERNAME eq "TEST.USER@OKTA.LOCAL""#));
        assert!(!m(r#"userName eq "non-existent user""#));
        assert!(m(r#"userName ne "non-existent user""#));
        assert!(!m(r#"userName ne "test.user@okta.local""#));
        assert!(m(r#"userName co "@okta""#));
        assert!(m(r#"userName sw "test.""#));
        assert!(m(r#"userName ew ".LOCAL""#));
        assert!(!m(r#"userName sw "user""#));
        assert!(m(r#"displayName gt "Test Alpha""#));
        assert!(m(r#"displayName ge "test user""#));
        assert!(m(r#"displayName le "test user""#));
        assert!(!m(r#"displayName lt "test user""#));
        assert!(m(r#"meta.lastModified gt "2011-05-13T04:42:33Z""#));
        assert!(!m(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#));
        assert!(m(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#));
        assert!(m(r#"meta.lastModified lt "2012-01-01T00:00:00Z""#));
        assert!(m(r#"name.givenName eq "test""#));
        // A string is not a number, and co/sw/ew are for strings only.
        assert!(!m(r#"loginCount eq "42""#));
        assert!(!m("loginCount co 4"));
        assert!(!m("userName sw 1"));
    }

    #[test]
    fn evaluate_numbers_and_booleans() {
        assert!(m("loginCount eq 42"));
        assert!(m("loginCount eq 42.0"));
        assert!(m("loginCount gt 41 and loginCount lt 43"));
        assert!(m("loginCount ge 42 and loginCount le 42"));
        assert!(!m("loginCount gt 42"));
        assert!(m("loginCount gt -1"));
        assert!(m("score gt 2 and score lt 3"));
        assert!(m("score eq 2.5"));
        assert!(m("loginCount ne 7"));
        assert!(m("active eq true"));
        assert!(m("active eq TRUE"));
        assert!(!m("active eq false"));
        assert!(m("active ne false"));
        assert!(!m("active gt false"));
        assert!(!m(r#"active eq "true""#));
        let big = json!({"n": u64::MAX});
        assert!(matches(&p(&format!("n eq {}", u64::MAX)), &big));
        assert!(!matches(&p(&format!("n eq {}", u64::MAX - 1)), &big));
    }

    #[test]
    fn evaluate_presence_and_missing() {
        assert!(m("userName pr"));
        assert!(!m("title pr"), "empty string is not present");
        assert!(!m("nickName pr"), "null is not present");
        assert!(!m("phoneNumbers pr"), "empty array is not present");
        assert!(!m("missing pr"));
        assert!(m("emails pr"));
        assert!(m("name pr"));
        assert!(!matches(&p("name pr"), &json!({"name": {"givenName": null, "x": ""}})));
        assert!(m("emails.type pr"));
        assert!(!m("emails.display pr"));
        // A missing attribute matches nothing but `ne`.
        for op in ["eq", "co", "sw", "ew", "gt", "ge", "lt", "le"] {
            assert!(!m(&format!(r#"missing {op} "x""#)), "{op}");
        }
        assert!(m(r#"missing ne "x""#));
        assert!(m(r#"not (missing eq "x")"#));
        // null: eq never matches, ne means present.
        assert!(!m("nickName eq null"));
        assert!(!m("userName eq null"));
        assert!(!m("missing eq null"));
        assert!(m("userName ne null"));
        assert!(!m("nickName ne null"));
        assert!(!m("missing ne null"));
    }

    #[test]
    fn evaluate_multi_valued() {
        assert!(m(r#"emails.value eq "tu@home.example""#));
        assert!(m(r#"emails.type eq "work""#));
        assert!(!m(r#"emails.type eq "other""#));
        assert!(m(r#"emails co "home.example""#), "bare emails compares each element's value");
        assert!(m(r#"emails eq "TEST.USER@work.example""#));
        assert!(m(r#"roles eq "auditor""#));
        assert!(!m(r#"roles eq "owner""#));
        // ne is "no value equals".
        assert!(!m(r#"emails.type ne "work""#));
        assert!(m(r#"emails.type ne "other""#));
        assert!(m(r#"emails[type eq "work"]"#));
        assert!(m(r#"emails[type eq "work" and value co "@work"]"#));
        assert!(!m(r#"emails[type eq "work" and value co "@home"]"#), "both must hold for the same element");
        assert!(m(r#"emails[type eq "work"].value eq "test.user@work.example""#));
        assert!(!m(r#"emails[type eq "home"].value eq "test.user@work.example""#));
        assert!(m(r#"emails[primary eq true]"#));
        assert!(m(r#"emails[not (primary eq true)]"#));
        assert!(!m(r#"emails[type eq "work" and not (primary pr)]"#));
        assert!(!m(r#"phoneNumbers[type eq "work"]"#));
        assert!(!m(r#"missing[type eq "work"]"#));
        assert!(!m(r#"roles[value eq "admin"]"#), "scalar elements have no sub-attributes");
        assert!(m(r#"name[givenName eq "test"]"#), "a single complex value is its only element");
    }

    #[test]
    fn evaluate_urns() {
        assert!(m(&format!(r#"{ENTERPRISE}:employeeNumber eq "701984""#)));
        assert!(m(&format!(r#"{}:EMPLOYEENUMBER eq "701984""#, ENTERPRISE.to_uppercase())));
        assert!(m(&format!(r#"{ENTERPRISE}:manager.value eq "26118915""#)));
        assert!(m(&format!(r#"{ENTERPRISE}:manager eq "26118915""#)));
        assert!(!m(r#"employeeNumber eq "701984""#), "unqualified names are top-level only");
        assert!(m(&format!(r#"{CORE_USER}:userName eq "test.user@okta.local""#)));
        assert!(m(&format!(r#"{CORE_USER}:name.familyName eq "user""#)));
        assert!(!m(r#"urn:example:other:userName pr"#), "an unknown schema is not the core one");
    }

    #[test]
    fn evaluate_logic_and_case_exact() {
        assert!(m(r#"externalId eq "abc" and userName eq "test.user@okta.local""#));
        assert!(!m(r#"externalId eq "abc" and userName eq "x""#));
        assert!(m(r#"externalId eq "nope" or userName pr"#));
        assert!(!m(r#"not (userName pr)"#));
        let exact_ids = |path: &AttrPath| path.is("id") || path.is("externalId") || path.is("members.value");
        let f = p(r#"externalId eq "abc""#);
        assert!(matches(&f, &user()));
        assert!(!matches_with(&f, &user(), &exact_ids));
        assert!(matches_with(&p(r#"externalId eq "ABC""#), &user(), &exact_ids));
        assert!(matches_with(&p(r#"userName eq "test.user@okta.local""#), &user(), &exact_ids));
        // Inside a value filter the callback sees the qualified path.
        let group = json!({"displayName": "Group 1", "members": [{"value": "AbC"}, {"value": "def"}]});
        assert!(matches_with(&p(r#"members[value eq "AbC"]"#), &group, &exact_ids));
        assert!(!matches_with(&p(r#"members[value eq "abc"]"#), &group, &exact_ids));
        assert!(matches(&p(r#"members[value eq "abc"]"#), &group));
        assert!(matches(&p(r#"displayName eq "group 1""#), &group));
        // PATCH: the value filter applied to each element selects the targets.
        let path = match parse_path(r#"members[value eq "def"]"#) {
            Ok(path) => path,
            Err(e) => panic!("{e}"),
        };
        let Some(filter) = path.filter else { panic!("filter expected") };
        let members = group["members"].as_array().cloned().unwrap_or_default();
        let picked: Vec<&Value> = members.iter().filter(|e| matches(&filter, e)).collect();
        assert_eq!(picked, vec![&json!({"value": "def"})]);
        // Not an object at all: nothing is there.
        assert!(!matches(&p("a pr"), &json!([1, 2])));
        assert!(matches(&p("a ne 1"), &json!("text")));
    }

    const CORPUS: &[&str] = &[
        r#"userName eq "test.user@okta.local""#,
        r#"userName eq "non-existent user""#,
        r#"externalId eq "abc" and userName eq "x""#,
        r#"emails[type eq "work"].value eq "a@b.c""#,
        r#"displayName eq "Group 1""#,
        r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        "title pr",
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value ne "x""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        "a eq 1 or b eq 2 and c eq 3",
        "(a eq 1 or b eq 2) and c eq 3",
        "a eq 1 or (b eq 2 or c eq 3)",
        "a eq 1 and (b eq 2 and c eq 3)",
        "not (a eq -1.5) and not (not (b pr))",
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        r#"emails[type eq "work" or type eq "home"].value ew "@x""#,
        r#"name.familyName LE "O'Malley" AND active Eq TRUE"#,
        r#"a eq "tab\t quote\" slash\\ \u00e9 \ud83d\ude00""#,
        "x ge 1e3 or y lt 0.25 or z eq null or w eq false",
        "members.$ref pr",
        "not eq 1 and and pr",
    ];

    #[test]
    fn display_round_trips() {
        for text in CORPUS {
            let f = p(text);
            let shown = f.to_string();
            assert_eq!(parse_filter(&shown).as_ref(), Ok(&f), "{text:?} rendered as {shown:?}");
            // Rendering is canonical: a second round changes nothing.
            assert_eq!(p(&shown).to_string(), shown);
        }
        assert_eq!(p("a EQ 1 AND (b Pr)").to_string(), "a eq 1 and b pr");
        assert_eq!(p("a eq 1 or (b eq 2 or c eq 3)").to_string(), "a eq 1 or (b eq 2 or c eq 3)");
        assert_eq!(p("(a eq 1 and b eq 2) or c eq 3").to_string(), "a eq 1 and b eq 2 or c eq 3");
        assert_eq!(p("(a eq 1 or b eq 2) and c eq 3").to_string(), "(a eq 1 or b eq 2) and c eq 3");
        assert_eq!(p("NOT(x eq TRUE)").to_string(), "not (x eq true)");
        assert_eq!(p(r#"a eq "x\u0041\n""#).to_string(), r#"a eq "xA\n""#);
    }

    /// xorshift64: deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next_u64() % n.max(1) as u64) as usize
        }

        /// A char boundary in `s`.
        fn boundary(&mut self, s: &str) -> usize {
            let mut i = self.below(s.len() + 1);
            while !s.is_char_boundary(i) {
                i -= 1;
            }
            i
        }
    }

    const PIECES: &[&str] = &[
        "(", ")", "[", "]", "\"", "\\", ".", ":", " ", " and ", " or ", "not ", "not (", " eq ", " pr", " gt ", " co ",
        "-", "0", "1.5", "e9", "true", "null", "\\u00", "\\ud83d", "é", "\u{0}", "\t", "$", "urn:", "a", "emails[",
        "].value", "\"x\"", "]]", "((", "))", "#", "1e400", "-0", "00", "\u{7f}",
    ];

    #[test]
    fn fuzz_never_panics_and_round_trips() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let resource = user();
        let (mut parsed, mut paths) = (0, 0);
        for _ in 0..20_000 {
            let mut text = CORPUS[rng.below(CORPUS.len())].to_string();
            for _ in 0..1 + rng.below(4) {
                match rng.below(4) {
                    0 => {
                        let (a, b) = (rng.boundary(&text), rng.boundary(&text));
                        text.replace_range(a.min(b)..a.max(b), "");
                    }
                    1 => {
                        let at = rng.boundary(&text);
                        text.insert_str(at, PIECES[rng.below(PIECES.len())]);
                    }
                    2 => {
                        let other = CORPUS[rng.below(CORPUS.len())];
                        let (cut, from) = (rng.boundary(&text), rng.boundary(other));
                        text = format!("{}{}", &text[..cut], &other[from..]);
                    }
                    _ => {
                        let at = rng.boundary(&text);
                        let byte = (rng.below(95) + 32) as u8 as char;
                        text.insert(at, byte);
                    }
                }
            }
            if let Ok(f) = parse_filter(&text) {
                parsed += 1;
                let shown = f.to_string();
                // Rendering may add spaces or parentheses, so it can pass a limit the input was within.
                if shown.len() <= MAX_FILTER_LEN {
                    assert_eq!(parse_filter(&shown).as_ref(), Ok(&f), "{text:?} rendered as {shown:?}");
                }
                let _ = matches(&f, &resource);
            }
            if let Ok(path) = parse_path(&text) {
                paths += 1;
                let shown = path.to_string();
                assert_eq!(parse_path(&shown).as_ref(), Ok(&path), "{text:?} rendered as {shown:?}");
            }
            // The text after a `[` is often a path; try it too.
            if let Some(i) = text.find('[') {
                let tail = &text[text[..i].rfind(' ').map_or(0, |s| s + 1)..];
                if let Ok(path) = parse_path(tail) {
                    paths += 1;
                    assert_eq!(parse_path(&path.to_string()).as_ref(), Ok(&path), "{tail:?}");
                }
            }
        }
        // The mutations must leave a fair share valid, or the round-trip check tests nothing.
        assert!(parsed > 1_000, "only {parsed} of the mutated filters parsed");
        assert!(paths > 50, "only {paths} paths parsed");
    }
}
