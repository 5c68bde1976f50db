#!/usr/bin/env bash
# The README's first command, twice, on a fresh clone: how long until /health answers.
# The first start installs into .venv; the second must not (scripts/_venv.sh keeps a stamp of
# pyproject.toml and the plugins' packaging). Prints both times; asserts nothing.
# Usage: bench/first_start.sh [PORT]   (run from a checkout; clones it into a temp folder)
set -euo pipefail
port=${1:-5987}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/ltiservice"
cd "$work/ltiservice"

start_once() {
  local begin=$SECONDS
  ./scripts/serve --port "$port" > "serve-$1.log" 2>&1 &
  pid=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/health"; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "serve-$1.log"; exit 1; }
    sleep 0.5
  done
  echo "start $1: /health after $((SECONDS - begin)) s"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

start_once 1
start_once 2
grep -q "Installation de ltiservice" serve-2.log && echo "second start reinstalled" || echo "second start: no install"
