#!/usr/bin/env bash
# Set up .venv with the package (and test extras with `setup.sh test`), plus the system packages the product
# uses (listed in scripts/apt-packages.txt). Installs with apt-get when run as root and a package is missing;
# otherwise prints the exact command to run. Idempotent: a stamp records what was installed, so a second run
# with nothing changed takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${1:-}

need_apt=()
installed() {  # a Debian package is installed (dpkg), or, off Debian, its command is on PATH
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
  else
    command -v "$1" >/dev/null 2>&1
  fi
}
while read -r pkg _; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  installed "$pkg" || need_apt+=("$pkg")
done < scripts/apt-packages.txt
# python3 -m venv needs Debian's python3-venv (ensurepip) on system Pythons.
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1 && [[ ! -x "$VENV/bin/python" ]]; then
  need_apt+=("python3-venv")
fi
if ((${#need_apt[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing system packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing system packages. Run:" >&2
    echo "  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${need_apt[*]}" >&2
    exit 1
  fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.reporting-setup-${EXTRAS:-base}"
want=$(cat pyproject.toml scripts/apt-packages.txt | sha256sum | cut -c1-16)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
spec="."
[[ -n "$EXTRAS" ]] && spec=".[${EXTRAS}]"
echo "setup: installing reporting${EXTRAS:+ with [$EXTRAS]} into $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec"
echo "$want" > "$stamp"
