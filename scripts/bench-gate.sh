#!/usr/bin/env bash
# The latency toolgate adds per request: the same tiny MCP-ish upstream
# (tests/e2e/python/echo_upstream.py) measured directly and through `toolgate serve`,
# with wrk on loopback, `tools/call` POSTs carrying a valid API key. Prints p50 and p99
# for each, and the difference.
#
# With --observed, a second gate runs with everything an operator turns on (the decision
# log written to a file, Prometheus metrics, OpenTelemetry traces exported to a local
# OTLP sink), and the table adds its latency and what observation costs over the plain
# gate.
#
# OBSERVE="audit metrics traces" (the default) chooses what the observed gate turns on.
#
# With --rounds N (observed mode), the plain and the observed gate are measured N times
# each, interleaved (the order swaps every round, so a drift of the machine's speed
# falls on both), and the table gives the median p50 of each and the median of the
# rounds' differences: on a shared VM one pair of runs can differ by more than the cost
# being measured.
#
# Usage: scripts/bench-gate.sh [--duration 10s] [--connections "1 8"] [--observed [--rounds N]]
# Needs: wrk (`apt-get install wrk`), python3, curl; builds target/release/toolgate
# unless TOOLGATE names a binary.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10s
connections="1 8"
observed=false
rounds=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --observed) observed=true; shift ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --rounds)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "bench-gate: --rounds needs a positive number" >&2; exit 2; }
      rounds="$2"; shift 2 ;;
    *) echo "bench-gate: unknown argument \`$1\`" >&2; exit 2 ;;
  esac
done

for tool in wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench-gate: \`$tool\` is missing" >&2; exit 2; }
done

if [[ -z "${TOOLGATE:-}" ]]; then
  cargo build --release --quiet --bin toolgate
  TOOLGATE=target/release/toolgate
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Waits for a line naming http://... in FILE (a server's stdout) and prints that URL.
wait_for_url() {
  local file=$1
  for _ in $(seq 1 300); do
    local url
    url=$(grep -o 'http://[^" ]*' "$file" 2>/dev/null | head -n 1 || true)
    if [[ -n "$url" ]]; then echo "$url"; return 0; fi
    sleep 0.1
  done
  echo "bench-gate: no listening line in $file:" >&2
  cat "$file" >&2
  return 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

python3 tests/e2e/python/echo_upstream.py --port 0 >"$work/upstream.out" 2>&1 &
pids+=($!)
upstream=$(wait_for_url "$work/upstream.out")

key=$("$TOOLGATE" key new --file "$work/keys.toml" --id bench --role admin --scope tool:admin 2>/dev/null)

port=$(free_port)
cat >"$work/toolgate.toml" <<EOF
policy   = "$PWD/tests/e2e/e2e.policy"
listen   = "127.0.0.1:$port"
upstream = "$upstream"
resource = "http://127.0.0.1:$port/mcp"
authorization_servers = []

[api_keys]
file = "$work/keys.toml"
EOF
"$TOOLGATE" serve --config "$work/toolgate.toml" >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
gated="http://127.0.0.1:$port/mcp"
for _ in $(seq 1 300); do
  curl -s -o /dev/null "http://127.0.0.1:$port/.well-known/oauth-protected-resource" && break
  sleep 0.1
done

observed_url=""
if $observed; then
  # A sink for OTLP exports: answers every POST 200.
  python3 -c '
import http.server
class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *args): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(f"http://127.0.0.1:{server.server_address[1]}/v1/traces", flush=True)
server.serve_forever()' >"$work/sink.out" 2>&1 &
  pids+=($!)
  sink=$(wait_for_url "$work/sink.out")
  observed_port=$(free_port)
  metrics_port=$(free_port)
  sed -e "s/127.0.0.1:$port/127.0.0.1:$observed_port/g" "$work/toolgate.toml" >"$work/observed.toml"
  observe="${OBSERVE:-audit metrics traces}"
  for part in $observe; do
    case "$part" in
      audit) printf '\n[audit]\nfile = "%s"\n' "$work/audit.jsonl" ;;
      metrics) printf '\n[metrics]\nlisten = "127.0.0.1:%s"\n' "$metrics_port" ;;
      traces) printf '\n[traces]\nendpoint = "%s"\n' "$sink" ;;
      *) echo "bench-gate: OBSERVE names \`$part\`: not audit, metrics or traces" >&2; exit 2 ;;
    esac
  done >>"$work/observed.toml"
  "$TOOLGATE" serve --config "$work/observed.toml" >"$work/observed.out" 2>"$work/observed.err" &
  pids+=($!)
  observed_url="http://127.0.0.1:$observed_port/mcp"
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "http://127.0.0.1:$observed_port/.well-known/oauth-protected-resource" && break
    sleep 0.1
  done
fi

body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"db.query","arguments":{}}}'
post() {
  curl -s -o "$work/answer" -w '%{http_code}' -X POST "$1" -H "X-API-Key: $key" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'Mcp-Method: tools/call' -H 'Mcp-Name: db.query' -d "$body"
}
for url in "$upstream" "$gated" $observed_url; do
  status=$(post "$url")
  if [[ "$status" != 200 ]] || ! grep -q '"result"' "$work/answer"; then
    echo "bench-gate: $url answered $status: $(cat "$work/answer")" >&2
    cat "$work/serve.err" >&2
    exit 1
  fi
done
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$gated" -H 'Content-Type: application/json' -d "$body")
[[ "$status" == 401 ]] || { echo "bench-gate: the gate let a request without a key through ($status)" >&2; exit 1; }

cat >"$work/call.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "db.query"
wrk.headers["X-API-Key"] = "$key"
EOF

# wrk's latency distribution line for PERCENT, in microseconds.
percentile() {
  awk -v want="$1%" '$1 == want {
    value = $2; unit = value; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", value)
    factor = (unit == "us") ? 1 : (unit == "ms") ? 1000 : (unit == "s") ? 1000000 : 0
    printf "%.0f", value * factor }' "$2"
}

# The median of integers (the lower middle one of an even count).
median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

measure() {
  local name=$1 url=$2 connections=$3 out="$work/wrk-$1-$3.txt"
  wrk -t1 -c"$connections" -d2s -s "$work/call.lua" "$url" >/dev/null # warm-up
  wrk -t1 -c"$connections" -d"$duration" --latency -s "$work/call.lua" "$url" >"$out"
  if grep -q 'Non-2xx' "$out"; then
    echo "bench-gate: $name answered errors:" >&2
    cat "$out" >&2
    exit 1
  fi
  local p50 p99 rate
  p50=$(percentile 50 "$out")
  p99=$(percentile 99 "$out")
  rate=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$out")
  echo "$p50 $p99 $rate"
}

echo "toolgate $("$TOOLGATE" --version | awk '{print $2}'), wrk -t1 -d$duration, tools/call POST with an API key, loopback"
echo "upstream: tests/e2e/python/echo_upstream.py; gate: toolgate serve, policy tests/e2e/e2e.policy"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs"
echo
if $observed; then
  echo "observed: the same gate with: $observe (audit: [audit] file; traces: to a local OTLP sink)"
  echo
  if [[ "$rounds" -gt 1 ]]; then
    echo "each gate measured $rounds times, interleaved; p50 and p99 are medians over the rounds,"
    echo "the cost is the median of the rounds' differences (observed p50 - gated p50)"
    echo
  fi
  printf '| connections | direct p50 | gated p50 | observed p50 | gated p99 | observed p99 | observation cost p50 |\n'
  printf '|---|---|---|---|---|---|---|\n'
  for c in $connections; do
    read -r direct50 _ _ < <(measure direct "$upstream" "$c")
    gated50s=() gated99s=() observed50s=() observed99s=() costs=()
    for round in $(seq 1 "$rounds"); do
      if (( round % 2 == 1 )); then
        read -r g50 g99 _ < <(measure gated "$gated" "$c")
        read -r o50 o99 _ < <(measure observed "$observed_url" "$c")
      else
        read -r o50 o99 _ < <(measure observed "$observed_url" "$c")
        read -r g50 g99 _ < <(measure gated "$gated" "$c")
      fi
      gated50s+=("$g50") gated99s+=("$g99") observed50s+=("$o50") observed99s+=("$o99")
      costs+=("$((o50 - g50))")
    done
    gated50=$(median "${gated50s[@]}")
    observed50=$(median "${observed50s[@]}")
    cost=$(median "${costs[@]}")
    printf '| %s | %s µs | %s µs | %s µs | %s µs | %s µs | %s µs (%s%%) |\n' "$c" \
      "$direct50" "$gated50" "$observed50" "$(median "${gated99s[@]}")" \
      "$(median "${observed99s[@]}")" "$cost" "$(( cost * 100 / gated50 ))"
    if [[ "$rounds" -gt 1 ]]; then
      echo "|   | rounds: gated p50 ${gated50s[*]}; observed p50 ${observed50s[*]} (µs) | | | | | |"
    fi
  done
  if [[ " $observe " == *" audit "* ]]; then
    lines=$(wc -l <"$work/audit.jsonl")
    echo
    echo "audit records written by the observed gate: $lines"
    [[ "$lines" -gt 0 ]] || { echo "bench-gate: the observed gate wrote no audit record" >&2; exit 1; }
  fi
else
  printf '| connections | direct p50 | direct p99 | gated p50 | gated p99 | added p50 | added p99 | gated req/s |\n'
  printf '|---|---|---|---|---|---|---|---|\n'
  for c in $connections; do
    read -r direct50 direct99 _ < <(measure direct "$upstream" "$c")
    read -r gated50 gated99 gated_rate < <(measure gated "$gated" "$c")
    printf '| %s | %s µs | %s µs | %s µs | %s µs | %s µs | %s µs | %s |\n' "$c" \
      "$direct50" "$direct99" "$gated50" "$gated99" \
      "$((gated50 - direct50))" "$((gated99 - direct99))" "$gated_rate"
  done
fi
