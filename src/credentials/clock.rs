//! The clock credentials are checked against: the system's, or a test's.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;

/// Where "now" comes from when checking `exp`, `nbf`, `iat` and key expiries.
/// The default is the system clock; tests inject a fixed or stepping one.
#[derive(Clone)]
pub struct Clock(ClockKind);

#[derive(Clone)]
enum ClockKind {
    System,
    Custom(Arc<dyn Fn() -> Timestamp + Send + Sync>),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(ClockKind::System)
    }

    /// A clock that always says `time`.
    pub fn fixed(time: Timestamp) -> Clock {
        Clock::from_fn(move || time)
    }

    /// A clock reading `now`, e.g. from a test's atomic counter.
    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Clock(ClockKind::Custom(Arc::new(now)))
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match &self.0 {
            ClockKind::System => Timestamp::now(),
            ClockKind::Custom(now) => now(),
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ClockKind::System => f.write_str("Clock::system"),
            ClockKind::Custom(_) => f.write_str("Clock::custom"),
        }
    }
}
