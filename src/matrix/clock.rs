//! The combinations of time atoms a request time can produce, each with a time that
//! produces it.
//!
//! The instants of `time before` / `time after` cut time into segments. Within a
//! segment, what the windows say only changes where some window's zone reaches one of
//! the window's local boundaries (midnight, its start, its end) or changes its offset
//! (daylight saving). So the times tried are, per segment: its start, and every such
//! boundary and offset change within a sampled span of the segment — 15 days when all
//! windows share one zone (two weeks, one of them free of an offset change) and 366
//! days when zones differ (every relation between their offsets over a year). A segment
//! shorter than the span is tried whole; the open-ended first segment is sampled just
//! before the first instant.

use std::collections::BTreeSet;

use ahash::AHashSet;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::check::{CheckedPolicy, Cond, CondKind};
use crate::window::WindowSpec;

/// The span sampled per segment when every window has one zone.
const ONE_ZONE_SPAN_DAYS: i64 = 15;
/// The span sampled per segment when windows have several zones.
const SEVERAL_ZONES_SPAN_DAYS: i64 = 366;
/// Where time is sampled when the policy names no instant: Monday 5 January 2026.
const REFERENCE_SECOND: i64 = 1_767_571_200;

/// The time atoms of a policy and the combinations of their values.
#[derive(Debug, Clone)]
pub(crate) struct TimeStates {
    /// The windows, by window id, then the distinct instants, ascending: an atom per
    /// window (the time is in it) and per instant (the time is before it).
    pub instants: Vec<Timestamp>,
    /// Each distinct combination, with the first time found to produce it.
    pub states: Vec<(Timestamp, Vec<bool>)>,
}

impl TimeStates {
    /// Every combination the policy's windows and instants can take.
    pub fn new(policy: &CheckedPolicy) -> TimeStates {
        let mut instants = BTreeSet::new();
        for statement in &policy.statements {
            if let crate::check::Body::Rule {
                condition: Some(cond),
                ..
            } = &statement.body
            {
                collect_instants(cond, &mut instants);
            }
        }
        let instants: Vec<Timestamp> = instants.into_iter().collect();
        let candidates = candidates(&policy.windows, &instants);
        let mut seen = AHashSet::new();
        let mut states = Vec::new();
        for time in candidates {
            let values: Vec<bool> = policy
                .windows
                .iter()
                .map(|window| window.contains(time))
                .chain(instants.iter().map(|instant| time < *instant))
                .collect();
            if seen.insert(values.clone()) {
                states.push((time, values));
            }
        }
        TimeStates { instants, states }
    }

    /// The atom index of an instant (after the windows).
    pub fn instant_index(&self, windows: usize, instant: Timestamp) -> Option<usize> {
        self.instants
            .binary_search(&instant)
            .ok()
            .map(|index| windows + index)
    }
}

pub(super) fn collect_instants(cond: &Cond, into: &mut BTreeSet<Timestamp>) {
    match &cond.kind {
        CondKind::Before(instant) | CondKind::After(instant) => {
            into.insert(*instant);
        }
        CondKind::Not(inner) => collect_instants(inner, into),
        CondKind::And(items) | CondKind::Or(items) => {
            items.iter().for_each(|item| collect_instants(item, into))
        }
        _ => {}
    }
}

/// The times to try, ascending.
pub(super) fn candidates(windows: &[WindowSpec], instants: &[Timestamp]) -> BTreeSet<Timestamp> {
    let mut zones: Vec<&TimeZone> = Vec::new();
    for window in windows {
        if !zones.contains(&&window.zone) {
            zones.push(&window.zone);
        }
    }
    let span_days = match zones.len() {
        0 => 0,
        1 => ONE_ZONE_SPAN_DAYS,
        _ => SEVERAL_ZONES_SPAN_DAYS,
    };
    let span = SignedDuration::from_hours(24 * span_days);
    let mut found = BTreeSet::new();
    let reference = Timestamp::from_second(REFERENCE_SECOND).unwrap_or(Timestamp::UNIX_EPOCH);
    let mut segments: Vec<(Timestamp, Timestamp)> = Vec::new();
    match (instants.first(), instants.last()) {
        (Some(first), Some(last)) => {
            let before = first.checked_sub(span).unwrap_or(Timestamp::MIN).min(
                first
                    .checked_sub(SignedDuration::from_secs(1))
                    .unwrap_or(Timestamp::MIN),
            );
            segments.push((before, *first));
            segments.extend(instants.windows(2).filter_map(|pair| match pair {
                [start, end] => Some((*start, *end)),
                _ => None,
            }));
            segments.push((*last, Timestamp::MAX));
        }
        _ => segments.push((reference, Timestamp::MAX)),
    }
    for (start, end) in segments {
        let sampled_end = start.checked_add(span).unwrap_or(Timestamp::MAX).min(end);
        found.insert(start);
        for zone in &zones {
            boundaries(zone, windows, start, sampled_end, &mut found);
        }
    }
    found
}

/// Local boundaries of the windows read in `zone`, and the zone's offset changes, in
/// `[start, end)`.
fn boundaries(
    zone: &TimeZone,
    windows: &[WindowSpec],
    start: Timestamp,
    end: Timestamp,
    into: &mut BTreeSet<Timestamp>,
) {
    let mut minutes: BTreeSet<u16> = BTreeSet::from([0]);
    for window in windows.iter().filter(|window| &window.zone == zone) {
        if let Some((from, to)) = window.hours {
            minutes.extend([from % 1440, to % 1440]);
        }
    }
    let inside = |time: Timestamp| start <= time && time < end;
    let first_day = zone.to_datetime(start).date().yesterday().ok();
    let last_day = zone.to_datetime(end).date().tomorrow().ok();
    let mut day: Option<Date> = first_day;
    while let (Some(today), Some(last)) = (day, last_day) {
        if today > last {
            break;
        }
        for minute in &minutes {
            let local = today.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
            let ambiguous = zone.to_ambiguous_timestamp(local);
            for time in [ambiguous.earlier(), ambiguous.later()]
                .into_iter()
                .flatten()
            {
                if inside(time) {
                    into.insert(time);
                }
            }
        }
        day = today.tomorrow().ok();
    }
    for transition in zone.following(start) {
        let time = transition.timestamp();
        if !inside(time) {
            break;
        }
        into.insert(time);
    }
}
