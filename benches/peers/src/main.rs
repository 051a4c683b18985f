//! toolgate and its peers (Cedar, Casbin, Rego via regorus, and a precomputed hash-map
//! floor) on one MCP authorization workload. Prints a markdown table per size.
//!
//! `cargo run --release` runs every size; `cargo run --release -- 10 100` only those role
//! counts. `PEERS_REQUESTS` (default 4096) sets the request count, `PEERS_ROUND_MS`
//! (default 100) the length of one timed round, `PEERS_DUMP=DIR` writes each size's
//! generated policy texts to `DIR`.

mod engines;
mod workload;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use engines::{Decider, Res};
use workload::Workload;

// ---------------------------------------------------------------------------------------
// Memory: a global allocator that counts live bytes while `COUNTING` is on (only around a
// load, so the timed loops pay one relaxed load of a flag per allocation, not an atomic
// add).

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `load` once with counting on: the bytes it allocated that are still live when it
/// returns (what the loaded engine holds), and the result.
fn counted<T>(load: impl FnOnce() -> Res<T>) -> Res<(T, isize)> {
    let before = LIVE.load(Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let out = load();
    COUNTING.store(false, Ordering::SeqCst);
    let after = LIVE.load(Ordering::SeqCst);
    Ok((out?, after - before))
}

// ---------------------------------------------------------------------------------------
// Timing

struct Row {
    engine: &'static str,
    median_ns: f64,
    min_ns: f64,
    max_ns: f64,
    load: Duration,
    load_note: &'static str,
    bytes: isize,
    timed: usize,
}

const ROUNDS: usize = 11;

/// Median over `ROUNDS` rounds of the mean time per decision in the round. A round is
/// as many whole passes over the requests as fit in `round` (at least one), or, for an
/// engine too slow for a whole pass, a window of consecutive requests that fits (at least
/// 32), the window moving on each round.
fn measure<D: Decider>(d: &mut D, n: usize, round: Duration) -> (f64, f64, f64, usize) {
    let probe = n.min(256);
    let start = Instant::now();
    for i in 0..probe {
        black_box(d.decide(black_box(i)));
    }
    let per = start.elapsed().as_secs_f64() / probe as f64;
    let fit = (round.as_secs_f64() / per.max(1e-9)) as usize;
    let mut samples = Vec::with_capacity(ROUNDS);
    let mut timed = 0;
    if fit >= n {
        let passes = fit / n;
        for _ in 0..ROUNDS {
            let start = Instant::now();
            for _ in 0..passes {
                for i in 0..n {
                    black_box(d.decide(black_box(i)));
                }
            }
            samples.push(start.elapsed().as_secs_f64() * 1e9 / (passes * n) as f64);
            timed += passes * n;
        }
    } else {
        let m = fit.max(32).min(n);
        for r in 0..ROUNDS {
            let offset = (r * m) % n;
            let start = Instant::now();
            for j in 0..m {
                black_box(d.decide(black_box((offset + j) % n)));
            }
            samples.push(start.elapsed().as_secs_f64() * 1e9 / m as f64);
            timed += m;
        }
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    (samples[ROUNDS / 2], samples[0], samples[ROUNDS - 1], timed)
}

/// Loads (timed: median of `times` loads; memory counted on the first), prepares
/// (untimed), checks every decision against toolgate's, then measures.
#[allow(clippy::too_many_arguments)]
fn run<L, D: Decider>(
    engine: &'static str,
    load_note: &'static str,
    times: usize,
    w: &Workload,
    reference: Option<&[bool]>,
    round: Duration,
    load: impl Fn() -> Res<L>,
    prepare: impl FnOnce(L) -> Res<D>,
) -> Res<(Row, Vec<bool>)> {
    // One load first, uncounted and untimed: process-wide one-time initialisation (lazy
    // statics, interned names) is not charged to the engine's footprint.
    drop(load()?);
    let (loaded, bytes) = counted(&load)?;
    let mut durations = Vec::new();
    for _ in 0..times {
        let start = Instant::now();
        let again = load()?;
        durations.push(start.elapsed());
        drop(again);
    }
    durations.sort();
    let load_time = durations[durations.len() / 2];
    let mut d = prepare(loaded)?;
    let n = w.requests.len();
    // Every request decided once: the agreement check, and a warm-up pass.
    let answers: Vec<bool> = (0..n).map(|i| d.decide(i)).collect();
    if let Some(reference) = reference {
        if let Some(i) = (0..n).find(|&i| answers[i] != reference[i]) {
            let r = &w.requests[i];
            return Err(format!(
                "{engine} disagrees with toolgate on request {i}: principal p{} roles {:?}, {} {:?} from {}: toolgate {}, {engine} {}",
                r.principal,
                w.principals[r.principal],
                r.action.as_str(),
                r.tool,
                r.ip,
                if reference[i] { "allow" } else { "deny" },
                if answers[i] { "allow" } else { "deny" },
            ));
        }
    }
    let (median_ns, min_ns, max_ns, timed) = measure(&mut d, n, round);
    Ok((
        Row {
            engine,
            median_ns,
            min_ns,
            max_ns,
            load: load_time,
            load_note,
            bytes,
            timed,
        },
        answers,
    ))
}

fn cpu_line() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let cores = info.lines().filter(|l| l.starts_with("processor")).count();
    format!("CPU: {model}, {cores} logical cores (from /proc/cpuinfo)")
}

fn versions() -> String {
    let lock = include_str!("../Cargo.lock");
    let version = |name: &str| {
        let key = format!("name = \"{name}\"\nversion = \"");
        lock.find(&key)
            .map(|at| {
                let rest = &lock[at + key.len()..];
                rest[..rest.find('"').unwrap_or(0)].to_string()
            })
            .unwrap_or_else(|| "?".to_string())
    };
    ["toolgate", "cedar-policy", "casbin", "regorus", "ahash"]
        .iter()
        .map(|n| format!("{n} {}", version(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 {
        format!("{:.0}", ns)
    } else {
        format!("{:.1}", ns)
    }
}

fn fmt_dur(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{:.0} µs", ms * 1e3)
    }
}

fn fmt_bytes(b: isize) -> String {
    let b = b as f64;
    if b.abs() >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.0} KiB", b / 1024.0)
    }
}

fn size(roles: usize, tools: usize, requests: usize, round: Duration) -> Res<()> {
    let w = workload::generate(roles, tools, requests);
    let tg_text = engines::toolgate_text(&w);
    let cedar_text = engines::cedar_text(&w);
    let casbin_text = engines::casbin_text(&w);
    let rego_data = engines::rego_data(&w);
    if let Ok(dir) = std::env::var("PEERS_DUMP") {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).map_err(engines::err)?;
        for (name, text) in [
            ("toolgate.policy", tg_text.as_str()),
            ("cedar.cedar", cedar_text.as_str()),
            ("casbin_policy.csv", casbin_text.as_str()),
            ("casbin_model.conf", engines::CASBIN_MODEL),
            ("rego_data.json", rego_data.as_str()),
            ("toolgate.rego", engines::REGO_POLICY),
        ] {
            std::fs::write(dir.join(format!("{roles}-{name}")), text).map_err(engines::err)?;
        }
    }
    let mut rows = Vec::new();

    let (row, reference) = run(
        "toolgate",
        "text",
        5,
        &w,
        None,
        round,
        || engines::toolgate_load(&tg_text),
        |p| engines::Toolgate::prepare(p, &w),
    )?;
    rows.push(row);
    let allowed = reference.iter().filter(|a| **a).count();

    let (row, _) = run(
        "hash probe floor",
        "built from the workload, not text",
        3,
        &w,
        Some(&reference),
        round,
        || Ok(engines::floor_load(&w)),
        |l| Ok(engines::Floor::prepare(l, &w)),
    )?;
    rows.insert(0, row);

    let (row, _) = run(
        "Cedar",
        "text + tool/role entities",
        3,
        &w,
        Some(&reference),
        round,
        || engines::cedar_load(&cedar_text, &w),
        |l| engines::Cedar::prepare(l, &w),
    )?;
    rows.push(row);

    let (row, _) = run(
        "Casbin",
        "model + policy CSV",
        3,
        &w,
        Some(&reference),
        round,
        || engines::casbin_load(&casbin_text),
        |l| engines::Casbin::prepare(l, &w),
    )?;
    rows.push(row);

    let (row, _) = run(
        "Rego (regorus interpreter)",
        "rules + data JSON",
        3,
        &w,
        Some(&reference),
        round,
        || engines::rego_load(&rego_data),
        |l| engines::Rego::prepare(l, &w),
    )?;
    rows.push(row);

    let (row, _) = run(
        "Rego (regorus RVM)",
        "rules compiled to VM + data JSON",
        3,
        &w,
        Some(&reference),
        round,
        || engines::rvm_load(&rego_data),
        |l| engines::Rvm::prepare(l, &w),
    )?;
    rows.push(row);

    let floor = rows[0].median_ns;
    println!();
    println!(
        "### {roles} roles, {} tools ({} requests, {:.1}% allowed; all engines agree on every request)",
        w.tools.len(),
        w.requests.len(),
        100.0 * allowed as f64 / w.requests.len() as f64
    );
    println!();
    println!("| engine | median decision (ns) | rounds min-max (ns) | x floor | load | load covers | memory after load | decisions timed |");
    println!("|---|---:|---:|---:|---:|---|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {}-{} | {:.1} | {} | {} | {} | {} |",
            r.engine,
            fmt_ns(r.median_ns),
            fmt_ns(r.min_ns),
            fmt_ns(r.max_ns),
            r.median_ns / floor,
            fmt_dur(r.load),
            r.load_note,
            fmt_bytes(r.bytes),
            r.timed
        );
    }
    Ok(())
}

fn main() {
    let requests: usize = std::env::var("PEERS_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4096);
    let round_ms: u64 = std::env::var("PEERS_ROUND_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let wanted: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    println!("{}", cpu_line());
    println!("Crates: {}", versions());
    println!(
        "Median of {ROUNDS} rounds of ~{round_ms} ms; memory = bytes allocated during one load and still live after it (counting global allocator)."
    );
    for (roles, tools) in [(10, 100), (100, 1_000), (1_000, 10_000)] {
        if !wanted.is_empty() && !wanted.contains(&roles) {
            continue;
        }
        if let Err(e) = size(roles, tools, requests, Duration::from_millis(round_ms)) {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
