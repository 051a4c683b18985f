//! Benchmarks of the decision engine on generated, realistic policies.
//!
//! A seeded generator (a small xorshift, so every run sees the same text) writes one
//! policy per size, (roles, tools) = (10, 100), (100, 1 000) and (1 000, 10 000), in the
//! concrete syntax of docs/language.md: roles in inheritance chains and trees with `aka`
//! values, scopes with implications, networks and windows (with a `tz`), about one rule
//! per tool over tool names `svc{n}.op_{m}` with literal names, prefix globs `svc{n}.*`
//! and a few `*`, conditions (`time in`, `ip in`, `scope`, `claim ==`), deny rules with
//! `unless`, and `require scope` statements.
//!
//! Groups, each parameterised by `{roles}x{tools}`:
//! - `decide/{size}`: one `Engine::decide` per iteration, so the reported time is the time
//!   per decision. The principal is resolved once, outside the timed loop; the loop cycles
//!   through 1 024 pre-built requests (call and list on names written literally in the
//!   policy, names only a prefix glob covers, names no pattern but `*` covers; each with
//!   an address and a time). Every request is decided once before timing, so the engine's
//!   memo of names is warm.
//! - `decide_by_name/{literal,glob_only,star_only}/{size}`: the same, on requests of one
//!   kind of name only, to show where the time goes.
//! - `compile/{load,parse,check,compile_only}/{size}`: the whole chain
//!   (`toolgate::LoadOptions::default().load_sources(Sources::from_text(..))`), and each stage alone on the previous
//!   stage's output, so compile-only time is visible.
//! - `decide_arguments/{with,without}/{size}`: one allow through a rule with two `arg`
//!   atoms, and the same allow through a rule without a condition.
//! - `principal/{size}`: `Engine::principal` on a token's claims.
//!
//! Run with `cargo bench --bench decide` (all groups), or filter, e.g.
//! `cargo bench --bench decide -- decide/` or `cargo bench --bench decide -- 1000x10000`.
//! With `TOOLGATE_BENCH_DUMP=DIR` set, the generated policies are also written to
//! `DIR/bench-{size}.policy` (to try them with the CLI or a profiler).
//! Results land in `target/criterion/`; the median of each benchmark is in its
//! `new/estimates.json`.

// Benchmarks abort on setup failure by design: a policy that does not load or a request
// that cannot be built is a bug in the generator, and there is nothing to measure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::net::IpAddr;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use jiff::Timestamp;
use serde_json::{json, Value};
use toolgate::unstable::ast::{Action, Kind};
use toolgate::unstable::eval::{Engine, Reason, Request};
use toolgate::{unstable::check, unstable::compile, unstable::parse, Sources};

/// The sizes benchmarked: (roles, tools).
const SIZES: [(usize, usize); 3] = [(10, 100), (100, 1_000), (1_000, 10_000)];

/// Operations per service: tool `j` is `svc{j / OPS}.op_{j % OPS}`.
const OPS: usize = 10;

/// 2026-11-23T00:00:00Z, a Monday: request times spread over the week after it.
const MONDAY: i64 = 1_795_392_000;

/// Requests cycled through by `decide/`; a power of two so the index is a mask.
const REQUESTS: usize = 1024;

/// A xorshift64* generator: deterministic, and enough for choosing policy shapes.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A generated policy and what requests against it need to know.
struct Generated {
    roles: usize,
    tools: usize,
    text: String,
    /// Per tool: whether some rule or requirement names it literally.
    literal: Vec<bool>,
    /// Per service: whether a `svc{n}.*` pattern covers it.
    prefixed: Vec<bool>,
    /// Scope groups (`g{k}:read` etc.).
    groups: usize,
    networks: usize,
}

fn label(roles: usize, tools: usize) -> String {
    format!("{roles}x{tools}")
}

const ZONES: [&str; 4] = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
];

/// Writes a policy of `roles` roles and about one rule per tool over `tools` tools.
fn generate(roles: usize, tools: usize) -> Generated {
    let mut rng = Rng::new((roles * 1_000_003 + tools) as u64);
    let services = tools.div_ceil(OPS);
    let groups = (roles / 10).max(2);
    let networks = (roles / 20).max(2);
    let windows = (roles / 50).max(2);
    let mut text = String::with_capacity(tools * 80);
    let out = &mut text;

    writeln!(out, "# generated: {roles} roles, {tools} tools").unwrap();
    writeln!(out, "timezone \"Europe/Berlin\"").unwrap();
    writeln!(
        out,
        "claims {{\n  roles  from \"roles\", \"realm_access.roles\"\n  \
         scopes from \"scope\", \"scp\"\n  client from \"azp\", \"client_id\"\n}}"
    )
    .unwrap();

    // Scopes: global ones, then per group read/write with an admin implying both.
    writeln!(out, "scope \"tool:read\", \"tool:write\"").unwrap();
    writeln!(
        out,
        "scope \"tool:admin\" implies \"tool:read\", \"tool:write\""
    )
    .unwrap();
    for g in 0..groups {
        writeln!(out, "scope \"g{g}:read\", \"g{g}:write\"").unwrap();
        writeln!(
            out,
            "scope \"g{g}:admin\" implies \"g{g}:read\", \"g{g}:write\""
        )
        .unwrap();
        if g % 5 == 4 {
            // Some groups' admins also imply the previous group's admin: chains.
            writeln!(
                out,
                "scope \"g{g}:owner\" implies \"g{g}:admin\", \"g{}:admin\"",
                g - 1
            )
            .unwrap();
        }
    }

    // Roles: parents always have smaller indices, so there is no cycle. Every third
    // role continues a chain from its predecessor, the others hang in a binary tree,
    // and every seventh has a second parent.
    for i in 0..roles {
        write!(out, "role r{i}").unwrap();
        if i > 0 {
            let first = if i % 3 == 0 { i - 1 } else { (i - 1) / 2 };
            write!(out, " inherits r{first}").unwrap();
            if i % 7 == 0 && i >= 2 && i - 2 != first {
                write!(out, ", r{}", i - 2).unwrap();
            }
        }
        if i % 4 == 0 {
            write!(out, " aka \"group-{i}\"").unwrap();
            if i % 8 == 0 {
                write!(out, ", \"Org.Role{i}\"").unwrap();
            }
        }
        out.push('\n');
    }

    for k in 0..networks {
        writeln!(
            out,
            "network net{k} = [10.{}.0.0/16, 192.168.{}.0/24, 2001:db8:{k:x}::/48]",
            k % 256,
            k % 256
        )
        .unwrap();
    }
    for k in 0..windows {
        match k % 3 {
            0 => writeln!(out, "window win{k} = mon-fri 08:00-18:00").unwrap(),
            1 => writeln!(
                out,
                "window win{k} = mon-sat 06:00-22:00 tz \"{}\"",
                ZONES[k % ZONES.len()]
            )
            .unwrap(),
            _ => writeln!(out, "window win{k} = fri-mon 22:00-04:00 tz \"UTC\"").unwrap(),
        }
    }

    // Requirements: every listing needs tool:read, every call tool:write, and some
    // services need their group's read scope.
    writeln!(out, "require scope \"tool:read\"  to list tools \"*\"").unwrap();
    writeln!(out, "require scope \"tool:write\" to call tools \"*\"").unwrap();

    // A few rules on every name.
    writeln!(out, "allow r0 to list tools \"*\"").unwrap();
    writeln!(
        out,
        "allow r{} to call tools \"*\" if scope \"tool:admin\"",
        roles - 1
    )
    .unwrap();
    writeln!(
        out,
        "deny anyone to call tools \"*\" if claim \"email_verified\" == false"
    )
    .unwrap();

    let mut literal = vec![false; tools];
    let mut prefixed = vec![false; services];
    for (n, has_prefix_rule) in prefixed.iter_mut().enumerate() {
        let group = n % groups;
        if rng.chance(10) {
            writeln!(
                out,
                "require scope \"g{group}:read\" to call tools \"svc{n}.*\""
            )
            .unwrap();
            *has_prefix_rule = true;
        }
        // Prefix globs for most services.
        if rng.chance(60) {
            *has_prefix_rule = true;
            let subjects = subjects(&mut rng, roles);
            let condition = condition(&mut rng, groups, networks, windows);
            writeln!(
                out,
                "allow {subjects} to list, call tools \"svc{n}.*\"{condition}"
            )
            .unwrap();
        }
        if rng.chance(3) {
            *has_prefix_rule = true;
            let role = rng.below(roles);
            let k = rng.below(windows);
            writeln!(
                out,
                "deny r{role} to call tools \"svc{n}.*\"\n  unless time in win{k}"
            )
            .unwrap();
        }
        for m in 0..OPS {
            let j = n * OPS + m;
            if j >= tools {
                break;
            }
            // Most tools get one literal rule; the rest are left to the prefix glob.
            if !rng.chance(80) {
                continue;
            }
            literal[j] = true;
            let subjects = subjects(&mut rng, roles);
            let condition = condition(&mut rng, groups, networks, windows);
            let actions = if rng.chance(20) { "list, call" } else { "call" };
            let mut patterns = format!("\"svc{n}.op_{m}\"");
            if rng.chance(5) {
                // A second pattern: another literal name, or a mid-name glob.
                if rng.chance(50) {
                    let other = rng.below(tools);
                    write!(patterns, ", \"svc{}.op_{}\"", other / OPS, other % OPS).unwrap();
                } else {
                    write!(patterns, ", \"svc{n}.op_{m}?*\"").unwrap();
                }
            }
            writeln!(
                out,
                "allow {subjects} to {actions} tools {patterns}{condition}"
            )
            .unwrap();
            if rng.chance(2) {
                let role = rng.below(roles);
                let k = rng.below(networks);
                writeln!(
                    out,
                    "deny anyone to call tools \"svc{n}.op_{m}\"\n  \
                     unless role r{role} and ip in net{k}"
                )
                .unwrap();
            }
        }
    }
    Generated {
        roles,
        tools,
        text,
        literal,
        prefixed,
        groups,
        networks,
    }
}

/// One to three roles, or (rarely) `anyone`.
fn subjects(rng: &mut Rng, roles: usize) -> String {
    if rng.chance(5) {
        return "anyone".to_string();
    }
    let count = 1 + rng.below(3);
    let mut chosen: Vec<usize> = Vec::with_capacity(count);
    for _ in 0..count {
        let role = rng.below(roles);
        if !chosen.contains(&role) {
            chosen.push(role);
        }
    }
    let names: Vec<String> = chosen.iter().map(|role| format!("r{role}")).collect();
    names.join(", ")
}

/// No condition (70 %), or ` if ...` with one or two atoms.
fn condition(rng: &mut Rng, groups: usize, networks: usize, windows: usize) -> String {
    if rng.chance(70) {
        return String::new();
    }
    let atom = |rng: &mut Rng| -> String {
        match rng.below(7) {
            0 => format!("time in win{}", rng.below(windows)),
            1 => format!(
                "time in [mon-fri 09:00-17:00 tz \"{}\"]",
                ZONES[rng.below(ZONES.len())]
            ),
            2 => format!("ip in net{}", rng.below(networks)),
            3 => format!("ip in [10.{}.0.0/16, 2001:db8::/32]", rng.below(256)),
            4 => format!("scope \"g{}:write\"", rng.below(groups)),
            5 => format!("claim \"tenant\" == \"t{}\"", rng.below(8)),
            _ => "claim \"email_verified\" == true".to_string(),
        }
    };
    let first = atom(rng);
    if rng.chance(30) {
        let second = atom(rng);
        let joiner = if rng.chance(70) { "and" } else { "or" };
        format!(" if {first} {joiner} {second}")
    } else {
        format!(" if {first}")
    }
}

/// The claims of a token holding a handful of roles (some by `aka`) and scopes.
fn claims(generated: &Generated, seed: u64) -> Value {
    let mut rng = Rng::new(seed);
    let roles = generated.roles;
    let mut granted = vec![
        Value::from(format!("r{}", roles - 1 - rng.below(roles.min(5)))),
        Value::from(format!("r{}", rng.below(roles))),
    ];
    // An `aka` value (roles divisible by 4 carry one).
    granted.push(Value::from(format!(
        "group-{}",
        rng.below(roles.div_ceil(4)) * 4
    )));
    granted.push(Value::from("not-a-role"));
    let mut scopes = String::from("tool:read tool:write");
    for _ in 0..3 {
        let g = rng.below(generated.groups);
        let level = ["read", "write", "admin"][rng.below(3)];
        write!(scopes, " g{g}:{level}").unwrap();
    }
    json!({
        "sub": format!("user-{seed}"),
        "azp": "bench-client",
        "roles": granted,
        "realm_access": {"roles": [format!("r{}", rng.below(roles))]},
        "scope": scopes,
        "tenant": format!("t{}", rng.below(8)),
        "email_verified": true,
    })
}

/// Which names requests are made on.
#[derive(Clone, Copy)]
enum Mix {
    /// The realistic mix of `decide/`.
    All,
    /// Only names some pattern writes literally.
    Literal,
    /// Only names a prefix glob covers (and no literal pattern).
    GlobOnly,
    /// Only names no pattern but `*` covers.
    StarOnly,
}

/// Names and actions of the requests `decide/` cycles through: half on names written
/// literally, three tenths on names only a prefix glob covers, the rest on names only
/// `*` covers.
fn request_specs(generated: &Generated, mix: Mix) -> Vec<(String, Action, IpAddr, Timestamp)> {
    let mut rng = Rng::new(generated.tools as u64 ^ 0xB0B);
    let literal: Vec<usize> = (0..generated.tools)
        .filter(|j| generated.literal[*j])
        .collect();
    let glob_only: Vec<String> = (0..generated.tools)
        .filter(|j| !generated.literal[*j] && generated.prefixed[*j / OPS])
        .map(|j| format!("svc{}.op_{}", j / OPS, j % OPS))
        .chain(
            (0..generated.prefixed.len())
                .filter(|n| generated.prefixed[*n])
                .map(|n| format!("svc{n}.extra_{}", n % 7)),
        )
        .collect();
    assert!(!literal.is_empty() && !glob_only.is_empty());
    (0..REQUESTS)
        .map(|_| {
            let roll = match mix {
                Mix::All => rng.below(10),
                Mix::Literal => 0,
                Mix::GlobOnly => 5,
                Mix::StarOnly => 9,
            };
            let name = if roll < 5 {
                let j = literal[rng.below(literal.len())];
                format!("svc{}.op_{}", j / OPS, j % OPS)
            } else if roll < 8 {
                glob_only[rng.below(glob_only.len())].clone()
            } else {
                format!("unknown{}.tool_{}", rng.below(50), rng.below(10))
            };
            let action = if rng.chance(25) {
                Action::List
            } else {
                Action::Call
            };
            let ip: IpAddr = match rng.below(4) {
                0 => format!("10.{}.1.2", rng.below(generated.networks.min(256))),
                1 => format!("192.168.{}.7", rng.below(256)),
                2 => format!("2001:db8:{:x}::1", rng.below(generated.networks)),
                _ => "203.0.113.9".to_string(),
            }
            .parse()
            .unwrap();
            let time = Timestamp::from_second(MONDAY + rng.below(7 * 24 * 60) as i64 * 60).unwrap();
            (name, action, ip, time)
        })
        .collect()
}

fn build_requests(specs: &[(String, Action, IpAddr, Timestamp)]) -> Vec<Request<'_>> {
    specs
        .iter()
        .map(|(name, action, ip, time)| {
            Request::new(Kind::Tool, *action, name)
                .unwrap()
                .with_ip(*ip)
                .at(*time)
        })
        .collect()
}

fn load(generated: &Generated) -> Engine {
    if let Some(dir) = std::env::var_os("TOOLGATE_BENCH_DUMP") {
        let path = std::path::Path::new(&dir).join(format!(
            "bench-{}.policy",
            label(generated.roles, generated.tools)
        ));
        std::fs::write(&path, &generated.text).unwrap();
    }
    match toolgate::LoadOptions::default()
        .load_sources(Sources::from_text("bench.policy", generated.text.as_str()))
    {
        Ok(loaded) => loaded.into_engine(),
        Err(error) => panic!(
            "generated policy {} does not load: {error}",
            label(generated.roles, generated.tools)
        ),
    }
}

fn decide(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));
    for (roles, tools) in SIZES {
        let generated = generate(roles, tools);
        let engine = load(&generated);
        let principal = engine.principal(&claims(&generated, 7)).unwrap();
        let specs = request_specs(&generated, Mix::All);
        let requests = build_requests(&specs);
        // Warm the memo, and show the mix of outcomes the loop measures.
        let mut outcomes = [0usize; 4];
        for request in &requests {
            let reason = engine.decide(&principal, request).reason;
            outcomes[reason as usize] += 1;
        }
        eprintln!(
            "decide/{}: {} policy lines; outcomes over {REQUESTS} requests: \
             allowed {}, denied {}, insufficient_scope {}, no_rule {}",
            label(roles, tools),
            generated.text.lines().count(),
            outcomes[Reason::Allowed as usize],
            outcomes[Reason::Denied as usize],
            outcomes[Reason::InsufficientScope as usize],
            outcomes[Reason::NoRule as usize],
        );
        group.bench_function(BenchmarkId::from_parameter(label(roles, tools)), |b| {
            let mut index = 0usize;
            b.iter(|| {
                let request = &requests[index & (REQUESTS - 1)];
                index = index.wrapping_add(1);
                black_box(engine.decide(black_box(&principal), black_box(request)))
            });
        });
    }
    group.finish();
}

/// `decide/` split by the kind of name: where the time goes.
fn decide_by_name(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide_by_name");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(1));
    for (roles, tools) in SIZES {
        let generated = generate(roles, tools);
        let engine = load(&generated);
        let principal = engine.principal(&claims(&generated, 7)).unwrap();
        for (mix, name) in [
            (Mix::Literal, "literal"),
            (Mix::GlobOnly, "glob_only"),
            (Mix::StarOnly, "star_only"),
        ] {
            let specs = request_specs(&generated, mix);
            let requests = build_requests(&specs);
            for request in &requests {
                black_box(engine.decide(&principal, request));
            }
            group.bench_function(BenchmarkId::new(name, label(roles, tools)), |b| {
                let mut index = 0usize;
                b.iter(|| {
                    let request = &requests[index & (REQUESTS - 1)];
                    index = index.wrapping_add(1);
                    black_box(engine.decide(black_box(&principal), black_box(request)))
                });
            });
        }
    }
    group.finish();
}

/// `decide_arguments/{with,without}/{size}`: the same allow decided through a rule with
/// two `arg` atoms (`replicas <= 5` and `cluster in [...]`, on a call with six
/// arguments) and through a rule without a condition, in the policy of each size: what
/// argument conditions add to a decision.
fn decide_arguments(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide_arguments");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    let arguments = serde_json::json!({
        "replicas": 3, "cluster": "staging", "namespace": "web",
        "dry_run": false, "reason": "load test", "labels": {"team": "a"}
    });
    let arguments = arguments.as_object().unwrap();
    for (roles, tools) in SIZES {
        let mut generated = generate(roles, tools);
        generated.text.push_str(
            "\nallow anyone to call tools \"argbench.with\"\n  \
             if arg \"replicas\" <= 5 and arg \"cluster\" in [\"dev\", \"staging\"]\n\
             allow anyone to call tools \"argbench.early\"\n  \
             if arg \"cluster\" exists and arg \"dry_run\" == false\n\
             allow anyone to call tools \"argbench.timed\"\n  \
             if time after \"2020-01-01T00:00:00Z\" and time before \"2100-01-01T00:00:00Z\"\n\
             allow anyone to call tools \"argbench.without\"\n",
        );
        let engine = load(&generated);
        let principal = engine.principal(&claims(&generated, 7)).unwrap();
        let time: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        for name in ["with", "early", "timed", "without"] {
            let tool = format!("argbench.{name}");
            let request = Request::new(Kind::Tool, Action::Call, &tool)
                .unwrap()
                .at(time)
                .with_arguments(arguments);
            let decision = engine.decide(&principal, &request);
            eprintln!(
                "decide_arguments/{name}/{}: {} ({})",
                label(roles, tools),
                if decision.is_allowed() {
                    "allow"
                } else {
                    "deny"
                },
                decision.reason.as_str()
            );
            group.bench_function(BenchmarkId::new(name, label(roles, tools)), |b| {
                b.iter(|| black_box(engine.decide(black_box(&principal), black_box(&request))));
            });
        }
    }
    group.finish();
}

fn compile_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (roles, tools) in SIZES {
        let generated = generate(roles, tools);
        let size = label(roles, tools);
        let sources = Sources::from_text("bench.policy", generated.text.as_str());
        let parsed = parse::parse(&sources);
        let checked = check::check(&parsed.policy, &check::Config::default());
        assert!(!checked.has_errors(), "generated policy {size} has errors");
        let policy = checked.policy.clone().unwrap();

        group.bench_function(BenchmarkId::new("load", &size), |b| {
            b.iter(|| {
                let sources = Sources::from_text("bench.policy", generated.text.as_str());
                black_box(
                    toolgate::LoadOptions::default()
                        .load_sources(sources)
                        .is_ok(),
                )
            });
        });
        group.bench_function(BenchmarkId::new("parse", &size), |b| {
            b.iter(|| black_box(parse::parse(black_box(&sources))));
        });
        group.bench_function(BenchmarkId::new("check", &size), |b| {
            b.iter(|| black_box(check::check(&parsed.policy, &check::Config::default())));
        });
        group.bench_function(BenchmarkId::new("compile_only", &size), |b| {
            b.iter(|| black_box(compile::compile(&sources, black_box(&policy))));
        });
    }
    group.finish();
}

fn principal(c: &mut Criterion) {
    let mut group = c.benchmark_group("principal");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    for (roles, tools) in SIZES {
        let generated = generate(roles, tools);
        let engine = load(&generated);
        let tokens: Vec<Value> = (0..16).map(|seed| claims(&generated, seed)).collect();
        group.bench_function(BenchmarkId::from_parameter(label(roles, tools)), |b| {
            let mut index = 0usize;
            b.iter(|| {
                let claims = &tokens[index & 15];
                index = index.wrapping_add(1);
                black_box(engine.principal(black_box(claims)))
            });
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    decide,
    decide_by_name,
    decide_arguments,
    compile_bench,
    principal
);
criterion_main!(benches);
