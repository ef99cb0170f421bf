//! The features the relation model reads from two parsed addresses: per-level agreement and
//! conflict, containment (which side goes deeper), number agreement, name similarity by
//! characters and by sound, the rule-based comparison, and place phrases (东100米, 交叉口, 附近).

use super::similarity::{
    char_sets, common_subsequence, common_substring, edit_distance, jaccard, numbers, sounds,
};
use crate::address::{Comparison, Relation, standard_levels};
use crate::{Level, Parse};

mod entity;
mod leftover;

/// The levels compared one by one: every level below the city (province and city say little
/// about whether two places within one city are the same).
const LEVELS: &[Level] = Level::ALL.split_at(2).1;

/// Levels whose values are names (compared by similarity, not only equality).
fn named(level: Level) -> bool {
    matches!(
        level,
        Level::District
            | Level::Devzone
            | Level::Town
            | Level::Community
            | Level::Road
            | Level::Subroad
            | Level::Poi
            | Level::Subpoi
    )
}

fn is_admin(level: Level) -> bool {
    matches!(
        level,
        Level::Province | Level::City | Level::District | Level::Devzone | Level::Town
    )
}

/// What the features need of one address, computed once per address (a query is compared
/// with many candidates).
#[derive(Debug, Clone)]
pub struct Side {
    /// The normalized text, spaces dropped.
    text: Vec<char>,
    /// The text after the last admin component (district, town …), normalized.
    core: Vec<char>,
    text_sound: Vec<String>,
    chars: Vec<char>,
    grams: Vec<(char, char)>,
    numbers: Vec<String>,
    levels: Vec<(Level, String)>,
    /// The names the parse found (compound, POI, zone, community), joined, normalized.
    name: Vec<char>,
    /// What the parse left unread in the core (CJK characters only).
    residual: Vec<char>,
    /// The text after a place phrase (…交叉口西南200米) with bracketed parts dropped.
    tail: Vec<char>,
    /// What brackets hold.
    bracket: Vec<char>,
    /// The place names the parse found outside brackets (POI, sub-POI, compound, zone), each
    /// normalized, in input order.
    names: Vec<Vec<char>>,
    /// Those names joined: the place the address names.
    entity: Vec<char>,
    roads: Vec<String>,
    deepest: Option<Level>,
    components: usize,
    near: bool,
    outside: bool,
    partial: bool,
}

fn clean(s: &str) -> Vec<char> {
    crate::text::normalize(s)
        .text()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

impl Side {
    /// The side of one parsed address.
    pub fn new(p: &Parse) -> Side {
        // A name cut from before a road or village on length alone is compared as written.
        let whole = p.with_glued_names_whole();
        let p: &Parse = &whole;
        let text = clean(&p.input);
        let admin_end = p
            .components
            .iter()
            .filter(|c| is_admin(c.level))
            .map(|c| c.end)
            .max()
            .unwrap_or(0);
        let core_raw: String = p.input.chars().skip(admin_end).collect();
        let mut core = clean(&core_raw);
        if core.is_empty() {
            core = text.clone();
        }
        let levels = standard_levels(p);
        let (chars, grams) = char_sets(&text);
        let input: Vec<char> = p.input.chars().collect();
        let mut covered = vec![false; input.len()];
        let in_bracket = bracket_depths(&input);
        let mut name = String::new();
        let mut names = Vec::new();
        let mut roads = Vec::new();
        for c in &p.components {
            for x in covered
                .iter_mut()
                .take(c.end.min(input.len()))
                .skip(c.start)
            {
                *x = true;
            }
            let value: Vec<char> = c.value.chars().collect();
            let junk = value.len() < 2
                || value
                    .iter()
                    .all(|ch| "东南西北中上下内外".contains(*ch) || ch.is_ascii_digit());
            match c.level {
                Level::Poi | Level::Subpoi | Level::Devzone | Level::Community if !junk => {
                    name.push_str(&c.span_text(&p.input));
                    if !in_bracket.get(c.start).copied().unwrap_or(false) {
                        names.push(clean(&c.value));
                    }
                }
                Level::Road | Level::Subroad => roads.push(c.value.clone()),
                _ => {}
            }
        }
        let residual: Vec<char> = input
            .iter()
            .zip(&covered)
            .skip(admin_end)
            .filter(|(c, cov)| !**cov && crate::text::is_han(**c))
            .map(|(c, _)| *c)
            .collect();
        let (tail, bracket) = tail_and_bracket(&text);
        Side {
            entity: names.concat(),
            names,
            name: clean(&name),
            residual,
            tail,
            bracket,
            roads,
            text_sound: sounds(&text),
            numbers: numbers(&text),
            deepest: levels
                .iter()
                .map(|(l, _)| *l)
                .filter(|l| !is_admin(*l))
                .max(),
            components: p.components.len(),
            near: p.near.is_some(),
            outside: p.outside.is_some(),
            partial: p.reason.is_some(),
            text,
            core,
            chars,
            grams,
            levels,
        }
    }

    /// A side known only by its levels (no text).
    fn from_levels(levels: Vec<(Level, String)>) -> Side {
        Side {
            text: Vec::new(),
            core: Vec::new(),
            text_sound: Vec::new(),
            chars: Vec::new(),
            grams: Vec::new(),
            numbers: Vec::new(),
            deepest: levels
                .iter()
                .map(|(l, _)| *l)
                .filter(|l| !is_admin(*l))
                .max(),
            components: levels.len(),
            name: Vec::new(),
            residual: Vec::new(),
            tail: Vec::new(),
            bracket: Vec::new(),
            names: Vec::new(),
            entity: Vec::new(),
            roads: Vec::new(),
            near: false,
            outside: false,
            partial: false,
            levels,
        }
    }

    /// The deepest level below the admin ones.
    pub fn deepest(&self) -> Option<Level> {
        self.deepest
    }

    /// Length of the normalized text.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The first level below the admin ones where the two differ (one has it and the other
    /// not, or different values).
    pub fn first_difference(&self, other: &Side) -> Option<Level> {
        Level::ALL
            .into_iter()
            .filter(|l| !is_admin(*l))
            .find(|l| self.get(*l) != other.get(*l))
    }

    /// The value of a level, if the parse found it.
    pub fn level_value(&self, level: Level) -> Option<String> {
        self.get(level).map(str::to_string)
    }

    /// The place the address names (its POI, sub-POI, compound names outside brackets, joined),
    /// if any.
    pub fn entity_text(&self) -> Option<String> {
        (!self.entity.is_empty()).then(|| self.entity.iter().collect())
    }

    fn get(&self, level: Level) -> Option<&str> {
        self.levels
            .iter()
            .find(|(l, _)| *l == level)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether each character of a text lies inside brackets (half or full width).
fn bracket_depths(text: &[char]) -> Vec<bool> {
    let mut depth = 0usize;
    text.iter()
        .map(|&c| match c {
            '(' | '（' => {
                depth += 1;
                false
            }
            ')' | '）' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth > 0,
        })
        .collect()
}

/// The text after the last place phrase (交叉口, 交汇处, 路口, 附近, or a distance such as
/// 西南200米), bracketed parts dropped; and what the brackets hold.
fn tail_and_bracket(text: &[char]) -> (Vec<char>, Vec<char>) {
    let mut plain = Vec::new();
    let mut bracket = Vec::new();
    let mut depth = 0usize;
    for &c in text {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth > 0 => bracket.push(c),
            _ => plain.push(c),
        }
    }
    let mut start = 0;
    for (i, w) in plain.windows(2).enumerate() {
        if (w[0].is_ascii_digit() && w[1] == '米')
            || matches!(
                (w[0], w[1]),
                ('叉', '口') | ('汇', '处') | ('路', '口') | ('附', '近')
            )
        {
            start = i + 2;
        }
    }
    while start < plain.len() && "东南西北侧面方向".contains(plain[start]) {
        start += 1;
    }
    let tail = if start < plain.len() {
        plain[start..].to_vec()
    } else {
        plain
    };
    (tail, bracket)
}

/// Collects values, and their names when asked.
struct Sink {
    names: Option<Vec<String>>,
    values: Vec<f64>,
}

impl Sink {
    fn put(&mut self, name: &str, v: f64) {
        if let Some(n) = &mut self.names {
            n.push(name.to_string());
        }
        self.values.push(v);
    }

    fn flag(&mut self, name: &str, v: bool) {
        self.put(name, f64::from(u8::from(v)));
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Dice-like similarity of two names: the longer of common substring and subsequence over the
/// mean length; and the same on their sounds.
fn name_similarity(a: &str, b: &str) -> (f64, f64) {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let den = a.len() + b.len();
    let chars = ratio(2 * common_subsequence(&a, &b), den);
    let sound = ratio(2 * common_subsequence(&sounds(&a), &sounds(&b)), den);
    (chars, sound)
}

/// How much of `name` appears in `text`: longest common substring over the name's length.
fn found_in(name: Option<&str>, text: &[char]) -> f64 {
    match name {
        Some(n) => {
            let n: Vec<char> = n.chars().collect();
            ratio(common_substring(&n, text), n.len())
        }
        None => -1.0,
    }
}

const CROSSING: [&str; 6] = ["交叉口", "交汇处", "交界处", "路口", "交口", "路与"];
const NEARBY: [&str; 8] = ["附近", "旁边", "对面", "周边", "门口", "斜对", "隔壁", "旁"];
const SIDES: [&str; 12] = [
    "东侧", "西侧", "南侧", "北侧", "东面", "西面", "南面", "北面", "东门", "西门", "南门", "北门",
];
const COMPOUND: [&str; 10] = [
    "小区", "花园", "苑", "庭", "府", "城", "园", "村", "公寓", "家园",
];
const BUILDING: [&str; 6] = ["大厦", "广场", "中心", "大楼", "写字楼", "商厦"];
const BUSINESS: [&str; 14] = [
    "公司", "店", "厂", "馆", "部", "所", "院", "校", "站", "行", "厅", "室", "中心", "局",
];

fn contains(text: &[char], word: &str) -> bool {
    let w: Vec<char> = word.chars().collect();
    text.windows(w.len()).any(|x| x == w.as_slice())
}

fn ends_with_any(text: &[char], words: &[&str]) -> bool {
    let t: String = text.iter().filter(|c| !matches!(c, '(' | ')')).collect();
    words.iter().any(|w| t.ends_with(w))
}

/// A distance phrase: digits followed by 米.
fn has_distance(text: &[char]) -> bool {
    text.windows(2)
        .any(|w| w[0].is_ascii_digit() && w[1] == '米')
}

fn side_features(s: &mut Sink, tag: &str, x: &Side) {
    let n = |f: &str| format!("{tag}_{f}");
    s.put(&n("len"), x.text.len() as f64);
    s.put(&n("core_len"), x.core.len() as f64);
    s.put(&n("components"), x.components as f64);
    s.put(
        &n("deepest"),
        x.deepest.map_or(-1.0, |l| {
            Level::ALL.iter().position(|m| *m == l).unwrap_or(0) as f64
        }),
    );
    s.flag(&n("near"), x.near);
    s.flag(&n("outside"), x.outside);
    s.flag(&n("partial"), x.partial);
    s.flag(&n("distance"), has_distance(&x.text));
    s.flag(
        &n("crossing"),
        CROSSING.iter().any(|w| contains(&x.text, w)),
    );
    s.flag(&n("nearby"), NEARBY.iter().any(|w| contains(&x.text, w)));
    s.flag(&n("side"), SIDES.iter().any(|w| contains(&x.text, w)));
    s.flag(&n("bracket"), x.text.contains(&'('));
    s.flag(&n("ends_compound"), ends_with_any(&x.core, &COMPOUND));
    s.flag(&n("ends_building"), ends_with_any(&x.core, &BUILDING));
    s.flag(&n("ends_business"), ends_with_any(&x.core, &BUSINESS));
    s.put(&n("numbers"), x.numbers.len() as f64);
}

fn extract(s: &mut Sink, a: &Side, b: &Side, rules: &Comparison) {
    // Whole text.
    let (la, lb) = (a.text.len(), b.text.len());
    let sub = common_substring(&a.text, &b.text);
    let seq = common_subsequence(&a.text, &b.text);
    s.put("substr_a", ratio(sub, la));
    s.put("substr_b", ratio(sub, lb));
    s.put("subseq_a", ratio(seq, la));
    s.put("subseq_b", ratio(seq, lb));
    s.put("edit", ratio(edit_distance(&a.text, &b.text), la.max(lb)));
    s.put("char_jaccard", jaccard(&a.chars, &b.chars));
    s.put("bigram_jaccard", jaccard(&a.grams, &b.grams));
    let sound_seq = common_subsequence(&a.text_sound, &b.text_sound);
    s.put("sound_subseq_a", ratio(sound_seq, la));
    s.put("sound_subseq_b", ratio(sound_seq, lb));
    // The text below the admin levels.
    let (ca, cb) = (a.core.len(), b.core.len());
    let csub = common_substring(&a.core, &b.core);
    s.put("core_substr_a", ratio(csub, ca));
    s.put("core_substr_b", ratio(csub, cb));
    s.put(
        "core_subseq_b",
        ratio(common_subsequence(&a.core, &b.core), cb),
    );
    s.put(
        "core_edit",
        ratio(edit_distance(&a.core, &b.core), ca.max(cb)),
    );
    s.flag("core_b_in_a", csub == cb);
    s.flag("core_a_in_b", csub == ca);
    let tail = |c: &[char], k: usize| c[c.len().saturating_sub(k)..].to_vec();
    s.put(
        "tail4_substr",
        ratio(common_substring(&tail(&a.core, 4), &tail(&b.core, 4)), 4),
    );
    // The names the parse found, what it left unread, the text after a place phrase.
    let (na, nb) = (&a.name, &b.name);
    let nsub = common_substring(na, nb);
    s.put("name_a_len", na.len() as f64);
    s.put("name_b_len", nb.len() as f64);
    s.put(
        "name_substr_a",
        if na.is_empty() {
            -1.0
        } else {
            ratio(nsub, na.len())
        },
    );
    s.put(
        "name_substr_b",
        if nb.is_empty() {
            -1.0
        } else {
            ratio(nsub, nb.len())
        },
    );
    s.put(
        "name_dice",
        ratio(2 * common_subsequence(na, nb), na.len() + nb.len()),
    );
    s.put(
        "name_sound_dice",
        ratio(
            2 * common_subsequence(&sounds(na), &sounds(nb)),
            na.len() + nb.len(),
        ),
    );
    s.flag("name_equal", !na.is_empty() && na == nb);
    s.put(
        "name_a_in_b",
        if na.is_empty() {
            -1.0
        } else {
            ratio(common_substring(na, &b.text), na.len())
        },
    );
    s.put(
        "name_b_in_a",
        if nb.is_empty() {
            -1.0
        } else {
            ratio(common_substring(nb, &a.text), nb.len())
        },
    );
    s.put("residual_a_len", a.residual.len() as f64);
    s.put("residual_b_len", b.residual.len() as f64);
    s.put(
        "residual_dice",
        ratio(
            2 * common_subsequence(&a.residual, &b.residual),
            a.residual.len() + b.residual.len(),
        ),
    );
    s.put(
        "tail_b_in_a",
        ratio(common_substring(&b.tail, &a.text), b.tail.len()),
    );
    s.put(
        "tail_a_in_b",
        ratio(common_substring(&a.tail, &b.text), a.tail.len()),
    );
    s.put("tail_b_len", b.tail.len() as f64);
    s.put(
        "tail_dice",
        ratio(
            2 * common_subsequence(&a.tail, &b.tail),
            a.tail.len() + b.tail.len(),
        ),
    );
    s.put(
        "bracket_b_in_a",
        if b.bracket.is_empty() {
            -1.0
        } else {
            ratio(common_substring(&b.bracket, &a.text), b.bracket.len())
        },
    );
    s.put(
        "bracket_a_in_b",
        if a.bracket.is_empty() {
            -1.0
        } else {
            ratio(common_substring(&a.bracket, &b.text), a.bracket.len())
        },
    );
    // Every road either side names.
    s.flag(
        "road_any_shared",
        a.roads.iter().any(|r| b.roads.contains(r)),
    );
    s.flag(
        "road_any_sounds_alike",
        a.roads.iter().any(|r| {
            let r: Vec<char> = r.chars().collect();
            let sr = sounds(&r);
            b.roads
                .iter()
                .any(|q| sounds(&q.chars().collect::<Vec<_>>()) == sr)
        }),
    );
    s.put("roads_a", a.roads.len() as f64);
    s.put("roads_b", b.roads.len() as f64);
    s.put(
        "roads_a_in_b_text",
        a.roads.iter().filter(|r| contains(&b.text, r)).count() as f64,
    );
    s.put(
        "roads_b_in_a_text",
        b.roads.iter().filter(|r| contains(&a.text, r)).count() as f64,
    );
    // Numbers anywhere in the text.
    let shared = a.numbers.iter().filter(|n| b.numbers.contains(n)).count();
    s.put("numbers_shared", shared as f64);
    s.put("numbers_a_only", (a.numbers.len() - shared) as f64);
    s.put("numbers_b_only", (b.numbers.len() - shared) as f64);
    // Level by level.
    for &level in LEVELS {
        let tag = level.as_str();
        let (va, vb) = (a.get(level), b.get(level));
        s.flag(&format!("{tag}_a"), va.is_some());
        s.flag(&format!("{tag}_b"), vb.is_some());
        let both = va.zip(vb);
        s.put(
            &format!("{tag}_equal"),
            both.map_or(-1.0, |(x, y)| f64::from(u8::from(x == y))),
        );
        if named(level) {
            let (chars, sound) = both.map_or((-1.0, -1.0), |(x, y)| name_similarity(x, y));
            s.put(&format!("{tag}_sim"), chars);
            s.put(&format!("{tag}_sound"), sound);
            s.put(&format!("{tag}_a_in_b"), found_in(va, &b.text));
            s.put(&format!("{tag}_b_in_a"), found_in(vb, &a.text));
        } else {
            let num = |v: &str| v.parse::<f64>().ok();
            s.put(
                &format!("{tag}_gap"),
                both.and_then(|(x, y)| Some((num(x)? - num(y)?).abs().ln_1p()))
                    .unwrap_or(-1.0),
            );
            s.flag(
                &format!("{tag}_a_in_b_numbers"),
                va.is_some_and(|v| b.numbers.iter().any(|n| n == v)),
            );
        }
    }
    levels_overlap(s, a, b);
    entity::entity_features(s, a, b);
    leftover::leftover_features(s, a, b);
    // Containment: which side goes deeper, and the rules' verdict.
    let pos = |l: Option<Level>| {
        l.map_or(-1.0, |l| {
            Level::ALL.iter().position(|m| *m == l).unwrap_or(0) as f64
        })
    };
    s.put("deeper", pos(a.deepest) - pos(b.deepest));
    for (name, r) in [
        ("rules_same", Relation::Same),
        ("rules_contains", Relation::Contains),
        ("rules_within", Relation::Within),
        ("rules_different", Relation::Different),
    ] {
        s.flag(name, rules.relation == r);
    }
    s.put("rules_parted_at", pos(rules.parted_at));
    s.put("rules_shared", rules.shared.len() as f64);
    s.put(
        "rules_shared_below_admin",
        rules.shared.iter().filter(|l| !is_admin(**l)).count() as f64,
    );
    side_features(s, "a", a);
    side_features(s, "b", b);
}

/// Levels finer than a building's door: a query that goes down to them often names the same
/// place as a candidate that stops at the compound or building (map search calls that the same).
fn fine(level: Level) -> bool {
    matches!(level, Level::Unit | Level::Floor | Level::Room)
}

/// The last name (POI, compound, road …) of a side's levels.
fn last_name(x: &Side) -> Option<&str> {
    x.levels
        .iter()
        .rev()
        .find(|(l, _)| named(*l) && !is_admin(*l))
        .map(|(_, v)| v.as_str())
}

/// How the two sides' place levels overlap: levels only one side has (and whether those are
/// only the fine ones), levels both have with equal or different values, the first conflict;
/// what each side has beyond the other's text; the last names found in the other text; the
/// ends of the two cores.
fn levels_overlap(s: &mut Sink, a: &Side, b: &Side) {
    let place = |x: &Side| -> Vec<(Level, String)> {
        x.levels
            .iter()
            .filter(|(l, _)| !is_admin(*l))
            .cloned()
            .collect()
    };
    let (pa, pb) = (place(a), place(b));
    let only = |x: &[(Level, String)], y: &Side| -> Vec<Level> {
        x.iter()
            .filter(|(l, _)| y.get(*l).is_none())
            .map(|(l, _)| *l)
            .collect()
    };
    let (oa, ob) = (only(&pa, b), only(&pb, a));
    let agree = pa.iter().filter(|(l, v)| b.get(*l) == Some(v)).count();
    let conflicts: Vec<Level> = pa
        .iter()
        .filter(|(l, v)| b.get(*l).is_some_and(|w| w != v))
        .map(|(l, _)| *l)
        .collect();
    s.put("levels_a_only", oa.len() as f64);
    s.put("levels_b_only", ob.len() as f64);
    s.put("levels_agree", agree as f64);
    s.put("levels_conflict", conflicts.len() as f64);
    s.flag("a_only_fine", !oa.is_empty() && oa.iter().all(|l| fine(*l)));
    s.flag("b_only_fine", !ob.is_empty() && ob.iter().all(|l| fine(*l)));
    s.flag(
        "conflict_only_fine",
        !conflicts.is_empty() && conflicts.iter().all(|l| fine(*l)),
    );
    s.put(
        "first_conflict",
        conflicts.first().map_or(-1.0, |l| {
            Level::ALL.iter().position(|m| m == l).unwrap_or(0) as f64
        }),
    );
    let extra = |x: &[char], y: &[char]| (x.len() - common_subsequence(x, y)) as f64;
    s.put("core_extra_a", extra(&a.core, &b.core));
    s.put("core_extra_b", extra(&b.core, &a.core));
    let (ga, gb) = (char_sets(&a.core).1, char_sets(&b.core).1);
    s.put("core_bigram_jaccard", jaccard(&ga, &gb));
    s.put("last_name_a_in_b", found_in(last_name(a), &b.text));
    s.put("last_name_b_in_a", found_in(last_name(b), &a.text));
    let (ca, cb) = (&a.core, &b.core);
    let ends =
        |k: usize| ca.len() >= k && cb.len() >= k && ca[ca.len() - k..] == cb[cb.len() - k..];
    s.flag("core_end1_equal", ends(1));
    s.flag("core_end2_equal", ends(2));
}

/// The features of a pair, in the order of [`feature_names`].
pub fn features(a: &Side, b: &Side, rules: &Comparison) -> Vec<f64> {
    let mut s = Sink {
        names: None,
        values: Vec::with_capacity(240),
    };
    extract(&mut s, a, b, rules);
    s.values
}

/// The features' names.
///
/// # Examples
/// ```
/// let names = dizhi::address::relation::feature_names();
/// assert!(names.iter().any(|n| n == "poi_sim"));
/// assert!(names.iter().all(|n| !n.contains(' ')));
/// ```
pub fn feature_names() -> Vec<String> {
    let side = Side::from_levels(Vec::new());
    let mut s = Sink {
        names: Some(Vec::new()),
        values: Vec::new(),
    };
    let rules = crate::address::compare_levels(&[], &[]);
    extract(&mut s, &side, &side, &rules);
    s.names.unwrap_or_default()
}
