#!/usr/bin/env bash
# Load test: cfcookies against the servers users would otherwise write, on
# one core each, over loopback only, in about three minutes per round.
#
#   scripts/loadtest.sh              one round
#   ROUNDS=3 scripts/loadtest.sh     medians of three interleaved rounds
#
# Every server runs pinned to CPU 1 (taskset, GOMAXPROCS=1); wrk runs on
# CPU 0: `wrk -t1 -c32 -d10s --latency` after a 3 s warm-up. Scenarios:
#
#   rsa-miss            cfcookies, RSA-2048 key, a new identity per request:
#                       every request signs (and fills the signature cache)
#   rsa-hit             cfcookies, RSA, one identity: answered from the cache
#   ecdsa-miss          cfcookies, ECDSA P-256 key, a new identity per request
#   openssl-miss        cfcookies built with -tags openssl, RSA, new identities
#   openssl-ecdsa-miss  the same with the ECDSA P-256 key, new identities
#   node                bench/node: Express + @aws-sdk/cloudfront-signer, key
#                       parsed once (the peer every ratio is against)
#   node-pem            the same passing the PEM string on every call
#   go-signmodule       bench/gosign: net/http + the AWS sign module (RSA)
#   go-ecdsa            bench/gosign with the ECDSA key: net/http +
#                       crypto/ecdsa, no logs, metrics or checks: the most a
#                       Go server can do per ECDSA signature here, the
#                       ceiling for ecdsa-miss
#
# For every cfcookies scenario it also measures p99 at half the maximum
# rate just measured, with bench/wrk/post-paced.lua. Peak RSS is VmHWM from
# /proc/PID/status at the end of a scenario. cfcookies runs with --dev
# (AUTH_MODE=dev: the identity is the X-Dev-User header, as in the peers),
# its JSON access log on and written to /dev/null, metrics listener on.
# Needs: go, node/npm, wrk, openssl, curl, taskset, gcc (for -tags openssl).
set -euo pipefail

ROUNDS=${ROUNDS:-1}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-32}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
PORT=${PORT:-18080}
SCENARIOS=${SCENARIOS:-"rsa-miss rsa-hit ecdsa-miss openssl-miss openssl-ecdsa-miss node node-pem go-signmodule go-ecdsa"}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }

for tool in go node npm wrk openssl curl taskset; do
	command -v "$tool" >/dev/null || { say "loadtest: $tool is not installed"; exit 1; }
done

say "loadtest: building into $work"
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$work/cfcookies" ./cmd/server)
if ! (cd "$root" && CGO_ENABLED=1 go build -trimpath -tags openssl -o "$work/cfcookies-openssl" ./cmd/server); then
	say "loadtest: the openssl build failed (it needs cgo and a C compiler); skipping the openssl-* scenarios"
	kept=""
	for sc in $SCENARIOS; do
		[[ $sc == openssl-* ]] || kept="$kept $sc"
	done
	SCENARIOS=$kept
fi
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$work/gosign" ./bench/gosign)
(cd "$root/bench/node" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1) || { say "loadtest: npm ci failed in bench/node"; exit 1; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ecdsa.pem" 2>/dev/null

# start SCENARIO: starts its server on CPU $SERVER_CPU, sets pid, waits for /healthz.
start() {
	local common=(env GOMAXPROCS=1 LISTEN_ADDR=127.0.0.1:$PORT METRICS_ADDR=127.0.0.1:$((PORT + 2))
		DEV_CDN_ADDR=127.0.0.1:$((PORT + 1)) CLOUDFRONT_DOMAIN=https://media.example.com CLOUDFRONT_KEY_PAIR_ID=KBENCH
		RATE_LIMIT_PER_IP=off RATE_LIMIT_PER_IDENTITY=off) # one client sends everything: measure signing, not the limiter
	case $1 in
	rsa-miss | rsa-hit) taskset -c "$SERVER_CPU" "${common[@]}" CLOUDFRONT_PRIVATE_KEY_FILE="$work/rsa.pem" "$work/cfcookies" --dev >/dev/null 2>&1 & ;;
	ecdsa-miss) taskset -c "$SERVER_CPU" "${common[@]}" CLOUDFRONT_PRIVATE_KEY_FILE="$work/ecdsa.pem" "$work/cfcookies" --dev >/dev/null 2>&1 & ;;
	openssl-miss) taskset -c "$SERVER_CPU" "${common[@]}" CLOUDFRONT_PRIVATE_KEY_FILE="$work/rsa.pem" "$work/cfcookies-openssl" --dev >/dev/null 2>&1 & ;;
	openssl-ecdsa-miss) taskset -c "$SERVER_CPU" "${common[@]}" CLOUDFRONT_PRIVATE_KEY_FILE="$work/ecdsa.pem" "$work/cfcookies-openssl" --dev >/dev/null 2>&1 & ;;
	node) (cd "$root/bench/node" && exec taskset -c "$SERVER_CPU" env HOST=127.0.0.1 PORT=$PORT KEY_FILE="$work/rsa.pem" KEY_PAIR_ID=KBENCH node server.js >/dev/null 2>&1) & ;;
	node-pem) (cd "$root/bench/node" && exec taskset -c "$SERVER_CPU" env HOST=127.0.0.1 PORT=$PORT KEY_FILE="$work/rsa.pem" KEY_PAIR_ID=KBENCH KEY_AS_PEM=1 node server.js >/dev/null 2>&1) & ;;
	go-signmodule) taskset -c "$SERVER_CPU" env GOMAXPROCS=1 "$work/gosign" -addr 127.0.0.1:$PORT -key "$work/rsa.pem" -key-pair-id KBENCH >/dev/null 2>&1 & ;;
	go-ecdsa) taskset -c "$SERVER_CPU" env GOMAXPROCS=1 "$work/gosign" -addr 127.0.0.1:$PORT -key "$work/ecdsa.pem" -key-pair-id KBENCH >/dev/null 2>&1 & ;;
	*) say "loadtest: unknown scenario $1"; exit 1 ;;
	esac
	pid=$!
	for _ in $(seq 100); do
		if curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	say "loadtest: $1 did not start"
	exit 1
}

stop() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=""
}

# to_ms VALUE: wrk's "812.00us", "1.23ms", "1.02s" in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.2f", v * 60000 }
		else { sub(/s$/, "", v); printf "%.2f", v * 1000 }
	}'
}

# load SCRIPT DURATION ARGS...: runs wrk on CPU $LOAD_CPU, prints "rps p50 p99".
load() {
	local script=$1 duration=$2
	shift 2
	local out
	out=$(cd "$root/bench/wrk" && taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$duration" --latency -s "$script" \
		"http://127.0.0.1:$PORT/auth/media-cookies" -- "$@")
	if grep -q "Non-2xx" <<<"$out"; then
		say "loadtest: error answers: $(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ')"
	fi
	local rps p50 p99
	rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	echo "$rps $p50 $p99"
}

results=$work/results.tsv
: >"$results"
for round in $(seq "$ROUNDS"); do
	for sc in $SCENARIOS; do
		mode=distinct
		[ "$sc" = rsa-hit ] && mode=one
		start "$sc"
		load post.lua "$WARMUP" "$mode" "w$round-" >/dev/null
		read -r rps p50 p99 < <(load post.lua "$DURATION" "$mode" "m$round-")
		half_rps=- half_p99=-
		case $sc in
		node* | go-*) ;;
		*) read -r half_rps _ half_p99 < <(load post-paced.lua "$DURATION" "$mode" "h$round-" $((rps / 2)) "$CONNS") ;;
		esac
		rss=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
		stop
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$sc" "$rps" "$p50" "$p99" "$rss" "$half_rps" "$half_p99" >>"$results"
		say "loadtest: round $round $sc: $rps req/s, p50 $p50 ms, p99 $p99 ms, peak RSS $rss MB, at half rate $half_rps req/s p99 $half_p99 ms"
	done
done

# The table: medians over rounds; ratios are taken within each round
# (against that round's node, and its Go peer: go-ecdsa for the ECDSA
# scenarios, go-signmodule for the others) and then their median.
echo
echo "cfcookies load test: $(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $ROUNDS round(s), medians"
echo "server on CPU $SERVER_CPU (GOMAXPROCS=1), wrk -t1 -c$CONNS -d$DURATION on CPU $LOAD_CPU after a $WARMUP warm-up"
echo
awk -F'\t' -v order="$SCENARIOS" '
function median(list,   a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	if (n == 0) return "-"
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { vals[key] = (key in vals) ? vals[key] " " v : v }
{ rps[$1, $2] = $3; add($2 "|rps", $3); add($2 "|p50", $4); add($2 "|p99", $5); add($2 "|rss", $6)
  if ($7 != "-") { add($2 "|hrps", $7); add($2 "|hp99", $8) }
  rounds[$1] = 1 }
END {
	for (r in rounds) for (k = 1; k <= split(order, sc, " "); k++) {
		s = sc[k]
		if (rps[r, "node"] > 0) add(s "|xnode", sprintf("%.2f", rps[r, s] / rps[r, "node"]))
		peer = (s ~ /ecdsa/) ? "go-ecdsa" : "go-signmodule"
		if (rps[r, peer] > 0) add(s "|xgo", sprintf("%.2f", rps[r, s] / rps[r, peer]))
	}
	printf "| %-18s | %7s | %8s | %8s | %7s | %8s | %12s | %15s |\n", "scenario", "req/s", "p50 ms", "p99 ms", "× node", "× Go peer", "peak RSS MB", "half rate: p99"
	printf "| %-18s | %7s | %8s | %8s | %7s | %8s | %12s | %15s |\n", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"
	n = split(order, sc, " ")
	for (k = 1; k <= n; k++) {
		s = sc[k]
		if (!((s "|rps") in vals)) continue
		half = ((s "|hrps") in vals) ? sprintf("%s ms @ %s/s", median(vals[s "|hp99"]), median(vals[s "|hrps"])) : "-"
		xn = ((s "|xnode") in vals) ? median(vals[s "|xnode"]) : "-"
		xg = ((s "|xgo") in vals) ? median(vals[s "|xgo"]) : "-"
		printf "| %-18s | %7s | %8s | %8s | %7s | %8s | %12s | %15s |\n", s, median(vals[s "|rps"]), median(vals[s "|p50"]), median(vals[s "|p99"]), xn, xg, median(vals[s "|rss"]), half
	}
}' "$results"
if [ "$ROUNDS" -gt 1 ]; then
	echo
	echo "every round (round, scenario, req/s, p50, p99, peak RSS MB, half-rate req/s, half-rate p99):"
	sort -k2,2 -k1,1n "$results" | column -t
fi
