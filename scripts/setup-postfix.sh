#!/usr/bin/env bash
# Installs Postfix from the Debian packages for test/e2e/postfix-bounces.test.ts
# (a real MTA generating DSNs). Needs root and apt; the test configures and
# starts Postfix itself and fails where Postfix is not installed.
set -euo pipefail

# Installed with "No configuration", Debian's package leaves no main.cf; the
# test edits one with postconf, so start from Debian's own template.
ensure_main_cf() {
  if [ ! -f /etc/postfix/main.cf ] && [ -f /usr/share/postfix/main.cf.debian ]; then
    cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
  fi
}

if command -v postfix >/dev/null 2>&1; then
  ensure_main_cf
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-postfix: not root or no apt-get; the Postfix test will fail" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends postfix
ensure_main_cf
