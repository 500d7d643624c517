# The tour's shell (docs/tour.md): source it from the repository's root once the stack runs (./stack up).
#
#   source scripts/tour.sh
#
# It sets the services' URLs (ORDERS INVENTORY PAYMENTS EMAIL ANALYTICS AUDIT CONSOLE), SMTP_SINK (the SMTP sink's
# HTTP API) and TOKEN (an operator's bearer token), and defines a few helpers, each a thin layer over curl:
#
#   api METHOD URL [JSON]    one HTTP call with $TOKEN (AS=<token> api ... calls as someone else); prints
#                            "STATUS BODY" and keeps them in $STATUS and $BODY. The same call with curl:
#                            curl -s -X METHOD -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
#                                 --data JSON URL
#   json PATH                a value of $BODY: `json orderId`, `json items.0.sku`, `json length`
#   wait_for WHAT SECONDS COMMAND...
#                            runs COMMAND every half second until it succeeds; prints "ok: WHAT" or gives up
#   order_status ORDER_ID    the order's status, and the reason when it has one ("CANCELLED payment-declined")
#   metric URL NAME SOURCE   a counter of the process at URL (its /metrics), summed over the series of SOURCE
#   consumed URL SOURCE      how many messages the process at URL handled from SOURCE (a queue or a topic)
#   burst N URL JSON         N POSTs of JSON to URL, 20 at a time (one curl); prints how many got each status
#
# The tour's test (tests/e2e/tour.e2e.spec.ts) sources this file too, with STACK_PORTS pointing at its own services.

_tour_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
declare -A _tour_ports=([orders]=3001 [inventory]=3002 [payments]=3003 [email]=3004 [analytics]=3005 [audit]=3006 [console]=3007)
for _pair in ${STACK_PORTS:-}; do _tour_ports[${_pair%%=*}]=${_pair#*=}; done
ORDERS=http://127.0.0.1:${_tour_ports[orders]}
INVENTORY=http://127.0.0.1:${_tour_ports[inventory]}
PAYMENTS=http://127.0.0.1:${_tour_ports[payments]}
EMAIL=http://127.0.0.1:${_tour_ports[email]}
ANALYTICS=http://127.0.0.1:${_tour_ports[analytics]}
AUDIT=http://127.0.0.1:${_tour_ports[audit]}
CONSOLE=http://127.0.0.1:${_tour_ports[console]}
# A second orders worker (./stack start orders-2) listens on orders' port + 100.
ORDERS_2=http://127.0.0.1:${_tour_ports[orders-2]:-$((_tour_ports[orders] + 100))}
SMTP_SINK=${SMTP_SINK_URL:-http://127.0.0.1:8025}
TOKEN=$("$_tour_root/stack" token operator tour)

api() {
  local method=$1 url=$2 data=${3:-} out
  local args=(-sS -X "$method" -H "authorization: Bearer ${AS:-$TOKEN}" -w '\n%{http_code}' --max-time 15)
  [ -n "$data" ] && args+=(-H 'content-type: application/json' --data "$data")
  out=$(curl "${args[@]}" "$url") || { STATUS=000; BODY=''; echo "000 (no answer from $url)"; return 1; }
  STATUS=${out##*$'\n'}
  BODY=${out%$'\n'*}
  [ "$BODY" = "$STATUS" ] && BODY=''
  printf '%s %s\n' "$STATUS" "$BODY"
}

json() {
  node -e '
    let value = JSON.parse(process.argv[1] || "null");
    for (const part of process.argv[2].split(".").filter(Boolean)) value = value == null ? undefined : value[part];
    if (value === undefined) process.exit(1);
    console.log(typeof value === "object" ? JSON.stringify(value) : String(value));
  ' "$BODY" "$1"
}

wait_for() {
  local what=$1 seconds=$2 started=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - started)) -ge "$seconds" ]; then echo "gave up after ${seconds} s: $what"; return 1; fi
    sleep 0.5
  done
  echo "ok: $what"
}

order_status() {
  api GET "$ORDERS/orders/$1" >/dev/null || return 1
  local status reason
  status=$(json status) || return 1
  reason=$(json reason 2>/dev/null || true)
  echo "$status${reason:+ $reason}"
}

metric() {
  curl -s --max-time 5 "$1/metrics" |
    awk -v name="$2" -v source="$3" 'index($0, name "{") == 1 && index($0, "source=\"" source "\"") { sum += $NF } END { print sum + 0 }'
}

consumed() { metric "$1" messages_consumed_total "$2"; }

burst() {
  local count=$1 url=$2 data=$3 urls=()
  for ((i = 0; i < count; i++)); do urls+=(-o /dev/null "$url"); done
  curl -sS --no-progress-meter -Z --parallel-max 20 --max-time 30 -w '%{http_code}\n' \
    -H "authorization: Bearer ${AS:-$TOKEN}" -H 'content-type: application/json' --data "$data" "${urls[@]}" |
    sort | uniq -c | awk '{ print $1 " x " $2 }'
}
