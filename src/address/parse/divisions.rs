//! Admin divisions in the walk: which division a spelling stands for given what came before,
//! whether a full name starts here, and a division's full path for the outside note.

use super::*;

impl Parser {
    /// Tries an admin name at `pos`; on success pushes it (or skips a repeat) and returns its end.
    pub(super) fn admin_at(&self, chars: &[char], pos: usize, st: &mut Reading) -> Option<usize> {
        let mut known_road: Option<usize> = None;
        for (len, hits) in self.admin.matches_at(&chars[pos..]) {
            let end = pos + len;
            // 福泉山东路: a road the dictionaries know that goes on past a short spelling is that
            // road, not the short name of a division far away (福泉市).
            let kept: Vec<AdminHit>;
            let hits = if hits.iter().any(|h| h.short)
                && *known_road.get_or_insert_with(|| self.known_road_len(&chars[pos..])) > len
            {
                kept = hits.iter().filter(|h| !h.short).cloned().collect();
                &kept[..]
            } else {
                hits
            };
            let next = &chars[end..];
            if let Some(hit) = self.town_said_last(hits, chars, pos, st, next) {
                st.push(Found {
                    level: Level::Town,
                    start: pos,
                    end,
                    value: hit.name.clone(),
                    confidence: 0.8,
                    admin: Some(hit.clone()),
                });
                return Some(end);
            }
            if let Some(hit) = self.choose_admin(hits, st, next) {
                if self.short_town_ambiguous(hit, hits, chars, pos, end, st) {
                    return Some(end);
                }
                if hit.short
                    && hit.level != Level::Province
                    && self.full_name_at(chars, end, &hit.code)
                {
                    // 宁波宁波市: the short form is a stutter of the full name that follows.
                    return Some(end);
                }
                let conf = if hit.short { 0.8 } else { 0.95 };
                st.push(Found {
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
            // or, right after its twin (杭州市杭州市, 丽水丽水), take the second as the component (a
            // short name after its full name starts a name of its own: 柯桥区柯桥轻纺城).
            // A full name repeated is a repeat even before a name (椒江区椒江区市府大道).
            let twin_ends_here = |h: &AdminHit| {
                st.comps.last().is_some_and(|last| {
                    last.end == pos
                        && last
                            .admin
                            .as_ref()
                            .is_some_and(|a| a.code == h.code && a.short)
                })
            };
            if let Some(h) = hits
                .iter()
                .find(|h| (!h.short || twin_ends_here(h)) && st.has_admin_code(&h.code))
                .filter(|h| !h.short || !continues_name(next))
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
            // A full path after a stray admin prefix (白洋镇枝江市白洋镇…), or a second path
            // after a first (安徽省宿州市萧县浙江省…, a form's home place before the address): the
            // earlier one was redundant; start again (a second path starts with its province or city).
            // A bare province (广东) counts only with a
            // division of its own after it (广东深圳市).
            if st.comps.iter().all(|r| r.admin.is_some()) && !continues_name(next) {
                let first = st.comps.first().map(|r| r.level);
                let last = st.last_admin_level();
                if let Some(h) = hits.iter().find(|h| {
                    h.level <= Level::District
                        && (first.is_some_and(|f| h.level < f)
                            || (h.level <= Level::City && last.is_some_and(|l| h.level <= l)))
                        && (!h.short
                            || (h.level == Level::Province && self.division_under_at(h, next)))
                }) {
                    st.restart_at_admin(h, pos, end, 0.9);
                    return Some(end);
                }
            }
        }
        None
    }

    /// `4组46号，杨家庄村，华新`, `2幢，云盈路331号，徐泾`: a covered town said last, after a
    /// pause and with nothing after it, when no town was said before: the caller adds where it
    /// is once the rest is out. It must hold what was named before it (a village of its own).
    fn town_said_last<'h>(
        &self,
        hits: &'h [AdminHit],
        chars: &[char],
        pos: usize,
        st: &Reading,
        next: &[char],
    ) -> Option<&'h AdminHit> {
        let after_pause = pos > 0 && is_separator(chars[pos - 1]);
        if !after_pause
            || !next.iter().all(|&c| is_separator(c))
            || st.comps.is_empty()
            || st.has(Level::Town)
        {
            return None;
        }
        hits.iter().find(|h| {
            h.level == Level::Town
                && self.coverage.contains(&h.code)
                && st.deepest_admin().is_none_or(|a| {
                    a.level < Level::Town && h.is_under(a)
                        || a.level > Level::Town && a.code.get(..9) == h.code.get(..9)
                })
        })
    }

    /// The length of the longest road name the dictionaries know that `rest` starts with (0 if
    /// none).
    fn known_road_len(&self, rest: &[char]) -> usize {
        const LONGEST: usize = 12;
        (3..=rest.len().min(LONGEST))
            .rev()
            .find(|&n| {
                let name: String = rest[..n].iter().collect();
                self.road_towns.contains_key(&name)
            })
            .unwrap_or(0)
    }

    /// Whether a full name of a division under `parent` starts `rest` (广东|深圳市).
    fn division_under_at(&self, parent: &AdminHit, rest: &[char]) -> bool {
        self.admin
            .matches_at(rest)
            .iter()
            .any(|(_, hits)| hits.iter().any(|h| !h.short && h.is_under(parent)))
    }

    /// A short town name with nothing before it that more than one covered town answers to: read
    /// as a town with low confidence, its value as written, and the candidates reported — not
    /// guessed. (No two towns of the 2021 list share a short name today; the data of a covered
    /// area may change that.)
    pub(super) fn short_town_ambiguous(
        &self,
        hit: &AdminHit,
        hits: &[AdminHit],
        chars: &[char],
        pos: usize,
        end: usize,
        st: &mut Reading,
    ) -> bool {
        if !(hit.short && hit.level == Level::Town && st.last_admin_level().is_none()) {
            return false;
        }
        let mut candidates: Vec<String> = hits
            .iter()
            .filter(|h| h.short && h.level == Level::Town && self.coverage.contains(&h.code))
            .map(|h| h.name.clone())
            .collect();
        candidates.dedup();
        if candidates.len() < 2 {
            return false;
        }
        let text: String = chars[pos..end].iter().collect();
        st.ambiguous.push(Ambiguity {
            level: Level::Town,
            candidates,
            from: text.clone(),
        });
        st.push(Found {
            level: Level::Town,
            start: pos,
            end,
            value: text,
            confidence: 0.5,
            admin: None,
        });
        true
    }

    /// Whether the full name of the division `code` starts at `pos`.
    pub(super) fn full_name_at(&self, chars: &[char], pos: usize, code: &str) -> bool {
        self.admin
            .matches_at(&chars[pos..])
            .iter()
            .any(|(_, hits)| hits.iter().any(|h| !h.short && h.code == code))
    }

    /// Picks the division a spelling stands for, given what came before; `None` if none fits.
    pub(super) fn choose_admin<'h>(
        &self,
        hits: &'h [AdminHit],
        st: &Reading,
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
                // Short forms and town/community names inside a longer name are not divisions,
                // unless a division of theirs follows (奉贤|庄行镇, 崇明|港西镇: not 奉贤庄).
                if (continues_name(next)
                    || (one_char_road_tail(next) && self.admin.matches_at(next).is_empty()))
                    && !self.division_under_at(h, next)
                {
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
                // A short town needs its district before it, except the covered districts' own
                // (华新华腾路).
                if h.level == Level::Town
                    && !matches!(last_level, Some(Level::District | Level::City))
                    && !(last_level.is_none() && self.coverage.contains(&h.code))
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

    /// Whether a full (not short) admin spelling of 3+ chars starts at `pos`.
    pub(super) fn full_admin_starts(&self, chars: &[char], pos: usize) -> bool {
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

    /// The full admin path of a division: 浙江省杭州市余杭区, 上海市浦东新区.
    pub(super) fn admin_path(&self, d: &AdminHit) -> String {
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
