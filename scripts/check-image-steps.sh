#!/usr/bin/env bash
# Runs the Dockerfile's build steps without Docker (these machines have no
# Docker engine), so CI catches an image that would not build: the build
# context (the files git tracks or would track, less .dockerignore) is put in
# a temporary directory, and the Dockerfile is followed line by line: COPY
# copies from that context into the image directory, ENV exports, RUN runs
# with `sh -c` there, as the image build would. An instruction this script does
# not know fails it, so it cannot silently drift from the Dockerfile.
# Usage: scripts/check-image-steps.sh [Dockerfile]   (KEEP_IMAGE_DIR=1 keeps the directory)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dockerfile=${1:-$root/Dockerfile}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/image-steps.XXXXXX")
cleanup() { if [ "${KEEP_IMAGE_DIR:-}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
ctx=$tmp/context
app=$tmp/image
mkdir -p "$ctx" "$app"

# The build context: what `docker build .` would send from a clean checkout.
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$ctx"
if [ -f "$root/.dockerignore" ]; then
  while IFS= read -r pattern; do
    case "$pattern" in '' | '#'*) continue ;; esac
    (cd "$ctx" && for p in $pattern; do rm -rf -- "./$p"; done)
  done <"$root/.dockerignore"
fi

workdir=$app
# Joins continuation lines, drops comments and blank lines.
instructions=$(sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$dockerfile" |
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
while IFS= read -r line; do
  op=${line%%[[:space:]]*}
  args=${line#"$op"}
  args=${args#"${args%%[![:space:]]*}"}
  case "${op^^}" in
    FROM)
      # The steps run with this machine's node: they only vouch for the image's if the major versions agree.
      want=$(sed -n 's/^node:\([0-9][0-9]*\).*/\1/p' <<<"$args")
      have=$(node -p 'process.versions.node.split(".")[0]')
      if [ "$want" != "$have" ]; then
        echo "check-image-steps: the image is built FROM $args but this machine has node $have" >&2
        exit 1
      fi
      ;;
    WORKDIR)
      case "$args" in /*) workdir=$app$args ;; *) workdir=$workdir/$args ;; esac
      mkdir -p "$workdir"
      ;;
    ENV)
      # `ENV K=V K2=V2`; the values here are plain words.
      eval "export $args"
      ;;
    COPY)
      read -r -a parts <<<"$args"
      dest=${parts[-1]}
      unset 'parts[-1]'
      case "$dest" in /*) dest=$app$dest ;; *) dest=$workdir/$dest ;; esac
      if [ ${#parts[@]} -gt 1 ] || [[ $dest == */ ]] || [ -d "$dest" ]; then mkdir -p "$dest"; fi
      for src in "${parts[@]}"; do
        if [ -d "$ctx/$src" ]; then
          mkdir -p "$dest" && cp -a "$ctx/$src/." "$dest/"
        else
          cp -a "$ctx/$src" "$dest"
        fi
      done
      ;;
    RUN)
      echo "== image step: RUN $args"
      (cd "$workdir" && sh -c "$args")
      ;;
    CMD | ENTRYPOINT | EXPOSE | LABEL) ;; # run time, not build time
    *)
      echo "check-image-steps: unknown Dockerfile instruction '$op': teach this script what it does" >&2
      exit 1
      ;;
  esac
done <<<"$instructions"
echo "image steps passed (Dockerfile followed in $app)"
