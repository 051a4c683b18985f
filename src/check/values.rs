//! Validation of the values the grammar only shapes: time zones, windows, addresses,
//! instants and patterns. Each function returns the value or the diagnostics for it.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::ast;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::glob::Glob;
use crate::limits::Limits;
use crate::net::{self, ParsedCidr};
use crate::window::{self, WindowSpec};

/// Looks up an IANA zone in the bundled database (E008 when unknown).
pub fn time_zone(text: &ast::Text) -> Result<TimeZone, Diagnostic> {
    TimeZone::get(&text.value).map_err(|_| {
        let names = jiff::tz::db().available();
        let names: Vec<String> = names.map(|name| name.as_str().to_string()).collect();
        let suggestion = did_you_mean(&text.value, names.iter().map(String::as_str));
        Diagnostic::new(
            Code::E008,
            text.span,
            format!("unknown time zone `{}`", text.value),
        )
        .with_help(suggestion.unwrap_or_else(|| {
            "use an IANA zone name such as `Europe/Berlin`, `America/New_York` or `UTC`".to_string()
        }))
    })
}

/// Parses an RFC 3339 instant (E009).
pub fn instant(text: &ast::Text) -> Result<Timestamp, Diagnostic> {
    text.value.parse::<Timestamp>().map_err(|_| {
        Diagnostic::new(
            Code::E009,
            text.span,
            format!("`{}` is not an RFC 3339 instant", text.value),
        )
        .with_help("write a date, a time and an offset, e.g. `2026-12-31T23:59:59Z`")
    })
}

/// Parses a CIDR or address (E006).
pub fn cidr(cidr: &ast::Cidr) -> Result<ParsedCidr, Diagnostic> {
    net::parse_cidr(&cidr.text).map_err(|reason| {
        Diagnostic::new(
            Code::E006,
            cidr.span,
            format!("invalid IP address or CIDR `{}`", cidr.text),
        )
        .with_primary_label(reason)
        .with_help("write an address (`10.1.2.3`, `2001:db8::1`) or a range (`10.0.0.0/8`)")
    })
}

/// The W005 warning for a CIDR with host bits set.
pub fn host_bits_warning(cidr: &ast::Cidr, parsed: &ParsedCidr) -> Option<Diagnostic> {
    parsed.host_bits_set.then(|| {
        Diagnostic::new(
            Code::W005,
            cidr.span,
            format!("`{}` has host bits set", cidr.text),
        )
        .with_help(format!(
            "the range is `{}`; write that to say what you mean",
            parsed.network
        ))
    })
}

/// The pattern limits the checker applies: none, as the parser already held every
/// pattern to the [`Limits`] the policy was read with (E012).
const PARSED: Limits = Limits {
    pattern_chars: usize::MAX,
    pattern_wildcards: usize::MAX,
    ..Limits::DEFAULT
};

/// Compiles a glob pattern (E010).
pub fn pattern(text: &ast::Text) -> Result<Glob, Diagnostic> {
    Glob::parse_within(&text.value, &PARSED).map_err(|error| {
        Diagnostic::new(
            Code::E010,
            text.span,
            format!("invalid pattern {}: {error}", show(&text.value)),
        )
        .with_help("`*` matches any run of characters and `?` one character; `\\*` and `\\?` match a literal `*` and `?`")
    })
}

fn show(value: &str) -> String {
    if value.is_empty() {
        "`\"\"`".to_string()
    } else {
        format!("`{value}`")
    }
}

/// Validates a window and compiles it, reading it in `default_zone` unless it names one.
pub fn window(
    window: &ast::Window,
    default_zone: &TimeZone,
) -> Result<WindowSpec, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    if window.days.is_none() && window.hours.is_none() {
        problems.push(
            Diagnostic::new(Code::E007, window.span, "a window needs days or hours")
                .with_help("e.g. `mon-fri`, `09:00-17:00` or `mon-fri 09:00-17:00`"),
        );
    }
    let hours = window.hours.and_then(|hours| match window_hours(&hours) {
        Ok(minutes) => Some(minutes),
        Err(diagnostic) => {
            problems.push(diagnostic);
            None
        }
    });
    let zone = match &window.tz {
        Some(text) => time_zone(text)
            .map_err(|diagnostic| problems.push(diagnostic))
            .ok(),
        None => Some(default_zone.clone()),
    };
    let days = window
        .days
        .as_ref()
        .map_or(window::ALL_DAYS, |days| window::day_mask(&days.items));
    match zone {
        Some(zone) if problems.is_empty() => Ok(WindowSpec { days, hours, zone }),
        _ => Err(problems),
    }
}

fn window_hours(hours: &ast::Hours) -> Result<(u16, u16), Diagnostic> {
    let start = clock(&hours.start, false)?;
    let end = clock(&hours.end, true)?;
    if start == end {
        return Err(Diagnostic::new(
            Code::E007,
            hours.span,
            "the hours start and end at the same time",
        )
        .with_help("write `00:00-24:00` for a whole day, or leave the hours out"));
    }
    Ok((start, end))
}

fn clock(time: &ast::ClockTime, is_end: bool) -> Result<u16, Diagnostic> {
    let problem = if time.hour > 24 {
        Some(format!("hour `{}` is past 24", time.hour))
    } else if time.minute > 59 {
        Some(format!("minute `{}` is past 59", time.minute))
    } else if time.hour == 24 && time.minute != 0 {
        Some("only `24:00` may use hour 24".to_string())
    } else if time.hour == 24 && !is_end {
        Some("`24:00` may only end a range".to_string())
    } else {
        None
    };
    match problem {
        Some(message) => Err(Diagnostic::new(Code::E007, time.span, message)
            .with_help("times are `HH:MM` from `00:00` to `23:59`, and `24:00` as an end")),
        None => Ok(u16::try_from(time.hour * 60 + time.minute).unwrap_or(0)),
    }
}
