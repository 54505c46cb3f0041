#!/usr/bin/env python3
"""scripts/check_chat_h5py.py DATASET.h5 VOCAB.gguf CHAT.jsonl TEMPLATE

Independent check of chat-template rendering and loss masks: re-implements
the template (docs/data.md, after the models' published templates) as a list
of (piece, is_special, learned) segments, tokenizes every segment with
llama.cpp (node-llama-cpp; special markers with special-token parsing on,
each must be one token), and requires the dataset's documents (h5py) to equal
the concatenation, token for token and mask for mask."""
import json, os, subprocess, sys, tempfile

import h5py

h5path, vocab, chat, template = sys.argv[1:5]


def segments(msgs, eos):
    seg = []  # (text or {"special": s}, learned)
    if template == "chatml":
        for m in msgs:
            a = m["role"] == "assistant"
            seg += [({"special": "<|im_start|>"}, 0), (m["role"] + "\n", 0), (m["content"], a),
                    ({"special": "<|im_end|>"}, a), ("\n", 0)]
        seg.append(("EOS", 0))
    elif template == "llama3":
        seg.append(({"special": "<|begin_of_text|>"}, 0))
        for m in msgs:
            a = m["role"] == "assistant"
            seg += [({"special": "<|start_header_id|>"}, 0), (m["role"], 0),
                    ({"special": "<|end_header_id|>"}, 0), ("\n\n", 0), (m["content"], a),
                    ({"special": "<|eot_id|>"}, a)]
        seg.append(("EOS", 0))
    else:
        sys.exit("template %s not covered" % template)
    return seg


recs = [json.loads(l) for l in open(chat, encoding="utf-8") if l.strip()]
items = []
for r in recs:
    for (t, _) in segments(r["messages"], None):
        if t != "EOS" and t != "":
            items.append(t)
with tempfile.TemporaryDirectory() as tmp:
    i, o = os.path.join(tmp, "i.json"), os.path.join(tmp, "o.json")
    json.dump(items, open(i, "w"))
    subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref_tokenize.mjs"),
                    vocab, i, o], check=True, stderr=subprocess.DEVNULL)
    ref = json.load(open(o))
it = iter(ref["ids"])
want = []
for r in recs:
    toks, mask = [], []
    if ref["add_bos"] and template != "llama3":
        toks.append(ref["bos"]); mask.append(0)
    for (t, learned) in segments(r["messages"], ref["eos"]):
        if t == "EOS":
            ids = [ref["eos"]]
        elif t == "":
            ids = []
        else:
            ids = next(it)
            if isinstance(t, dict) and len(ids) != 1:
                sys.exit("FAIL: llama.cpp does not see %s as one token: %r" % (t["special"], ids))
        toks += ids; mask += [int(learned)] * len(ids)
    want.append((tuple(toks), tuple(mask)))

f = h5py.File(h5path, "r")
if f.attrs["template"] not in (template, template.encode()):
    sys.exit("FAIL: template attribute %r" % f.attrs["template"])
got = []
for s in ("train", "val"):
    t, m, off = (f[s][k][...] for k in ("tokens", "loss_mask", "doc_offsets"))
    for d in range(len(off) - 1):
        got.append((tuple(int(x) for x in t[off[d]:off[d + 1]]), tuple(int(x) for x in m[off[d]:off[d + 1]])))
if sorted(got) != sorted(want):
    for w in want:
        if w not in got:
            print("expected (not found):", w)
            break
    for g in got:
        if g not in want:
            print("found (not expected):", g)
            break
    sys.exit("FAIL: %s documents differ from the reference rendering" % template)
learned = sum(sum(m) for _, m in got)
print("OK: %s: %d chat documents match llama.cpp token for token and mask for mask (%d learned tokens)"
      % (template, len(got), learned))
