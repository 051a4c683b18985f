//! Recurring time windows in IANA time zones.
//!
//! A window is a set of days (Monday = bit 0) and an optional hour range in minutes of
//! the local day. An hour range whose end comes before its start wraps past midnight and
//! belongs to the start's day: `fri 22:00-02:00` covers Friday 22:00 to Saturday 02:00.
//! Local wall-clock time comes from the zone's rules (jiff's bundled tz database), so
//! daylight saving time is followed.
#![deny(clippy::indexing_slicing)]

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::ast::{Day, DayItem};

/// Every day of the week.
pub const ALL_DAYS: u8 = 0b111_1111;

/// A compiled window.
#[derive(Debug, Clone)]
pub struct WindowSpec {
    /// Member days, Monday = bit 0.
    pub days: u8,
    /// `(start, end)` in minutes of the day; `end` may be 1440 and may be below `start`.
    pub hours: Option<(u16, u16)>,
    /// The zone the window is read in.
    pub zone: TimeZone,
}

/// The local weekday (Monday = 0) and minute of the day of an instant in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Monday = 0 ... Sunday = 6.
    pub weekday: u8,
    /// 0 ..= 1439.
    pub minute: u16,
}

impl LocalTime {
    /// The wall-clock time of `at` in `zone`.
    pub fn of(at: Timestamp, zone: &TimeZone) -> LocalTime {
        let local = zone.to_datetime(at);
        let weekday = local.weekday().to_monday_zero_offset();
        let minute = i32::from(local.hour()) * 60 + i32::from(local.minute());
        LocalTime {
            weekday: u8::try_from(weekday).unwrap_or(0),
            minute: u16::try_from(minute).unwrap_or(0),
        }
    }
}

impl WindowSpec {
    /// Whether `at` falls in the window.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.contains_local(LocalTime::of(at, &self.zone))
    }

    /// Whether a local time falls in the window.
    pub fn contains_local(&self, local: LocalTime) -> bool {
        let today = has_day(self.days, local.weekday);
        let Some((start, end)) = self.hours else {
            return today;
        };
        if start < end {
            return today && (start..end).contains(&local.minute);
        }
        let yesterday = has_day(self.days, (local.weekday + 6) % 7);
        (today && local.minute >= start) || (yesterday && local.minute < end)
    }
}

fn has_day(days: u8, weekday: u8) -> bool {
    weekday < 7 && days & (1 << weekday) != 0
}

/// The day mask of a day list; an empty list gives 0.
pub fn day_mask(items: &[DayItem]) -> u8 {
    items.iter().fold(0, |mask, item| mask | item_mask(*item))
}

fn item_mask(item: DayItem) -> u8 {
    match item {
        DayItem::Single(day, _) => 1 << day.index(),
        DayItem::Range(first, last, _) => {
            let mut mask = 0;
            let mut day = first.index();
            loop {
                mask |= 1 << day;
                if day == last.index() {
                    return mask;
                }
                day = (day + 1) % 7;
            }
        }
    }
}

/// The runs of consecutive days in a mask, as (first, last) day indices (Monday 0),
/// starting after a day the mask leaves out, so that a run may wrap past Sunday (`last`
/// is then 7 or more: read it modulo 7). Empty for an empty mask and for every day,
/// which has no first day.
pub fn day_runs(mask: u8) -> Vec<(usize, usize)> {
    let has = |day: usize| mask & (1 << (day % 7)) != 0;
    let Some(first) = (0..7).find(|day| has(*day) && !has(day + 6)) else {
        return Vec::new();
    };
    let mut runs = Vec::new();
    let mut day = first;
    while day < first + 7 {
        if !has(day) {
            day += 1;
            continue;
        }
        let mut last = day;
        while last + 1 < first + 7 && has(last + 1) {
            last += 1;
        }
        runs.push((day, last));
        day = last + 1;
    }
    runs
}

/// The keywords of the days in a mask, for people (`mon-fri`, `sat,sun`).
pub fn describe_days(mask: u8) -> String {
    if mask == ALL_DAYS {
        return "every day".to_string();
    }
    let names: Vec<&str> = Day::ALL
        .iter()
        .filter(|day| mask & (1 << day.index()) != 0)
        .map(|day| day.keyword())
        .collect();
    names.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceId, Span};

    fn span() -> Span {
        Span::new(SourceId(0), 0, 0)
    }

    fn window(items: &[DayItem], hours: Option<(u16, u16)>, zone: &str) -> WindowSpec {
        WindowSpec {
            days: if items.is_empty() {
                ALL_DAYS
            } else {
                day_mask(items)
            },
            hours,
            zone: TimeZone::get(zone).unwrap(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn wrapping_day_ranges() {
        let fri_mon = day_mask(&[DayItem::Range(Day::Fri, Day::Mon, span())]);
        assert_eq!(fri_mon, 0b111_0001);
        assert_eq!(day_mask(&[DayItem::Range(Day::Mon, Day::Mon, span())]), 1);
    }

    #[test]
    fn business_hours_follow_daylight_saving() {
        let business = window(
            &[DayItem::Range(Day::Mon, Day::Fri, span())],
            Some((540, 1020)),
            "Europe/Berlin",
        );
        assert!(business.contains(at("2026-07-01T07:30:00Z")));
        assert!(!business.contains(at("2026-07-01T15:30:00Z")));
        assert!(business.contains(at("2026-12-01T15:30:00Z")));
        assert!(!business.contains(at("2026-11-28T10:00:00Z")));
    }

    #[test]
    fn hours_past_midnight_belong_to_the_start_day() {
        let friday_night = window(
            &[DayItem::Single(Day::Fri, span())],
            Some((1320, 120)),
            "UTC",
        );
        assert!(friday_night.contains(at("2026-11-27T23:00:00Z")));
        assert!(friday_night.contains(at("2026-11-28T01:59:00Z")));
        assert!(!friday_night.contains(at("2026-11-28T02:00:00Z")));
        assert!(!friday_night.contains(at("2026-11-27T01:00:00Z")));
    }

    #[test]
    fn end_is_exclusive_and_midnight_end_allowed() {
        let evening = window(&[], Some((1320, 1440)), "UTC");
        assert!(evening.contains(at("2026-11-27T23:59:59Z")));
        assert!(!evening.contains(at("2026-11-28T00:00:00Z")));
        assert!(!evening.contains(at("2026-11-28T21:59:59Z")));
    }
}
