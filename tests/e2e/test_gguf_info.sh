#!/usr/bin/env bash
# `slm info` on GGUF files written by an independent Python writer
# (scripts/gguf_write_sample.py): the text and --json outputs report what the
# writer says it wrote; corrupt, truncated, non-GGUF and missing files exit 2
# with a message naming the file and the field; --help exits 0.
set -uo pipefail
cd "$(dirname "$0")/../.."
SLM=${SLM_BIN:-./slm}
PY=${SLM_PYTHON:-python3}
[ -x "$SLM" ] || { echo "FAIL: $SLM not built"; exit 1; }
tmp=$(mktemp -d /tmp/slm_info.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for align in 32 64; do
    f="$tmp/sample_$align.gguf"
    "$PY" scripts/gguf_write_sample.py "$f" --alignment $align > "$tmp/desc_$align.json" || fail "sample writer"
    "$SLM" info "$f" > "$tmp/info.txt" 2> "$tmp/err.txt" || fail "slm info exit $? on a valid file: $(cat "$tmp/err.txt")"
    grep -q "^architecture:  llama$" "$tmp/info.txt" || fail "architecture line missing"
    grep -qE "^  head_count_kv +2$|^  attention.head_count_kv +2$" "$tmp/info.txt" || fail "hyper-parameter head_count_kv"
    grep -qE "^  bos +1 '<s>'$" "$tmp/info.txt" || fail "bos line"
    grep -qE "^  tokens +5$" "$tmp/info.txt" || fail "vocab size"
    grep -qE "^  blk.0.attn_q.weight +F16 +\[64, 64\] +8192$" "$tmp/info.txt" || fail "tensor line for attn_q"
    grep -qE "^  blk.0.ffn_up.weight +Q8_0 +\[64, 32\] +2176$" "$tmp/info.txt" || fail "tensor line for ffn_up"
    grep -q "alignment $align," "$tmp/info.txt" || fail "alignment $align not reported"
    "$SLM" info --json "$f" > "$tmp/info.json" || fail "slm info --json exit $?"
    "$PY" - "$tmp/desc_$align.json" "$tmp/info.json" <<'PYEOF' || fail "--json disagrees with the writer"
import json, sys
want = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))
for k in ("alignment", "data_offset", "file_size", "n_params", "tensor_bytes"):
    assert got[k] == want[k], (k, got[k], want[k])
assert got["version"] == 3 and got["architecture"] == "llama"
assert len(got["metadata"]) == want["n_kv"], len(got["metadata"])
m = got["metadata"]
assert m["llama.embedding_length"] == 64 and m["llama.attention.head_count_kv"] == 2
assert abs(m["llama.attention.layer_norm_rms_epsilon"] - 1e-5) < 1e-12
assert m["general.sample.f64"] == -0.125 and m["general.sample.i64"] == -5 and m["general.sample.flag"] is True
assert m["tokenizer.ggml.tokens"]["n"] == 5 and m["tokenizer.ggml.tokens"]["type"] == "STRING"
assert len(got["tensors"]) == len(want["tensors"])
for g, w in zip(got["tensors"], want["tensors"]):
    for k in ("name", "type", "shape", "n_elements", "bytes", "offset"):
        assert g[k] == w[k], (w["name"], k, g[k], w[k])
print("json ok")
PYEOF
done

f="$tmp/sample_32.gguf"
size=$(stat -c %s "$f")
# truncated: inside the tensor infos, and inside the tensor data
for cut in 30 600 $((size - 1000)); do
    head -c $cut "$f" > "$tmp/trunc.gguf"
    "$SLM" info "$tmp/trunc.gguf" > /dev/null 2> "$tmp/err.txt"; rc=$?
    [ $rc -eq 2 ] || fail "truncated to $cut bytes: exit $rc, expected 2"
    grep -q "trunc.gguf: .*found .*expected" "$tmp/err.txt" || fail "truncated message lacks file/field: $(cat "$tmp/err.txt")"
done
# a huge tensor count in the header
cp "$f" "$tmp/count.gguf"
printf '\xff\xff\xff\xff\xff\xff\xff\x7f' | dd of="$tmp/count.gguf" bs=1 seek=8 conv=notrunc status=none
"$SLM" info "$tmp/count.gguf" > /dev/null 2> "$tmp/err.txt"; rc=$?
[ $rc -eq 2 ] || fail "huge n_tensors: exit $rc, expected 2"
grep -q "count.gguf: header n_tensors: found 9223372036854775807" "$tmp/err.txt" || fail "n_tensors message: $(cat "$tmp/err.txt")"
# version 2
cp "$f" "$tmp/v2.gguf"
printf '\x02' | dd of="$tmp/v2.gguf" bs=1 seek=4 conv=notrunc status=none
"$SLM" info "$tmp/v2.gguf" > /dev/null 2> "$tmp/err.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "v2.gguf: version: found 2, expected 3" "$tmp/err.txt" || fail "version 2: exit $rc: $(cat "$tmp/err.txt")"
# not a GGUF at all, and a missing file
echo "hello world, this is text not a model" > "$tmp/text.gguf"
"$SLM" info "$tmp/text.gguf" > /dev/null 2> "$tmp/err.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "text.gguf: magic: found" "$tmp/err.txt" || fail "text file: exit $rc: $(cat "$tmp/err.txt")"
"$SLM" info "$tmp/missing.gguf" > /dev/null 2> "$tmp/err.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "missing.gguf" "$tmp/err.txt" || fail "missing file: exit $rc"
# usage
"$SLM" info > /dev/null 2>&1; [ $? -eq 2 ] || fail "no FILE should exit 2"
"$SLM" info --bogus "$f" > /dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option should exit 2"
"$SLM" info --help | grep -q "usage: slm info" || fail "--help"
# an HDF5 signature goes to the HDF5 describer, not the GGUF reader
printf '\x89HDF\r\n\x1a\n' > "$tmp/x.h5"; head -c 64 /dev/zero >> "$tmp/x.h5"
"$SLM" info "$tmp/x.h5" > /dev/null 2> "$tmp/err.txt"
grep -q "magic" "$tmp/err.txt" && fail "HDF5 file was parsed as GGUF"
echo "ok: slm info"
