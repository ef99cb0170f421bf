//! Checking one source's records against the reference: [`RecordCheck`] holds what every
//! check needs, [`Checked`] what one record came to (its fused row and its findings).

use super::*;

/// What checking a source's records needs: the reference, the rules in force, the source's name.
pub(super) struct RecordCheck<'a> {
    pub(super) r: &'a Reference,
    pub(super) rules: &'a RuleSet,
    pub(super) source: &'a str,
}

/// What one record came to: its fused row and its findings.
pub(super) struct Checked {
    pub(super) fused: FusedRecord,
    pub(super) findings: Vec<Finding>,
}

impl Checked {
    pub(super) fn new(ctx: &RecordCheck<'_>, key: &str) -> Checked {
        Checked {
            fused: FusedRecord {
                source: ctx.source.to_string(),
                record_key: key.to_string(),
                address_id: None,
                building_id: None,
                match_level: MatchLevel::None,
                score: 0.0,
                link_method: None,
                fields: BTreeMap::new(),
            },
            findings: Vec::new(),
        }
    }
}

pub(super) fn parse_point(fields: &BTreeMap<Field, String>) -> Option<Point<f64>> {
    let lon: f64 = fields.get(&Field::Lon)?.parse().ok()?;
    let lat: f64 = fields.get(&Field::Lat)?.parse().ok()?;
    (lon.is_finite() && lat.is_finite()).then(|| Point::new(lon, lat))
}

impl RecordCheck<'_> {
    pub(super) fn finding(
        &self,
        rule: RuleId,
        kind: &str,
        key: &str,
        town: Option<String>,
        message: String,
        detail: serde_json::Value,
    ) -> Finding {
        Finding {
            rule,
            kind: kind.to_string(),
            severity: self.rules.severity(rule),
            entity_kind: EntityKind::SourceRecord,
            entity_id: format!("{}/{}", self.source, key),
            source: self.source.to_string(),
            record_key: key.to_string(),
            town,
            message,
            detail,
        }
    }

    pub(super) fn push(
        &self,
        out: &mut Checked,
        rule: RuleId,
        kind: &str,
        town: Option<String>,
        message: String,
        detail: serde_json::Value,
    ) {
        if self.rules.on(rule) {
            let f = self.finding(rule, kind, &out.fused.record_key, town, message, detail);
            out.findings.push(f);
        }
    }

    /// A name written like a known one: itself, or the known name with the same sound that
    /// `rank` scores highest (the one with this door plate, in the 街镇 and 居委 the record
    /// gives); a known name gives way only to one that scores higher.
    pub(super) fn known_or_homophone<'n>(
        &self,
        name: &'n str,
        known: &dyn Fn(&str) -> bool,
        sounds: &'n HashMap<String, Vec<String>>,
        rank: &dyn Fn(&str) -> u8,
    ) -> Option<(String, bool)> {
        let same = sounds.get(&crate::search::keys::sound(name));
        // The best-ranked of the names that sound alike (the first on a tie).
        let best = |except: Option<&str>| {
            let mut best: Option<(u8, &String)> = None;
            for n in same.into_iter().flatten() {
                let score = rank(n);
                if Some(n.as_str()) != except && best.is_none_or(|(b, _)| score > b) {
                    best = Some((score, n));
                }
            }
            best
        };
        if known(name) {
            // A known name can itself be a homophone of another (珠和路 for 朱和路, 鸣珠路 for
            // 明珠路): when the other has this door plate where the record says it is, and this
            // one has it elsewhere or not at all, it is the other.
            if let Some((score, other)) = best(Some(name))
                && score > rank(name)
            {
                return Some((other.clone(), true));
            }
            return Some((name.to_string(), false));
        }
        // Several known names may sound alike (港华路, 港花路, 青金路, 庆金路): it is a homophone of
        // one of them either way.
        best(None).map(|(_, n)| (n.clone(), true))
    }
}
