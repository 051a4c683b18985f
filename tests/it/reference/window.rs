//! Recurring time windows, written from LANGUAGE.md's words (the WINDOW row of
//! "Statements" and "Fine points"), not from the engine's code:
//!
//! > WINDOW: `[DAYS] [HH:MM-HH:MM] [tz "IANA/Zone"]`, days or hours or both. DAYS: `mon
//! > tue wed thu fri sat sun`, as a list `sat,sun`, a range `mon-fri`, or a wrapping range
//! > `fri-mon`. Hours: start inclusive, end exclusive, `24:00` allowed as an end; an end
//! > before the start wraps past midnight and belongs to the start's day (`fri
//! > 22:00-02:00` covers Friday 22:00 to Saturday 02:00). Without a `tz`, the policy's
//! > `timezone` applies. Conversion follows the zone's rules, daylight saving included.
//! > ... `mon-mon` is Monday alone. Windows compare local wall-clock time.
//!
//! Read literally: a window is a set of *stretches* of the local week, one per day it
//! names (every day when it names none). A day's stretch starts on that day at the start
//! time (midnight without hours) and lasts until the end time, on the same day when the
//! end comes after the start, else on the next day (the whole day without hours). A
//! moment is in the window when its local wall-clock time, as a minute of the week, lies
//! in one of the stretches. The week is circular: Sunday's stretch may end on Monday.

use std::collections::BTreeSet;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::syntax::{DayItem, Window};

/// Minutes in a day, and in a week.
const DAY: u32 = 24 * 60;
const WEEK: u32 = 7 * DAY;

/// Whether `time` lies in `window`, with the policy's `timezone` (UTC when it has none);
/// `None` when the zone is unknown.
pub fn contains(window: &Window, policy_zone: Option<&str>, time: Timestamp) -> Option<bool> {
    let zone_name = window.tz.as_deref().or(policy_zone).unwrap_or("UTC");
    let zone = TimeZone::get(zone_name).ok()?;
    let wall_clock = zone.to_datetime(time);
    // Monday is day 0, as in the spec's list of days.
    let day = u32::from(wall_clock.weekday().to_monday_zero_offset().unsigned_abs());
    let hour = u32::from(wall_clock.hour().unsigned_abs());
    let minute = u32::from(wall_clock.minute().unsigned_abs());
    Some(contains_minute_of_week(
        window,
        day * DAY + hour * 60 + minute,
    ))
}

/// Whether a minute of the local week (Monday 00:00 = 0) lies in one of the window's
/// stretches.
pub fn contains_minute_of_week(window: &Window, minute_of_week: u32) -> bool {
    stretches(window).into_iter().any(|(start, length)| {
        // How far past the stretch's start the moment is, going forward round the week.
        let past_start = (minute_of_week + WEEK - start % WEEK) % WEEK;
        past_start < length
    })
}

/// The stretches of the window: `(start as a minute of the week, length in minutes)`.
fn stretches(window: &Window) -> Vec<(u32, u32)> {
    let (start, length) = match window.hours {
        None => (0, DAY),
        Some(((start_hour, start_minute), (end_hour, end_minute))) => {
            let start = start_hour * 60 + start_minute;
            let end = end_hour * 60 + end_minute;
            if end > start {
                (start, end - start)
            } else {
                // "An end before the start wraps past midnight and belongs to the
                // start's day": until the end time on the next day.
                (start, DAY - start + end)
            }
        }
    };
    named_days(window)
        .into_iter()
        .map(|day| (day * DAY + start, length))
        .collect()
}

/// The days a window names (Monday = 0); every day when it names none.
fn named_days(window: &Window) -> BTreeSet<u32> {
    if window.days.is_empty() {
        return (0..7).collect();
    }
    let mut days = BTreeSet::new();
    for item in &window.days {
        match *item {
            DayItem::Day(day) => {
                days.insert(u32::from(day));
            }
            DayItem::Range(first, last) => {
                // Walk forward from the first day to the last, past Sunday if need be;
                // `mon-mon` stops at once.
                let mut day = u32::from(first);
                days.insert(day);
                while day != u32::from(last) {
                    day = (day + 1) % 7;
                    days.insert(day);
                }
            }
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::syntax::{parse_text, Body};

    /// The window of `window w = TEXT`, read by the reference parser.
    fn window(text: &str) -> Window {
        let policy = parse_text("w.policy", &format!("window w = {text}")).unwrap();
        match &policy.statements[0].body {
            Body::Window { window, .. } => window.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// Minute of the week of `day` (Monday = 0) at `hour:minute`.
    fn moment(day: u32, hour: u32, minute: u32) -> u32 {
        day * DAY + hour * 60 + minute
    }

    const MON: u32 = 0;
    const TUE: u32 = 1;
    const THU: u32 = 3;
    const FRI: u32 = 4;
    const SAT: u32 = 5;
    const SUN: u32 = 6;

    #[test]
    fn day_ranges_wrap_and_single_day_ranges_are_one_day() {
        let weekend = window("fri-mon");
        for (day, expected) in [
            (MON, true),
            (TUE, false),
            (THU, false),
            (FRI, true),
            (SAT, true),
            (SUN, true),
        ] {
            assert_eq!(
                contains_minute_of_week(&weekend, moment(day, 10, 0)),
                expected,
                "day {day}"
            );
        }
        let monday = window("mon-mon");
        assert!(contains_minute_of_week(&monday, moment(MON, 0, 0)));
        assert!(!contains_minute_of_week(&monday, moment(TUE, 0, 0)));
        assert!(!contains_minute_of_week(&monday, moment(SUN, 23, 59)));
        let list = window("sat,sun");
        assert!(contains_minute_of_week(&list, moment(SUN, 23, 59)));
        assert!(!contains_minute_of_week(&list, moment(FRI, 23, 59)));
        assert!(!contains_minute_of_week(&list, moment(MON, 0, 0)));
    }

    #[test]
    fn hours_are_start_inclusive_end_exclusive() {
        let business = window("mon-fri 09:00-17:00");
        assert!(!contains_minute_of_week(&business, moment(MON, 8, 59)));
        assert!(contains_minute_of_week(&business, moment(MON, 9, 0)));
        assert!(contains_minute_of_week(&business, moment(FRI, 16, 59)));
        assert!(!contains_minute_of_week(&business, moment(FRI, 17, 0)));
        assert!(!contains_minute_of_week(&business, moment(SAT, 10, 0)));
        let evening = window("22:00-24:00");
        assert!(contains_minute_of_week(&evening, moment(SUN, 23, 59)));
        assert!(!contains_minute_of_week(&evening, moment(MON, 0, 0)));
    }

    #[test]
    fn wrapping_hours_belong_to_the_start_day() {
        // The spec's example: Friday 22:00 to Saturday 02:00.
        let friday_night = window("fri 22:00-02:00");
        assert!(contains_minute_of_week(&friday_night, moment(FRI, 22, 0)));
        assert!(contains_minute_of_week(&friday_night, moment(SAT, 1, 0)));
        assert!(!contains_minute_of_week(&friday_night, moment(SAT, 2, 0)));
        assert!(!contains_minute_of_week(&friday_night, moment(FRI, 1, 0)));
        assert!(!contains_minute_of_week(&friday_night, moment(SAT, 22, 0)));
        let sunday_night = window("sun 23:00-01:00");
        assert!(contains_minute_of_week(&sunday_night, moment(MON, 0, 30)));
        assert!(!contains_minute_of_week(&sunday_night, moment(SUN, 0, 30)));
        let every_night = window("23:00-01:00");
        assert!(contains_minute_of_week(&every_night, moment(THU, 0, 30)));
        assert!(!contains_minute_of_week(&every_night, moment(THU, 1, 0)));
        let midnight_to = window("sat 00:30-00:00");
        assert!(contains_minute_of_week(&midnight_to, moment(SAT, 23, 59)));
        assert!(!contains_minute_of_week(&midnight_to, moment(SUN, 0, 0)));
        assert!(!contains_minute_of_week(&midnight_to, moment(SAT, 0, 0)));
    }

    #[test]
    fn zones_follow_daylight_saving() {
        let business = window("mon-fri 09:00-17:00");
        let berlin = Some("Europe/Berlin");
        assert_eq!(
            contains(&business, berlin, at("2026-07-01T07:30:00Z")),
            Some(true)
        );
        assert_eq!(
            contains(&business, berlin, at("2026-07-01T15:30:00Z")),
            Some(false)
        );
        assert_eq!(
            contains(&business, berlin, at("2026-12-01T15:30:00Z")),
            Some(true)
        );
        assert_eq!(
            contains(&business, None, at("2026-12-01T16:59:59Z")),
            Some(true)
        );
        assert_eq!(
            contains(&business, None, at("2026-12-01T17:00:00Z")),
            Some(false)
        );
        // The window's own zone wins over the policy's.
        let new_york = window("00:00-01:00 tz \"America/New_York\"");
        // 2026-03-08 is the spring-forward day in New York: midnight is UTC-5.
        assert_eq!(
            contains(&new_york, berlin, at("2026-03-08T05:30:00Z")),
            Some(true)
        );
        assert_eq!(
            contains(&new_york, berlin, at("2026-03-09T04:30:00Z")),
            Some(true)
        );
        assert_eq!(
            contains(&new_york, berlin, at("2026-03-09T05:30:00Z")),
            Some(false)
        );
        assert_eq!(
            contains(
                &window("00:00-01:00 tz \"Nowhere/City\""),
                None,
                at("2026-03-09T05:30:00Z")
            ),
            None
        );
    }
}
