//! How a name sounds to a Shanghai ear: toneless pinyin folded onto fuzzy classes (zh/z, ch/c,
//! sh/s, n/l, -ng/-n), so that homophones and near-homophones share one spelling. The search
//! index keys and the relation model's features both read names through it.

/// Folds one toneless pinyin syllable onto its fuzzy class, appending it to `out`.
///
/// # Examples
/// ```
/// let mut s = String::new();
/// dizhi::text::sound::fold_syllable("zhong", &mut s);
/// assert_eq!(s, "zon");
/// ```
pub fn fold_syllable(syllable: &str, out: &mut String) {
    let (initial, rest) = ["zh", "ch", "sh", "n"]
        .iter()
        .find_map(|i| syllable.strip_prefix(i).map(|rest| (*i, rest)))
        .unwrap_or(("", syllable));
    out.push_str(match initial {
        "zh" => "z",
        "ch" => "c",
        "sh" => "s",
        "n" => "l",
        other => other,
    });
    match rest.strip_suffix("ng") {
        Some(stem) if !stem.is_empty() => {
            out.push_str(stem);
            out.push('n');
        }
        _ => out.push_str(rest),
    }
}
