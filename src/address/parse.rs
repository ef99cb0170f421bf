//! The address parser: normalized text → components with levels, spans and confidence.
//!
//! The parser walks the normalized text left to right with a cursor. At each position it tries,
//! in order: separators and masked numbers (skipped), filler words (dropped), near-qualifiers
//! (kept as [`Parse::near`]), an admin name from the dictionaries (longest spelling first,
//! consistent with the admin levels already seen), a number with its level marker (1288弄, 3号楼,
//! 3-502), and finally an open name: the jieba segments up to the first segment that ends with a
//! closing suffix (路, 村, 镇, 开发区 …), or up to the next number, which is then a POI.
//! Upper levels the text leaves out are inferred from the dictionaries afterwards.

mod admin;
mod fx;
mod speech;
mod words;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use self::admin::{AdminHit, AdminNames};
use self::words::{NameClass, ParseWords};
use crate::text::{Normalized, Segmenter, normalize};
use crate::{Component, Dictionaries, Level};

/// Inputs longer than this (in chars) are parsed on their first `MAX_PARSE_CHARS` only: no address
/// is that long, and it keeps a 10 MB line cheap.
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let long = "华腾路1288弄".repeat(200);
/// let p = dizhi::Parser::new(&dicts).parse(&long);
/// assert!(p.reason.unwrap().contains(&dizhi::address::parse::MAX_PARSE_CHARS.to_string()));
/// ```
pub const MAX_PARSE_CHARS: usize = 512;

/// A place qualifier (附近, 旁边, 对面, 门口): the address is near, not at, the place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let p = dizhi::Parser::new(&dicts).parse("华腾路88号对面 13812345678");
/// assert_eq!(p.near.as_ref().unwrap().text, "对面");
/// assert_eq!(p.masked[0].kind, dizhi::MaskedKind::Phone);
/// assert_eq!(p.masked[0].masked, "138******78");
/// ```
pub struct Near {
    /// The qualifier as written.
    pub text: String,
    /// First char (inclusive) in the input.
    pub start: usize,
    /// Char after it (exclusive).
    pub end: usize,
}

/// What kind of number was masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let p = dizhi::Parser::new(&dicts).parse("华腾路88号对面 13812345678");
/// assert_eq!(p.near.as_ref().unwrap().text, "对面");
/// assert_eq!(p.masked[0].kind, dizhi::MaskedKind::Phone);
/// assert_eq!(p.masked[0].masked, "138******78");
/// ```
pub enum MaskedKind {
    /// A mobile or landline phone number.
    Phone,
    /// A resident ID card number (15 or 18 characters).
    IdCard,
}

/// A personal number found in the text: masked, reported, never taken for a door number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let p = dizhi::Parser::new(&dicts).parse("华腾路88号对面 13812345678");
/// assert_eq!(p.near.as_ref().unwrap().text, "对面");
/// assert_eq!(p.masked[0].kind, dizhi::MaskedKind::Phone);
/// assert_eq!(p.masked[0].masked, "138******78");
/// ```
pub struct Masked {
    /// Phone or ID card.
    pub kind: MaskedKind,
    /// The number with all but its first 3 and last 2 characters replaced by `*`.
    pub masked: String,
    /// First char (inclusive) in the input.
    pub start: usize,
    /// Char after it (exclusive).
    pub end: usize,
}

/// Where an address outside 青浦区 is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let p = dizhi::Parser::new(&dicts).parse("上海市浦东新区张江镇");
/// let o = p.outside.unwrap();
/// assert_eq!(o.name, "上海市浦东新区张江镇");
/// assert_eq!(o.level, dizhi::Level::Town);
/// ```
pub struct Outside {
    /// The deepest admin level that places it.
    pub level: Level,
    /// The full admin path, e.g. `浙江省杭州市余杭区`.
    pub name: String,
    /// The NBS code of the deepest division.
    pub code: String,
}

/// An upper level the text leaves out, inferred from the dictionaries. It has no span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let p = parser.parse("华腾路1288弄");
/// assert_eq!(p.inferred[0].value, "华新镇");
/// assert_eq!(p.inferred[0].from, "华腾路");
/// let p = parser.parse("崧泽大道9号");
/// assert_eq!(p.ambiguous[0].candidates, ["徐泾镇", "赵巷镇"]);
/// ```
pub struct Inferred {
    /// The inferred level.
    pub level: Level,
    /// Its official name.
    pub value: String,
    /// Its statistical code, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The component value it was inferred from (`华腾路`).
    pub from: String,
}

/// An inference with several answers: the text does not say which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let p = parser.parse("华腾路1288弄");
/// assert_eq!(p.inferred[0].value, "华新镇");
/// assert_eq!(p.inferred[0].from, "华腾路");
/// let p = parser.parse("崧泽大道9号");
/// assert_eq!(p.ambiguous[0].candidates, ["徐泾镇", "赵巷镇"]);
/// ```
pub struct Ambiguity {
    /// The level that could not be decided.
    pub level: Level,
    /// The candidates.
    pub candidates: Vec<String>,
    /// The component value the candidates come from.
    pub from: String,
}

/// The result of parsing one input: never an error; a partial parse says why in `reason`.
///
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let p = parser.parse("华腾路1288弄3号");
/// let json = serde_json::to_value(&p).unwrap();
/// assert_eq!(json["components"][0]["level"], "road");
/// assert_eq!(json["components"][1]["value"], "1288");
/// assert_eq!(json["inferred"][0]["value"], "华新镇");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parse {
    /// The caller's text, unchanged.
    pub input: String,
    /// The components, in input order, non-overlapping.
    pub components: Vec<Component>,
    /// A place qualifier, if the text has one.
    pub near: Option<Near>,
    /// Phone and ID numbers found and masked.
    pub masked: Vec<Masked>,
    /// Set when the address is outside 青浦区: where it is.
    pub outside: Option<Outside>,
    /// Why the parse is partial; `None` when it found a usable address.
    pub reason: Option<String>,
    /// Upper levels inferred from the dictionaries.
    pub inferred: Vec<Inferred>,
    /// Inferences with several answers.
    pub ambiguous: Vec<Ambiguity>,
}

impl Parse {
    /// The first component of `level`, if any.
    ///
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let p = dizhi::Parser::new(&dicts).parse("华腾路1288弄3号楼502室");
    /// assert_eq!(p.component(dizhi::Level::Building).unwrap().value, "3");
    /// ```
    pub fn component(&self, level: Level) -> Option<&Component> {
        self.components.iter().find(|c| c.level == level)
    }
}

impl Parse {
    /// A readable table: one line per component (level, value, text, span, confidence), then the
    /// inferred levels, near-qualifier, masked numbers, outside and reason.
    ///
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let table = dizhi::Parser::new(&dicts).parse("华腾路1288弄").to_table();
    /// assert!(table.contains("lane"));
    /// assert!(table.contains("1288"));
    /// ```
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "input: {}", self.input);
        let _ = writeln!(
            out,
            "{:<10} {:<16} {:<16} {:>5} {:>5} {:>5}",
            "level", "value", "text", "start", "end", "conf"
        );
        for c in &self.components {
            let _ = writeln!(
                out,
                "{:<10} {:<16} {:<16} {:>5} {:>5} {:>5.2}",
                c.level.as_str(),
                c.value,
                c.text,
                c.start,
                c.end,
                c.confidence
            );
        }
        for i in &self.inferred {
            let _ = writeln!(out, "inferred: {} = {} (from {})", i.level, i.value, i.from);
        }
        for a in &self.ambiguous {
            let _ = writeln!(
                out,
                "ambiguous: {} is one of {} (from {})",
                a.level,
                a.candidates.join("|"),
                a.from
            );
        }
        if let Some(n) = &self.near {
            let _ = writeln!(out, "near: {}", n.text);
        }
        for m in &self.masked {
            let _ = writeln!(out, "masked: {:?} {}", m.kind, m.masked);
        }
        if let Some(o) = &self.outside {
            let _ = writeln!(out, "outside: {} ({} {})", o.name, o.level, o.code);
        }
        if let Some(r) = &self.reason {
            let _ = writeln!(out, "reason: {r}");
        }
        out
    }
}

/// A component on the normalized text, before its span is mapped back.
#[derive(Debug, Clone)]
struct Raw {
    level: Level,
    start: usize,
    end: usize,
    value: String,
    confidence: f32,
    /// The admin division an admin component was matched to.
    admin: Option<AdminHit>,
}

/// The parser: dictionaries, jieba and word lists, built once and shared across threads.
///
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let p = parser.parse("上海市青浦区华新镇华腾路一二八八弄3号楼502室");
/// let levels: Vec<&str> = p.components.iter().map(|c| c.level.as_str()).collect();
/// assert_eq!(levels, ["province", "district", "town", "road", "lane", "building", "room"]);
/// assert_eq!(p.components[4].text, "一二八八弄");
/// assert_eq!(p.components[4].value, "1288");
/// assert!(p.outside.is_none());
/// ```
pub struct Parser {
    segmenter: Segmenter,
    admin: AdminNames,
    words: ParseWords,
    /// Road → the 青浦 towns it runs through.
    road_towns: HashMap<String, Vec<String>>,
    /// Town name → (code, district name).
    towns: HashMap<String, String>,
    /// Division code → (name, parent code) for the Shanghai list.
    shanghai: HashMap<String, (String, Option<String>)>,
    /// China list code → name.
    china: HashMap<String, String>,
}

impl std::fmt::Debug for Parser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parser").finish_non_exhaustive()
    }
}

/// Separators between components: spaces and punctuation.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            ',' | '.'
                | ';'
                | ':'
                | '/'
                | '\\'
                | '|'
                | '"'
                | '\''
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '<'
                | '>'
                | '!'
                | '?'
                | '*'
                | '+'
                | '='
                | '&'
                | '@'
                | '$'
                | '%'
                | '^'
                | '`'
                | '-'
                | '·'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '《'
                | '》'
                | '：'
                | '？'
                | '！'
                | '…'
        )
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Whether the text after an admin spelling continues a longer name (江宁路, 中山村, 柳市大道):
/// a short form or a town name followed by a suffix is part of that name, not the division.
fn continues_name(rest: &[char]) -> bool {
    let Some(&c) = rest.first() else {
        return false;
    };
    if matches!(
        c,
        '路' | '街'
            | '道'
            | '村'
            | '镇'
            | '乡'
            | '区'
            | '县'
            | '市'
            | '巷'
            | '弄'
            | '里'
            | '桥'
            | '湾'
            | '庄'
            | '苑'
            | '园'
            | '城'
            | '港'
            | '厂'
            | '屯'
            | '堂'
            | '宅'
    ) {
        return true;
    }
    let two: [char; 2] = match rest {
        [a, b, ..] => [*a, *b],
        _ => return false,
    };
    matches!(
        two,
        ['大', '道']
            | ['大', '街']
            | ['大', '厦']
            | ['公', '路']
            | ['社', '区']
            | ['新', '村']
            | ['新', '区']
            | ['小', '区']
            | ['花', '园']
            | ['广', '场']
            | ['中', '路']
            | ['东', '路']
            | ['西', '路']
            | ['南', '路']
            | ['北', '路']
            | ['东', '街']
            | ['西', '街']
            | ['南', '街']
            | ['北', '街']
            | ['中', '学']
            | ['小', '学']
            | ['大', '学']
            | ['医', '院']
            | ['中', '心']
    )
}

/// Number markers after a number: the level they give and their length in chars.
fn number_marker(rest: &[char]) -> Option<(Level, usize)> {
    let c0 = *rest.first()?;
    let c1 = rest.get(1).copied();
    Some(match (c0, c1) {
        // 78号楼下: downstairs at 78号, a door and a place word.
        ('号', Some('楼')) if rest.get(2) == Some(&'下') => (Level::Number, 1),
        ('号', Some('楼')) | ('号', Some('房')) | ('号', Some('馆')) => (Level::Building, 2),
        ('号', Some('院')) => (Level::Number, 2),
        // 41号门: a gate of a market or campus, not a door number.
        ('号', Some('门')) if !matches!(rest.get(2), Some('口' | '面')) => (Level::Subpoi, 2),
        ('号', Some('搂')) => (Level::Building, 2),
        ('号', Some('厂')) if rest.get(2) == Some(&'房') => (Level::Building, 3),
        ('号', _) => (Level::Number, 1),
        ('支', Some('弄')) => (Level::Subroad, 2),
        ('弄', Some('堂')) => return None,
        ('弄', _) => (Level::Lane, 1),
        ('幢', _)
        | ('栋', _)
        | ('座', _)
        | ('#', _)
        | ('憧', _)
        | ('撞', _)
        | ('楼', Some('栋')) => (Level::Building, 1),
        ('单', Some('元')) => (Level::Unit, 2),
        ('梯', _) => (Level::Unit, 1),
        ('铺', _) => (Level::Room, 1),
        ('门', _) if c1 != Some('口') && c1 != Some('面') => (Level::Unit, 1),
        ('层', _) => (Level::Floor, 1),
        ('楼', Some('下')) => return None,
        ('楼', _) => (Level::Floor, 1),
        ('f', _) | ('F', _) => (Level::Floor, 1),
        ('室', _) | ('户', _) => (Level::Room, 1),
        ('房', _) if c1 != Some('产') && c1 != Some('子') => (Level::Room, 1),
        ('组', _) | ('队', _) => (Level::Group, 1),
        ('期', _) | ('区', _) => (Level::Subpoi, 1),
        _ => return None,
    })
}

impl Parser {
    /// Builds the parser from the dictionaries: jieba with the generated user dictionary, the
    /// admin spellings, the word lists. Done once; parsing allocates nothing of this size.
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let parser = dizhi::Parser::new(&dicts);
    /// let p = parser.parse("东厍村3组12号");
    /// assert_eq!(p.components[1].level, dizhi::Level::Group);
    /// assert!(parser.segmenter().words("东厍村").concat() == "东厍村");
    /// assert_eq!(parser.parse("").reason.as_deref(), Some("empty input"));
    /// ```
    pub fn new(dicts: &Dictionaries) -> Self {
        let words = ParseWords::embedded();
        let extra: Vec<String> = words
            .filler
            .iter()
            .chain(words.near.iter())
            .chain(words.poi_suffixes.iter())
            .chain(words.suffixes.iter().map(|(s, _)| s))
            .filter(|w| w.len() >= 2)
            .map(|w| w.iter().collect())
            .collect();
        let segmenter = Segmenter::with_words(dicts, extra.iter().map(String::as_str));
        let mut road_towns: HashMap<String, Vec<String>> = HashMap::new();
        for r in &dicts.roads {
            let towns = road_towns.entry(r.name.clone()).or_default();
            for t in &r.towns {
                if !towns.contains(t) {
                    towns.push(t.clone());
                }
            }
        }
        let mut shanghai = HashMap::new();
        let mut towns = HashMap::new();
        for d in dicts.admin.divisions() {
            shanghai.insert(d.code.clone(), (d.name.clone(), d.parent_code.clone()));
            if d.level == crate::dictionaries::AdminLevel::Town
                && d.code.starts_with(&crate::dictionaries::QINGPU_CODE[..6])
            {
                towns.insert(d.name.clone(), d.code.clone());
            }
        }
        let china = dicts
            .admin
            .china_places()
            .map(|p| (p.code.clone(), p.name.clone()))
            .collect();
        Parser {
            segmenter,
            admin: AdminNames::build(dicts),
            words,
            road_towns,
            towns,
            shanghai,
            china,
        }
    }

    /// Whether `name` ends like a compound, park, zone or building (花园, 苑, 工业区, 大厦) rather
    /// than a bare place name (鲍家渡), which stands where a road would.
    ///
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let parser = dizhi::Parser::new(&dicts);
    /// assert!(parser.looks_like_compound("东方花园"));
    /// assert!(!parser.looks_like_compound("鲍家渡"));
    /// ```
    pub fn looks_like_compound(&self, name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        self.words.ends_area_name(&chars)
    }

    /// The segmenter the parser uses (jieba with the address dictionaries).
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let parser = dizhi::Parser::new(&dicts);
    /// let p = parser.parse("东厍村3组12号");
    /// assert_eq!(p.components[1].level, dizhi::Level::Group);
    /// assert!(parser.segmenter().words("东厍村").concat() == "东厍村");
    /// assert_eq!(parser.parse("").reason.as_deref(), Some("empty input"));
    /// ```
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// Parses one address. Never fails: an unusable input gives a parse with a `reason`.
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let parser = dizhi::Parser::new(&dicts);
    /// let p = parser.parse("东厍村3组12号");
    /// assert_eq!(p.components[1].level, dizhi::Level::Group);
    /// assert!(parser.segmenter().words("东厍村").concat() == "东厍村");
    /// assert_eq!(parser.parse("").reason.as_deref(), Some("empty input"));
    /// ```
    pub fn parse(&self, input: &str) -> Parse {
        let norm = normalize(input);
        let mut state = State::default();
        let n = norm.len().min(MAX_PARSE_CHARS);
        let chars = &norm.chars()[..n];
        let masked = mask_numbers(chars);
        self.walk(&norm, chars, &masked, &mut state);

        let original: Vec<char> = input.chars().collect();
        let slice = |s: usize, e: usize| -> String {
            original
                .get(s.min(original.len())..e.min(original.len()))
                .map(|cs| cs.iter().collect())
                .unwrap_or_default()
        };
        let mut components: Vec<Component> = Vec::with_capacity(state.comps.len());
        for r in &state.comps {
            let (mut start, end) = norm.original_span(r.start, r.end);
            // Spans never overlap: a component that starts inside the previous one's original
            // span (both halves of one expanded numeral) is clipped, or dropped if nothing is left.
            if let Some(prev) = components.last() {
                start = start.max(prev.end);
            }
            if start >= end {
                continue;
            }
            components.push(Component {
                level: r.level,
                text: slice(start, end),
                value: r.value.clone(),
                start,
                end,
                confidence: r.confidence,
            });
        }
        let near = state.near.map(|(s, e)| {
            let (start, end) = norm.original_span(s, e);
            Near {
                text: slice(start, end),
                start,
                end,
            }
        });
        let masked = masked
            .iter()
            .map(|&(kind, s, e)| {
                let (start, end) = norm.original_span(s, e);
                Masked {
                    kind,
                    masked: mask_text(&chars[s..e]),
                    start,
                    end,
                }
            })
            .collect();
        let mut parse = Parse {
            input: input.to_string(),
            components,
            near,
            masked,
            outside: None,
            reason: None,
            inferred: Vec::new(),
            ambiguous: Vec::new(),
        };
        self.place(&state, &mut parse);
        parse.reason = reason(&parse, norm.len() > MAX_PARSE_CHARS, input);
        parse
    }

    /// The left-to-right walk (see the module docs).
    fn walk(
        &self,
        norm: &Normalized,
        chars: &[char],
        masked: &[(MaskedKind, usize, usize)],
        st: &mut State,
    ) {
        let n = chars.len();
        let mut pos = 0;
        let mut mask_i = 0;
        while pos < n {
            while mask_i < masked.len() && masked[mask_i].2 <= pos {
                mask_i += 1;
            }
            if let Some(&(_, s, e)) = masked.get(mask_i)
                && s <= pos
                && pos < e
            {
                pos = e;
                continue;
            }
            let c = chars[pos];
            if is_separator(c) {
                pos += 1;
                continue;
            }
            let rest = &chars[pos..];
            if let Some(len) = speech::take_back_at(rest)
                && st
                    .comps
                    .last()
                    .is_some_and(|r| speech::can_take_back(r.level))
            {
                st.comps.pop();
                pos += len;
                continue;
            }
            if let Some(len) = self.words.filler_at(rest) {
                pos += len;
                continue;
            }
            if let Some(len) = self.words.near_at(rest) {
                if st.near.is_none() && !st.comps.is_empty() {
                    st.near = Some((pos, pos + len));
                }
                pos += len;
                continue;
            }
            if let Some(end) = self.admin_at(chars, pos, st) {
                pos = end;
                continue;
            }
            if let Some(end) = self.numbers_at(chars, pos, st) {
                pos = end;
                continue;
            }
            pos = self.name_at(norm, chars, pos, st, masked);
        }
    }

    /// Tries an admin name at `pos`; on success pushes it (or skips a repeat) and returns its end.
    fn admin_at(&self, chars: &[char], pos: usize, st: &mut State) -> Option<usize> {
        for (len, hits) in self.admin.matches_at(&chars[pos..]) {
            let end = pos + len;
            let next = &chars[end..];
            if let Some(hit) = self.choose_admin(hits, st, next) {
                if hit.short
                    && hit.level != Level::Province
                    && self.full_name_at(chars, end, &hit.code)
                {
                    // 宁波宁波市: the short form is a stutter of the full name that follows.
                    return Some(end);
                }
                let conf = if hit.short { 0.8 } else { 0.95 };
                st.push(Raw {
                    level: hit.level,
                    start: pos,
                    end,
                    value: hit.name.clone(),
                    confidence: conf,
                    admin: Some(hit.clone()),
                });
                return Some(end);
            }
            // A repeat of a division already named (浙江省杭州市杭州市…) is redundant: skip it,
            // or, right after its twin (杭州市杭州市), take the second as the component.
            if let Some(h) = hits
                .iter()
                .find(|h| !h.short && st.has_admin_code(&h.code))
                .filter(|_| !continues_name(next))
            {
                // 浙江省绍兴市上虞市浙江省绍兴市上虞市…: the whole path again. The later copy is
                // the one the address goes on from; the first was a prefix (a form's fields).
                if h.level <= Level::District
                    && st.comps.len() >= 2
                    && st.comps.iter().all(|r| r.admin.is_some())
                    && st.comps[0].admin.as_ref().is_some_and(|a| a.code == h.code)
                {
                    st.restart_at_admin(h, pos, end, 0.95);
                    return Some(end);
                }
                if let Some(last) = st.comps.last_mut()
                    && last.end == pos
                    && last.admin.as_ref().is_some_and(|a| a.code == h.code)
                {
                    last.start = pos;
                    last.end = end;
                    last.confidence = 0.95;
                }
                return Some(end);
            }
            // A full path after a stray admin prefix (白洋镇枝江市白洋镇…): the prefix was
            // redundant; start again.
            if st.comps.iter().all(|r| r.admin.is_some()) && !continues_name(next) {
                let first = st.comps.first().map(|r| r.level);
                if let Some(h) = hits.iter().find(|h| {
                    !h.short && h.level <= Level::District && first.is_some_and(|f| h.level < f)
                }) {
                    st.restart_at_admin(h, pos, end, 0.9);
                    return Some(end);
                }
            }
        }
        None
    }

    /// Whether the full name of the division `code` starts at `pos`.
    fn full_name_at(&self, chars: &[char], pos: usize, code: &str) -> bool {
        self.admin
            .matches_at(&chars[pos..])
            .iter()
            .any(|(_, hits)| hits.iter().any(|h| !h.short && h.code == code))
    }

    /// Picks the division a spelling stands for, given what came before; `None` if none fits.
    fn choose_admin<'h>(
        &self,
        hits: &'h [AdminHit],
        st: &State,
        next: &[char],
    ) -> Option<&'h AdminHit> {
        let last_level = st.last_admin_level();
        let after_name = st.comps.last().is_some_and(|r| r.admin.is_none());
        let mut best: Option<(&AdminHit, i32)> = None;
        for h in hits {
            if last_level.is_some_and(|l| h.level <= l) {
                continue;
            }
            if h.level >= Level::Town && st.comps.iter().any(|r| r.level >= Level::Road) {
                continue;
            }
            if h.short || h.level >= Level::Town {
                // Short forms and town/community names inside a longer name are not divisions.
                if continues_name(next) {
                    continue;
                }
            }
            // 余杭经济开发区, 东洲工业园, 飞英家园: a place name followed by nothing but a kind of
            // zone or compound names that zone or compound.
            if (h.short && self.words.bare_area_suffix(next, true))
                || (h.level == Level::Town && self.words.bare_area_suffix(next, false))
            {
                continue;
            }
            if h.short {
                if after_name {
                    continue;
                }
                // A short town needs its district before it, except 青浦's own (华新华腾路).
                if h.level == Level::Town
                    && !matches!(last_level, Some(Level::District | Level::City))
                    && !(last_level.is_none() && h.code.starts_with("310118"))
                {
                    continue;
                }
            }
            let mut score = 0;
            match st.deepest_admin() {
                Some(parent) if h.is_under(parent) => score += 4,
                // A short form or a 居/村委 must agree with the divisions already named.
                Some(_) if h.short || h.level == Level::Community => continue,
                Some(_) => score -= 2,
                None => {}
            }
            if !h.short {
                score += 2;
            }
            if h.code.starts_with("31") {
                score += 1;
            }
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((h, score));
            }
        }
        best.map(|(h, _)| h)
    }

    /// Tries numbers with markers at `pos` (1288弄, 3号楼, 3-502, 3号之1); pushes them.
    fn numbers_at(&self, chars: &[char], pos: usize, st: &mut State) -> Option<usize> {
        let mut i = pos;
        if chars.get(i) == Some(&'第') {
            i += 1;
        }
        let tok_start = i;
        let tok_end = alnum_end(chars, i);
        if tok_end == tok_start {
            // 东户, 西单元, 甲梯: a side or an ordinal instead of a number.
            let Some(&c) = chars.get(i) else {
                return None; // a lone 第 at the end
            };
            if matches!(
                c,
                '东' | '西' | '南' | '北' | '中' | '甲' | '乙' | '丙' | '丁' | '左' | '右'
            ) && let Some((level @ (Level::Room | Level::Unit), mlen)) =
                number_marker(&chars[i + 1..])
                && !(level == Level::Room && chars.get(i + 1) == Some(&'房'))
            {
                let end = i + 1 + mlen;
                st.push(Raw::num(level, pos, end, c.to_string(), 0.7));
                return Some(end);
            }
            return None;
        }
        let tok = &chars[tok_start..tok_end];
        let has_digit = tok.iter().any(char::is_ascii_digit);
        if road_name_number(chars, tok_end) {
            // 黄河5路, 渤海12路: the number is part of a road name.
            return None;
        }
        // A dash chain: 3-502, 47-6-746, 3-1号.
        let mut parts = vec![(tok_start, tok_end)];
        let mut j = tok_end;
        while chars.get(j) == Some(&'-') {
            let e = alnum_end(chars, j + 1);
            if e == j + 1 || !chars[j + 1..e].iter().any(char::is_ascii_digit) {
                break;
            }
            parts.push((j + 1, e));
            j = e;
        }
        let value_of = |(s, e): (usize, usize)| -> String { chars[s..e].iter().collect() };
        if parts.len() > 1 && has_digit {
            let marker = number_marker(&chars[j..]);
            // 3-1号 on a road is one door number; in a compound (金河源8-143号) it is the
            // building and the room.
            if let Some((Level::Number, mlen)) = marker
                && parts.len() == 2
                && st.context() != Ctx::Poi
            {
                let v = format!("{}-{}", value_of(parts[0]), value_of(parts[1]));
                st.push(Raw::num(Level::Number, pos, j + mlen, v, 0.9));
                return Some(j + mlen);
            }
            let levels: &[Level] = match (parts.len(), st.context()) {
                (2, Ctx::Road | Ctx::Lane) => &[Level::Number, Level::Room],
                (3, Ctx::Road) => &[Level::Number, Level::Building, Level::Room],
                (4, Ctx::Road) => &[Level::Number, Level::Building, Level::Unit, Level::Room],
                (2, _) => &[Level::Building, Level::Room],
                (3, _) => &[Level::Building, Level::Unit, Level::Room],
                _ => &[Level::Building, Level::Unit, Level::Floor, Level::Room],
            };
            let last = parts.len() - 1;
            for (k, &(s, e)) in parts.iter().enumerate() {
                let level = levels.get(k).copied().unwrap_or(Level::Room);
                let (level, end) = match (k == last, marker) {
                    (true, Some((ml, mlen))) => (
                        if k == 0 {
                            ml
                        } else {
                            level_for_last(level, ml)
                        },
                        e + mlen,
                    ),
                    _ => (level, e),
                };
                let start = if k == 0 { pos } else { s };
                st.push(Raw::num(level, start, end, value_of((s, e)), 0.75));
            }
            return Some(j + marker.map_or(0, |m| m.1));
        }
        match number_marker(&chars[tok_end..]) {
            Some((level, mlen)) => {
                if !has_digit && !matches!(level, Level::Building | Level::Subpoi) {
                    return None;
                }
                if !has_digit && tok.len() > 2 {
                    return None;
                }
                let mut end = tok_end + mlen;
                let mut value = value_of((tok_start, tok_end));
                let mut level = level;
                if level == Level::Number {
                    // 3号之1, 3号附1号
                    if let Some(&c) = chars.get(end)
                        && (c == '之' || c == '附')
                    {
                        let e = alnum_end(chars, end + 1);
                        if e > end + 1 {
                            value = format!("{value}之{}", value_of((end + 1, e)));
                            end = if chars.get(e) == Some(&'号') {
                                e + 1
                            } else {
                                e
                            };
                        }
                    }
                    if matches!(st.context(), Ctx::Building | Ctx::Inner) {
                        // 1栋2单元2楼2号: a 号 inside a building is a room.
                        level = Level::Room;
                    } else if st.has(Level::Number) {
                        level = Level::Building;
                    }
                }
                st.push(Raw::num(level, pos, end, value, 0.95));
                Some(end)
            }
            None => {
                if !has_digit {
                    return None;
                }
                // A distance (160米) is not a component.
                if chars.get(tok_end) == Some(&'米') {
                    return Some(tok_end + 1);
                }
                let level = match st.context() {
                    Ctx::Road | Ctx::Start | Ctx::Area => Level::Number,
                    Ctx::Poi => {
                        let more = chars.get(tok_end).is_some_and(|c| c.is_ascii_digit());
                        if tok.len() >= 3 && !more {
                            Level::Room
                        } else {
                            Level::Building
                        }
                    }
                    Ctx::Lane => Level::Number,
                    Ctx::Number | Ctx::Building | Ctx::Inner => Level::Room,
                };
                st.push(Raw::num(
                    level,
                    pos,
                    tok_end,
                    value_of((tok_start, tok_end)),
                    0.6,
                ));
                Some(tok_end)
            }
        }
    }

    /// An open name at `pos`: jieba segments up to a closing suffix, else up to the next number
    /// or separator (a POI). Returns where the walk continues.
    fn name_at(
        &self,
        norm: &Normalized,
        chars: &[char],
        pos: usize,
        st: &mut State,
        masked: &[(MaskedKind, usize, usize)],
    ) -> usize {
        let n = chars.len();
        let mut pos = pos;
        if self.words.connectors.contains(&chars[pos])
            && st
                .comps
                .last()
                .is_some_and(|r| r.level == Level::Road && r.end == pos)
            && pos + 1 < n
        {
            // 黄山路与富春江路: the connector is not part of the second road.
            pos += 1;
            if chars[pos].is_ascii_alphanumeric() || is_separator(chars[pos]) {
                // What follows is no name (0路与10栋): let the walk take it.
                return pos;
            }
        }
        let mut end = pos + 1;
        while end < n {
            let c = chars[end];
            if c.is_ascii_digit() && road_name_number(chars, alnum_end(chars, end)) {
                end = alnum_end(chars, end);
                continue;
            }
            if is_separator(c) || c.is_ascii_digit() || masked.iter().any(|m| m.1 == end) {
                break;
            }
            if matches!(
                c,
                '东' | '西' | '南' | '北' | '中' | '甲' | '乙' | '丙' | '丁'
            ) && matches!(
                number_marker(&chars[end + 1..]),
                Some((Level::Unit | Level::Room, _))
            ) && matches!(chars.get(end + 1), Some('单' | '户' | '梯'))
            {
                // 康顺豪庭东单元: the side names the unit, not the compound.
                break;
            }
            if c.is_ascii_alphabetic() {
                // B6-37号, A座: a letter that starts a number, not part of the name.
                let run_end = alnum_end(chars, end);
                let has_digit = chars[end..run_end].iter().any(char::is_ascii_digit);
                let after = &chars[run_end..];
                // A201, b3, a lone C before a number or the end: a building or room, not a name.
                let lone = run_end == end + 1
                    && after
                        .first()
                        .is_none_or(|&c| c.is_ascii_digit() || is_separator(c) || c == '_');
                if number_marker(after).is_some()
                    || (has_digit && after.first() == Some(&'-'))
                    || (has_digit && chars[end].is_ascii_alphabetic() && end > pos + 1)
                    || (lone && end > pos + 1)
                {
                    break;
                }
            }
            end += 1;
        }
        let text = norm.text();
        let chunk = &text[byte_offset(text, chars, pos)..byte_offset(text, chars, end)];
        let segments = self.segmenter.segments(chunk);
        let mut close: Option<(usize, Level, f32)> = None;
        for seg in &segments {
            let seg_end = pos + seg.end;
            // A village or town suffix inside a segment (老岭村上康城 → 老岭村|上康城: jieba
            // glued 村上) closes the name there, unless the segment is a word of its own (村口).
            if seg.end - seg.start >= 2 && seg.end < end - pos {
                let inner = &chars[pos + seg.start..seg_end - 1];
                let word = &chars[pos + seg.start..seg_end];
                let split_at = inner
                    .iter()
                    .enumerate()
                    .position(|(k, c)| {
                        matches!(c, '村' | '镇' | '乡' | '路' | '街' | '巷')
                            // 街道, 村委会: a longer suffix starts here.
                            && !self.words.longer_suffix_at(&chars[pos + seg.start + k..])
                    })
                    .filter(|_| !self.words.not_name.iter().any(|w| w.as_slice() == word));
                if let Some(k) = split_at {
                    let cut = pos + seg.start + k + 1;
                    let name = &chars[pos..cut];
                    if name.len() >= 3
                        && !self.words.not_name.iter().any(|w| name.ends_with(w))
                        && !road_follows(&chars[cut..])
                        && let Some((NameClass::Level(level), _)) = self.words.closing_suffix(name)
                        && matches!(level, Level::Community | Level::Town | Level::Road)
                    {
                        close = Some((cut, level, 0.7));
                        break;
                    }
                }
            }
            let name = &chars[pos..seg_end];
            let seg_chars = &chars[pos + seg.start..seg_end];
            if let Some((NameClass::Level(level), slen)) = self.words.closing_suffix(name) {
                // The suffix must end this segment (路口, 村口 do not close a name), a longer
                // POI suffix wins (新村 is a compound), and a common noun is no name (农村).
                let poi_longer = self
                    .words
                    .poi_suffixes
                    .iter()
                    .any(|p| p.len() > slen && name.ends_with(p));
                let common = self.words.not_name.iter().any(|w| w.as_slice() == name);
                let seg_ok = seg_chars.len() >= slen || seg.start > 0;
                // 宁乡路, 石门村路: a town or village name followed by a suffix is a longer name.
                let rest = &chars[seg_end..];
                // 杨园街街道: the suffix goes on into a longer one (街 → 街道).
                let extends = self.words.extends_suffix(&chars[seg_end - slen..], slen);
                let inside = extends
                    || (level != Level::Road && road_follows(rest))
                    || (slen == 1
                        && level == Level::Community
                        && self.words.closing_suffix_starts(rest));
                if seg_ok && !common && !inside {
                    let level = if poi_longer { Level::Poi } else { level };
                    // 新华路东段, 宜城大道一段: the section is part of the road's name.
                    let section = match (level, chars.get(seg_end), chars.get(seg_end + 1)) {
                        (Level::Road, Some('段'), _) => 1,
                        (Level::Road, Some(c), Some('段'))
                            if "东西南北中一二三四五六七八九十".contains(*c) =>
                        {
                            2
                        }
                        _ => 0,
                    };
                    close = Some((seg_end + section, level, 0.8));
                    break;
                }
            }
            // An admin name or a near-qualifier right after this segment ends the name here.
            if seg_end < end {
                let rest = &chars[seg_end..];
                if self.words.near_at(rest).is_some()
                    || self.words.filler_at(rest).is_some_and(|l| l >= 2)
                    || self.full_admin_starts(chars, seg_end)
                {
                    close = Some((seg_end, Level::Poi, 0.6));
                    break;
                }
            }
        }
        let (close_end, level, conf) = close.unwrap_or((end, Level::Poi, 0.6));
        if level == Level::Road {
            // 碧桂园三街, 杭州湾新区兴慈三路: a compound or zone name glued before a road.
            let split = segments
                .iter()
                .map(|seg| pos + seg.start)
                .filter(|&b| b > pos + 1 && close_end >= b + 3)
                .find(|&b| self.words.ends_area_name(&chars[pos..b]));
            if let Some(b) = split {
                let prefix = &chars[pos..b];
                let level = if self
                    .words
                    .closing_suffix(prefix)
                    .is_some_and(|(c, _)| c == NameClass::Level(Level::Devzone))
                {
                    Level::Devzone
                } else if matches!(
                    st.comps.last().map(|r| r.level),
                    Some(Level::Poi | Level::Subpoi)
                ) {
                    Level::Subpoi
                } else {
                    Level::Poi
                };
                st.push(Raw {
                    level,
                    start: pos,
                    end: b,
                    value: prefix.iter().collect(),
                    confidence: 0.6,
                    admin: None,
                });
                pos = b;
            }
        }
        if level == Level::Poi
            && !matches!(
                st.comps.last().map(|r| r.level),
                Some(Level::Poi | Level::Subpoi)
            )
            && let Some(b) = self.poi_part_split(chars, pos, close_end, &segments)
        {
            // 南方大厦数码广场, 国际商贸城四区: a compound and a named part of it.
            st.push(Raw {
                level: Level::Poi,
                start: pos,
                end: b,
                value: chars[pos..b].iter().collect(),
                confidence: 0.6,
                admin: None,
            });
            pos = b;
        }
        let level = if level == Level::Poi
            && matches!(
                st.comps.last().map(|r| r.level),
                Some(Level::Poi | Level::Subpoi)
            ) {
            Level::Subpoi
        } else {
            level
        };
        let value: String = chars[pos..close_end].iter().collect();
        // 8楼11街: a "street" inside a building is an aisle of a market floor, a unit.
        let level = if level == Level::Road && matches!(st.context(), Ctx::Building | Ctx::Inner) {
            Level::Unit
        } else {
            level
        };
        // A road the dictionaries know is as sure as an admin name.
        let conf = if level == Level::Road && self.road_towns.contains_key(&value) {
            0.95
        } else {
            conf
        };
        st.push(Raw {
            level,
            start: pos,
            end: close_end,
            value,
            confidence: conf,
            admin: None,
        });
        close_end
    }

    /// Where a POI name `chars[pos..end]` splits into a compound and a named part of it: after a
    /// word boundary where the first part ends with a compound suffix (大厦, 广场, 商城) and the
    /// rest is a name of its own with such a suffix, or a numbered or sided part (四区, 东园, 二期).
    fn poi_part_split(
        &self,
        chars: &[char],
        pos: usize,
        end: usize,
        segments: &[crate::text::Segment<'_>],
    ) -> Option<usize> {
        if end < pos + 4 {
            return None;
        }
        let part = |b: usize| -> bool {
            let rest = &chars[b..end];
            match rest {
                [n, k] => {
                    "一二三四五六七八九十东西南北中甲乙丙丁".contains(*n)
                        && "区期园苑座".contains(*k)
                }
                _ => self
                    .words
                    .poi_suffix_len(rest)
                    .is_some_and(|l| rest.len() > l + 1),
            }
        };
        let whole = |b: usize| -> bool {
            let head = &chars[pos..b];
            self.words.poi_suffix_len(head).is_some_and(|l| {
                head.len() > l && (l >= 2 || "城苑园".contains(head[head.len() - 1]))
            })
        };
        if whole(end - 2) && part(end - 2) {
            return Some(end - 2);
        }
        segments
            .iter()
            .map(|seg| pos + seg.start)
            .filter(|&b| b >= pos + 2 && b + 3 <= end)
            .find(|&b| whole(b) && part(b))
    }

    /// Whether a full (not short) admin spelling of 3+ chars starts at `pos`.
    fn full_admin_starts(&self, chars: &[char], pos: usize) -> bool {
        self.admin
            .matches_at(&chars[pos..])
            .iter()
            .any(|(len, hits)| {
                *len >= 3
                    && hits
                        .iter()
                        .any(|h| !h.short && h.level <= Level::Town && h.level != Level::Devzone)
            })
    }

    /// Outside / inferred upper levels / ambiguity.
    fn place(&self, st: &State, parse: &mut Parse) {
        let deepest = st.deepest_admin();
        if let Some(d) = deepest {
            let in_qingpu = d.code.starts_with("310118");
            let above_qingpu = matches!(d.code.as_str(), "31" | "310000000000")
                || (d.level == Level::Province && d.code.starts_with("31"));
            if !in_qingpu && !above_qingpu {
                parse.outside = Some(Outside {
                    level: d.level,
                    name: self.admin_path(d),
                    code: d.code.clone(),
                });
            }
        }
        if parse.outside.is_some() {
            return;
        }
        let has = |l: Level| parse.components.iter().any(|c| c.level == l);
        let mut town: Option<(String, Option<String>, String)> = None;
        if !has(Level::Town) {
            if let Some(road) = parse.components.iter().find(|c| c.level == Level::Road)
                && let Some(towns) = self.road_towns.get(&road.value)
            {
                match towns.as_slice() {
                    [] => {}
                    [t] => town = Some((t.clone(), self.towns.get(t).cloned(), road.value.clone())),
                    many => parse.ambiguous.push(Ambiguity {
                        level: Level::Town,
                        candidates: many.to_vec(),
                        from: road.value.clone(),
                    }),
                }
            }
            if town.is_none()
                && let Some(c) = st
                    .comps
                    .iter()
                    .find(|r| r.level == Level::Community && r.admin.is_some())
                && let Some(hit) = &c.admin
                && let Some((_, Some(parent))) = self.shanghai.get(&hit.code)
                && let Some((name, _)) = self.shanghai.get(parent)
            {
                town = Some((name.clone(), Some(parent.clone()), c.value.clone()));
            }
        }
        if let Some((name, code, from)) = &town {
            parse.inferred.push(Inferred {
                level: Level::Town,
                value: name.clone(),
                code: code.clone(),
                from: from.clone(),
            });
        }
        if !has(Level::District) {
            let town_code = town.as_ref().and_then(|t| t.1.clone()).or_else(|| {
                st.comps
                    .iter()
                    .find(|r| r.level == Level::Town)
                    .and_then(|r| r.admin.as_ref())
                    .map(|h| h.code.clone())
            });
            let from = town.as_ref().map(|t| t.0.clone()).or_else(|| {
                st.comps
                    .iter()
                    .find(|r| r.level == Level::Town)
                    .map(|r| r.value.clone())
            });
            if let (Some(code), Some(from)) = (town_code, from)
                && let Some((_, Some(parent))) = self.shanghai.get(&code)
                && let Some((name, _)) = self.shanghai.get(parent)
            {
                parse.inferred.push(Inferred {
                    level: Level::District,
                    value: name.clone(),
                    code: Some(parent.clone()),
                    from,
                });
            }
        }
    }

    /// The full admin path of a division: 浙江省杭州市余杭区, 上海市浦东新区.
    fn admin_path(&self, d: &AdminHit) -> String {
        let code = &d.code;
        let mut path = String::new();
        let mut push = |name: Option<&String>| {
            if let Some(n) = name
                && n != "市辖区"
                && n != "县"
                && !path.ends_with(n.as_str())
            {
                path.push_str(n);
            }
        };
        if code.len() == 12 {
            // Shanghai list: walk the parents.
            let mut chain = Vec::new();
            let mut cur = Some(code.clone());
            while let Some(c) = cur {
                match self.shanghai.get(&c) {
                    Some((name, parent)) => {
                        chain.push(name.clone());
                        cur = parent.clone();
                    }
                    None => break,
                }
            }
            for name in chain.iter().rev() {
                push(Some(name));
            }
            return path;
        }
        for len in [2, 4, 6, 9] {
            if code.len() >= len {
                push(code.get(..len).and_then(|c| self.china.get(c)));
            }
        }
        path
    }
}

/// Whether a road suffix follows: then a town or village name before it is part of the road's name.
fn road_follows(rest: &[char]) -> bool {
    matches!(
        rest,
        ['路' | '街' | '巷', ..] | ['大' | '公', '道' | '街' | '路', ..]
    )
}

/// Whether the number ending at `end` is part of a road name (黄河5路, 7巷).
fn road_name_number(chars: &[char], end: usize) -> bool {
    match chars.get(end) {
        Some('路' | '街' | '巷' | '横' | '纬' | '经') => true,
        Some('大') => matches!(chars.get(end + 1), Some('道' | '街')),
        // 232省道, 209国道
        Some('省' | '国' | '县' | '乡') => chars.get(end + 1) == Some(&'道'),
        _ => false,
    }
}

fn level_for_last(chain_level: Level, marker_level: Level) -> Level {
    match marker_level {
        Level::Number | Level::Subpoi | Level::Group | Level::Lane | Level::Subroad => chain_level,
        other => other,
    }
}

fn alnum_end(chars: &[char], from: usize) -> usize {
    let mut e = from;
    while e < chars.len() && is_alnum(chars[e]) {
        e += 1;
    }
    e
}

/// The byte offset of char `pos` in `text` (whose chars are `chars`).
fn byte_offset(text: &str, chars: &[char], pos: usize) -> usize {
    if pos >= chars.len() {
        return if pos == chars.len() {
            chars.iter().map(|c| c.len_utf8()).sum()
        } else {
            text.len()
        };
    }
    chars[..pos].iter().map(|c| c.len_utf8()).sum()
}

/// Phone numbers and ID card numbers in the normalized text, as (kind, start, end): the one
/// detector the logs and stored notes use too ([`crate::text::personal`]).
fn mask_numbers(chars: &[char]) -> Vec<(MaskedKind, usize, usize)> {
    use crate::text::personal::{PersonalKind, find_personal};
    find_personal(chars)
        .into_iter()
        .filter_map(|f| {
            let kind = match f.kind {
                PersonalKind::Mobile | PersonalKind::Landline => MaskedKind::Phone,
                PersonalKind::IdCard => MaskedKind::IdCard,
                PersonalKind::LongNumber => return None,
            };
            Some((kind, f.start, f.end))
        })
        .collect()
}

fn mask_text(cs: &[char]) -> String {
    crate::text::personal::mask_chars(cs)
}

fn reason(p: &Parse, truncated: bool, input: &str) -> Option<String> {
    if input.trim().is_empty() {
        return Some("empty input".into());
    }
    if p.components.is_empty() {
        return Some(if p.masked.is_empty() {
            "no address components recognised".into()
        } else {
            "only phone or ID numbers, no address".into()
        });
    }
    if truncated {
        return Some(format!(
            "input longer than {MAX_PARSE_CHARS} characters: parsed the first {MAX_PARSE_CHARS} only"
        ));
    }
    let place = p.components.iter().any(|c| {
        matches!(
            c.level,
            Level::Road | Level::Community | Level::Poi | Level::Devzone | Level::Group
        )
    });
    if !place {
        return Some("no road, community or place name: only coarser or finer levels".into());
    }
    None
}

/// What the last component says about how to read a bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Start,
    Area,
    Road,
    Lane,
    Number,
    Poi,
    Building,
    Inner,
}

#[derive(Debug, Default)]
struct State {
    comps: Vec<Raw>,
    near: Option<(usize, usize)>,
}

impl Raw {
    fn num(level: Level, start: usize, end: usize, value: String, confidence: f32) -> Self {
        Raw {
            level,
            start,
            end,
            value,
            confidence,
            admin: None,
        }
    }
}

impl State {
    fn push(&mut self, r: Raw) {
        if r.level == Level::Group {
            // 永西六组: the name before a 组 is its village.
            if let Some(prev) = self.comps.last_mut()
                && prev.level == Level::Poi
                && prev.end == r.start
            {
                prev.level = Level::Community;
            }
        }
        self.comps.push(r);
    }

    /// Drops what was read so far: the address starts again at division `h` (chars
    /// `start..end`), what came before being a redundant prefix.
    fn restart_at_admin(&mut self, h: &AdminHit, start: usize, end: usize, confidence: f32) {
        self.comps.clear();
        self.push(Raw {
            level: h.level,
            start,
            end,
            value: h.name.clone(),
            confidence,
            admin: Some(h.clone()),
        });
    }

    fn has(&self, level: Level) -> bool {
        self.comps.iter().any(|r| r.level == level)
    }

    fn has_admin_code(&self, code: &str) -> bool {
        self.comps
            .iter()
            .any(|r| r.admin.as_ref().is_some_and(|h| h.code == code))
    }

    fn last_admin_level(&self) -> Option<Level> {
        self.comps
            .iter()
            .filter(|r| r.admin.is_some() || r.level <= Level::Community)
            .map(|r| r.level)
            .max()
    }

    fn deepest_admin(&self) -> Option<&AdminHit> {
        self.comps
            .iter()
            .filter_map(|r| r.admin.as_ref())
            .max_by_key(|h| h.level)
    }

    fn context(&self) -> Ctx {
        match self.comps.last().map(|r| r.level) {
            None => Ctx::Start,
            Some(Level::Road | Level::Subroad) => Ctx::Road,
            Some(Level::Lane) => Ctx::Lane,
            Some(Level::Number) => Ctx::Number,
            Some(Level::Poi | Level::Subpoi) => Ctx::Poi,
            Some(Level::Building) => Ctx::Building,
            Some(Level::Unit | Level::Floor | Level::Room) => Ctx::Inner,
            Some(_) => Ctx::Area,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn parser() -> &'static Parser {
        static P: OnceLock<Parser> = OnceLock::new();
        P.get_or_init(|| Parser::new(&Dictionaries::embedded().expect("dictionaries")))
    }

    fn levels(p: &Parse) -> Vec<(Level, String)> {
        p.components
            .iter()
            .map(|c| (c.level, c.value.clone()))
            .collect()
    }

    #[test]
    fn residential_with_lane_and_room() {
        let p = parser().parse("青浦华新那个华腾路1288弄3号楼502");
        assert_eq!(
            levels(&p),
            vec![
                (Level::District, "青浦区".into()),
                (Level::Town, "华新镇".into()),
                (Level::Road, "华腾路".into()),
                (Level::Lane, "1288".into()),
                (Level::Building, "3".into()),
                (Level::Room, "502".into()),
            ]
        );
    }

    #[test]
    fn dash_means_building_and_room() {
        let p = parser().parse("大发融悦3-502");
        assert_eq!(
            levels(&p),
            vec![
                (Level::Poi, "大发融悦".into()),
                (Level::Building, "3".into()),
                (Level::Room, "502".into()),
            ]
        );
    }

    #[test]
    fn phone_numbers_are_masked_not_doors() {
        let p = parser().parse("华腾路88号 13812345678");
        assert_eq!(p.masked.len(), 1);
        assert_eq!(p.masked[0].kind, MaskedKind::Phone);
        assert_eq!(p.components.len(), 2);
    }

    #[test]
    fn outside_names_where() {
        let p = parser().parse("浙江省杭州市余杭区文一西路969号");
        let o = p.outside.expect("outside");
        assert_eq!(o.name, "浙江省杭州市余杭区");
    }

    #[test]
    fn near_is_kept() {
        let p = parser().parse("华腾路1288弄门口");
        assert_eq!(p.near.map(|n| n.text), Some("门口".to_string()));
    }
}
