#!/usr/bin/env bash
# Installs Debian's rabbitmq-server when it is missing (idempotent). The tests start
# their own node on loopback (private name, ports and data folder): a system service
# that the package may start is stopped and disabled so it holds nothing of theirs.
set -euo pipefail
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  exit 0
fi
sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y --no-install-recommends rabbitmq-server \
  || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends rabbitmq-server; }
# The package starts its service where an init system runs; the tests need none.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
  "${sudo[@]}" systemctl disable --now rabbitmq-server || true
elif command -v service >/dev/null 2>&1; then
  "${sudo[@]}" service rabbitmq-server stop >/dev/null 2>&1 || true
fi
test -x /usr/lib/rabbitmq/bin/rabbitmq-server
