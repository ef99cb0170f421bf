//! What is left of each text once the two are tiled with their common pieces: the kind of each
//! leftover run, not only its length.
//!
//! Two texts for one place mostly differ by what one side adds around a shared name: an admin
//! prefix (江苏省南京市), a road and door (朝阳路2号), a floor or unit (三楼, 2单元), a place
//! phrase (东100米). A pair whose leftovers are only such runs is often the same place; a run that
//! is a name of its own (a shop, a company, another compound) makes it a part of the place or
//! another place. The texts are tiled greedily: the longest common substring of at least two
//! characters is taken from both, again and again, and the characters never taken form the
//! leftover runs.

use super::{Side, Sink, ratio};

/// Pieces shorter than this are not taken as common (one character matches anything).
const MIN_PIECE: usize = 2;

/// The kinds a leftover run is sorted into, in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A place phrase: 交叉口, 附近, 东100米 ….
    Phrase,
    /// Below the door: 单元, 层, 楼 after a number, 室, F.
    Fine,
    /// A numbered door or building: digits with 号, 栋, 幢, 座, 号楼, 弄.
    Door,
    /// A road or street: ends in 路, 街, 道, 巷, 大道.
    Road,
    /// An admin name: ends in 省, 市, 区, 县, 镇, 乡, 街道.
    Admin,
    /// A part or branch word (店, 分店, 门 …).
    Part,
    /// Anything else of two characters or more: a name of its own.
    Name,
    /// One stray character (a typo, a variant, a marker).
    Stray,
}

const KINDS: [(Kind, &str); 8] = [
    (Kind::Phrase, "phrase"),
    (Kind::Fine, "fine"),
    (Kind::Door, "door"),
    (Kind::Road, "road"),
    (Kind::Admin, "admin"),
    (Kind::Part, "part"),
    (Kind::Name, "name"),
    (Kind::Stray, "stray"),
];

fn has(run: &[char], word: &str) -> bool {
    let w: Vec<char> = word.chars().collect();
    run.windows(w.len()).any(|x| x == w.as_slice())
}

fn numeral(c: char) -> bool {
    c.is_ascii_digit() || "一二三四五六七八九十零两".contains(c)
}

/// The kind of one leftover run.
fn kind(run: &[char]) -> Kind {
    let last = run.last().copied().unwrap_or(' ');
    let after_numeral = |marker: char| {
        run.windows(2)
            .any(|w| numeral(w[0]) && (w[1] == marker || w[1].eq_ignore_ascii_case(&marker)))
    };
    if ["交叉口", "交汇处", "路口", "附近", "旁边", "对面", "米"]
        .iter()
        .any(|w| has(run, w))
    {
        Kind::Phrase
    } else if has(run, "单元")
        || after_numeral('层')
        || after_numeral('楼') && !has(run, "号楼")
        || after_numeral('室')
        || after_numeral('F')
        || last == '层'
    {
        Kind::Fine
    } else if run.iter().any(|c| c.is_ascii_digit())
        || ['号', '栋', '幢', '座', '弄']
            .iter()
            .any(|&m| after_numeral(m))
    {
        Kind::Door
    } else if "路街道巷".contains(last) {
        Kind::Road
    } else if "省市区县镇乡".contains(last) {
        Kind::Admin
    } else if ["店", "门", "分", "部", "厅", "站", "处", "场"]
        .iter()
        .any(|w| has(run, w))
    {
        Kind::Part
    } else if run.len() >= 2 {
        Kind::Name
    } else {
        Kind::Stray
    }
}

/// Tiles `a` and `b` with common pieces of at least [`MIN_PIECE`] characters (longest first)
/// and returns which characters of each were taken.
fn tile(a: &[char], b: &[char]) -> (Vec<bool>, Vec<bool>) {
    let (mut ta, mut tb) = (vec![false; a.len()], vec![false; b.len()]);
    loop {
        // The longest run of untaken characters common to both.
        let mut best = (0, 0, 0); // length, end in a, end in b
        let mut prev = vec![0usize; b.len() + 1];
        let mut cur = vec![0usize; b.len() + 1];
        for (i, x) in a.iter().enumerate() {
            for (j, y) in b.iter().enumerate() {
                cur[j + 1] = if x == y && !ta[i] && !tb[j] {
                    prev[j] + 1
                } else {
                    0
                };
                if cur[j + 1] > best.0 {
                    best = (cur[j + 1], i + 1, j + 1);
                }
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        let (len, ea, eb) = best;
        if len < MIN_PIECE {
            return (ta, tb);
        }
        ta[ea - len..ea].iter_mut().for_each(|t| *t = true);
        tb[eb - len..eb].iter_mut().for_each(|t| *t = true);
    }
}

/// The runs of characters not taken, bracket characters dropped.
fn runs(text: &[char], taken: &[bool]) -> Vec<Vec<char>> {
    let mut out: Vec<Vec<char>> = Vec::new();
    let mut cur = Vec::new();
    for (&c, &t) in text.iter().zip(taken) {
        if t || matches!(c, '(' | ')' | ',' | '.' | '-' | '·') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Per side: the share of its text tiled with the other's, its leftover runs, and how many runs
/// are of each kind; and whether every leftover of both sides is of a kind that does not name
/// a place of its own (admin, road, door, below the door, place phrase, stray characters).
pub(super) fn leftover_features(s: &mut Sink, a: &Side, b: &Side) {
    let (ta, tb) = tile(&a.text, &b.text);
    let mut only_framing = true;
    for (tag, text, taken) in [("a", &a.text, &ta), ("b", &b.text, &tb)] {
        let covered = taken.iter().filter(|t| **t).count();
        s.put(&format!("tiled_{tag}"), ratio(covered, text.len()));
        let rs = runs(text, taken);
        s.put(&format!("leftover_runs_{tag}"), rs.len() as f64);
        s.put(
            &format!("leftover_longest_{tag}"),
            rs.iter().map(Vec::len).max().unwrap_or(0) as f64,
        );
        let kinds: Vec<Kind> = rs.iter().map(|r| kind(r)).collect();
        for (k, name) in KINDS {
            s.put(
                &format!("leftover_{name}_{tag}"),
                kinds.iter().filter(|x| **x == k).count() as f64,
            );
        }
        only_framing &= kinds.iter().all(|k| !matches!(k, Kind::Name | Kind::Part));
    }
    s.flag("leftover_only_framing", only_framing);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn leftovers(a: &str, b: &str) -> (Vec<String>, Vec<String>) {
        let (a, b) = (c(a), c(b));
        let (ta, tb) = tile(&a, &b);
        let show = |t: &[char], k: &[bool]| runs(t, k).iter().map(|r| r.iter().collect()).collect();
        (show(&a, &ta), show(&b, &tb))
    }

    #[test]
    fn tiling_leaves_what_each_side_adds() {
        let (la, lb) = leftovers("文澜镇朝阳路金鹏世纪广场三楼", "朝阳路2号金鹏世纪广场");
        assert_eq!(la, ["文澜镇", "三楼"]);
        assert_eq!(lb, ["2号"]);
        assert_eq!(kind(&c("文澜镇")), Kind::Admin);
        assert_eq!(kind(&c("三楼")), Kind::Fine);
        assert_eq!(kind(&c("2号")), Kind::Door);
        assert_eq!(kind(&c("西南200米")), Kind::Phrase);
        assert_eq!(kind(&c("天天果业")), Kind::Name);
        assert_eq!(kind(&c("海港店")), Kind::Part);
    }
}
