#!/usr/bin/env python3
"""Write a llama.cpp KL-divergence base file, as `llama-perplexity
--kl-divergence-base FILE` writes it, from an independent teacher.

Mirrors llama.cpp tools/perplexity/perplexity.cpp (perplexity() with
params.logits_file set, process_logits() and log_softmax() with a uint16
output), not slm's reader:

  "_logits_"  int32 n_ctx  int32 n_vocab  int32 n_chunk
  int32 tokens[n_chunk * n_ctx]   the tokenized text as tokenized (with add_bos
                                  the first token is BOS; the BOS put at the
                                  start of every other chunk for evaluation is
                                  NOT written)
  then per chunk, per position j = n_ctx/2 .. n_ctx-2 of that chunk's logits,
  a row of nv = 2*((n_vocab+1)/2) + 4 uint16:
     float32 scale = (max_logit - min_logit) / 65535, with
             min_logit = max(min over the row, max_logit - 16)
     float32 min_log_prob = min_logit - max_logit - log_sum_exp
     uint16  q[n_vocab] = logit > min_logit ? nearest_int((logit - min_logit) / scale) : 0
             (all 0 when scale == 0), then one uint16 0 of padding when n_vocab is odd
  where log_sum_exp = (float) log(sum over the row of (double) expf(logit - max_logit)).

Every step is done in float32 like the C++ (float subtraction, expf summed in
double, the 1/scale multiply and the 12582912 rounding trick of nearest_int),
with glibc's expf and log through ctypes, so the rows match llama.cpp's bytes
for the same float32 logits.  n_chunk = min(--n-chunk, len(tokens) // n_ctx) and
at least 2 * n_ctx tokens are required, as llama-perplexity does.

Logits: --gguf T.gguf (Llama forward of scripts/torch_dump.py in float64,
rounded to float32 as llama.cpp's output buffer holds them; each chunk
evaluated from an empty cache, position 0 replaced by BOS with --add-bos) or
--random-logits V (3 * standard normal, seeded; for layout tests).
Tokens: --data data.h5 (an slm dataset's split, with --add-bos BOS first as
common_tokenize(add_special = true) puts it) or random (--random-tokens N).

  kld_write.py --gguf T.gguf --data data.h5 --n-ctx 32 --n-chunk 3 --add-bos --out base.kld
  kld_write.py --random-logits 354 --random-tokens 48 --n-ctx 16 --out base.kld --save-logits z.npy
"""
import argparse
import ctypes
import ctypes.util
import math
import os
import sys

import numpy as np

_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_libm.expf.restype, _libm.expf.argtypes = ctypes.c_float, [ctypes.c_float]
F32 = np.float32


def expf(x):
    return _libm.expf(float(x))


def nearest_int(fval):
    """perplexity.cpp nearest_int: float add of 1.5 * 2^23, low mantissa bits."""
    val = np.asarray(fval, F32) + F32(12582912.0)
    i = val.view(np.int32)
    return (i & 0x007FFFFF) - 0x00400000


def log_prob_row(logits, n_vocab):
    """One row of uint16 as perplexity.cpp log_softmax(n_vocab, logits, log_prob, tok)."""
    z = np.asarray(logits, F32)
    max_logit, min_logit = F32(z[0]), F32(z[0])
    for v in z[1:]:  # the C++ loop: std::max / std::min over float
        max_logit = max(max_logit, F32(v))
        min_logit = min(min_logit, F32(v))
    min_logit = max(min_logit, F32(max_logit - F32(16)))
    sum_exp = 0.0  # double
    for v in z:
        sum_exp += expf(F32(F32(v) - max_logit))
    log_sum_exp = F32(math.log(sum_exp))
    min_log_prob = F32(F32(min_logit - max_logit) - log_sum_exp)
    scale = F32(F32(max_logit - min_logit) / F32(65535.0))
    nv = 2 * ((n_vocab + 1) // 2) + 4
    row = np.zeros(nv, np.uint16)
    row[:4] = np.frombuffer(np.array([scale, min_log_prob], F32).tobytes(), np.uint16)
    if scale != 0:
        inv_scale = F32(F32(1) / scale)
        q = nearest_int(inv_scale * (z - min_logit))  # float32 array ops
        row[4:4 + n_vocab] = np.where(z > min_logit, q, 0).astype(np.int64) & 0xFFFF
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n-ctx", type=int, required=True)
    ap.add_argument("--n-chunk", type=int, default=-1, help="chunks (-1: all the tokens allow)")
    ap.add_argument("--gguf", help="teacher GGUF (F32/F16), forward of scripts/torch_dump.py")
    ap.add_argument("--random-logits", type=int, default=0, metavar="V", help="random logits over V ids")
    ap.add_argument("--data", help="slm dataset (HDF5): tokens of --split")
    ap.add_argument("--split", default="train")
    ap.add_argument("--random-tokens", type=int, default=0, metavar="N")
    ap.add_argument("--add-bos", action="store_true", help="the model adds BOS (tokenizer.ggml.add_bos_token)")
    ap.add_argument("--bos-id", type=int, default=-1, help="default: the GGUF's tokenizer.ggml.bos_token_id")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--save-logits", help="also save the float32 logits of the written rows (.npy)")
    a = ap.parse_args()
    g = np.random.default_rng(a.seed)

    if a.gguf:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import torch
        import torch_dump
        model, n_vocab, _, _ = torch_dump.teacher_from_gguf(a.gguf)
        kv, _ = torch_dump.read_gguf(a.gguf)
        bos = a.bos_id if a.bos_id >= 0 else int(kv.get("tokenizer.ggml.bos_token_id", 1))

        def chunk_logits(x):
            with torch.no_grad():
                return model.logits(torch.tensor(x[None, :], dtype=torch.long))[0].numpy().astype(F32)
    elif a.random_logits > 0:
        n_vocab, bos = a.random_logits, max(a.bos_id, 0)

        def chunk_logits(x):
            return (3 * g.standard_normal((len(x), n_vocab))).astype(F32)
    else:
        sys.exit("give --gguf or --random-logits")

    if a.data:
        import h5py
        toks = h5py.File(a.data, "r")[a.split]["tokens"][...].astype(np.int32)
    elif a.random_tokens > 0:
        toks = g.integers(0, n_vocab, a.random_tokens).astype(np.int32)
    else:
        sys.exit("give --data or --random-tokens")
    if a.add_bos:  # common_tokenize(ctx, text, add_special = true)
        toks = np.concatenate([np.array([bos], np.int32), toks])
    n_ctx = a.n_ctx
    if len(toks) < 2 * n_ctx:
        sys.exit(f"need at least {2 * n_ctx} tokens for n_ctx {n_ctx}, have {len(toks)}")
    n_chunk = len(toks) // n_ctx if a.n_chunk < 0 else min(a.n_chunk, len(toks) // n_ctx)
    first = n_ctx // 2
    saved = []
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"_logits_")
        f.write(np.array([n_ctx], np.int32).tobytes())
        f.write(np.array([n_vocab, n_chunk], np.int32).tobytes())
        f.write(toks[:n_chunk * n_ctx].astype("<i4").tobytes())
        for c in range(n_chunk):
            x = toks[c * n_ctx:(c + 1) * n_ctx].copy()
            if a.add_bos:  # BOS first in every chunk's evaluation, not in the file
                x[0] = bos
            z = chunk_logits(x)
            for j in range(first, n_ctx - 1):  # process_logits over n_ctx - 1 - first rows
                f.write(log_prob_row(z[j], n_vocab).tobytes())
                saved.append(z[j])
    os.replace(tmp, a.out)
    if a.save_logits:
        np.save(a.save_logits, np.array(saved, F32).reshape(n_chunk, n_ctx - 1 - first, n_vocab))
    print(f"{a.out}: n_ctx {n_ctx}, n_vocab {n_vocab}, n_chunk {n_chunk}, "
          f"{n_chunk * (n_ctx - 1 - first)} rows, add_bos {a.add_bos}")


if __name__ == "__main__":
    main()
