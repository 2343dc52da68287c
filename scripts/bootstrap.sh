#!/usr/bin/env bash
# Install what Beatdesk needs on a Debian 12 machine and create .venv.
#   scripts/bootstrap.sh          Python environment only (enough for the SQLite demo)
#   scripts/bootstrap.sh --system  also what the tests need (Debian packages as root:
#                                  PostgreSQL, Chromium, Redis, a C++ toolchain, npm;
#                                  the Bluesky network's npm modules: make bluesky-network)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--system" ]]; then
  # libpango + fonts: WeasyPrint (evidence transcripts and report PDFs).
  packages=(postgresql chromium redis-server g++ make python3 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
  missing=()
  for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  # Any npm will do (it only installs Node 22 from the registry): Debian's if none.
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      echo "Missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
      exit 1
    fi
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# Python 3.12: on PATH, or from pyenv.
python312=$(command -v python3.12 || true)
if [[ -z "$python312" ]]; then
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12; do
    [[ -x "$candidate" ]] && python312=$candidate && break
  done
fi
if [[ -z "$python312" ]]; then
  echo "Python 3.12 not found. Install it (pyenv install 3.12, or your distribution's python3.12)." >&2
  exit 1
fi

# uv: installed from PyPI next to that Python if it is not on PATH.
uv=$(command -v uv || true)
if [[ -z "$uv" ]] || ! "$uv" --version >/dev/null 2>&1; then
  "$python312" -m pip install --quiet --disable-pip-version-check uv
  uv="$(dirname "$python312")/uv"
fi
UV_PYTHON="$python312" "$uv" sync --frozen --quiet
echo "Python environment ready in .venv ($("$python312" --version))"

