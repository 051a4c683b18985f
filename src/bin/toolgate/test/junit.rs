//! `toolgate test --format junit`: JUnit XML as CI test reporters read it (the Jenkins /
//! Ant layout: `testsuites`, `testsuite`, `testcase`, `failure`, `error`, `skipped`).
//!
//! One `testsuite` per tests file, one `testcase` per case. A tests file that did not
//! run is a suite with one `testcase` holding an `error`. With `--coverage`, each policy
//! adds a suite `coverage of POLICY` with a `testcase` per statement that decided no case
//! and per condition atom not both true and false: `skipped`, or `failure` under
//! `--coverage-fail`.
//!
//! Text is escaped for XML 1.0: `&`, `<`, `>` and `"` as entities; in attribute values
//! tab, line feed and carriage return as character references (a parser would turn them
//! into spaces), and carriage return in text too (a parser would drop it). The
//! characters XML 1.0 does not allow at all are replaced: the C0 controls other than
//! tab, line feed and carriage return by their Control Pictures (U+2400 + code: `␛` for
//! ESC, `␀` for NUL), as the human report shows them, and U+FFFE and U+FFFF by U+FFFD.

use std::fmt::Write as _;
use std::time::Duration;

use super::report::{CaseRecord, NotRun, Outcome, PolicyCoverage, Suite};
use crate::render_tests;

/// The whole report.
pub fn document(
    suites: &[Suite],
    coverages: &[PolicyCoverage],
    time: Duration,
    coverage_fails: bool,
) -> String {
    let mut body = String::new();
    let mut totals = Counts::default();
    for suite in suites {
        totals.add(write_suite(&mut body, suite));
    }
    for policy in coverages {
        totals.add(write_coverage(&mut body, policy, coverage_fails));
    }
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"toolgate test\"{} time=\"{}\">\n",
        totals.attributes(),
        seconds(time)
    ));
    xml.push_str(&body);
    xml.push_str("</testsuites>\n");
    xml
}

/// The counts a suite's attributes give.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
    }

    fn attributes(&self) -> String {
        format!(
            " tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

fn write_suite(xml: &mut String, suite: &Suite) -> Counts {
    let mut counts = Counts::default();
    let mut cases = String::new();
    match &suite.outcome {
        Outcome::Ran(records) => {
            for record in records {
                counts.tests += 1;
                if !record.passed() {
                    counts.failures += 1;
                }
                write_case(&mut cases, &suite.name, record);
            }
        }
        Outcome::NotRun(not_run) => {
            counts.tests = 1;
            counts.errors = 1;
            write_not_run(&mut cases, &suite.name, not_run);
        }
    }
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\"{} time=\"{}\" timestamp=\"{}\" file=\"{}\">",
        attribute(&suite.name),
        counts.attributes(),
        seconds(suite.time),
        suite.timestamp.strftime("%Y-%m-%dT%H:%M:%S"),
        attribute(&suite.name),
    );
    if let Some(policy) = &suite.policy {
        xml.push_str("    <properties>\n");
        property(xml, "policy", policy);
        xml.push_str("    </properties>\n");
    }
    xml.push_str(&cases);
    xml.push_str("  </testsuite>\n");
    counts
}

fn write_case(xml: &mut String, classname: &str, record: &CaseRecord) {
    let _ = write!(
        xml,
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{}\"",
        attribute(&record.name()),
        attribute(classname),
        attribute(&record.file),
        record.line,
        seconds(record.time),
    );
    match &record.failure {
        None => xml.push_str("/>\n"),
        Some(failure) => {
            let kind = if record.error.is_some() {
                "principal"
            } else {
                "decision"
            };
            let _ = writeln!(
                xml,
                ">\n      <failure message=\"{}\" type=\"{kind}\">{}</failure>\n    </testcase>",
                attribute(&record.failure_message()),
                text(failure),
            );
        }
    }
}

fn write_not_run(xml: &mut String, name: &str, not_run: &NotRun) {
    let first = not_run.errors.first();
    let line = first
        .filter(|error| error.file.as_deref() == Some(name))
        .and_then(|error| error.line);
    let mut message = format!("not run, {}", not_run.reason.words());
    if let Some(first) = first {
        message.push_str(&format!(": {}", first.one_line()));
        if not_run.errors.len() > 1 {
            message.push_str(&format!(" (and {} more)", not_run.errors.len() - 1));
        }
    }
    let _ = write!(
        xml,
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
        attribute(&format!("{name}: not run")),
        attribute(name),
        attribute(name),
    );
    if let Some(line) = line {
        let _ = write!(xml, " line=\"{line}\"");
    }
    let _ = writeln!(
        xml,
        " time=\"0\">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>",
        attribute(&message),
        not_run.reason.as_str(),
        text(&not_run.text),
    );
}

fn write_coverage(xml: &mut String, policy: &PolicyCoverage, fails: bool) -> Counts {
    let coverage = &policy.coverage;
    let suite = format!("coverage of {}", policy.policy);
    let mut counts = Counts::default();
    let mut cases = String::new();
    let mut case = |name: String, file: &str, line: u32, message: String| {
        counts.tests += 1;
        let _ = write!(
            cases,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{line}\" time=\"0\">\n      ",
            attribute(&name),
            attribute(&suite),
            attribute(file),
        );
        if fails {
            counts.failures += 1;
            let _ = write!(
                cases,
                "<failure message=\"{}\" type=\"coverage\">{}</failure>",
                attribute(&message),
                text(&name),
            );
        } else {
            counts.skipped += 1;
            let _ = write!(cases, "<skipped message=\"{}\"/>", attribute(&message));
        }
        cases.push_str("\n    </testcase>\n");
    };
    for statement in coverage.undecided() {
        case(
            format!("{}:{}: {}", statement.file, statement.line, statement.text),
            &statement.file,
            statement.line,
            "the statement decided no case".to_string(),
        );
    }
    for condition in coverage.not_both() {
        case(
            format!(
                "{}:{}:{}: {}",
                condition.file, condition.line, condition.column, condition.text
            ),
            &condition.file,
            condition.line,
            format!(
                "the condition atom was not both true and false: {}",
                render_tests::condition_values(condition)
            ),
        );
    }
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\"{} time=\"0\" file=\"{}\">",
        attribute(&suite),
        counts.attributes(),
        attribute(&policy.policy),
    );
    xml.push_str("    <properties>\n");
    property(xml, "policy", &policy.policy);
    property(xml, "tests_files", &policy.tests_files.join("\n"));
    property(xml, "cases", &coverage.cases.to_string());
    property(xml, "statements", &coverage.statements.len().to_string());
    property(
        xml,
        "statements_undecided",
        &coverage.undecided().count().to_string(),
    );
    property(
        xml,
        "condition_atoms",
        &coverage.conditions.len().to_string(),
    );
    property(
        xml,
        "condition_atoms_not_both",
        &coverage.not_both().count().to_string(),
    );
    xml.push_str("    </properties>\n");
    xml.push_str(&cases);
    let _ = writeln!(
        xml,
        "    <system-out>{}</system-out>",
        text(&render_tests::coverage(policy))
    );
    xml.push_str("  </testsuite>\n");
    counts
}

fn property(xml: &mut String, name: &str, value: &str) {
    let _ = writeln!(
        xml,
        "      <property name=\"{}\" value=\"{}\"/>",
        attribute(name),
        attribute(value)
    );
}

/// Seconds with microseconds, as JUnit's `time` attributes give them.
fn seconds(time: Duration) -> String {
    format!("{:.6}", time.as_secs_f64())
}

/// `value` escaped for a double-quoted attribute.
pub fn attribute(value: &str) -> String {
    escape(value, true)
}

/// `value` escaped for element content.
pub fn text(value: &str) -> String {
    escape(value, false)
}

fn escape(value: &str, attribute: bool) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\r' => escaped.push_str("&#13;"),
            '\t' if attribute => escaped.push_str("&#9;"),
            '\n' if attribute => escaped.push_str("&#10;"),
            '\t' | '\n' => escaped.push(character),
            // Not allowed in XML 1.0: the C0 controls but tab, line feed and carriage
            // return become their Control Pictures; U+FFFE and U+FFFF, U+FFFD.
            '\0'..='\u{1F}' => {
                escaped.push(char::from_u32(0x2400 + u32::from(character)).unwrap_or('\u{FFFD}'))
            }
            '\u{FFFE}' | '\u{FFFF}' => escaped.push('\u{FFFD}'),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_entities() {
        assert_eq!(attribute("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c'");
        assert_eq!(text("]]> & <x/>"), "]]&gt; &amp; &lt;x/&gt;");
    }

    #[test]
    fn whitespace_survives_attribute_normalisation() {
        assert_eq!(attribute("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
        assert_eq!(text("a\tb\nc\rd"), "a\tb\nc&#13;d");
    }

    #[test]
    fn characters_xml_forbids_are_replaced() {
        assert_eq!(
            text("\0\u{1}\u{1b}[31m\u{1f}"),
            "\u{2400}\u{2401}\u{241b}[31m\u{241f}"
        );
        assert_eq!(attribute("\u{fffe}\u{ffff}"), "\u{fffd}\u{fffd}");
        // Allowed, if discouraged: kept.
        assert_eq!(text("\u{7f}\u{85}\u{10ffff}"), "\u{7f}\u{85}\u{10ffff}");
    }
}
