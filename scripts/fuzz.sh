#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/, one after another, each for a fixed time.
#
# usage: scripts/fuzz.sh [--seconds N] [--asan] [TARGET...]
#
#   --seconds N   how long each target runs (default 60)
#   --asan        build with AddressSanitizer (nightly features: sets RUSTC_BOOTSTRAP=1);
#                 the default is `--sanitizer none`, which works on stable
#   TARGET...     the targets to run (default: every target, `cargo fuzz list`)
#
# Each target starts from its committed seeds (fuzz/corpus/seed-TARGET, read only) and
# a scratch corpus (fuzz/corpus/TARGET, git-ignored, kept between runs). The script
# exits 1 if any target crashes, panics, leaks past the memory limit or takes longer
# than FUZZ_TIMEOUT seconds (default 10) on one input, after printing where the input
# that did it was written and how to replay it. Logs: fuzz/target/fuzz-logs/TARGET.log.
# docs/fuzzing.md has more (longer runs, ASan, turning a crash into a regression test).
set -euo pipefail

seconds=60
sanitizer=none
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || { echo "error: --seconds needs a number" >&2; exit 2; }
      seconds="$2"
      shift 2
      ;;
    --asan) sanitizer=address; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "error: unknown option \`$1\`" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

cd "$(dirname "$0")/../fuzz"
if ! command -v cargo-fuzz >/dev/null 2>&1 && [[ ! -x "$HOME/.cargo/bin/cargo-fuzz" ]]; then
  echo "error: cargo-fuzz is not installed: cargo install --locked cargo-fuzz" >&2
  exit 2
fi
if [[ "$sanitizer" != none ]]; then
  # Sanitizers need unstable compiler flags; RUSTC_BOOTSTRAP=1 lets stable take them.
  export RUSTC_BOOTSTRAP=1
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  # Not `mapfile < <(cargo fuzz list)`: a failing command there goes unseen, and an
  # empty list would pass having fuzzed nothing.
  if ! listed="$(cargo fuzz list)"; then
    echo "error: \`cargo fuzz list\` failed" >&2
    exit 2
  fi
  for target in $listed; do
    targets+=("$target")
  done
  if [[ ${#targets[@]} -eq 0 ]]; then
    echo "error: \`cargo fuzz list\` listed no target" >&2
    exit 2
  fi
fi

# The longest input each target is given: enough to pass every size limit of what it
# fuzzes (a token over 16 KiB, a policy of many statements) without slowing it down.
max_len() {
  case "$1" in
    policy_text) echo 16384 ;;
    token) echo 20000 ;;
    jsonrpc) echo 16384 ;;
    readings) echo 4096 ;;
    serve_config) echo 8192 ;;
    differential) echo 2048 ;;
    *) echo 4096 ;;
  esac
}

echo "building ${targets[*]} (sanitizer: $sanitizer)"
for target in "${targets[@]}"; do
  cargo fuzz build --sanitizer "$sanitizer" "$target"
done

mkdir -p target/fuzz-logs
failed=()
for target in "${targets[@]}"; do
  corpora=("corpus/$target")
  mkdir -p "corpus/$target" "artifacts/$target"
  if [[ -d "corpus/seed-$target" ]]; then
    corpora+=("corpus/seed-$target")
  fi
  log="target/fuzz-logs/$target.log"
  echo "=== $target: ${seconds}s (log: fuzz/$log)"
  # The target is built first, so the CPU time below is the fuzzing's alone.
  cargo fuzz build --sanitizer "$sanitizer" "$target" >"$log" 2>&1
  status=0
  # bash's `time` reports the CPU time of the fuzzer (a child of cargo): libFuzzer's
  # -max_total_time is wall-clock time, which on a busy machine is more than CPU time.
  TIMEFORMAT="cpu: %U s user, %S s system, %R s wall"
  { time cargo fuzz run --sanitizer "$sanitizer" "$target" "${corpora[@]}" -- \
    -max_total_time="$seconds" -max_len="$(max_len "$target")" \
    -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" >>"$log" 2>&1 || status=$?; } 2>>"$log"
  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)|^cpu: ' "$log" || true
  if [[ $status -ne 0 ]]; then
    failed+=("$target")
    echo "FAILED: $target (exit status $status); the end of its log:"
    tail -n 40 "$log"
    artifact=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -n 1 | sed 's/Test unit written to //' || true)
    if [[ -n "$artifact" ]]; then
      echo "the input is fuzz/$artifact; replay it with:"
      echo "  cd fuzz && cargo fuzz run --sanitizer $sanitizer $target $artifact"
    fi
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing failed: ${failed[*]}"
  exit 1
fi
echo "fuzzing: ${targets[*]}: no crash in ${seconds}s each"
