# Sourced by tests and benchmarks: where the reference tools live.
SLM_DEPS_DIR=${SLM_DEPS_DIR:-$HOME/.cache/slm}
export SLM_NODE_MODULES=${SLM_NODE_MODULES:-$SLM_DEPS_DIR/node/node_modules}
export SLM_GGML_DIR=${SLM_GGML_DIR:-$SLM_NODE_MODULES/@node-llama-cpp/linux-x64/bins/linux-x64}
export SLM_PYTHON=${SLM_PYTHON:-/usr/bin/python3}
# ../shared beside the checkout (CI and developers); absent in a user's clone.
if [ -z "${SLM_SHARED:-}" ]; then
    _top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    for _c in "$_top/../shared" "/work/shared"; do
        if [ -d "$_c/vocab" ]; then SLM_SHARED=$(cd "$_c" && pwd); break; fi
    done
fi
export SLM_SHARED=${SLM_SHARED:-}
