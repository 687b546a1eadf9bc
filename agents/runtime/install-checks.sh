# Sourced by agents/mac/install-service.sh and agents/vm/install-service.sh: what both check before
# writing anything, with one line and exit code 2 for what is missing.

# The mesh's URL ($server), a Node to run the agent ($node) and a built checkout ($project).
check_install_inputs() {
  [ -n "$server" ] || { echo "install-service: --server is required: the mesh's URL, e.g. https://mesh.example.com" >&2; usage >&2; exit 2; }
  [ -n "$node" ] && [ -x "$node" ] || { echo "install-service: node was not found: install Node.js 20.19 or newer, or pass --node <path>" >&2; exit 2; }
  [ -f "$project/dist/mesh-agent.js" ] || { echo "install-service: $project is not built: run 'npm ci' there first" >&2; exit 2; }
}

# Sets $token: MESH_AGENT_TOKEN, else asked for (never an argument, which `ps` would show).
read_agent_token() {
  token=${MESH_AGENT_TOKEN:-}
  if [ -z "$token" ]; then
    read -r -s -p "agent (enrollment) token of the mesh: " token; echo
  fi
  [ ${#token} -ge 32 ] || { echo "install-service: the token must be the mesh's agent token (32 characters or more); set MESH_AGENT_TOKEN" >&2; exit 2; }
}
