# Sourced by the scripts: create .venv with Python >= 3.11 and install the service and plugins.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "ltiservice needs Python 3.11 or newer (none found on PATH)" >&2
  return 1
}

install_fingerprint() {  # What an install depends on: the packaging files.
  # The packages are installed editable: code and referential edits need no reinstall, only
  # a change of dependencies or entry points (pyproject.toml, the plugins' own) does.
  { cat pyproject.toml plugins/*/pyproject.toml; ls plugins; } | sha256sum | cut -d' ' -f1
}

install_stamp() {  # $1: extras -> the file recording an install with them
  local tag
  tag=$(echo "$1" | tr -dc 'a-z,')
  echo ".venv/.ltiservice-installed-${tag:-base}"
}

install_service() {  # $1: extras, e.g. "" or "[test]"
  local python
  python=$(pick_python)
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".$1" \
    -e plugins/crca -e plugins/courtage -e plugins/mutualite
  install_fingerprint > "$(install_stamp "$1")"
}

install_service_if_changed() {  # $1: extras. Quiet; the pip log only when it fails.
  local stamp wanted candidates
  wanted=$(install_fingerprint)
  # Without extras, an up-to-date install with extras (the tests') will do as well.
  if [ -n "$1" ]; then candidates=("$(install_stamp "$1")"); else candidates=(.venv/.ltiservice-installed-*); fi
  if [ -x .venv/bin/ltiservice ]; then
    for stamp in "${candidates[@]}"; do
      if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then return 0; fi
    done
  fi
  echo "Installation de ltiservice dans .venv (la première fois : quelques minutes)…" >&2
  if ! install_service "$1" > .venv-install.log 2>&1; then
    tail -n 30 .venv-install.log >&2
    echo "Installation échouée : journal complet dans .venv-install.log" >&2
    return 1
  fi
  rm -f .venv-install.log
}
