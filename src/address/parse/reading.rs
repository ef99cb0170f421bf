//! What the walk has read so far: the components found on the normalized text, the near
//! qualifier, and what the last component says about a bare number.

use super::admin::AdminHit;
use crate::Level;

/// A component on the normalized text, before its span is mapped back.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) level: Level,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) value: String,
    pub(super) confidence: f32,
    /// The admin division an admin component was matched to.
    pub(super) admin: Option<AdminHit>,
}

/// What the last component says about how to read a bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    Start,
    Area,
    Road,
    Lane,
    Number,
    Poi,
    Building,
    Inner,
}

#[derive(Debug, Default)]
pub(super) struct Reading {
    pub(super) comps: Vec<Found>,
    pub(super) near: Option<(usize, usize)>,
    /// Names read that several covered divisions answer to.
    pub(super) ambiguous: Vec<super::Ambiguity>,
}

impl Found {
    pub(super) fn num(
        level: Level,
        start: usize,
        end: usize,
        value: String,
        confidence: f32,
    ) -> Self {
        Found {
            level,
            start,
            end,
            value,
            confidence,
            admin: None,
        }
    }
}

impl Reading {
    pub(super) fn push(&mut self, r: Found) {
        if r.level == Level::Group {
            // 永西六组: the name before a 组 is its village.
            if let Some(prev) = self.comps.last_mut()
                && prev.level == Level::Poi
                && prev.end == r.start
            {
                prev.level = Level::Community;
            }
        }
        self.comps.push(r);
    }

    /// Drops what was read so far: the address starts again at division `h` (chars
    /// `start..end`), what came before being a redundant prefix.
    pub(super) fn restart_at_admin(
        &mut self,
        h: &AdminHit,
        start: usize,
        end: usize,
        confidence: f32,
    ) {
        self.comps.clear();
        self.push(Found {
            level: h.level,
            start,
            end,
            value: h.name.clone(),
            confidence,
            admin: Some(h.clone()),
        });
    }

    pub(super) fn has(&self, level: Level) -> bool {
        self.comps.iter().any(|r| r.level == level)
    }

    pub(super) fn has_admin_code(&self, code: &str) -> bool {
        self.comps
            .iter()
            .any(|r| r.admin.as_ref().is_some_and(|h| h.code == code))
    }

    pub(super) fn last_admin_level(&self) -> Option<Level> {
        self.comps
            .iter()
            .filter(|r| r.admin.is_some() || r.level <= Level::Community)
            .map(|r| r.level)
            .max()
    }

    pub(super) fn deepest_admin(&self) -> Option<&AdminHit> {
        self.comps
            .iter()
            .filter_map(|r| r.admin.as_ref())
            .max_by_key(|h| h.level)
    }

    pub(super) fn context(&self) -> After {
        match self.comps.last().map(|r| r.level) {
            None => After::Start,
            Some(Level::Road | Level::Subroad) => After::Road,
            Some(Level::Lane) => After::Lane,
            Some(Level::Number) => After::Number,
            Some(Level::Poi | Level::Subpoi) => After::Poi,
            Some(Level::Building) => After::Building,
            Some(Level::Unit | Level::Floor | Level::Room) => After::Inner,
            Some(_) => After::Area,
        }
    }
}
