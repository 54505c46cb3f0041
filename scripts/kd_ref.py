#!/usr/bin/env python3
"""PyTorch reference of slm's KD loss (docs/distillation.md, distill/kd_loss.h).

Reads the cases written by tests/tools/kd_cases (slm's inputs, loss and
dlogits), recomputes the loss in float64 with torch, takes the gradient with
autograd, and compares.  For K = V it also checks that the bucketed loss is
plain full-vocabulary KD computed from the teacher's raw logits.

    kd_ref.py CASES.h5     exit 0 when every case agrees, 1 otherwise
"""
import math
import sys

import h5py
import torch

LOSS_RTOL = 1e-5      # slm computes in float with double sums
GRAD_ATOL = 2e-6      # per dlogits entry, on top of GRAD_RTOL * |ref|
GRAD_RTOL = 1e-4
FULLKD_RTOL = 1e-5    # K = V vs full KD from raw teacher logits (lp stored as float)
TAIL_FLOOR = 1e-6     # SLM_KD_TAIL_FLOOR


def kd_loss(z, targets, mask, ids, lp, counts, K, V, alpha, T, reverse, renorm, sample, sample_n):
    """Mean over masked-in rows of alpha*T^2*D + (1-alpha)*CE, vectorised."""
    logs_T = torch.log_softmax(z / T, dim=-1)                  # (N, V)
    if sample:
        valid = counts > 0
        safe = torch.where(valid, ids, torch.zeros_like(ids))
        w = counts.double() / sample_n
        D = (w * (lp - logs_T.gather(1, safe))).where(valid, torch.zeros_like(lp)).sum(-1)
    else:
        in_topk = torch.zeros_like(z, dtype=torch.bool).scatter(1, ids, True)
        if renorm:
            logp = torch.log_softmax(lp / T, dim=-1)
            logs = torch.log_softmax(z.gather(1, ids) / T, dim=-1)
        elif K < V:
            P = (1 - lp.exp().sum(-1)).clamp(min=TAIL_FLOOR)
            lvk = math.log(V - K)
            ltail = lvk + (P.log() - lvk) / T
            logp = torch.log_softmax(torch.cat([lp / T, ltail[:, None]], 1), dim=-1)
            stail = torch.logsumexp(logs_T.masked_fill(in_topk, -math.inf), dim=-1)
            logs = torch.cat([logs_T.gather(1, ids), stail[:, None]], 1)
        else:
            logp = torch.log_softmax(lp / T, dim=-1)
            logs = logs_T.gather(1, ids)
        if reverse:
            D = (logs.exp() * (logs - logp)).sum(-1)
        else:
            D = (logp.exp() * (logp - logs)).sum(-1)
    has_t = targets >= 0
    ce = torch.nn.functional.cross_entropy(z, targets.clamp(min=0), reduction="none")
    ce = torch.where(has_t, ce, torch.zeros_like(ce))
    row = alpha * T * T * D + (1 - alpha) * ce
    m = mask.bool()
    return row[m].sum() / m.sum()


def full_kd(z, tz, mask, T, reverse):
    ls = torch.log_softmax(z / T, -1)
    lt = torch.log_softmax(tz / T, -1)
    d = (ls.exp() * (ls - lt)).sum(-1) if reverse else (lt.exp() * (lt - ls)).sum(-1)
    m = mask.bool()
    return (T * T * d)[m].sum() / m.sum()


def main():
    torch.set_num_threads(2)
    f = h5py.File(sys.argv[1], "r")
    bad = 0
    for name in sorted(f):
        g = f[name]
        a = {k: g.attrs[k] for k in g.attrs}
        K, V = int(a["K"]), int(a["V"])
        z = torch.tensor(g["logits"][...], dtype=torch.float64, requires_grad=True)
        args = dict(
            targets=torch.tensor(g["targets"][...], dtype=torch.long),
            mask=torch.tensor(g["mask"][...]),
            ids=torch.tensor(g["ids"][...], dtype=torch.long),
            lp=torch.tensor(g["logprobs"][...], dtype=torch.float64),
            counts=torch.tensor(g["counts"][...].astype("int64")),
            K=K, V=V, alpha=float(a["alpha"]), T=float(a["T"]), reverse=bool(a["reverse"]),
            renorm=bool(a["renorm"]), sample=bool(a["sample"]), sample_n=int(a["sample_n"]))
        loss = kd_loss(z, **args)
        loss.backward()
        ref_grad = z.grad * float(a["grad_scale"])
        slm_loss = float(g["loss"][0])
        slm_grad = torch.tensor(g["dlogits"][...], dtype=torch.float64)
        lerr = abs(slm_loss - loss.item()) / max(abs(loss.item()), 1e-6)
        gdiff = (slm_grad - ref_grad).abs()
        gerr = (gdiff - GRAD_RTOL * ref_grad.abs()).max().item()
        desc = (f"{name}: K={K:3d} T={args['T']:.2g} alpha={args['alpha']:.2g} "
                f"{'reverse' if args['reverse'] else 'forward'}{' renorm' if args['renorm'] else ''}"
                f"{' sample' if args['sample'] else ''}")
        ok = lerr <= LOSS_RTOL and gerr <= GRAD_ATOL
        extra = ""
        if K == V and not args["sample"] and not args["renorm"] and args["alpha"] == 1.0:
            fk = full_kd(z.detach(), torch.tensor(g["teacher_logits"][...]), args["mask"],
                         args["T"], args["reverse"]).item()
            ferr = abs(fk - slm_loss) / max(abs(fk), 1e-6)
            extra = f"  full-vocab KD {fk:.8f} (rel {ferr:.1e})"
            ok = ok and ferr <= FULLKD_RTOL
        print(f"{'ok  ' if ok else 'FAIL'} {desc}: slm {slm_loss:.8f} torch {loss.item():.8f} "
              f"(rel {lerr:.1e}), max |dlogits diff| {gdiff.max().item():.1e} "
              f"(max |grad| {ref_grad.abs().max().item():.1e}){extra}")
        bad += not ok
    if len(f) < 10:
        print("too few cases")
        bad += 1
    print(f"{len(f) - bad}/{len(f)} cases agree")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
