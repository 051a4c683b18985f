//! Benchmarks of hostile inputs: the time must grow linearly with the input, never
//! faster.
//!
//! Groups:
//! - `glob/{pattern}/{n}`: `Glob::is_match` of a pattern with many stars against names of
//!   `n` = 1 000, 10 000 and 100 000 characters that make a backtracking matcher try
//!   every split: `*a*a*a*a*a*a*a*a*b` against `aaa…a` (no match) and `aaa…ab`
//!   (a match), and `*a?c*a?c*b` against `aaa…ab` (each middle part is tried at every
//!   position). Throughput is in bytes of name: a constant throughput across `n` is
//!   linear time.
//! - `nesting/{depth}`: `Policy::from_text` (parse, check, compile) of a policy of 50
//!   rules whose conditions nest `depth` = 8, 16, 32 and 64 levels deep.
//! - `nesting_refused/{n}`: parsing a statement that opens `n` parentheses, refused at
//!   the 65th (E012): the time must not grow with `n`.
//! - `many_patterns/{load,decide}/{n}`: a policy of `n` = 100, 1 000 and 10 000 rules with
//!   distinct general patterns (`*svcN?op*`): loading it, and deciding names of 300
//!   bytes, which the engine's memo does not keep, so every decision matches every
//!   pattern.
//!
//! Run with `cargo bench --bench adversarial` (or filter: `-- glob/`). Results land in
//! `target/criterion/`.

// Benchmarks abort on setup failure by design: there is nothing to measure otherwise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use toolgate::unstable::ast::{Action, Kind};
use toolgate::unstable::eval::Request;
use toolgate::unstable::glob::Glob;
use toolgate::unstable::source::Sources;
use toolgate::{unstable::parse, Policy};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

fn glob(c: &mut Criterion) {
    let mut group = c.benchmark_group("glob");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let stars = Glob::parse("*a*a*a*a*a*a*a*a*b").unwrap();
    let gaps = Glob::parse("*a?c*a?c*b").unwrap();
    for n in SIZES {
        let miss = "a".repeat(n);
        let hit = "a".repeat(n - 1) + "b";
        assert!(!stars.is_match(&miss) && stars.is_match(&hit) && !gaps.is_match(&hit));
        group.throughput(Throughput::Bytes(n as u64));
        let cases = [
            ("stars_miss", &stars, &miss),
            ("stars_hit", &stars, &hit),
            ("gaps_miss", &gaps, &hit),
        ];
        for (name, pattern, text) in cases {
            group.bench_with_input(BenchmarkId::new(name, n), text, |b, text| {
                b.iter(|| black_box(pattern.is_match(black_box(text))));
            });
        }
    }
    group.finish();
}

/// A condition nesting `depth` levels: `not (` and `(… and …)` alternating.
fn nested_condition(depth: usize, seed: usize) -> String {
    let mut condition = format!("scope \"s{}\"", seed % 4);
    for level in 0..depth {
        condition = if level % 2 == 0 {
            format!("not ({condition})")
        } else {
            format!("role r{} and {condition}", (seed + level) % 4)
        };
    }
    condition
}

fn nesting_policy(depth: usize) -> String {
    let mut text =
        String::from("role r0\nrole r1\nrole r2\nrole r3\nscope \"s0\", \"s1\", \"s2\", \"s3\"\n");
    for rule in 0..50 {
        let effect = if rule % 5 == 0 { "deny" } else { "allow" };
        let condition = nested_condition(depth, rule);
        text.push_str(&format!(
            "{effect} r{} to call tools \"t{rule}.*\" if {condition}\n",
            rule % 4
        ));
    }
    text
}

fn nesting(c: &mut Criterion) {
    let mut group = c.benchmark_group("nesting");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2));
    for depth in [8, 16, 32, 64] {
        let text = nesting_policy(depth);
        Policy::from_text("nesting.policy", &text).unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(depth), &text, |b, text| {
            b.iter(|| black_box(Policy::from_text("nesting.policy", text).unwrap()));
        });
    }
    group.finish();
    let mut group = c.benchmark_group("nesting_refused");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2));
    for n in SIZES {
        let text = format!(
            "allow anyone to call tools \"x\" if {}true\n",
            "(".repeat(n)
        );
        let sources = Sources::from_text("deep.policy", text);
        assert_eq!(parse::parse(&sources).diagnostics.len(), 1);
        group.bench_with_input(BenchmarkId::from_parameter(n), &sources, |b, sources| {
            b.iter(|| black_box(parse::parse(sources)));
        });
    }
    group.finish();
}

fn patterns_policy(count: usize) -> String {
    let mut text = String::from("role user\n");
    for rule in 0..count {
        text.push_str(&format!("allow user to call tools \"*svc{rule}?op*\"\n"));
    }
    text
}

fn many_patterns(c: &mut Criterion) {
    let mut group = c.benchmark_group("many_patterns");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    for count in [100, 1_000, 10_000] {
        let text = patterns_policy(count);
        group.bench_with_input(BenchmarkId::new("load", count), &text, |b, text| {
            b.iter(|| black_box(Policy::from_text("patterns.policy", text).unwrap()));
        });
        let engine = Policy::from_text("patterns.policy", &text)
            .unwrap()
            .into_engine();
        let principal = engine.principal(&json!({"roles": "user"})).unwrap();
        let names: Vec<String> = (0..64)
            .map(|n| format!("{n:04}{}", "x".repeat(296)))
            .collect();
        let time = "2026-11-26T10:00:00Z".parse().unwrap();
        let mut next = 0;
        group.bench_function(BenchmarkId::new("decide", count), |b| {
            b.iter(|| {
                next = (next + 1) % names.len();
                let request = Request::new(Kind::Tool, Action::Call, &names[next])
                    .unwrap()
                    .at(time);
                black_box(engine.decide(&principal, &request).is_allowed())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, glob, nesting, many_patterns);
criterion_main!(benches);
