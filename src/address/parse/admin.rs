//! Admin names by spelling, for matching at the parser's cursor: every province, city, county
//! and town of China (NBS 2023), Shanghai's towns and 居/村委 (NBS 2021, 12-digit codes), their
//! short forms (浙江, 杭州, 余杭) and the aliases in `dictionaries/aliases.tsv`.

use super::fx::FxHashMap;
use crate::dictionaries::{AdminLevel, ChinaPlaceLevel};
use crate::{Dictionaries, Level};

/// One admin division a spelling may stand for.
#[derive(Debug, Clone)]
pub(crate) struct AdminHit {
    pub level: Level,
    /// The official name.
    pub name: String,
    /// NBS code: 12 digits for Shanghai divisions, 2/4/6/9 digits for the China list.
    pub code: String,
    /// Whether the spelling is a short form (no suffix), which needs context to be trusted.
    pub short: bool,
}

impl AdminHit {
    /// Whether `self` can sit under `parent` (its code starts with the parent's significant digits).
    pub fn is_under(&self, parent: &AdminHit) -> bool {
        let significant = match parent.level {
            Level::Province => 2,
            Level::City => 4,
            Level::District => 6,
            Level::Town => 9,
            _ => parent.code.len(),
        };
        match (self.code.get(..significant), parent.code.get(..significant)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }
}

/// Spelling → the divisions it may stand for (a map while building, then a char trie).
#[derive(Debug, Clone, Default)]
pub(crate) struct AdminNames {
    pub by_spelling: FxHashMap<String, Vec<AdminHit>>,
    /// Longest spelling, in chars.
    pub max_len: usize,
    /// A char trie over the spellings: (node, char) → child node. Matching walks it and stops at
    /// the first char no spelling continues with, instead of hashing every candidate length.
    trie: FxHashMap<(u32, char), u32>,
    /// Trie nodes that end a spelling → that spelling's hits.
    terminal: FxHashMap<u32, Vec<AdminHit>>,
}

const DEVZONES: &str = include_str!("../../../dictionaries/devzones.tsv");
const FORMER_DISTRICTS: &str = include_str!("../../../dictionaries/former_districts.tsv");

/// Zone kinds that the town list carries as names of their own.
const GENERIC_ZONES: [&str; 12] = [
    "开发区",
    "经济开发区",
    "经济技术开发区",
    "高新区",
    "高新技术产业开发区",
    "工业园区",
    "工业区",
    "园区",
    "新区",
    "高新技术开发区",
    "经济开发区管委会",
    "开发区管委会",
];

/// Whether a name from the town list is a development zone (开发区, 工业园区, 高新区 …).
fn is_devzone_name(name: &str) -> bool {
    [
        "开发区",
        "园区",
        "工业区",
        "高新区",
        "新区",
        "示范区",
        "管理区",
        "产业园",
        "度假区",
        "管委会",
        "试验区",
        "合作区",
        "保税区",
        "新城",
    ]
    .iter()
    .any(|s| name.ends_with(s))
}

/// The stem of `name` without its suffix, if it can stand alone: 2+ chars, and not itself ending
/// like a road or village (建国路街道 → not 建国路).
fn strip_any<'a>(name: &'a str, suffixes: &[&str]) -> Option<&'a str> {
    let town = suffixes.contains(&"镇");
    suffixes
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .filter(|stem| stem.chars().count() >= 2)
        .filter(|stem| !stem.ends_with(['路', '街', '道', '村', '巷', '区', '镇', '乡', '县']))
        // A town stem ending like a bridge or lane is a street name more often (柯桥 the
        // district stays).
        .filter(|stem| !town || !stem.ends_with(['桥', '里']))
        // 柳市 is a town's stem; a city or county stem ending in 市 is not a thing.
        .filter(|stem| !stem.ends_with('市') || suffixes.contains(&"镇"))
}

impl AdminNames {
    pub fn build(dicts: &Dictionaries) -> Self {
        let mut names = AdminNames::default();
        for p in dicts.admin.china_places() {
            if matches!(
                p.name.as_str(),
                "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
            ) {
                continue;
            }
            let (level, suffixes): (Level, &[&str]) = match p.level {
                ChinaPlaceLevel::Province => (
                    Level::Province,
                    &[
                        "壮族自治区",
                        "回族自治区",
                        "维吾尔自治区",
                        "特别行政区",
                        "自治区",
                        "省",
                        "市",
                    ],
                ),
                ChinaPlaceLevel::City => (Level::City, &["地区", "市", "盟"]),
                ChinaPlaceLevel::County => (Level::District, &["新区", "区", "县", "市", "旗"]),
                // Shanghai's towns come from the 12-digit list below.
                ChinaPlaceLevel::Town if p.province_code == "31" => continue,
                ChinaPlaceLevel::Town => (Level::Town, &["街道", "镇", "乡"]),
            };
            // A bare kind of zone (经济开发区) is listed under many counties; it names no place.
            if GENERIC_ZONES.contains(&p.name.as_str()) {
                continue;
            }
            // Development zones are listed among the towns; they are a level of their own.
            let level = if level == Level::Town && is_devzone_name(&p.name) {
                Level::Devzone
            } else {
                level
            };
            let hit = AdminHit {
                level,
                name: p.name.clone(),
                code: p.code.clone(),
                short: false,
            };
            if let Some(stem) = strip_any(&p.name, suffixes) {
                names.add(
                    stem,
                    AdminHit {
                        short: true,
                        ..hit.clone()
                    },
                );
            }
            names.add(&p.name, hit.clone());
            if level == Level::District {
                // 富阳市 for 富阳区, 余杭县 for 余杭区: older or informal suffixes of the same county.
                if let Some(stem) = ["区", "县", "市"]
                    .iter()
                    .find_map(|s| p.name.strip_suffix(s))
                    .filter(|stem| stem.chars().count() >= 2)
                {
                    for suffix in ["区", "县", "市"] {
                        names.add_if_absent(&format!("{stem}{suffix}"), &hit);
                    }
                }
            }
            if level == Level::Province && p.name.ends_with('市') {
                // A municipality is its own city (北京 北京市): its city-level entry is 市辖区.
                let city = AdminHit {
                    level: Level::City,
                    code: format!("{}01", p.code),
                    ..hit
                };
                if let Some(stem) = strip_any(&p.name, &["市"]) {
                    names.add(
                        stem,
                        AdminHit {
                            short: true,
                            ..city.clone()
                        },
                    );
                }
                names.add(&p.name, city);
            }
        }
        for d in dicts.admin.divisions() {
            let level = match d.level {
                AdminLevel::Town => Level::Town,
                AdminLevel::Community => Level::Community,
                _ => continue,
            };
            let hit = AdminHit {
                level,
                // A 居/村委 is named in addresses without 居委会/村委会 (东厍村).
                name: if level == Level::Community {
                    d.short_name.clone()
                } else {
                    d.name.clone()
                },
                code: d.code.clone(),
                short: false,
            };
            if level == Level::Town {
                // 嘉定镇街道, 真如镇街道: the old town's name is how addresses say the 街道.
                if let Some(stem) = d.name.strip_suffix("镇街道") {
                    names.add(&format!("{stem}镇"), hit.clone());
                }
                if let Some(stem) = strip_any(&d.name, &["街道", "镇", "乡"]) {
                    names.add(
                        stem,
                        AdminHit {
                            short: true,
                            ..hit.clone()
                        },
                    );
                }
            } else if d.short_name != d.name
                && (d.short_name.ends_with('村') || d.short_name.ends_with("社区"))
                && d.short_name.chars().count() >= 3
            {
                // 王仙村 stands alone in addresses; a bare 居委 stem (东盛) does not.
                names.add(&d.short_name, hit.clone());
            }
            names.add(&d.name, hit);
        }
        for (former, code) in FORMER_DISTRICTS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .filter_map(|l| {
                let mut cols = l.split('\t');
                Some((cols.next()?, cols.next()?))
            })
        {
            if let Some(p) = dicts.admin.china_by_code(code) {
                names.add(
                    former,
                    AdminHit {
                        level: Level::District,
                        name: p.name.clone(),
                        code: p.code.clone(),
                        short: false,
                    },
                );
            }
        }
        for a in &dicts.aliases {
            for to in &a.to {
                let targets: Vec<AdminHit> = names
                    .by_spelling
                    .get(to.as_str())
                    .map(|hits| {
                        hits.iter()
                            .filter(|h| !h.short && &h.name == to)
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                for t in targets {
                    // 商榻 for 商榻镇 (now 金泽镇): an old town is said by its stem as a town is —
                    // when the stem names nothing else (青浦 of 青浦镇 is the district).
                    if t.level == Level::Town
                        && a.to.len() == 1
                        && let Some(stem) = strip_any(&a.from, &["街道", "镇", "乡"])
                        && !names.by_spelling.contains_key(stem)
                    {
                        names.add(
                            stem,
                            AdminHit {
                                short: true,
                                ..t.clone()
                            },
                        );
                    }
                    names.add(&a.from, t);
                }
            }
        }
        // A character lost in decoding (U+FFFD, e.g. a GBK file read as UTF-8) still lets a name of
        // 3+ characters match: each name is also indexed with one of its characters replaced.
        let mut wild: Vec<(String, AdminHit)> = Vec::new();
        for (spelling, hits) in &names.by_spelling {
            let chars: Vec<char> = spelling.chars().collect();
            if chars.len() < 3 {
                continue;
            }
            for i in 0..chars.len() - 1 {
                let mut w = chars.clone();
                w[i] = '\u{fffd}';
                let key: String = w.into_iter().collect();
                for h in hits.iter().filter(|h| !h.short) {
                    wild.push((key.clone(), h.clone()));
                }
            }
        }
        for (key, hit) in wild {
            names.add_if_absent(&key, &hit);
        }
        for row in DEVZONES.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = row.split('\t').collect();
            let (name, district) = (cols[0], cols.get(2).copied().unwrap_or(""));
            if !name.is_empty() {
                names.add(
                    name,
                    AdminHit {
                        level: Level::Devzone,
                        name: name.to_string(),
                        code: district.to_string(),
                        short: false,
                    },
                );
            }
        }
        names.build_trie();
        names
    }

    /// Adds `spelling` for `hit` unless the spelling already names a division of that level.
    fn add_if_absent(&mut self, spelling: &str, hit: &AdminHit) {
        let taken = self
            .by_spelling
            .get(spelling)
            .is_some_and(|hits| hits.iter().any(|h| h.level == hit.level && !h.short));
        if !taken {
            self.add(spelling, hit.clone());
        }
    }

    fn add(&mut self, spelling: &str, hit: AdminHit) {
        self.max_len = self.max_len.max(spelling.chars().count());
        let hits = self.by_spelling.entry(spelling.to_string()).or_default();
        if !hits
            .iter()
            .any(|h| h.code == hit.code && h.level == hit.level)
        {
            hits.push(hit);
        }
    }

    /// Builds the trie from the spellings; called once, after every spelling is added.
    fn build_trie(&mut self) {
        let mut next_node: u32 = 1;
        for (spelling, hits) in std::mem::take(&mut self.by_spelling) {
            let mut node = 0u32;
            for c in spelling.chars() {
                node = *self.trie.entry((node, c)).or_insert_with(|| {
                    next_node += 1;
                    next_node
                });
            }
            self.terminal.insert(node, hits);
        }
    }

    /// The spellings of 2+ chars that `text` starts with, as (length, hits), longest first.
    pub fn matches_at(&self, text: &[char]) -> Vec<(usize, &[AdminHit])> {
        let mut out = Vec::new();
        let mut node = 0u32;
        for (k, c) in text.iter().enumerate() {
            match self.trie.get(&(node, *c)) {
                Some(&child) => node = child,
                None => break,
            }
            if k >= 1
                && let Some(hits) = self.terminal.get(&node)
            {
                out.push((k + 1, hits.as_slice()));
            }
        }
        out.reverse();
        out
    }
}
