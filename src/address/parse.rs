//! The address parser: normalized text → components with levels, spans and confidence.
//!
//! The parser walks the normalized text left to right with a cursor. At each position it tries,
//! in order: separators and masked numbers (skipped), what a caller or operator says before the
//! first component (`你好，我这里是`, `报修地址：`; dropped), filler words (dropped), near-qualifiers
//! (kept as [`Parse::near`]), an admin name from the dictionaries (longest spelling first,
//! consistent with the admin levels already seen), a number with its level marker (1288弄, 3号楼,
//! 3-502), and finally an open name: the jieba segments up to the first segment that ends with a
//! closing suffix (路, 村, 镇, 开发区 …), or up to the next number, which is then a POI.
//! Upper levels the text leaves out are inferred from the dictionaries afterwards.

mod admin;
mod divisions;
mod fx;
mod lookahead;
mod mask;
mod names;
pub use names::GLUED_BEFORE_NAME;
mod numbers;
mod place;
mod qualifier;
mod reading;
mod speech;
mod words;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use self::admin::{AdminHit, AdminNames};
use self::lookahead::*;
use self::mask::{mask_numbers, mask_text};
use self::reading::{After, Found, Reading};
use self::words::{NameClass, ParseWords};
use crate::dictionaries::Coverage;
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

/// Where an address outside the data's divisions is.
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
    /// Set when the address is outside the divisions the parser covers: where it is.
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

    /// The parse with every name the parser cut from before a road or village on length alone
    /// ([`GLUED_BEFORE_NAME`]) read together with it again (乔司|吴家村 → 乔司吴家村): for readers
    /// that compare names as written rather than place the parts.
    ///
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let p = dizhi::Parser::new(&dicts).parse("金泽镇商榻王仙村5组");
    /// assert_eq!(p.components[2].value, "王仙村");
    /// let whole = p.with_glued_names_whole();
    /// assert_eq!(whole.components[1].value, "商榻王仙村");
    /// assert_eq!(whole.components[1].level, dizhi::Level::Community);
    /// ```
    pub fn with_glued_names_whole(&self) -> std::borrow::Cow<'_, Parse> {
        if !self
            .components
            .iter()
            .any(|c| c.confidence <= GLUED_BEFORE_NAME)
        {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut out = self.clone();
        let mut k = 0;
        while k + 1 < out.components.len() {
            let (glued, named) = (&out.components[k], &out.components[k + 1]);
            if glued.confidence <= GLUED_BEFORE_NAME
                && glued.end == named.start
                && matches!(named.level, Level::Road | Level::Community)
            {
                let glued = out.components.remove(k);
                let named = &mut out.components[k];
                named.start = glued.start;
                named.text = format!("{}{}", glued.text, named.text);
                // As written: a glued town's value is its official name (商榻 → 金泽镇).
                named.value = format!("{}{}", glued.text, named.value);
            }
            k += 1;
        }
        std::borrow::Cow::Owned(out)
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
    /// Road → the covered towns it runs through.
    road_towns: HashMap<String, Vec<String>>,
    /// Town name → code, for the covered towns.
    towns: HashMap<String, String>,
    /// The divisions inside: anything else is outside.
    coverage: Coverage,
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
        Parser::with_coverage(dicts, Coverage::demo(&dicts.admin))
    }

    /// The generic ends of compound names (花园, 家园, 苑, 小区; `poi_suffix` in
    /// `dictionaries/parse_words.tsv`): what a caller may leave off a compound's name.
    /// The spellings of each kind of public place (`place_generic` in
    /// `dictionaries/parse_words.tsv`), longest first within a kind.
    pub(crate) fn place_generics(&self) -> &[Vec<String>] {
        &self.words.place_generics
    }

    pub(crate) fn compound_suffixes(&self) -> Vec<String> {
        self.words
            .poi_suffixes
            .iter()
            .map(|s| s.iter().collect())
            .collect()
    }

    /// Builds the parser for a data directory covering `coverage`: addresses elsewhere are
    /// outside, and the covered districts' towns may be written short (华新 for 华新镇).
    ///
    /// # Examples
    /// ```
    /// use dizhi::dictionaries::Coverage;
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let jiading = Coverage::parse(&dicts.admin, "嘉定区").unwrap();
    /// let parser = dizhi::Parser::with_coverage(&dicts, jiading);
    /// assert!(parser.parse("嘉定区安亭镇墨玉路1号").outside.is_none());
    /// assert_eq!(parser.parse("安亭墨玉路1号").components[0].value, "安亭镇");
    /// assert_eq!(parser.parse("青浦区华新镇华腾路1号").outside.unwrap().name, "上海市青浦区华新镇");
    /// ```
    pub fn with_coverage(dicts: &Dictionaries, coverage: Coverage) -> Self {
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
        let mut shanghai = HashMap::new();
        for d in dicts.admin.divisions() {
            shanghai.insert(d.code.clone(), (d.name.clone(), d.parent_code.clone()));
        }
        let towns: HashMap<String, String> = coverage
            .towns()
            .map(|d| (d.name.clone(), d.code.clone()))
            .collect();
        let mut road_towns: HashMap<String, Vec<String>> = HashMap::new();
        for r in &dicts.roads {
            let road = road_towns.entry(r.name.clone()).or_default();
            // The road dictionary's towns count only where the data covers them.
            for t in r.towns.iter().filter(|t| towns.contains_key(t.as_str())) {
                if !road.contains(t) {
                    road.push(t.clone());
                }
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
            coverage,
            shanghai,
            china,
        }
    }

    /// The divisions the parser takes as inside.
    pub fn coverage(&self) -> &Coverage {
        &self.coverage
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
        let mut state = Reading::default();
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
        st: &mut Reading,
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
            if let Some(len) = speech::person_at(rest) {
                pos += len;
                continue;
            }
            if st.comps.is_empty()
                && let Some(len) = self.words.lead_run(rest)
            {
                pos += len;
                continue;
            }
            if let Some(len) = self.words.filler_at(rest) {
                pos += len;
                continue;
            }
            if let Some(len) = speech::date_or_time_at(rest) {
                pos += len;
                continue;
            }
            // 新平路上149号: "on" the road, before its door.
            if c == '上'
                && rest.get(1).is_some_and(char::is_ascii_digit)
                && st
                    .comps
                    .last()
                    .is_some_and(|r| matches!(r.level, Level::Road | Level::Community))
            {
                pos += 1;
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
        Self::estates_named_village(st);
        speech::said_again(chars, st);
        speech::subject_not_home(chars, st);
    }
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

    #[test]
    fn a_short_town_name_two_covered_towns_share_is_reported_not_guessed() {
        // No two towns of Shanghai share a short name today (虹桥街道 and 虹桥镇 have none: a stem
        // ending in 桥 is taken for a street); a spelling with two covered short hits stands for
        // what a re-organisation could bring.
        let dicts = Dictionaries::embedded().unwrap();
        let coverage = Coverage::parse(&dicts.admin, "长宁区,闵行区").unwrap();
        let parser = Parser::with_coverage(&dicts, coverage);
        let hit = |name: &str, code: &str| AdminHit {
            level: Level::Town,
            name: name.into(),
            code: code.into(),
            short: true,
        };
        let hits = [
            hit("虹桥街道", "310105006000"),
            hit("虹桥镇", "310112102000"),
            hit("虹桥镇", "330382104000"),
        ];
        let chars: Vec<char> = "虹桥古北路".chars().collect();
        let mut st = Reading::default();
        assert!(parser.short_town_ambiguous(&hits[0], &hits, &chars, 0, 2, &mut st));
        assert_eq!(st.comps[0].value, "虹桥", "as written, not a guess");
        assert!(st.comps[0].confidence < 0.8 && st.comps[0].admin.is_none());
        assert_eq!(st.ambiguous[0].candidates, ["虹桥街道", "虹桥镇"]);
        // One covered district: nothing to report.
        let one = Parser::with_coverage(&dicts, Coverage::parse(&dicts.admin, "闵行区").unwrap());
        let mut st = Reading::default();
        assert!(!one.short_town_ambiguous(&hits[1], &hits, &chars, 0, 2, &mut st));
        assert!(st.ambiguous.is_empty());
    }
}
