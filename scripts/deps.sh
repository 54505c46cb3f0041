#!/usr/bin/env bash
# Installs what slm's build and tests need, only when missing.
#   Debian packages (apt-get, when run as root) and llama.cpp's prebuilt CPU
#   binaries from the npm package node-llama-cpp (used by tests as the
#   independent reference).  Idempotent and quiet when all is present.
set -euo pipefail

APT_PKGS=(build-essential pkg-config libopenblas-openmp-dev libhdf5-dev zlib1g-dev
          libcmocka-dev libjansson-dev libinih-dev python3 python3-torch python3-h5py
          python3-numpy chromium jq util-linux)
# make fuzz only: clang with libFuzzer and the sanitizer runtimes.
[ "${SLM_DEPS_FUZZ:-0}" = 1 ] && APT_PKGS+=(clang libclang-rt-14-dev)
# make MPI=1 and tests/e2e/test_mpi_*.sh only (they skip without it); SLM_DEPS_MPI=0 leaves it out.
[ "${SLM_DEPS_MPI:-1}" = 1 ] && APT_PKGS+=(libopenmpi-dev openmpi-bin)
# Node.js: the machine's own if present (it may not come from Debian), else Debian's.
command -v node >/dev/null 2>&1 || APT_PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || APT_PKGS+=(npm)
NODE_VER=3.22.1
DEPS_DIR=${SLM_DEPS_DIR:-$HOME/.cache/slm}

missing=()
for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "deps: missing Debian packages: ${missing[*]}" >&2
        echo "deps: run 'sudo apt-get install ${missing[*]}' or run make as root" >&2
        exit 1
    fi
fi

if [ "${SLM_SKIP_NODE:-0}" != 1 ] && [ ! -f "$DEPS_DIR/node/node_modules/node-llama-cpp/package.json" ]; then
    echo "deps: installing node-llama-cpp@$NODE_VER (CPU build) into $DEPS_DIR/node" >&2
    mkdir -p "$DEPS_DIR/node"
    (cd "$DEPS_DIR/node" && [ -f package.json ] || echo '{"private":true}' > package.json)
    (cd "$DEPS_DIR/node" && npm install --silent --no-audit --no-fund --omit=optional \
        "node-llama-cpp@$NODE_VER" "@node-llama-cpp/linux-x64@$NODE_VER" >/dev/null) || {
        echo "deps: npm install of node-llama-cpp failed; llama.cpp reference tests will be skipped" >&2; }
fi
exit 0
