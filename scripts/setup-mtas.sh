#!/usr/bin/env bash
# Fetches the MTAs of test/e2e/real-mta-bounces.test.ts from Debian's packages
# into .tools/mta/<name>/ (Exim 4, OpenSMTPD, dma). These packages conflict
# with each other and with Postfix, so none is installed: each is downloaded
# with `apt-get download` and unpacked with `dpkg-deb -x`, and the test runs
# the binary with a configuration file of its own, on loopback high ports.
# Postfix comes from scripts/setup-postfix.sh (installed; the test runs a
# private instance of it with `postfix -c`).
#
# What each binary still needs from the system, created here (as root):
#   exim      the user Debian-exim (compiled into Debian's binary)
#   opensmtpd the users opensmtpd and opensmtpq and the empty chroot
#             /var/lib/opensmtpd/empty (compiled in); its queue is /var/spool/smtpd
#   dma       an empty /etc/dma, over which the test bind-mounts its own
#             dma.conf in a private mount namespace (the path is compiled in)
#
# Idempotent; always exits 0 and says what could not be had (its tests then
# fail, naming this script).
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD/.tools/mta"
missing=()

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# The exact .deb files of the packages (one per name), in $work.
download() {
  local work=$1
  shift
  (cd "$work" && apt-get download -q "$@" >/dev/null 2>&1) && return 0
  # The package lists may be missing or stale on a fresh machine.
  if [ -z "${updated:-}" ]; then
    updated=1
    apt-get update -q >/dev/null 2>&1 || true
    (cd "$work" && apt-get download -q "$@" >/dev/null 2>&1) && return 0
  fi
  return 1
}

# fetch NAME CHECK-FILE PACKAGE...: unpack the packages into $root/NAME unless
# CHECK-FILE (relative to it) is already there.
fetch() {
  local name=$1 check=$2
  shift 2
  local dest="$root/$name"
  if [ -e "$dest/$check" ]; then
    echo "setup-mtas: $name already in $dest"
    return 0
  fi
  local work
  work=$(mktemp -d)
  chmod 755 "$work" # apt-get's _apt user writes the download there
  if ! download "$work" "$@"; then
    echo "setup-mtas: could not download $* for $name" >&2
    rm -rf "$work"
    return 1
  fi
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  local deb
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$dest.tmp" || {
    echo "setup-mtas: could not unpack $deb" >&2
    rm -rf "$work" "$dest.tmp"
    return 1
  }; done
  rm -rf "$work" "$dest"
  mv "$dest.tmp" "$dest"
  echo "setup-mtas: $name unpacked into $dest"
}

add_system_user() {
  getent passwd "$1" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --home-dir "$2" --shell /usr/sbin/nologin "$1"
}

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "setup-mtas: not root or no apt-get/dpkg-deb; the Exim, OpenSMTPD and dma tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$root"

# Exim: the daemon, its base and default configuration packages, and the one
# library of its that a Postfix machine lacks.
exim_pkgs=(exim4-daemon-light exim4-base exim4-config)
have_pkg libidn12 || exim_pkgs+=(libidn12)
if fetch exim usr/sbin/exim4 "${exim_pkgs[@]}" && add_system_user Debian-exim /nonexistent; then
  # Without its setuid bit, so that the dynamic loader keeps LD_LIBRARY_PATH
  # when Exim re-executes itself (the test runs it as root anyway).
  chmod 0755 "$root/exim/usr/sbin/exim4"
  # Exim re-executes itself through this (its exim_path) for deliveries and bounces.
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' \
    "$root/exim/usr/lib/x86_64-linux-gnu" "$root/exim/usr/sbin/exim4" >"$root/exim/exim4-run"
  chmod 0755 "$root/exim/exim4-run"
else
  missing+=(exim)
fi

if fetch opensmtpd usr/sbin/smtpd opensmtpd &&
  add_system_user opensmtpd /var/lib/opensmtpd/empty && add_system_user opensmtpq /var/lib/opensmtpd/empty; then
  mkdir -p /var/lib/opensmtpd/empty
  chmod 0755 /var/lib/opensmtpd/empty
  # smtpctl (to look into its queue by hand: `smtpctl show queue`) talks to the daemon as this group.
  chgrp opensmtpq "$root/opensmtpd/usr/sbin/smtpctl" && chmod 2555 "$root/opensmtpd/usr/sbin/smtpctl"
else
  missing+=(opensmtpd)
fi

if fetch dma usr/sbin/dma dma && command -v unshare >/dev/null 2>&1; then
  mkdir -p /etc/dma
else
  missing+=(dma)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-mtas: could not set up: ${missing[*]}; their tests will be skipped" >&2
else
  echo "setup-mtas: exim, opensmtpd and dma ready in $root"
fi
exit 0
