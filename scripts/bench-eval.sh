#!/usr/bin/env bash
# Throughput of `toolgate eval POLICY --requests FILE`, end to end (reading and parsing
# JSON Lines, resolving principals, deciding, writing one JSON line per request).
#
# Usage: scripts/bench-eval.sh [LINES] [POLICY]
#   LINES   requests to generate (default 1000000)
#   POLICY  policy to evaluate against (default policies/example.policy, else the
#           conformance example ../shared/conformance/example/policy.policy)
# Environment: TOOLGATE (binary, default target/release/toolgate; built if missing),
#   BENCH_DIR (where the request file goes, default target/bench-eval), RUNS (timed runs
#   when hyperfine is absent, default 3; the best is reported).
#
# Prints one summary line:
#   eval --requests: 1000000 lines in 1.23 s = 812,000 requests/s
set -euo pipefail

cd "$(dirname "$0")/.."

lines="${1:-1000000}"
policy="${2:-}"
if [[ -z "$policy" ]]; then
    if [[ -f policies/example.policy ]]; then
        policy=policies/example.policy
    else
        policy=../shared/conformance/example/policy.policy
    fi
fi
[[ -e "$policy" ]] || { echo "bench-eval: no policy at $policy" >&2; exit 2; }

bin="${TOOLGATE:-target/release/toolgate}"
if [[ ! -x "$bin" ]]; then
    cargo build --release --bin toolgate >&2
fi

dir="${BENCH_DIR:-target/bench-eval}"
mkdir -p "$dir"
requests="$dir/requests-$lines.jsonl"

# Generate the requests once (deterministic: seeded), reuse them on later runs.
if [[ ! -s "$requests" ]]; then
    python3 - "$lines" "$requests" <<'PY'
import json
import random
import sys

lines, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20261126)

# A few dozen distinct tokens: role mixes (names and `aka` values), scope sets, claims.
role_sets = [
    ["readonly"], ["user"], ["developer"], ["admin"], ["mcp-developers"], ["mcp-admins"],
    ["Tool.Admin"], ["user", "readonly"], ["nobody"], [],
]
scope_sets = ["tool:read", "tool:read tool:write", "tool:admin", "", "tool:write"]
tokens = []
for index in range(40):
    claims = {"sub": f"user-{index}", "azp": f"client-{index % 3}"}
    roles = role_sets[index % len(role_sets)]
    if index % 4 == 3:
        claims["realm_access"] = {"roles": roles}
    else:
        claims["roles"] = roles
    scopes = scope_sets[(index // 2) % len(scope_sets)]
    if index % 5 == 4:
        claims["scp"] = scopes.split()
    else:
        claims["scope"] = scopes
    if index % 7 == 6:
        claims["email_verified"] = False
    elif index % 2 == 0:
        claims["email_verified"] = True
    tokens.append(json.dumps(claims, separators=(",", ":")))

prefixes = ["fs.read_", "fs.write_", "github.list_", "github.create_", "logs.tail_",
            "db.drop_", "db.query_", "slack.post_", "svc"]
names = [f"{rng.choice(prefixes)}{i}" for i in range(2000)]
names += ["fs.read_file", "github.create_issue", "github.list_issues", "db.drop_table"]
resources = [f"docs://guide/{i}" for i in range(50)] + [f"file:///etc/{i}" for i in range(50)]
ips = ["10.1.2.3", "192.168.10.7", "2001:db8::1", "203.0.113.9", "::ffff:10.9.8.7", None]
times = [f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:00Z"
         for day in range(23, 30) for hour in range(0, 24, 3) for minute in (0, 30)]

with open(path, "w") as out:
    write = out.write
    for _ in range(lines):
        token = rng.choice(tokens)
        roll = rng.random()
        if roll < 0.9:
            action = "call" if rng.random() < 0.75 else "list"
            target = f'"tool":"{rng.choice(names)}"'
        else:
            action = "read" if rng.random() < 0.75 else "list"
            target = f'"resource":"{rng.choice(resources)}"'
        ip = rng.choice(ips)
        ip_field = f',"ip":"{ip}"' if ip else ""
        write(f'{{"claims":{token},"action":"{action}",{target}{ip_field},'
              f'"time":"{rng.choice(times)}"}}\n')
PY
fi

# A sanity run: every line must give a decision, none an error.
decided="$("$bin" eval "$policy" --requests <(head -n 1000 "$requests") | grep -c '"decision"' || true)"
if [[ "$decided" -ne "$(head -n 1000 "$requests" | wc -l)" ]]; then
    echo "bench-eval: eval did not decide every request of the first 1000" >&2
    exit 1
fi

if command -v hyperfine >/dev/null 2>&1; then
    json="$dir/hyperfine.json"
    hyperfine --warmup 1 --runs "${RUNS:-3}" --export-json "$json" \
        "$bin eval $policy --requests $requests > /dev/null" >&2
    seconds="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$json")"
else
    # Warm the page cache, then keep the best of RUNS runs.
    cat "$requests" >/dev/null
    seconds=""
    for _ in $(seq "${RUNS:-3}"); do
        start="$(date +%s.%N)"
        "$bin" eval "$policy" --requests "$requests" >/dev/null
        end="$(date +%s.%N)"
        run="$(python3 -c "print(f'{$end - $start:.6f}')")"
        echo "bench-eval: run took $run s" >&2
        if [[ -z "$seconds" ]] || python3 -c "import sys; sys.exit(not $run < $seconds)"; then
            seconds="$run"
        fi
    done
fi

python3 -c "
lines, seconds = $lines, $seconds
print(f'eval --requests: {lines} lines in {seconds:.2f} s = {lines / seconds:,.0f} requests/s')
"
