#!/usr/bin/env bash
# data/samples is what scripts/gen_samples.py writes (deterministic, committed
# up to date), holds >= 1 MB of text, and keeps the held-out FAQ honest: no
# held-out question occurs in any training file (documents, support chats,
# training FAQ), while every held-out fact is stated somewhere in them (a chat
# record or a document paragraph naming the entity and containing the answer).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${SLM_PYTHON:-/usr/bin/python3}
S="$ROOT/data/samples"
T=$(mktemp -d /tmp/slm-samples.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$PY" "$ROOT/scripts/gen_samples.py" "$T/s" || fail "gen_samples.py failed"
diff -r -q "$T/s" "$S" || fail "data/samples differs from scripts/gen_samples.py output (rerun it and commit)"
bytes=$(find "$S" -type f -exec cat {} + | wc -c)
[ "$bytes" -ge 1000000 ] || fail "data/samples has $bytes bytes, expected >= 1 MB"

"$PY" - "$S" <<'PY'
import json, os, re, sys
S = sys.argv[1]
paras = []  # training text units: document paragraphs, chat records, FAQ records
for d, _, files in os.walk(os.path.join(S, "docs")):
    for f in files:
        paras += open(os.path.join(d, f), encoding="utf-8").read().split("\n\n")
for name in ("support_chats.jsonl", "faq.jsonl"):
    for line in open(os.path.join(S, name), encoding="utf-8"):
        r = json.loads(line)
        paras.append(" ".join(m["content"] for m in r["messages"]) if "messages" in r
                     else r["prompt"] + r["completion"])
held = [json.loads(l) for l in open(os.path.join(S, "heldout", "faq.jsonl"), encoding="utf-8")]
assert len(held) >= 10, f"only {len(held)} held-out questions"
bad = 0
for h in held:
    q = re.sub(r"^Question: |\nAnswer:$", "", h["prompt"])
    if any(q in p for p in paras):
        print(f"FAIL: held-out question {q!r} occurs in the training text"); bad += 1
    ent = re.search(r"\b([A-Z]{2}-\d+|E\d\d|Basic|Team|Enterprise)\b", q).group(1)
    ans = h["completion"].strip().rstrip(".").lower()
    n = sum(1 for p in paras if re.search(r"\b" + re.escape(ent) + r"\b", p) and ans in p.lower())
    if n == 0:
        print(f"FAIL: the answer to {q!r} ({ans!r}) is nowhere stated next to {ent}"); bad += 1
    else:
        print(f"ok   {q!r}: fact stated in {n} training paragraphs/records")
sys.exit(1 if bad else 0)
PY
echo "ok: data/samples reproducible, $bytes bytes, held-out FAQ unseen but answerable from the training text"
