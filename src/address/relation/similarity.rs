//! String measures the relation features are made of: longest common substring and subsequence,
//! edit distance, set overlaps, and the sound of a text (toneless pinyin, folded the way a
//! pinyin keyboard and a southern ear confuse it).

use pinyin::ToPinyin;

/// Length of the longest common substring (contiguous).
///
/// # Examples
/// ```
/// use dizhi::address::relation::similarity::common_substring;
/// let c = |s: &str| s.chars().collect::<Vec<_>>();
/// assert_eq!(common_substring(&c("打浦路东泰花园"), &c("东泰花苑")), 3);
/// ```
pub fn common_substring<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    let mut best = 0;
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { 0 };
            best = best.max(cur[j + 1]);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    best
}

/// Length of the longest common subsequence.
///
/// # Examples
/// ```
/// use dizhi::address::relation::similarity::common_subsequence;
/// let c = |s: &str| s.chars().collect::<Vec<_>>();
/// assert_eq!(common_subsequence(&c("华腾路3号"), &c("华新镇华腾路1288弄3号")), 5);
/// ```
pub fn common_subsequence<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Levenshtein distance.
///
/// # Examples
/// ```
/// use dizhi::address::relation::similarity::edit_distance;
/// let c = |s: &str| s.chars().collect::<Vec<_>>();
/// assert_eq!(edit_distance(&c("东泰花园"), &c("东泰花苑")), 1);
/// ```
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Jaccard overlap of two sets given as sorted, deduplicated slices (0 when both are empty).
pub fn jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f64 / union as f64
    }
}

/// The sorted set of characters, and of character bigrams, of a text.
pub fn char_sets(text: &[char]) -> (Vec<char>, Vec<(char, char)>) {
    let mut chars = text.to_vec();
    chars.sort_unstable();
    chars.dedup();
    let mut grams: Vec<(char, char)> = text.windows(2).map(|w| (w[0], w[1])).collect();
    grams.sort_unstable();
    grams.dedup();
    (chars, grams)
}

/// The sound of each character: its toneless pinyin with zh/ch/sh → z/c/s, initial n → l and
/// final -ng → -n folded (a character without pinyin stands for itself).
///
/// # Examples
/// ```
/// use dizhi::address::relation::similarity::sounds;
/// let c = |s: &str| s.chars().collect::<Vec<_>>();
/// assert_eq!(sounds(&c("福乐东路")), sounds(&c("福乐冬路")));
/// assert_eq!(sounds(&c("华腾")), sounds(&c("华藤")));
/// assert_ne!(sounds(&c("华腾")), sounds(&c("华新")));
/// ```
pub fn sounds(text: &[char]) -> Vec<String> {
    text.iter()
        .map(|&c| match c.to_pinyin() {
            Some(p) => {
                let mut folded = String::new();
                crate::text::sound::fold_syllable(p.plain(), &mut folded);
                folded
            }
            None => c.to_string(),
        })
        .collect()
}

/// The runs of ASCII digits in a text, as numbers' text, sorted and deduplicated.
pub fn numbers(text: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for &c in text.iter().chain(std::iter::once(&' ')) {
        if c.is_ascii_digit() {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(cur.trim_start_matches('0').to_string());
            cur.clear();
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn measures_on_small_cases() {
        assert_eq!(common_substring(&c(""), &c("abc")), 0);
        assert_eq!(common_subsequence(&c("abc"), &c("axbxc")), 3);
        assert_eq!(edit_distance(&c("abc"), &c("")), 3);
        assert_eq!(edit_distance(&c("kitten"), &c("sitting")), 3);
        assert_eq!(numbers(&c("打浦路299弄之1-10号")), vec!["1", "10", "299"]);
        let (a, _) = char_sets(&c("aab"));
        let (b, _) = char_sets(&c("bc"));
        assert!((jaccard(&a, &b) - 1.0 / 3.0).abs() < 1e-12);
    }
}
