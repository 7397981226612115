#!/usr/bin/env bash
# The independent DKIM verifier of test/e2e/sending-domains.test.ts: Python's
# dkimpy (another implementation than the mailauth we sign with) in a venv of
# its own, with dnspython to read keys from the test's DNS server and PyNaCl
# for Ed25519 signatures. Idempotent: an existing venv that imports is kept.
#   DKIM_VERIFIER_VENV=/tmp/dkim-venv scripts/setup-dkim-verifier.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${DKIM_VERIFIER_VENV:-.tools/dkim-venv}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import dkim, dns.resolver, nacl' 2>/dev/null; then
  echo "dkim verifier ready in $VENV"
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check 'dkimpy==1.1.8' 'dnspython==2.7.0' 'PyNaCl==1.5.0'
"$VENV/bin/python" -c 'import dkim, dns.resolver, nacl' 
echo "dkim verifier installed in $VENV"
