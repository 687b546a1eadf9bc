#!/usr/bin/env bash
# Installs this checkout's agent as a systemd service on a Linux VM (agents/vm/README.md; README "Run
# it for real"). As root, after `npm ci` in this checkout:
#
#   MESH_AGENT_TOKEN=… agents/vm/install-service.sh --server https://mesh.example.com [--name vm-1]
#
# It creates the user the agent runs as (default mesh-agent, home /var/lib/agent-mesh), writes
# /etc/agent-mesh/agent.env (the token, mode 0600), /etc/agent-mesh/agent.json (the agent's
# settings, `--config`) and /etc/systemd/system/agent-mesh-agent.service, then starts it. The token
# comes from MESH_AGENT_TOKEN or is asked for: never an argument, which `ps` would show.
# `--root <dir>` writes the files under <dir> instead of / and touches nothing else (tests).
set -euo pipefail

usage() {
  cat <<USAGE
usage: MESH_AGENT_TOKEN=… $0 --server <mesh URL> [--name <agent name>] [--capacity <n>]
       [--user <name>] [--memory <MemoryMax>] [--cpu <CPUQuota>] [--tasks <TasksMax>] [--node <path>] [--root <dir>]
defaults: --name \$(hostname), --capacity 1, --user mesh-agent, --memory 8G, --cpu 200%, --tasks 2048
USAGE
}

project=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../runtime/install-checks.sh
. "$project/agents/runtime/install-checks.sh"
server="" name=$(hostname | tr -c 'A-Za-z0-9._\n-' '-') capacity=1 user=mesh-agent memory=8G cpu=200% tasks=2048 root="" node=$(command -v node || true)
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server=${2:?--server needs a URL}; shift 2 ;;
    --name) name=${2:?--name needs a name}; shift 2 ;;
    --capacity) capacity=${2:?--capacity needs a number}; shift 2 ;;
    --user) user=${2:?--user needs a name}; shift 2 ;;
    --memory) memory=${2:?--memory needs a size}; shift 2 ;;
    --cpu) cpu=${2:?--cpu needs a percentage}; shift 2 ;;
    --tasks) tasks=${2:?--tasks needs a number}; shift 2 ;;
    --node) node=${2:?--node needs a path}; shift 2 ;;
    --root) root=${2:?--root needs a folder}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-service: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
check_install_inputs
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then echo "install-service: run it as root (it creates a user and a systemd unit)" >&2; exit 2; fi
read_agent_token

home=/var/lib/agent-mesh
etc="$root/etc/agent-mesh"
if [ -z "$root" ] && ! id "$user" >/dev/null 2>&1; then
  useradd --system --home-dir "$home" --create-home --shell /usr/sbin/nologin "$user"
  echo "created user $user (home $home)"
fi
mkdir -p "$etc" "$root/etc/systemd/system" "$root$home"
# The token: root's, mode 0600 from the start (umask), read by systemd before it drops to $user.
( umask 077; printf 'MESH_AGENT_TOKEN=%s\n' "$token" > "$etc/agent.env" )
cat > "$etc/agent.json" <<JSON
{
  "kind": "vm",
  "server": "$server",
  "name": "$name",
  "capacity": $capacity,
  "state-dir": "$home/$name",
  "workdir": "$home"
}
JSON
sed -e "s|@PROJECT@|$project|g" -e "s|@NODE@|$node|g" -e "s|@USER@|$user|g" -e "s|@HOME@|$home|g" \
    -e "s|@MEMORY@|$memory|g" -e "s|@CPU@|$cpu|g" -e "s|@TASKS@|$tasks|g" \
    "$project/agents/vm/agent-mesh-agent.service" > "$root/etc/systemd/system/agent-mesh-agent.service"
echo "wrote $etc/agent.env (0600), $etc/agent.json and $root/etc/systemd/system/agent-mesh-agent.service"
[ -z "$root" ] || exit 0

chown -R "$user:$user" "$home"
systemctl daemon-reload
systemctl enable --now agent-mesh-agent.service
echo "started: systemctl status agent-mesh-agent; journalctl -u agent-mesh-agent -f"
echo "log the CLIs in as $user, e.g.: sudo -u $user -H claude /login (its HOME is $home)"
