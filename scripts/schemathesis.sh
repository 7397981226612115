#!/usr/bin/env bash
# Fuzz the running API with schemathesis (PyPI), as CI does: the test stack's
# PostgreSQL and Temporal (test/support/stack-main.ts, free ports), the whole
# product on top of them (`npm start`'s dev/start.ts: worker and API), an admin
# API key from the CLI given through the document's bearer security scheme,
# the OpenAPI document checked by openapi-spec-validator, then every check
# and every phase (examples, coverage, fuzzing, stateful) within a time budget.
# Exits non-zero on any server error, schema violation or failed check; stops
# everything it started.
#
#   scripts/schemathesis.sh            # SCHEMATHESIS_MAX_TIME=240 seconds of testing
#   SCHEMATHESIS_VENV=/tmp/st-venv SCHEMATHESIS_MAX_TIME=60 scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
SPEC_VALIDATOR_VERSION=0.9.0
VENV=${SCHEMATHESIS_VENV:-.tools/schemathesis-venv}
MAX_TIME=${SCHEMATHESIS_MAX_TIME:-240}

# CPython 3.11's ast module can fail inside Hypothesis with "SystemError: AST
# constructor recursion depth mismatch" (cpython gh-106905, fixed in later
# releases), an error of the tool, not of the product: a newer CPython is taken
# where the machine has one (pyenv's, as on this kind of machine; the newest wins).
PYTHON=python3
for candidate in /root/.pyenv/versions/3.12*/bin/python3 /root/.pyenv/versions/3.13*/bin/python3; do
  if [ -x "$candidate" ]; then PYTHON=$candidate; fi
done
if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" ||
  ! "$VENV/bin/python" -c 'import openapi_spec_validator' 2>/dev/null ||
  [ "$("$VENV/bin/python" -c 'import sys; print(sys.version_info[:2])' 2>/dev/null)" != "$("$PYTHON" -c 'import sys; print(sys.version_info[:2])')" ]; then
  echo "== schemathesis: installing schemathesis $SCHEMATHESIS_VERSION into $VENV ($("$PYTHON" --version))"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$SPEC_VALIDATOR_VERSION"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/schemathesis-run.XXXXXX")
stack_pid=''
app_pid=''
stop_all() {
  # Our own children only, by pid: the API process first, then the stack (it stops PostgreSQL and Temporal).
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill -TERM "$app_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$app_pid" 2>/dev/null || true
  fi
  if [ -n "$stack_pid" ] && kill -0 "$stack_pid" 2>/dev/null; then
    kill -TERM "$stack_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$stack_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$stack_pid" 2>/dev/null || true
  fi
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_for() { # what, seconds, command…
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq 1 $((seconds * 2))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "schemathesis: timed out waiting for $what" >&2
  return 1
}

echo "== schemathesis: starting PostgreSQL and Temporal"
# stack-main stops when its stdin closes: keep a pipe open for it on fd 3.
mkfifo "$work/stack.stdin"
exec 3<>"$work/stack.stdin"
node --import tsx test/support/stack-main.ts <&3 >"$work/stack.log" 2>&1 &
stack_pid=$!
if ! wait_for "the test stack" 180 grep -q '^READY ' "$work/stack.log"; then
  cat "$work/stack.log" >&2
  exit 1
fi
ready=$(grep '^READY ' "$work/stack.log" | head -1 | cut -d' ' -f2-)
DATABASE_URL=$(node -e 'console.log(JSON.parse(process.argv[1]).databaseUrl)' "$ready")
TEMPORAL_ADDRESS=$(node -e 'console.log(JSON.parse(process.argv[1]).temporalAddress)' "$ready")
export DATABASE_URL TEMPORAL_ADDRESS

port=$(free_port)
echo "== schemathesis: starting the product (worker and API on port $port)"
PORT=$port SMTP_SINK_PORT=$(free_port) BOUNCE_SMTP_PORT=0 WORKER_METRICS_PORT=0 METRICS_PORT=$(free_port) DATA_DIR="$work/data" \
  API_RATE_LIMIT_PER_MINUTE=1000000 LOG_LEVEL=warn \
  node --import tsx dev/start.ts >"$work/app.log" 2>&1 &
app_pid=$!
if ! wait_for "the API" 180 curl -fsS "http://127.0.0.1:$port/health"; then
  tail -50 "$work/app.log" >&2
  exit 1
fi

FUZZ_API_KEY=$(npm run -s api-key -- create --name fuzz --scopes read,write,admin | tail -1)
export FUZZ_API_KEY

echo "== schemathesis: validating /openapi.json (OpenAPI 3.0)"
curl -fsS "http://127.0.0.1:$port/openapi.json" -o "$work/openapi.json"
"$VENV/bin/openapi-spec-validator" "$work/openapi.json"

# Valid-per-schema data may still break a rule across fields or stored state
# (merging a lead into itself, an unknown template, an error type that does not
# go with the reason, text PostgreSQL cannot store): that is a 400 naming the
# field, not a failure of positive_data_acceptance. 5xx stay failures
# (not_a_server_error), and so does accepting schema-violating data.
# The stateful phase reuses one Idempotency-Key value across different
# requests; the answer to that is 422 (as the IETF Idempotency-Key draft says,
# and as the OpenAPI documents), which is a correct refusal, not a failure.
cat >"$work/schemathesis.toml" <<'EOF'
[auth.openapi.bearer]
bearer = "${FUZZ_API_KEY}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]

# A body past the size limit (413) or a path parameter past 2000 characters
# (414) is refused before validation: a rejection like a 400.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "5xx"]
EOF

# Every check but use_after_free: deletes are soft by design (SPEC: deleted /
# merged-into markers), so a deleted lead, template or official account stays
# readable by id with its deletion shown; "still available after DELETE" is the
# contract (test/e2e/line-runs.test.ts reads a deleted account), not a failure.
echo "== schemathesis: every check but use_after_free, phases examples,coverage,fuzzing,stateful, ${MAX_TIME}s"
set +e
# From the scratch directory: schemathesis leaves its cache and reports in the working directory.
venv_abs=$(cd "$VENV" && pwd)
# Run through the venv's Python with a higher recursion limit: on Python 3.11,
# Hypothesis describing a strategy parses source with `ast` deep in
# schemathesis's stack, and a RecursionError there surfaces as CPython's
# "SystemError: AST constructor recursion depth mismatch" (cpython gh-106905),
# an error of the tool that failed a CI rehearsal with every test case passed.
st_cli='import sys; sys.setrecursionlimit(10000); from schemathesis.cli import schemathesis; sys.argv[0] = "st"; sys.exit(schemathesis())'
(cd "$work" && "$venv_abs/bin/python" -c "$st_cli" --config-file "$work/schemathesis.toml" run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --exclude-checks use_after_free \
  --phases examples,coverage,fuzzing,stateful \
  --max-time "$MAX_TIME" \
  --request-timeout 30 \
  --workers 2 \
  --generation-database none \
  --no-color \
  ${SCHEMATHESIS_ARGS:-}) 2>&1 | sed -E 's/^=+ (.*) =+$/-- schemathesis: \1 --/'
# Its closing line is framed like pytest's ("=== 3 warnings in 240s ==="): CI
# reads such a line as a pytest run that executed no test, so it is reframed.
status=${PIPESTATUS[0]}
set -e
if grep -q '"level":50\|"level":60' "$work/app.log"; then
  echo "== schemathesis: errors the API logged meanwhile:"
  grep '"level":50\|"level":60' "$work/app.log" | head -20
fi
exit $status
