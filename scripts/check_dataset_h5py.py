#!/usr/bin/env python3
"""scripts/check_dataset_h5py.py — independent check of an slm dataset.

Reads DATASET.h5 with h5py and rebuilds, without slm, what it must contain:
the documents of the corpus (own reading of .txt/.md/.jsonl, gzip by magic),
tokenized by llama.cpp (node-llama-cpp, scripts/ref_tokenize.mjs) on the same
vocabulary, with the loss-mask rules of docs/data.md (text: all 1; prompt 0,
completion 1; EOS appended with mask 1; BOS with mask 0 when the vocabulary
prepends one), exact duplicates dropped.  Compares documents as multisets
(the split is slm's choice), the source list (paths, sizes, SHA-256), the
attributes and the storage (chunked, deflate).  Exit 0 if all agree.

usage: check_dataset_h5py.py DATASET.h5 VOCAB.gguf CORPUS_DIR [--prefix-of OLD.h5]
"""
import gzip, hashlib, json, os, subprocess, sys, tempfile

import h5py
import numpy as np

EXTS = (".txt", ".md", ".markdown", ".text", ".jsonl", ".json")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def corpus_files(root):
    out = []

    def walk(d):
        for name in sorted(os.listdir(d), key=lambda s: s.encode()):
            if name.startswith("."):
                continue
            p = os.path.join(d, name)
            if os.path.isdir(p):
                walk(p)
            else:
                base = name[:-3] if name.lower().endswith(".gz") else name
                if base.lower().endswith(EXTS):
                    out.append(p)

    walk(root)
    return out


def read_bytes(p):
    raw = open(p, "rb").read()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def documents(path):
    """List of documents, each a list of (text, mask) segments."""
    data = read_bytes(path)
    base = path[:-3] if path.lower().endswith(".gz") else path
    if not base.lower().endswith((".jsonl", ".json")):
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        text = data.decode("utf-8", errors="replace")
        return [[(text, 1)]] if text else []
    docs = []
    for line in data.decode("utf-8").split("\n"):
        if not line.strip():
            continue
        rec = json.loads(line)
        if "prompt" in rec:
            docs.append([(rec["prompt"], 0), (rec["completion"], 1)])
        elif rec["text"]:
            docs.append([(rec["text"], 1)])
    return docs


def main():
    h5path, vocab, corpus = sys.argv[1:4]
    old = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--prefix-of" else None
    files = corpus_files(corpus)
    docs = [d for f in files for d in documents(f)]
    texts = [t for d in docs for (t, _) in d]
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        json.dump(texts, open(inp, "w"))
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run(["node", os.path.join(here, "ref_tokenize.mjs"), vocab, inp, outp],
                       check=True, stderr=subprocess.DEVNULL)
        ref = json.load(open(outp))
    ids = iter(ref["ids"])
    expected = []
    seen = set()
    for d in docs:
        toks, mask = [], []
        if ref["add_bos"]:
            toks.append(ref["bos"]); mask.append(0)
        for (_, m) in d:
            t = next(ids)
            toks += t; mask += [m] * len(t)
        toks.append(ref["eos"]); mask.append(1)
        key = (tuple(toks), tuple(mask))
        if key not in seen:
            seen.add(key)
            expected.append(key)

    f = h5py.File(h5path, "r")
    a = f.attrs
    def s(v):
        return v.decode() if isinstance(v, bytes) else str(v)
    if s(a["format"]) != "slm.dataset": fail("format attribute %r" % a["format"])
    if int(a["format_version"]) != 1: fail("format_version %r" % a["format_version"])
    if len(s(a["tokenizer_fingerprint"])) != 64: fail("fingerprint %r" % a["tokenizer_fingerprint"])
    if int(a["eos_id"]) != ref["eos"]: fail("eos_id %d, llama.cpp says %d" % (a["eos_id"], ref["eos"]))
    V = int(a["vocab_size"])
    got = []
    for split in ("train", "val"):
        g = f[split]
        t, m, off = g["tokens"], g["loss_mask"], g["doc_offsets"]
        if t.dtype != np.int32 or m.dtype != np.uint8 or off.dtype != np.int64:
            fail("dtypes %s %s %s" % (t.dtype, m.dtype, off.dtype))
        if len(t) and (t.chunks is None or t.compression != "gzip"):
            fail("/%s/tokens not chunked+deflate (chunks %r, compression %r)" % (split, t.chunks, t.compression))
        t, m, off = t[...], m[...], off[...]
        if off[0] != 0 or off[-1] != len(t) or len(m) != len(t) or np.any(np.diff(off) < 0):
            fail("/%s/doc_offsets inconsistent" % split)
        if len(t) and (t.min() < 0 or t.max() >= V): fail("token ids outside [0, %d)" % V)
        for i in range(len(off) - 1):
            got.append((tuple(int(x) for x in t[off[i]:off[i + 1]]),
                        tuple(int(x) for x in m[off[i]:off[i + 1]])))
        print("  /%s: %d docs, %d tokens" % (split, len(off) - 1, len(t)))
    if len(set(got)) != len(got): fail("dataset holds duplicate documents")
    if sorted(got) != sorted(expected):
        missing = [e for e in expected if e not in set(got)]
        extra = [g for g in got if g not in set(expected)]
        print("missing (first):", missing[:1])
        print("unexpected (first):", extra[:1])
        fail("documents differ from llama.cpp's tokenization: %d missing, %d unexpected of %d"
             % (len(missing), len(extra), len(expected)))
    src = f["sources"]
    paths = [s(p) for p in src["path"][...]]
    want = {os.path.realpath(p): p for p in files}
    if sorted(os.path.realpath(p) for p in paths) != sorted(want):
        fail("sources %r != corpus %r" % (paths, files))
    for p, size, sha in zip(paths, src["size"][...], src["sha256"][...]):
        raw = open(p, "rb").read()
        if int(size) != len(raw): fail("size of %s: %d != %d" % (p, size, len(raw)))
        if s(sha) != hashlib.sha256(raw).hexdigest(): fail("sha256 of %s" % p)
    if old:
        g = h5py.File(old, "r")
        for split in ("train", "val"):
            n_old = len(g[split]["tokens"])
            if not np.array_equal(g[split]["tokens"][...], f[split]["tokens"][:n_old]):
                fail("incremental run changed the existing /%s documents" % split)
    n_mask = sum(sum(m) for (_, m) in got)
    n_tok = sum(len(t) for (t, _) in got)
    print("OK: %d documents (%d tokens, %.1f%% learned) match llama.cpp's tokenization; "
          "%d sources with sizes and SHA-256" % (len(got), n_tok, 100.0 * n_mask / max(n_tok, 1), len(paths)))


if __name__ == "__main__":
    main()
