#!/usr/bin/env bash
# tests/e2e/test_data_cli.sh — `slm data prepare|show` and `slm info` from the
# user's side: bad records named by file:line with exit 2 and nothing written
# (--on-error fail), skipped + reject file (--on-error skip), over-long
# records, template refusal, vocabulary mismatch on an existing dataset, the
# highlighted `data show` output, and `slm info` numbers checked with h5py.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
SLM=${SLM_BIN:-./slm}
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED not set (no real vocabularies)"; exit 77; }
GPT2=$SLM_SHARED/vocab/ggml-vocab-gpt-2.gguf
SPM=$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf
T=$(mktemp -d /tmp/slm_e2e_datacli.XXXXXX)
trap 'rm -rf "$T"' EXIT
rc=0
fail() { echo "FAIL: $*"; rc=1; }

cat > "$T/in.jsonl" <<'J'
{"text": "fine record"}
{"text": "broken
{"messages": [{"role": "wizard", "content": "x"}]}
{"prompt": "only a prompt"}

{"text": "this record is much too long for the limit that the test sets below, by far"}
{"prompt": "What is the capital of France?", "completion": " Paris."}
J
# fail (default): exit 2, file:line, nothing written
"$SLM" data prepare --vocab "$GPT2" --input "$T/in.jsonl" --out "$T/f.h5" 2> "$T/err"; e=$?
[ $e -eq 2 ] || fail "bad record: exit $e, expected 2"
grep -q "in.jsonl:2: malformed JSON" "$T/err" || { cat "$T/err"; fail "no file:line for the malformed record"; }
[ ! -e "$T/f.h5" ] || fail "output written despite --on-error fail"
ls "$T" | grep -q tmp && fail "temporary file left behind"

# skip: 4 bad records reported, reject file holds exactly their lines
"$SLM" data prepare --vocab "$GPT2" --input "$T/in.jsonl" --out "$T/s.h5" --on-error skip --max-tokens 12 --val-fraction 0 > "$T/out" 2> "$T/err"; e=$?
[ $e -eq 0 ] || { cat "$T/err"; fail "skip: exit $e"; }
for want in "in.jsonl:2: skipped: malformed JSON" "in.jsonl:3: skipped: unknown role 'wizard'" \
            "in.jsonl:4: skipped: missing field 'completion'" "in.jsonl:6: skipped: record has" \
            "4 bad record(s) skipped"; do
  grep -qF "$want" "$T/err" || fail "stderr lacks '$want'"
done
sed -n '2,4p;6p' "$T/in.jsonl" | cmp -s - "$T/s.h5.rejects" || fail "reject file differs from the bad lines"
grep -q "records 6: bad 4" "$T/out" || { cat "$T/out"; fail "summary counts"; }

# slm info agrees with h5py on documents, tokens and the masked fraction
"$SLM" info "$T/s.h5" > "$T/info" || fail "slm info exit"
cat "$T/info"
if "$SLM_PYTHON" -c "import h5py" 2>/dev/null; then
  want=$("$SLM_PYTHON" - "$T/s.h5" <<'P'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
n = sum(len(f[s]["tokens"]) for s in ("train", "val"))
d = sum(len(f[s]["doc_offsets"]) - 1 for s in ("train", "val"))
m = sum(int(f[s]["loss_mask"][...].sum()) for s in ("train", "val"))
print("total %10d documents %12d tokens   masked (learned) %6.2f%%" % (d, n, 100.0 * m / n))
P
)
  grep -qF "$want" "$T/info" || fail "slm info total line differs from h5py: '$want'"
else
  echo "note: h5py missing, slm info numbers not cross-checked"
fi
grep -q "sources: 1 files" "$T/info" || fail "slm info sources"
# other slm HDF5 formats are listed generically (attributes, datasets with type and shape);
# (logit dumps, format "slm.logit_dump", are described and validated by distill/: test_distill_*)
if "$SLM_PYTHON" -c "import h5py" 2>/dev/null; then
  "$SLM_PYTHON" - "$T/dump.h5" <<'P'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["format"] = "slm.example"; f.attrs["k"] = 16; f.attrs["teacher"] = "teacher.gguf"
    f.create_dataset("topk_ids", data=np.zeros((3, 8, 16), np.int32), compression="gzip", chunks=True)
    f.create_dataset("topk_logprobs", data=np.zeros((3, 8, 16), np.float16))
P
  "$SLM" info "$T/dump.h5" > "$T/info2" || fail "slm info on another slm HDF5 file"
  cat "$T/info2"
  for want in '@format = "slm.example"' '@k = 16' '@teacher = "teacher.gguf"' \
              '/topk_ids' 'int32    [3, 8, 16]' 'float16  [3, 8, 16]'; do
    grep -qF "$want" "$T/info2" || fail "generic slm info lacks '$want'"
  done
fi

# a dataset of another vocabulary is not extended
"$SLM" data prepare --vocab "$SPM" --input "$T/in.jsonl" --out "$T/s.h5" --on-error skip 2> "$T/err"; e=$?
[ $e -eq 2 ] || fail "vocab mismatch: exit $e, expected 2"
grep -q "another vocabulary" "$T/err" || fail "vocab mismatch message"

# templates: gpt-2 lacks ChatML markers -> refused; llama2 on llama-spm works
printf '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\n' > "$T/chat.jsonl"
"$SLM" data show --vocab "$GPT2" --input "$T/chat.jsonl" --format chat 2> "$T/err"; e=$?
[ $e -eq 2 ] || fail "chatml on gpt-2: exit $e, expected 2"
grep -q "needs the special token '<|im_start|>'" "$T/err" || fail "missing-marker message"
"$SLM" data show --vocab "$SPM" --input "$T/chat.jsonl" --template llama2 > "$T/show" || fail "show llama2"
cat "$T/show"
# expected rendering written from Meta's template: BOS, "[INST] <<SYS>>\n...", learned " Hello! </s>"
# (the space before [INST] is SentencePiece's dummy prefix, as llama.cpp tokenizes it)
printf '<s> [INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST][[ Hello! </s>]]\n' > "$T/want"
tail -n +2 "$T/show" | cmp -s - "$T/want" || { diff <(tail -n +2 "$T/show") "$T/want"; fail "llama2 rendering / learned span"; }
head -1 "$T/show" | grep -q "learned (template llama2)" || fail "show header"
"$SLM" data show --vocab "$SPM" --input "$T/in.jsonl" -n 2 > "$T/show2"
grep -qF "=== $T/in.jsonl:2: BAD RECORD: malformed JSON" "$T/show2" || fail "show bad record"
[ $rc -eq 0 ] && echo PASS
exit $rc
