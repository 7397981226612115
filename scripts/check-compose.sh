#!/usr/bin/env bash
# docker-compose.yml against the official compose-spec JSON schema, as vendored
# by check-jsonschema (PyPI, pinned, in its own venv under .tools/); no Docker
# engine needed. Also checks that it names the same services as start:cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${COMPOSE_CHECK_VENV:-.tools/compose-check-venv}"
if [ ! -x "$venv/bin/check-jsonschema" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check check-jsonschema==0.39.0
fi
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml
for service in temporal-db temporal-schema temporal temporal-namespace db smtp-sink migrate api worker; do
  grep -q "^  ${service}:" docker-compose.yml || { echo "docker-compose.yml lacks service ${service}" >&2; exit 1; }
done
# The Temporal server is configured by the file start:cluster uses.
grep -q '/etc/temporal/cluster/temporal.yaml' docker-compose.yml
echo "docker-compose.yml: valid compose-spec, same services as start:cluster"
