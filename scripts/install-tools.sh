#!/usr/bin/env bash
# Installs the tools the test suites run, once: the one place their versions are pinned.
# Idempotent and quick when everything is there; each group installs only what is missing.
#
#   bash scripts/install-tools.sh [system|python|node|all]...   (default: all)
#
#   system  Debian packages: rabbitmq-server (the broker suites start their own node),
#           chromium (browser and extension tests; TMBRIDGE_SKIP_BROWSER=1 leaves it out),
#           openssl (a CA for the TLS real-client run)
#   python  .venv (maturin, pytest, mypy, pyral, python-gitlab, Robot Framework 7, behave),
#           .venv-rf6 and .venv-rf4 (older Robot Framework), .venv-allure (allure-pytest)
#   node    node_modules (wasm-opt, playwright-core, typescript, cucumber-js) and the
#           allure-vitest sample's packages
#
# `all` runs the three groups side by side: they wait on the network and on unpacking,
# not on each other. scripts/test.sh starts it in the background while cargo compiles.
set -euo pipefail
cd "$(dirname "$0")/.."

retry() {
  local i
  for i in 1 2 3; do
    "$@" && return 0
    echo "retry $i: $*" >&2
    sleep 5
  done
  return 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- system ------------------------------------------------------------------------

install_system() {
  local missing=()
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  command -v openssl > /dev/null 2>&1 || missing+=(openssl)
  if [ "${TMBRIDGE_SKIP_BROWSER:-0}" != 1 ] && ! command -v chromium > /dev/null 2>&1; then
    missing+=(chromium)
  fi
  [ "${#missing[@]}" -eq 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  retry as_root apt-get update -qq
  retry as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The package starts RabbitMQ's service where an init system runs; the tests need none
  # and start their own node (private name, ports and data folder).
  if command -v systemctl > /dev/null 2>&1 && systemctl is-active --quiet rabbitmq-server 2> /dev/null; then
    as_root systemctl disable --now rabbitmq-server || true
  elif command -v service > /dev/null 2>&1; then
    as_root service rabbitmq-server stop > /dev/null 2>&1 || true
  fi
}

# --- python ------------------------------------------------------------------------

# pyral 1.7 needs Python >= 3.12; 1.6.0 is the newest for Python 3.11.
MAIN_VENV_PINS=(maturin==1.16.0 pytest==9.2.0 mypy==2.4.1 pyral==1.6.0 python-gitlab==8.6.0
  robotframework==7.1.1 behave==1.2.6)
RF6_PINS=(robotframework==6.1.1)
RF4_PINS=(robotframework==4.1.3)
ALLURE_PINS=(allure-pytest==2.16.2 pytest==9.2.0 pytest-rerunfailures==16.7)

venv_with() { # venv pins...: creates the venv and installs the pins it lacks
  local venv=$1 pin missing=()
  shift
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  for pin in "$@"; do
    "$venv/bin/python" - "$pin" 2> /dev/null << 'EOF' || missing+=("$pin")
import importlib.metadata as m, sys
name, version = sys.argv[1].split("==")
sys.exit(m.version(name) != version)
EOF
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  retry "$venv/bin/pip" install -q --disable-pip-version-check "${missing[@]}"
}

install_python() {
  # Separate venvs, so side by side.
  venv_with .venv "${MAIN_VENV_PINS[@]}" &
  local main=$!
  venv_with .venv-rf6 "${RF6_PINS[@]}" &
  local rf6=$!
  venv_with .venv-rf4 "${RF4_PINS[@]}" &
  local rf4=$!
  venv_with .venv-allure "${ALLURE_PINS[@]}"
  wait "$main" && wait "$rf6" && wait "$rf4"
}

# --- node --------------------------------------------------------------------------

npm_ci_once() { # folder: npm ci unless node_modules was installed from this very lockfile
  local stamp="$1/node_modules/.tmbridge-lockfile"
  cmp -s "$1/package-lock.json" "$stamp" 2> /dev/null && return 0
  (cd "$1" && retry npm ci --no-audit --no-fund --loglevel=error)
  cp "$1/package-lock.json" "$stamp"
}

install_node() {
  npm_ci_once . &
  local root=$!
  npm_ci_once tests/formats/allure-vitest
  wait "$root"
}

# --- main --------------------------------------------------------------------------

groups=("$@")
[ "${#groups[@]}" -eq 0 ] && groups=(all)
for group in "${groups[@]}"; do
  case "$group" in
    system) install_system ;;
    python) install_python ;;
    node) install_node ;;
    all)
      install_system &
      system=$!
      install_python &
      python=$!
      install_node
      wait "$system" && wait "$python"
      ;;
    *)
      echo "install-tools.sh: unknown group '$group' (system, python, node or all)" >&2
      exit 2
      ;;
  esac
done
