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

install_service() {  # $1: extras, e.g. "" or "[test]"
  local python
  python=$(pick_python)
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".$1" \
    -e plugins/crca -e plugins/courtage -e plugins/mutualite
}
