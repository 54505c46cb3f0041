#!/usr/bin/env bash
# docs/cli.md is the output of scripts/gen_cli_doc.sh (every command's --help).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
bash "$ROOT/scripts/gen_cli_doc.sh" --check "${SLM_BIN:-$ROOT/build/slm}"
echo "ok: docs/cli.md is current"
