//! The stem of a road name: the name without its road suffix, so that 华徐公路 said as 华徐路
//! is still 华徐. With the dictionaries because the suffixes are road-name knowledge that the
//! index, the matcher and the generator all share.

/// The sides a road's name may carry before its suffix (城中北路, 青利南路).
pub const ROAD_SIDES: [char; 5] = ['东', '西', '南', '北', '中'];

/// Road suffixes, longest first, so that 华徐公路 and 华徐路 share the stem 华徐.
const ROAD_SUFFIXES: [&str; 8] = ["公路", "大道", "大街", "支路", "路", "街", "巷", "道"];

/// The road name without its suffix (`华徐公路` → `华徐`); the name itself when nothing is left.
///
/// # Examples
/// ```
/// use dizhi::dictionaries::road_stem;
/// assert_eq!(road_stem("华徐公路"), "华徐");
/// assert_eq!(road_stem("华徐路"), "华徐");
/// assert_eq!(road_stem("城中北路"), "城中北");
/// ```
pub fn road_stem(name: &str) -> &str {
    for suffix in ROAD_SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return stem;
        }
    }
    name
}
