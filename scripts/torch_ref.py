#!/usr/bin/env python3
"""scripts/torch_ref.py FILE.h5 — an independent PyTorch (float64) Llama, for
checking slm's autograd (tests/e2e/test_autograd_torch.sh).

Reads the model, batch and settings that tests/tools/grad_dump.c wrote to
FILE.h5 (format in that file's header), computes the masked mean
cross-entropy, the gradient of every trainable tensor and the losses of
`steps` torch.optim.AdamW steps on the same batch, and writes them to
FILE.h5:/torch (grad/<name>, loss, losses).  Nothing here calls slm.

The model follows llama.cpp's Llama: RMSNorm (x * rsqrt(mean(x^2) + eps) * w),
RoPE on adjacent pairs (x[2i], x[2i+1]) with theta = pos * base^(-2i/hs)
(llama.cpp's normal mode), grouped-query attention (query head h reads kv
head h // (NH / NKV)), SwiGLU (silu(x Wg^T) * (x Wu^T)) Wd^T, output head
`output.weight` or `token_embd.weight` when tied.  GGUF weights are (out, in)
and y = x W^T.  LoRA: y += scale * (x A^T) B^T with A (r, in), B (out, r).
"""
import sys

import h5py
import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def rmsnorm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, base):
    # x (B, T, H, hs); positions 0..T-1 in every sequence
    T, hs = x.shape[1], x.shape[3]
    i = torch.arange(hs // 2, dtype=torch.float64)
    pos = torch.arange(T, dtype=torch.float64)
    theta = pos[:, None] * base ** (-2.0 * i / hs)            # (T, hs/2)
    c, s = torch.cos(theta)[None, :, None, :], torch.sin(theta)[None, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1).flatten(-2)


def attention(q, k, v):
    # q (B, T, NH, hs), k/v (B, T, NKV, hs) -> (B, T, NH*hs)
    B, T, NH, hs = q.shape
    G = NH // k.shape[2]
    q = q.transpose(1, 2)
    k = k.repeat_interleave(G, dim=2).transpose(1, 2)
    v = v.repeat_interleave(G, dim=2).transpose(1, 2)
    s = q @ k.transpose(-1, -2) / hs ** 0.5
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    s = s.masked_fill(~causal, float("-inf"))
    return (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, NH * hs)


class Llama:
    def __init__(self, f):
        a = {k: float(v) if not isinstance(v, (bytes, str)) else v for k, v in f.attrs.items()}
        assert a["format"] in ("slm.gradcheck", b"slm.gradcheck"), "not a slm.gradcheck file"
        self.a = a
        self.L, self.NH, self.NKV = int(a["n_layer"]), int(a["n_head"]), int(a["n_head_kv"])
        self.C = int(a["n_embd"])
        self.hs = self.C // self.NH
        self.tied, self.lora = bool(a["tied"]), bool(a["lora"])
        self.w = {n: torch.tensor(np.array(d, dtype=np.float64)) for n, d in f["weights"].items()}
        self.lo = {}
        if self.lora:
            self.lo = {n: torch.tensor(np.array(d, dtype=np.float64))
                       for n, d in f["lora_init"].items()}
        # trainable tensors, in slm's order, with its decay flags
        self.order = list(f["slm/grad"].keys())
        self.decay = {n: bool(f["slm/grad"][n].attrs["decay"]) for n in self.order}
        self.params = self.lo if self.lora else self.w
        # slm must train exactly every base weight (full) or every adapter (lora)
        assert sorted(self.order) == sorted(self.params.keys()), \
            "slm's trainable tensors %s != expected %s" % (self.order, sorted(self.params.keys()))
        for n in self.order:
            self.params[n].requires_grad_(True)

    def linear(self, x, name):
        y = x @ self.w[name].T
        if self.lora and name + ".lora_a" in self.lo:
            A, B = self.lo[name + ".lora_a"], self.lo[name + ".lora_b"]
            y = y + self.a["lora_scale"] * ((x @ A.T) @ B.T)
        return y

    def forward(self, tokens):
        Bn, T = tokens.shape
        eps, base = self.a["rms_eps"], self.a["rope_base"]
        x = self.w["token_embd.weight"][tokens]
        for l in range(self.L):
            p = "blk.%d." % l
            h = rmsnorm(x, self.w[p + "attn_norm.weight"], eps)
            q = self.linear(h, p + "attn_q.weight").view(Bn, T, self.NH, self.hs)
            k = self.linear(h, p + "attn_k.weight").view(Bn, T, self.NKV, self.hs)
            v = self.linear(h, p + "attn_v.weight").view(Bn, T, self.NKV, self.hs)
            att = attention(rope(q, base), rope(k, base), v)
            x = x + self.linear(att, p + "attn_output.weight")
            h = rmsnorm(x, self.w[p + "ffn_norm.weight"], eps)
            g = self.linear(h, p + "ffn_gate.weight")
            u = self.linear(h, p + "ffn_up.weight")
            x = x + self.linear(torch.nn.functional.silu(g) * u, p + "ffn_down.weight")
        x = rmsnorm(x, self.w["output_norm.weight"], eps)
        head = self.w["token_embd.weight"] if self.tied else self.w["output.weight"]
        return x @ head.T


def main():
    path = sys.argv[1]
    with h5py.File(path, "r") as f:
        m = Llama(f)
        tokens = torch.tensor(np.array(f["tokens"], dtype=np.int64))
        targets = torch.tensor(np.array(f["targets"], dtype=np.int64))
        mask = torch.tensor(np.array(f["mask"]).astype(bool))
    a = m.a

    def loss_fn():
        logits = m.forward(tokens)
        V = logits.shape[-1]
        return torch.nn.functional.cross_entropy(logits.reshape(-1, V)[mask.reshape(-1)],
                                                 targets.reshape(-1)[mask.reshape(-1)])

    params = [m.params[n] for n in m.order]
    groups = [{"params": [m.params[n] for n in m.order if m.decay[n]],
               "weight_decay": a["weight_decay"]},
              {"params": [m.params[n] for n in m.order if not m.decay[n]], "weight_decay": 0.0}]
    opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=a["lr"],
                            betas=(a["beta1"], a["beta2"]), eps=a["eps"])
    losses, grads = [], None
    for s in range(int(a["steps"]) + 1):
        opt.zero_grad()
        loss = loss_fn()
        losses.append(loss.item())
        if s == int(a["steps"]):
            break
        loss.backward()
        if s == 0:
            grads = {n: p.grad.detach().clone() for n, p in zip(m.order, params)}
        opt.step()
    with h5py.File(path, "a") as f:
        if "torch" in f:
            del f["torch"]
        g = f.create_group("torch")
        g["loss"] = np.array([losses[0]])
        g["losses"] = np.array(losses)
        gg = g.create_group("grad")
        for n, t in grads.items():
            gg[n] = t.numpy()
    print("torch_ref: %s: %d trainable tensors, loss %.6f -> %.6f after %d AdamW steps"
          % (path, len(m.order), losses[0], losses[-1], len(losses) - 1))


if __name__ == "__main__":
    main()
