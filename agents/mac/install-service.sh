#!/usr/bin/env bash
# Installs this checkout's agent as a launchd agent of the logged-in user on a Mac (agents/mac/README.md;
# README "Run it for real"). As that user (not root), after `npm ci` in this checkout:
#
#   MESH_AGENT_TOKEN=… agents/mac/install-service.sh --server https://mesh.example.com [--name mac-1]
#
# It writes ~/.agent-mesh/agent.json (the agent's settings, `--config`) and
# ~/Library/LaunchAgents/com.agent-mesh.agent.plist (mode 0600: it holds the token until the agent
# has enrolled), and loads it: KeepAlive restarts the agent, logs go to ~/Library/Logs/agent-mesh/.
# While a task runs the agent keeps the Mac awake (caffeinate -w). The token comes from
# MESH_AGENT_TOKEN or is asked for, never an argument. `--root <dir>` writes under <dir> and loads nothing (tests).
set -euo pipefail

usage() {
  cat <<USAGE
usage: MESH_AGENT_TOKEN=… $0 --server <mesh URL> [--name <agent name>] [--capacity <n>] [--node <path>] [--root <dir>]
defaults: --name \$(hostname -s), --capacity 1
USAGE
}

project=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../runtime/install-checks.sh
. "$project/agents/runtime/install-checks.sh"
server="" name=$( (hostname -s 2>/dev/null || hostname) | tr -c 'A-Za-z0-9._\n-' '-') capacity=1 root="" node=$(command -v node || true)
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server=${2:?--server needs a URL}; shift 2 ;;
    --name) name=${2:?--name needs a name}; shift 2 ;;
    --capacity) capacity=${2:?--capacity needs a number}; shift 2 ;;
    --node) node=${2:?--node needs a path}; shift 2 ;;
    --root) root=${2:?--root needs a folder}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-service: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
check_install_inputs
read_agent_token

home="$root$HOME"
config="$HOME/.agent-mesh/agent.json"
logs="$HOME/Library/Logs/agent-mesh"
plist="$home/Library/LaunchAgents/com.agent-mesh.agent.plist"
mkdir -p "$home/.agent-mesh" "$home/Library/LaunchAgents" "$root$logs"
cat > "$root$config" <<JSON
{
  "kind": "mac",
  "server": "$server",
  "name": "$name",
  "capacity": $capacity,
  "state-dir": "$HOME/.agent-mesh/$name",
  "workdir": "$HOME"
}
JSON
# The token as XML text, then as a sed replacement ('&', '|' and '\' escaped).
token_sed=$(printf '%s' "$token" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' | sed -e 's/[&|\\]/\\&/g')
( umask 077; sed -e "s|@PROJECT@|$project|g" -e "s|@NODE@|$node|g" -e "s|@CONFIG@|$config|g" -e "s|@HOME@|$HOME|g" \
    -e "s|@LOGS@|$logs|g" -e "s|@PATH@|$(dirname "$node"):/usr/local/bin:/opt/homebrew/bin:/usr/bin:/bin|g" -e "s|@TOKEN@|$token_sed|g" \
    "$project/agents/mac/com.agent-mesh.agent.plist" > "$plist" )
chmod 600 "$plist"
echo "wrote $root$config and $plist (0600)"
[ -z "$root" ] || exit 0

launchctl bootout "gui/$(id -u)/com.agent-mesh.agent" 2>/dev/null || true
launchctl bootstrap "gui/$(id -u)" "$plist"
echo "started: launchctl print gui/$(id -u)/com.agent-mesh.agent; tail -f $logs/agent.log"
