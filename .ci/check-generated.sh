#!/usr/bin/env bash
# Generated files that are committed must match what the code generates now (run after the build).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent schema:check -w @bastion-mcp/runner
if npm run --silent -w @bastion-mcp/operator 2>/dev/null | grep -q 'crds:check'; then
  npm run --silent crds:check -w @bastion-mcp/operator
fi
