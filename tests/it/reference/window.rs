//! Recurring time windows evaluated on local wall-clock time with `jiff`.
//!
//! `[DAYS] [HH:MM-HH:MM] [tz "Zone"]`: no days means every day, no hours the whole day.
//! Hours: start inclusive, end exclusive, `24:00` as an end; an end before the start
//! wraps past midnight and the part after midnight belongs to the start's day. Days:
//! single days, lists and ranges, a range wrapping past Sunday when its last day comes
//! before its first (`mon-mon` is Monday alone). The zone is the window's `tz`, else the
//! policy's `timezone`, else UTC.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use toolgate::ast::{ClockTime, DayItem, Days, Window};

/// Minutes in a day.
const MINUTES_PER_DAY: u32 = 24 * 60;

/// Whether `time` lies in `window`; `None` when the zone is unknown.
pub fn contains(window: &Window, policy_zone: Option<&str>, time: Timestamp) -> Option<bool> {
    let zone_name = match &window.tz {
        Some(zone) => zone.value.as_str(),
        None => policy_zone.unwrap_or("UTC"),
    };
    let zone = TimeZone::get(zone_name).ok()?;
    let local = zone.to_datetime(time);
    let day = u8::try_from(local.weekday().to_monday_zero_offset()).ok()?;
    let minute = u32::try_from(local.hour()).ok()? * 60 + u32::try_from(local.minute()).ok()?;
    Some(contains_local(window, day, minute))
}

/// Whether local weekday `day` (Monday = 0) at `minute` past midnight is in the window.
pub fn contains_local(window: &Window, day: u8, minute: u32) -> bool {
    let day_listed = |candidate: u8| match &window.days {
        Some(days) => days_contain(days, candidate),
        None => true,
    };
    let Some(hours) = &window.hours else {
        return day_listed(day);
    };
    let start = minutes(hours.start);
    let end = minutes(hours.end);
    if start < end {
        day_listed(day) && start <= minute && minute < end
    } else {
        let previous_day = (day + 6) % 7;
        (day_listed(day) && minute >= start) || (day_listed(previous_day) && minute < end)
    }
}

/// Whether a day list names `day` (Monday = 0).
pub fn days_contain(days: &Days, day: u8) -> bool {
    days.items.iter().any(|item| item_contains(item, day))
}

/// Whether one day or day range names `day`.
fn item_contains(item: &DayItem, day: u8) -> bool {
    match item {
        DayItem::Single(single, _) => single.index() == day,
        DayItem::Range(first, last, _) => {
            let (first, last) = (first.index(), last.index());
            if first <= last {
                first <= day && day <= last
            } else {
                day >= first || day <= last
            }
        }
    }
}

/// Minutes past midnight of a clock time (`24:00` is 1440).
fn minutes(time: ClockTime) -> u32 {
    time.hour
        .saturating_mul(60)
        .saturating_add(time.minute)
        .min(MINUTES_PER_DAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolgate::ast::{Day, Hours, Text};
    use toolgate::source::{SourceId, Span};

    fn span() -> Span {
        Span::new(SourceId(0), 0, 0)
    }

    fn clock(hour: u32, minute: u32) -> ClockTime {
        ClockTime {
            hour,
            minute,
            span: span(),
        }
    }

    fn window(
        days: Option<Vec<DayItem>>,
        hours: Option<(u32, u32, u32, u32)>,
        tz: Option<&str>,
    ) -> Window {
        Window {
            days: days.map(|items| Days {
                items,
                span: span(),
            }),
            hours: hours.map(|(start_hour, start_minute, end_hour, end_minute)| Hours {
                start: clock(start_hour, start_minute),
                end: clock(end_hour, end_minute),
                span: span(),
            }),
            tz: tz.map(|zone| Text {
                value: zone.to_owned(),
                span: span(),
            }),
            span: span(),
        }
    }

    fn range(first: Day, last: Day) -> DayItem {
        DayItem::Range(first, last, span())
    }

    fn single(day: Day) -> DayItem {
        DayItem::Single(day, span())
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    const MON: u8 = 0;
    const FRI: u8 = 4;
    const SAT: u8 = 5;
    const SUN: u8 = 6;

    #[test]
    fn day_ranges_wrap_and_single_day_ranges_are_one_day() {
        let weekend = window(Some(vec![range(Day::Fri, Day::Mon)]), None, None);
        for (day, expected) in [
            (MON, true),
            (1, false),
            (3, false),
            (FRI, true),
            (SAT, true),
            (SUN, true),
        ] {
            assert_eq!(contains_local(&weekend, day, 600), expected, "day {day}");
        }
        let monday = window(Some(vec![range(Day::Mon, Day::Mon)]), None, None);
        assert!(contains_local(&monday, MON, 0));
        assert!(!contains_local(&monday, 1, 0));
        assert!(!contains_local(&monday, SUN, 0));
        let list = window(Some(vec![single(Day::Sat), single(Day::Sun)]), None, None);
        assert!(contains_local(&list, SUN, 1439));
        assert!(!contains_local(&list, FRI, 1439));
    }

    #[test]
    fn hours_are_start_inclusive_end_exclusive() {
        let business = window(
            Some(vec![range(Day::Mon, Day::Fri)]),
            Some((9, 0, 17, 0)),
            None,
        );
        assert!(!contains_local(&business, MON, 9 * 60 - 1));
        assert!(contains_local(&business, MON, 9 * 60));
        assert!(contains_local(&business, FRI, 17 * 60 - 1));
        assert!(!contains_local(&business, FRI, 17 * 60));
        assert!(!contains_local(&business, SAT, 10 * 60));
        let evening = window(None, Some((22, 0, 24, 0)), None);
        assert!(contains_local(&evening, SUN, 1439));
        assert!(!contains_local(&evening, MON, 0));
    }

    #[test]
    fn wrapping_hours_belong_to_the_start_day() {
        let friday_night = window(Some(vec![single(Day::Fri)]), Some((22, 0, 2, 0)), None);
        assert!(contains_local(&friday_night, FRI, 22 * 60));
        assert!(contains_local(&friday_night, SAT, 60));
        assert!(!contains_local(&friday_night, SAT, 120));
        assert!(!contains_local(&friday_night, FRI, 60));
        assert!(!contains_local(&friday_night, SAT, 22 * 60));
        let sunday_night = window(Some(vec![single(Day::Sun)]), Some((23, 0, 1, 0)), None);
        assert!(contains_local(&sunday_night, MON, 30));
        let every_night = window(None, Some((23, 0, 1, 0)), None);
        assert!(contains_local(&every_night, 3, 30));
        assert!(!contains_local(&every_night, 3, 60));
    }

    #[test]
    fn zones_follow_daylight_saving() {
        let business = window(
            Some(vec![range(Day::Mon, Day::Fri)]),
            Some((9, 0, 17, 0)),
            None,
        );
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
        let new_york = window(None, Some((0, 0, 1, 0)), Some("America/New_York"));
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
                &window(None, Some((0, 0, 1, 0)), Some("Nowhere/City")),
                None,
                at("2026-03-09T05:30:00Z")
            ),
            None
        );
    }
}
