#!/usr/bin/env python3
"""scripts/torch_bench.py SHAPE MODE [STEPS] — the PyTorch side of the training
benchmark (bench/run_train.sh), the same model and step as bench/bench_train.c:
llama2.c "stories" shapes with a tied head (15m: dim 288, 6 layers, 6 heads,
ffn 768, batch 8; 110m: dim 768, 12 layers, 12 heads, ffn 2048, batch 4),
vocab 32000, seq 256, float32; one step = forward + cross-entropy + backward +
torch.optim.AdamW.  MODE full trains every weight; lora freezes the base and
trains r = 16, alpha = 32 adapters on all 7 projections.

Tuned as a careful user would: torch.set_num_threads(2) here, and the caller
sets OMP_WAIT_POLICY=PASSIVE.  torch 1.13 has no fused scaled_dot_product_
attention, so attention is the usual masked softmax(QK^T)V.
Prints one line: tokens/s, step time, peak RSS.
"""
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)


class Lin(torch.nn.Module):
    def __init__(self, i, o, r, alpha):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(o, i) * 0.02)
        self.r = r
        if r:
            self.w.requires_grad_(False)
            self.a = torch.nn.Parameter(torch.empty(r, i).uniform_(-1 / math.sqrt(i), 1 / math.sqrt(i)))
            self.b = torch.nn.Parameter(torch.zeros(o, r))
            self.s = alpha / r

    def forward(self, x):
        y = F.linear(x, self.w)
        if self.r:
            y = y + self.s * F.linear(F.linear(x, self.a), self.b)
        return y


def rope_tables(T, hs, base=10000.0):
    i = torch.arange(hs // 2, dtype=torch.float64)
    th = torch.arange(T, dtype=torch.float64)[:, None] * base ** (-2.0 * i / hs)
    return torch.cos(th).float()[None, :, None, :], torch.sin(th).float()[None, :, None, :]


def rope(x, c, s):
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1).flatten(-2)


class Block(torch.nn.Module):
    def __init__(self, C, NH, Fd, r, alpha):
        super().__init__()
        self.NH, self.hs = NH, C // NH
        self.n1 = torch.nn.Parameter(torch.ones(C))
        self.n2 = torch.nn.Parameter(torch.ones(C))
        self.q, self.k, self.v, self.o = (Lin(C, C, r, alpha) for _ in range(4))
        self.g, self.u = Lin(C, Fd, r, alpha), Lin(C, Fd, r, alpha)
        self.d = Lin(Fd, C, r, alpha)
        if r:
            self.n1.requires_grad_(False)
            self.n2.requires_grad_(False)

    def forward(self, x, c, s, mask):
        B, T, C = x.shape
        h = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.n1
        q = rope(self.q(h).view(B, T, self.NH, self.hs), c, s).transpose(1, 2)
        k = rope(self.k(h).view(B, T, self.NH, self.hs), c, s).transpose(1, 2)
        v = self.v(h).view(B, T, self.NH, self.hs).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hs)
        att = torch.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(B, T, C))
        h = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.n2
        return x + self.d(F.silu(self.g(h)) * self.u(h))


class Llama(torch.nn.Module):
    def __init__(self, V, C, L, NH, Fd, T, r=0, alpha=32.0):
        super().__init__()
        self.emb = torch.nn.Parameter(torch.randn(V, C) * 0.02)
        self.blocks = torch.nn.ModuleList(Block(C, NH, Fd, r, alpha) for _ in range(L))
        self.nf = torch.nn.Parameter(torch.ones(C))
        if r:
            self.emb.requires_grad_(False)
            self.nf.requires_grad_(False)
        c, s = rope_tables(T, C // NH)
        self.register_buffer("c", c)
        self.register_buffer("s", s)
        self.register_buffer("mask", torch.ones(T, T, dtype=torch.bool).triu(1))

    def forward(self, tok):
        x = self.emb[tok]
        for b in self.blocks:
            x = b(x, self.c, self.s, self.mask)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.nf
        return x @ self.emb.T  # tied head


def main():
    shape, mode = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    big = shape == "110m"
    C, L, NH, Fd, B = (768, 12, 12, 2048, 4) if big else (288, 6, 6, 768, 8)
    V, T = 32000, 256
    torch.manual_seed(0)
    m = Llama(V, C, L, NH, Fd, T, r=16 if mode == "lora" else 0)
    params = [p for p in m.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.1)
    tok = torch.randint(0, V, (B, T))
    tgt = torch.randint(0, V, (B, T))
    total = 0.0
    for s in range(steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(tok).view(-1, V), tgt.view(-1))
        loss.backward()
        opt.step()
        if s > 0:
            total += time.perf_counter() - t0
    dt = total / steps
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("torch %-4s %-4s B=%d T=%d threads=%d  %8.1f tokens/s  step %.3f s  loss %.4f  "
          "trainable %.2fM  peak RSS %.0f MB" % (shape, mode, B, T, torch.get_num_threads(),
                                                 B * T / dt, dt, loss.item(),
                                                 sum(p.numel() for p in params) / 1e6, rss))


if __name__ == "__main__":
    main()
