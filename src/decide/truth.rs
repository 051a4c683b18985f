//! Three-valued logic: the one place `not`, `and` and `or` over unknowns are defined.

/// A condition's value: true, false, or unknown (missing request data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    /// Holds.
    True,
    /// Does not hold.
    False,
    /// Cannot be decided: the request lacks data the condition reads.
    Unknown,
}

impl std::ops::Not for Truth {
    type Output = Truth;

    /// Negation: unknown stays unknown.
    #[inline]
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl Truth {
    /// Conjunction of `values`, stopping at the first false: false if any is false, else
    /// unknown if any is unknown, else true (true when empty).
    #[inline]
    pub fn all(values: impl IntoIterator<Item = Truth>) -> Truth {
        let mut result = Truth::True;
        for value in values {
            match value {
                Truth::False => return Truth::False,
                Truth::Unknown => result = Truth::Unknown,
                Truth::True => {}
            }
        }
        result
    }

    /// Disjunction of `values`, stopping at the first true: true if any is true, else
    /// unknown if any is unknown, else false (false when empty).
    #[inline]
    pub fn any(values: impl IntoIterator<Item = Truth>) -> Truth {
        let mut result = Truth::False;
        for value in values {
            match value {
                Truth::True => return Truth::True,
                Truth::Unknown => result = Truth::Unknown,
                Truth::False => {}
            }
        }
        result
    }
}

impl From<bool> for Truth {
    #[inline]
    fn from(value: bool) -> Truth {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Truth::{self, False, True, Unknown};

    const ALL: [Truth; 3] = [True, False, Unknown];

    #[test]
    fn kleene_tables() {
        for a in ALL {
            for b in ALL {
                let and = Truth::all([a, b]);
                let or = Truth::any([a, b]);
                let expected_and = if a == False || b == False {
                    False
                } else if a == Unknown || b == Unknown {
                    Unknown
                } else {
                    True
                };
                assert_eq!(and, expected_and, "{a:?} and {b:?}");
                // De Morgan ties the two together.
                assert_eq!(or, !Truth::all([!a, !b]), "{a:?} or {b:?}");
            }
        }
        assert_eq!(Truth::all([]), True);
        assert_eq!(Truth::any([]), False);
        assert_eq!(!Unknown, Unknown);
    }
}
