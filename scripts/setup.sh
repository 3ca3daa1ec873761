#!/usr/bin/env bash
# Set up .venv with the package (and test extras with `setup.sh test`), plus the system packages the product
# uses (listed in scripts/apt-packages.txt). Installs with apt-get when run as root and a package is missing;
# otherwise prints the exact command to run. Idempotent: a stamp records what was installed, so a second run
# with nothing changed takes well under a second.
#
# It says what it is doing at least every 10 seconds (a line per step, pip's own lines, and a heartbeat
# while a long step runs). Python packages go in with uv (https://docs.astral.sh/uv/) when it is on PATH or
# can be installed into the venv, else with pip. uv does not read pip's configuration, so the machine's
# pip settings (find-links, index and extra-index URLs, constraints, certificate; from `pip config list`
# and PIP_* variables) are passed to it; if uv fails for any reason, pip does the install instead.
# REPORTING_SETUP_INSTALLER=pip forces pip.
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
started=$SECONDS

say() { echo "setup: $* ($((SECONDS - started)) s)"; }

# Run a command, printing a line every 8 s while it runs, so a person (or CI) never waits blind.
with_heartbeat() {
  local what=$1; shift
  "$@" &
  local pid=$! waited=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if ((waited % 8 == 0)) && kill -0 "$pid" 2>/dev/null; then say "still $what"; fi
  done
  wait "$pid"
}

pip_setting() {  # the value of one pip setting (env, user, global), empty if unset
  "$VENV/bin/python" -m pip config list 2>/dev/null | sed -n "s/^[^.]*\.$1='\(.*\)'$/\1/p" | tail -1
}

uv_install() {
  local uv
  uv=$(command -v uv || true)
  if [[ -z "$uv" ]]; then
    say "installing uv into $VENV (pip)"
    with_heartbeat "installing uv" "$VENV/bin/python" -m pip install --disable-pip-version-check \
      --progress-bar off uv || return 1
    uv="$VENV/bin/uv"
  fi
  local args=() value item
  value=${PIP_INDEX_URL:-$(pip_setting index-url)}
  [[ -n "$value" ]] && args+=(--index-url "$value")
  value=${PIP_EXTRA_INDEX_URL:-$(pip_setting extra-index-url)}
  for item in $value; do args+=(--extra-index-url "$item"); done
  value=${PIP_FIND_LINKS:-$(pip_setting find-links)}
  for item in $value; do args+=(--find-links "$item"); done
  value=${PIP_CONSTRAINT:-$(pip_setting constraint)}
  for item in $value; do [[ -f "$item" ]] && args+=(--constraint "$item"); done
  value=${PIP_CERT:-$(pip_setting cert)}
  [[ -n "$value" && -f "$value" ]] && export SSL_CERT_FILE="$value"
  export UV_HTTP_TIMEOUT=${UV_HTTP_TIMEOUT:-${PIP_DEFAULT_TIMEOUT:-180}}
  say "installing reporting${EXTRAS:+ with [$EXTRAS]} with uv"
  # pip takes the best version across every index and link; uv takes the first index that has a package
  with_heartbeat "installing with uv" "$uv" pip install --python "$VENV/bin/python" --index-strategy unsafe-best-match \
    "${args[@]}" -e "$spec"
}

pip_install() {
  say "installing reporting${EXTRAS:+ with [$EXTRAS]} with pip"
  with_heartbeat "installing with pip" "$VENV/bin/python" -m pip install --disable-pip-version-check \
    --progress-bar off -e "$spec"
}

if [[ "${REPORTING_SETUP_INSTALLER:-uv}" != "pip" ]] && uv_install; then
  :
else
  [[ "${REPORTING_SETUP_INSTALLER:-uv}" != "pip" ]] && say "uv could not install; using pip instead"
  pip_install
fi
echo "$want" > "$stamp"
say "done: $VENV is ready"
