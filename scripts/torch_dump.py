#!/usr/bin/env python3
"""Write an slm logit dump (docs/distillation.md) from an independent PyTorch
teacher, using only h5py, numpy and PyTorch.

The teacher is a Llama in plain torch (RMSNorm, RoPE on adjacent pairs as
llama.cpp's normal mode, grouped-query attention, SwiGLU), either
  --gguf T.gguf        weights read from an F32/F16 GGUF by the minimal GGUF
                       reader below (llama.* hyper-parameters), or
  --random-teacher     random weights of a tiny shape (--vocab, --embd, ...).
The sequences come from an slm dataset (--data data.h5, windows of T+1 tokens
with stride T, as `slm dump-logits` cuts them) or are random (--seqs S).

  torch_dump.py --out dump.h5 --data data.h5 --gguf teacher.gguf --top-k 16
  torch_dump.py --out dump.h5 --random-teacher --vocab 300 --seqs 8 --seq-len 32 --top-k 8
"""
import argparse
import hashlib
import math
import struct
import sys

import h5py
import numpy as np
import torch

# Version 2: /tokens and top-k /topk_ids are uint16 when V <= 65536 (int32
# otherwise, and /topk_ids always int32 in sample mode, whose unused slots hold -1);
# version 1 is the same with int32 everywhere.
FORMAT, FORMAT_VERSION = "slm.logit_dump", 2

# ----------------------------------------------------------------- GGUF (read only)
GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
                10: "<Q", 11: "<q", 12: "<d"}


def read_gguf(path):
    """Returns (kv dict, {name: numpy array in row-major (ne[n-1], ..., ne[0])})."""
    data = open(path, "rb").read()
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from(fmt, data, off)[0]
        off += struct.calcsize(fmt)
        return v

    def string():
        nonlocal off
        n = take("<Q")
        s = data[off:off + n].decode("utf-8", "replace")
        off += n
        return s

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<I"), take("<Q")
            return [value(et) for _ in range(n)]
        return take(GGUF_SCALARS[t])

    if data[:4] != b"GGUF":
        sys.exit(f"{path}: not a GGUF file")
    off = 4
    version, n_t, n_kv = take("<I"), take("<Q"), take("<Q")
    if version != 3:
        sys.exit(f"{path}: GGUF version {version}, expected 3")
    kv = {}
    for _ in range(n_kv):
        k = string()
        kv[k] = value(take("<I"))
    infos = []
    for _ in range(n_t):
        name = string()
        nd = take("<I")
        ne = [take("<Q") for _ in range(nd)]
        typ, toff = take("<I"), take("<Q")
        infos.append((name, ne, typ, toff))
    align = kv.get("general.alignment", 32)
    start = (off + align - 1) // align * align
    tensors = {}
    for name, ne, typ, toff in infos:
        n = int(np.prod(ne))
        if typ == 0:
            a = np.frombuffer(data, np.float32, n, start + toff)
        elif typ == 1:
            a = np.frombuffer(data, np.float16, n, start + toff).astype(np.float32)
        else:
            sys.exit(f"{path}: tensor {name} has ggml type {typ}; this script reads F32/F16 only")
        tensors[name] = a.reshape(list(reversed(ne))).copy()
    return kv, tensors


# ----------------------------------------------------------------- Llama in torch
class Llama:
    def __init__(self, hp, w):
        self.hp, self.w = hp, {k: torch.tensor(v, dtype=torch.float64) for k, v in w.items()}

    def rms(self, x, g):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + self.hp["eps"]) * g

    def rope(self, x, pos):  # x (B, T, H, hs): pairs (2i, 2i+1) rotate by pos * base^(-2i/hs)
        hs = x.shape[-1]
        inv = self.hp["rope_base"] ** (-torch.arange(0, hs, 2, dtype=torch.float64) / hs)
        ang = pos[:, None].double() * inv[None, :]                # (T, hs/2)
        c, s = ang.cos()[None, :, None, :], ang.sin()[None, :, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = torch.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    def logits(self, tokens):  # tokens (B, T) -> (B, T, V)
        hp, w = self.hp, self.w
        B, T = tokens.shape
        NH, NKV = hp["n_head"], hp["n_head_kv"]
        x = w["token_embd.weight"][tokens]
        C = x.shape[-1]
        hs = C // NH
        pos = torch.arange(T)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        for l in range(hp["n_layer"]):
            p = f"blk.{l}."
            h = self.rms(x, w[p + "attn_norm.weight"])
            q = (h @ w[p + "attn_q.weight"].T).view(B, T, NH, hs)
            k = (h @ w[p + "attn_k.weight"].T).view(B, T, NKV, hs)
            v = (h @ w[p + "attn_v.weight"].T).view(B, T, NKV, hs)
            q, k = self.rope(q, pos), self.rope(k, pos)
            rep = NH // NKV
            k = k.repeat_interleave(rep, dim=2)
            v = v.repeat_interleave(rep, dim=2)
            att = torch.einsum("bthd,bshd->bhts", q, k) / math.sqrt(hs)
            att = att.masked_fill(~causal, -math.inf).softmax(-1)
            o = torch.einsum("bhts,bshd->bthd", att, v).reshape(B, T, NH * hs)
            x = x + o @ w[p + "attn_output.weight"].T
            h = self.rms(x, w[p + "ffn_norm.weight"])
            g = h @ w[p + "ffn_gate.weight"].T
            u = h @ w[p + "ffn_up.weight"].T
            x = x + (torch.nn.functional.silu(g) * u) @ w[p + "ffn_down.weight"].T
        x = self.rms(x, w["output_norm.weight"])
        out = w.get("output.weight", w["token_embd.weight"])
        return x @ out.T


def teacher_from_gguf(path):
    kv, t = read_gguf(path)
    if kv.get("general.architecture") != "llama":
        sys.exit(f"{path}: general.architecture is {kv.get('general.architecture')}, need llama")
    nh = kv["llama.attention.head_count"]
    hp = dict(n_layer=kv["llama.block_count"], n_head=nh,
              n_head_kv=kv.get("llama.attention.head_count_kv", nh),
              eps=kv.get("llama.attention.layer_norm_rms_epsilon", 1e-5),
              rope_base=kv.get("llama.rope.freq_base", 10000.0))
    V = t["token_embd.weight"].shape[0]
    fp = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return Llama(hp, t), V, kv.get("general.name", path), fp


def random_teacher(V, C, L, NH, NKV, F, seed):
    g = np.random.default_rng(seed)
    hs = C // NH
    w = {"token_embd.weight": g.normal(0, 1.0, (V, C)), "output_norm.weight": np.ones(C),
         "output.weight": g.normal(0, C ** -0.5, (V, C))}
    for l in range(L):
        p = f"blk.{l}."
        w[p + "attn_norm.weight"] = np.ones(C)
        w[p + "ffn_norm.weight"] = np.ones(C)
        w[p + "attn_q.weight"] = g.normal(0, C ** -0.5, (NH * hs, C))
        w[p + "attn_k.weight"] = g.normal(0, C ** -0.5, (NKV * hs, C))
        w[p + "attn_v.weight"] = g.normal(0, C ** -0.5, (NKV * hs, C))
        w[p + "attn_output.weight"] = g.normal(0, (NH * hs) ** -0.5, (C, NH * hs))
        w[p + "ffn_gate.weight"] = g.normal(0, C ** -0.5, (F, C))
        w[p + "ffn_up.weight"] = g.normal(0, C ** -0.5, (F, C))
        w[p + "ffn_down.weight"] = g.normal(0, F ** -0.5, (C, F))
    hp = dict(n_layer=L, n_head=NH, n_head_kv=NKV, eps=1e-5, rope_base=10000.0)
    h = hashlib.sha256()
    for k in sorted(w):
        h.update(k.encode())
        h.update(np.ascontiguousarray(w[k], dtype=np.float32).tobytes())
    return Llama(hp, w), h.hexdigest()


def attr_str(v):
    """h5py returns variable-length strings as str, fixed-length ones as bytes."""
    return v.decode() if isinstance(v, (bytes, np.bytes_)) else str(v)


# ----------------------------------------------------------------- dump writer
def create_dump(path, V, K, T, mode, sample_n, f16, tok_fp, teacher, teacher_fp, deflate, shuffle):
    f = h5py.File(path, "w")
    a = f.attrs
    narrow = V <= 65536
    a["format"], a["format_version"] = FORMAT, np.int64(FORMAT_VERSION if narrow else 1)
    a["vocab_size"], a["k"], a["seq_len"] = np.int64(V), np.int64(K), np.int64(T)
    a["sample_n"], a["mode"] = np.int64(sample_n), mode
    a["tokenizer_fingerprint"], a["teacher"], a["teacher_fingerprint"] = tok_fp, teacher, teacher_fp
    a["done"] = np.int64(0)
    kw = dict(compression="gzip", compression_opts=deflate, shuffle=shuffle) if deflate else {}
    for name, dt, inner in [("tokens", "u2" if narrow else "i4", (T,)), ("targets", "i4", (T,)),
                            ("loss_mask", "u1", (T,)),
                            ("topk_ids", "u2" if narrow and mode == "topk" else "i4", (T, K)),
                            ("topk_logprobs", "f2" if f16 else "f4", (T, K))] + \
            ([("sample_counts", "u2", (T, K))] if mode == "sample" else []):
        f.create_dataset(name, (0,) + inner, dtype=dt, maxshape=(None,) + inner,
                         chunks=(1,) + inner, **kw)
    return f


def append(f, rows):
    n0 = int(f.attrs["done"])
    n = len(rows["tokens"])
    for name, arr in rows.items():
        d = f[name]
        d.resize(n0 + n, axis=0)
        d[n0:n0 + n] = arr
    f.flush()
    f.attrs["done"] = np.int64(n0 + n)
    f.flush()


def entries(logp, K, sample_n, gen):
    """logp (B, T, V) float64 log-softmax -> ids, logprobs (B, T, K)[, counts]."""
    if sample_n == 0:
        lp, ids = torch.topk(logp, K, dim=-1)  # sorted descending
        return ids.numpy().astype(np.int32), lp.numpy(), None
    B, T, V = logp.shape
    draws = torch.multinomial(logp.exp().reshape(-1, V), sample_n, replacement=True, generator=gen)
    ids = np.full((B * T, K), -1, np.int32)
    lps = np.zeros((B * T, K), np.float64)
    cnt = np.zeros((B * T, K), np.uint16)
    flat = logp.reshape(-1, V)
    for r in range(B * T):
        u, c = np.unique(draws[r].numpy(), return_counts=True)
        if len(u) > K:
            sys.exit(f"{len(u)} distinct ids drawn but k = {K}: use --top-k >= --sample")
        ids[r, :len(u)], cnt[r, :len(u)] = u, c
        lps[r, :len(u)] = flat[r, u].numpy()
    return ids.reshape(B, T, K), lps.reshape(B, T, K), cnt.reshape(B, T, K)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--gguf")
    ap.add_argument("--random-teacher", action="store_true")
    ap.add_argument("--vocab", type=int, default=256)
    ap.add_argument("--embd", type=int, default=32)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--heads-kv", type=int, default=2)
    ap.add_argument("--ff", type=int, default=64)
    ap.add_argument("--data", help="slm dataset (HDF5); sequences are windows of its split")
    ap.add_argument("--split", default="train")
    ap.add_argument("--seqs", type=int, default=0, help="number of sequences (0: all of --data)")
    ap.add_argument("--seq-len", type=int, default=32)
    ap.add_argument("--top-k", type=int, default=16)
    ap.add_argument("--sample", type=int, default=0, help="N draws per position instead of top-k")
    ap.add_argument("--dtype", choices=["f16", "f32"], default="f16")
    ap.add_argument("--tokenizer-fingerprint", default="")
    ap.add_argument("--deflate", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.gguf:
        model, V, name, tfp = teacher_from_gguf(args.gguf)
    elif args.random_teacher:
        V = args.vocab
        model, tfp = random_teacher(V, args.embd, args.layers, args.heads, args.heads_kv,
                                    args.ff, args.seed)
        name = f"torch random llama V={V} C={args.embd} L={args.layers} seed={args.seed}"
    else:
        sys.exit("give --gguf or --random-teacher")
    T = args.seq_len
    tok_fp = args.tokenizer_fingerprint
    if args.data:
        with h5py.File(args.data, "r") as d:
            if attr_str(d.attrs.get("format", b"")) != "slm.dataset":
                sys.exit(f"{args.data}: not an slm dataset")
            toks = d[args.split]["tokens"][...].astype(np.int64)
            mask = d[args.split]["loss_mask"][...].astype(np.uint8)
            tok_fp = tok_fp or attr_str(d.attrs["tokenizer_fingerprint"])
            if int(d.attrs["vocab_size"]) != V:
                sys.exit(f"{args.data}: vocab_size {int(d.attrs['vocab_size'])} != teacher's {V}")
        S = (len(toks) - 1) // T
        if args.seqs:
            S = min(S, args.seqs)
    else:
        S = args.seqs or 4
        g = np.random.default_rng(args.seed + 1)
        toks = g.integers(0, V, S * T + 1)
        mask = np.ones(S * T + 1, np.uint8)
    K = args.top_k
    if not 1 <= K <= V:
        sys.exit(f"--top-k {K} must be in [1, {V}]")
    mode = "sample" if args.sample else "topk"
    tmp = args.out + ".partial"
    f = create_dump(tmp, V, K, T, mode, args.sample, args.dtype == "f16", tok_fp, name, tfp,
                    args.deflate, True)
    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        for s0 in range(0, S, args.batch):
            n = min(args.batch, S - s0)
            win = np.stack([toks[(s0 + i) * T:(s0 + i) * T + T + 1] for i in range(n)])
            mwin = np.stack([mask[(s0 + i) * T:(s0 + i) * T + T + 1] for i in range(n)])
            logp = torch.log_softmax(model.logits(torch.tensor(win[:, :T])), -1)
            ids, lps, cnt = entries(logp, K, args.sample, gen)
            rows = {"tokens": win[:, :T].astype(np.int32), "targets": win[:, 1:].astype(np.int32),
                    "loss_mask": mwin[:, 1:], "topk_ids": ids,
                    "topk_logprobs": lps.astype(np.float16 if args.dtype == "f16" else np.float32)}
            if cnt is not None:
                rows["sample_counts"] = cnt
            append(f, rows)
    f.close()
    import os
    os.replace(tmp, args.out)
    print(f"torch_dump: {S} sequences x {T} tokens, k={K} ({mode}), V={V}, teacher '{name}' -> {args.out}")


if __name__ == "__main__":
    main()
