//! How callers say an address on the phone, for the noisy queries: fillers glued to the first
//! name, place words after the door, numbers said digit by digit or in words with the marker
//! dropped, 号 dropped between door and room, characters swapped for any other of the same
//! sound, repeated words, pauses, self-corrections.

use std::collections::HashMap;

use rand::RngExt;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use crate::search::keys::sound;
use crate::text::numerals;

/// What a caller says before the first name, glued to it (在白鹤…, 我家在…).
pub(super) const LEAD_INS: [&str; 14] = [
    "在",
    "住在",
    "我家在",
    "我住在",
    "就是",
    "那个",
    "嗯",
    "嗯那个",
    "我们家在",
    "就在",
    "是在",
    "位于",
    "我家住在",
    "嗯在",
];

/// What a caller says after the door: where, not what (对面那个, 门口).
pub(super) const PLACE_WORDS: [&str; 13] = [
    "对面那个",
    "门口",
    "旁边",
    "附近",
    "边上",
    "里面",
    "后面",
    "对面",
    "楼下",
    "旁边那个",
    "隔壁",
    "门口那个",
    "前面",
];

/// Pauses between parts: a space, a comma, a full stop, a dash.
pub(super) const PAUSES: [&str; 6] = [" ", "，", ",", " ", "、", "。"];

/// Ways of taking back a number said wrong.
pub(super) const TAKE_BACKS: [&str; 6] = ["不对", "不是", "哦不", "说错了", "，不对，", "不对不对"];

/// Characters callers mishear names into, beside those of the names themselves: common ones that
/// share a sound with frequent name characters (冬 for 东, 溪 for 西, 钟 for 中).
const COMMON: &str = "冬东栋董懂动洞溪西希息夕吸稀熙锡惜习席喜细系钟中忠终众种重仲肿宗综总纵\
    新心欣辛馨薪信兴星行形型幸杏姓性华花化话画桦滑划腾疼藤誊青清轻庆情晴请浦普谱铺朴赵照兆召\
    罩巷向象项相香乡祥翔详想享徐许须需虚旭序叙续蓄泾经京精晶井景静敬境径白百柏伯摆拜佰盈营\
    迎赢影应英莺鹰樱朱珠竹主住注柱祝著重金今斤津筋锦紧进近尽劲民明名鸣铭命敏闽皿光广逛王望\
    往网旺忘汪湖胡壶虎户护沪互福富夫府付复副傅阜芙乐勒泰太态汰台抬苔安岸按暗鞍永勇涌泳咏拥\
    庸康抗扛炕长常场厂唱昌畅倡尚上商伤赏裳城成程诚承乘呈澄阳杨洋羊扬仰养样氧秀修袖绣锈嘉家\
    加佳夹甲价驾假北贝背备倍南男难楠蓝兰岚澜览揽";

/// Characters by sound: any character of a name can be swapped for another of the same sound,
/// as a listener writes down what they heard.
#[derive(Debug, Default)]
pub(super) struct SoundPool {
    by_sound: HashMap<String, Vec<char>>,
}

impl SoundPool {
    /// The pool of the common characters and those of `names`.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> SoundPool {
        let mut pool = SoundPool::default();
        let mut seen = std::collections::HashSet::new();
        for c in COMMON
            .chars()
            .filter(|c| !c.is_whitespace())
            .chain(names.into_iter().flat_map(str::chars))
        {
            if seen.insert(c) {
                let s = sound(&c.to_string());
                if s.chars().any(|c| c.is_ascii_alphabetic()) {
                    pool.by_sound.entry(s).or_default().push(c);
                }
            }
        }
        pool
    }

    /// `name` with one character (never its suffix) swapped for another of the same sound.
    pub fn misheard(&self, name: &str, keep_last: usize, rng: &mut ChaCha8Rng) -> Option<String> {
        let chars: Vec<char> = name.chars().collect();
        let alike = |c: char| -> Vec<char> {
            self.by_sound
                .get(&sound(&c.to_string()))
                .map(|cs| cs.iter().copied().filter(|&o| o != c).collect())
                .unwrap_or_default()
        };
        let idx: Vec<usize> = (0..chars.len().saturating_sub(keep_last))
            .filter(|&i| !alike(chars[i]).is_empty())
            .collect();
        let &i = idx.choose(rng)?;
        let mut c = chars.clone();
        c[i] = *alike(chars[i]).choose(rng)?;
        Some(c.into_iter().collect())
    }
}

/// A number as a caller says it: digit by digit (三五, 一二八八) or in words (三十五, 八十八).
pub(super) fn spoken(n: &str, rng: &mut ChaCha8Rng) -> String {
    let digits = n.chars().filter(|c| c.is_ascii_digit()).count();
    if digits == 1 || rng.random_bool(0.5) {
        numerals::digit_by_digit(n)
    } else {
        numerals::in_words(n)
    }
}

/// One of `words`.
pub(super) fn any<'a>(words: &[&'a str], rng: &mut ChaCha8Rng) -> &'a str {
    words.choose(rng).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn numbers_are_said_as_digits_or_words() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..20 {
            let s = spoken("35", &mut rng);
            assert!(s == "三五" || s == "三十五", "{s}");
            let s = spoken("105", &mut rng);
            assert!(s == "一零五" || s == "一百零五", "{s}");
        }
    }

    #[test]
    fn a_misheard_name_sounds_the_same() {
        let pool = SoundPool::new(["福乐东路"]);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let heard = pool.misheard("福乐东路", 1, &mut rng).unwrap();
        assert_ne!(heard, "福乐东路");
        assert_eq!(sound(&heard), sound("福乐东路"));
        assert!(heard.ends_with('路'));
    }
}
