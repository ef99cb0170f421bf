//! Chinese numerals, both directions: reading a run of them as digits (一二八八 → 1288,
//! 三百零五 → 305) and saying digits as people do (13 → 十三, 1288 → 一二八八).
//!
//! The one place that knows the numeral characters: normalization, the register checks, the
//! personal-number masker, the generator and the noisy queries all read and write through it.

/// The value of one numeral character said digit by digit (一, 幺, 两, 洞, 〇, the financial forms).
pub fn digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' | '洞' => 0,
        '一' | '幺' | '壹' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// The value of a multiplier character (十, 百, 千 and their financial forms).
pub fn multiplier(c: char) -> Option<u64> {
    match c {
        '十' | '拾' => Some(10),
        '百' | '佰' => Some(100),
        '千' | '仟' => Some(1000),
        _ => None,
    }
}

/// Whether `c` is a numeral: a digit or a multiplier.
pub fn is_numeral(c: char) -> bool {
    digit(c).is_some() || multiplier(c).is_some() || matches!(c, '廿' | '卅')
}

/// The value of a run of numerals: digit by digit (一二八八 → 1288) when it has no multiplier,
/// else positional (三百零五 → 305, 十三 → 13). `None` when it does not read as a number or holds
/// anything but numerals.
///
/// # Examples
/// ```
/// use dizhi::text::numerals::to_digits;
/// assert_eq!(to_digits(&['一', '二', '八', '八']).as_deref(), Some("1288"));
/// assert_eq!(to_digits(&['三', '百', '零', '五']).as_deref(), Some("305"));
/// assert_eq!(to_digits(&['三', '四', '十']), None);
/// assert_eq!(to_digits(&['3']), None);
/// ```
pub fn to_digits(run: &[char]) -> Option<String> {
    if run.is_empty() || !run.iter().all(|&c| is_numeral(c)) {
        return None;
    }
    // 廿二组, 一百廿三号: 廿 and 卅 are twenty and thirty, said as one character.
    if run.iter().any(|&c| matches!(c, '廿' | '卅')) {
        let spelled: Vec<char> = run
            .iter()
            .flat_map(|&c| match c {
                '廿' => vec!['二', '十'],
                '卅' => vec!['三', '十'],
                c => vec![c],
            })
            .collect();
        return to_digits(&spelled);
    }
    if run.iter().all(|&c| digit(c).is_some()) {
        if run.contains(&'两') && run.len() > 1 {
            return None;
        }
        return Some(
            run.iter()
                .filter_map(|&c| digit(c))
                .map(|d| char::from_digit(d, 10).unwrap_or('0'))
                .collect(),
        );
    }
    let mut total: u64 = 0;
    let mut pending: Option<u64> = None;
    let mut last_mult = u64::MAX;
    for &c in run {
        if let Some(d) = digit(c) {
            if pending.is_some() && d != 0 {
                return None; // 三四十: not a plain number
            }
            pending = if d == 0 { pending } else { Some(d as u64) };
        } else if let Some(m) = multiplier(c) {
            if m >= last_mult {
                return None;
            }
            total += pending.take().unwrap_or(1) * m;
            last_mult = m;
        }
    }
    total += pending.unwrap_or(0);
    Some(total.to_string())
}

const SAID: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

fn decimal_digits(n: &str) -> Vec<usize> {
    n.chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| d as usize)
        .collect()
}

/// The digits of `n` said one by one (35 → 三五, 1288 → 一二八八); anything but digits is left out.
pub fn digit_by_digit(n: &str) -> String {
    decimal_digits(n).iter().map(|&d| SAID[d]).collect()
}

/// The digits of `n` said in words (35 → 三十五, 105 → 一百零五) up to three digits; longer
/// numbers digit by digit.
pub fn in_words(n: &str) -> String {
    let d = decimal_digits(n);
    match d.as_slice() {
        [u] => SAID[*u].to_string(),
        [1, 0] => "十".to_string(),
        [1, u] => format!("十{}", SAID[*u]),
        [t, 0] => format!("{}十", SAID[*t]),
        [t, u] => format!("{}十{}", SAID[*t], SAID[*u]),
        [h, 0, 0] => format!("{}百", SAID[*h]),
        [h, 0, u] => format!("{}百零{}", SAID[*h], SAID[*u]),
        [h, t, 0] => format!("{}百{}十", SAID[*h], SAID[*t]),
        [h, t, u] => format!("{}百{}十{}", SAID[*h], SAID[*t], SAID[*u]),
        _ => digit_by_digit(n),
    }
}

/// A number as people most often write it in numerals: in words up to two digits (13 → 十三),
/// digit by digit when longer (1288 → 一二八八).
pub fn spelled(n: &str) -> String {
    if decimal_digits(n).len() <= 2 {
        in_words(n)
    } else {
        digit_by_digit(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_chinese_numerals_as_people_say_them() {
        assert_eq!(spelled("3"), "三");
        assert_eq!(spelled("10"), "十");
        assert_eq!(spelled("13"), "十三");
        assert_eq!(spelled("40"), "四十");
        assert_eq!(spelled("25"), "二十五");
        assert_eq!(spelled("1288"), "一二八八");
        assert_eq!(spelled("305"), "三零五");
        assert_eq!(in_words("105"), "一百零五");
        assert_eq!(in_words("110"), "一百一十");
        assert_eq!(digit_by_digit("35"), "三五");
    }

    #[test]
    fn what_is_said_reads_back_as_the_same_digits() {
        for n in 0..1000u32 {
            let s = n.to_string();
            for said in [spelled(&s), in_words(&s), digit_by_digit(&s)] {
                let chars: Vec<char> = said.chars().collect();
                assert_eq!(
                    to_digits(&chars).map(|d| d.parse::<u32>().ok()),
                    Some(Some(n)),
                    "{said}"
                );
            }
        }
    }

    #[test]
    fn runs_that_are_not_numbers() {
        assert_eq!(to_digits(&[]), None);
        assert_eq!(to_digits(&['十', '十']), None);
        assert_eq!(to_digits(&['两', '两']), None);
        assert_eq!(to_digits(&['三', 'a']), None);
        assert_eq!(to_digits(&['十']).as_deref(), Some("10"));
        assert_eq!(to_digits(&['廿', '二']).as_deref(), Some("22"));
        assert_eq!(to_digits(&['廿']).as_deref(), Some("20"));
        assert_eq!(to_digits(&['一', '百', '廿', '三']).as_deref(), Some("123"));
        assert_eq!(to_digits(&['卅', '一']).as_deref(), Some("31"));
    }
}
