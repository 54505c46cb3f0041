#!/usr/bin/env bash
# slm report: report.html renders in headless Chromium with its curves drawn.
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
command -v chromium >/dev/null || { echo "skip: chromium not installed"; exit 77; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
run="$dir/run"; mkdir -p "$run"
# a decaying loss, a validation loss every 10 steps, a warmup+cosine lr
awk 'BEGIN { for (s = 1; s <= 200; s++) {
    lr = s < 20 ? 1e-3 * s / 20 : 1e-3 * 0.5 * (1 + cos(3.14159265 * (s - 20) / 180));
    printf "{\"step\": %d, \"loss\": %.5f, \"lr\": %.7f, \"grad_norm\": %.4f, \"tokens_per_s\": %d, \"kl\": %.5f}\n",
           s, 2 + 4 / (1 + s / 15.0), lr, 1 + 3 / s, 900 + s % 7, 0.2 + 2 / (1 + s / 10.0);
    if (s % 10 == 0) printf "{\"step\": %d, \"val_loss\": %.5f}\n", s, 2.3 + 4 / (1 + s / 15.0) }}' \
    > "$run/metrics.jsonl"
printf '[model]\nmode = lora\n' > "$run/config.ini"
echo '{"ppl": 12.5, "exact_match": 0.4}' > "$run/eval.json"
"$SLM_BIN" report "$run" >/dev/null
grep -q 'data-series="loss"' "$run/report.html"
grep -q 'data-series="val_loss"' "$run/report.html"
grep -q 'data-series="kl"' "$run/report.html"
grep -q 'mode = lora' "$run/report.html"
if grep -Eq '(src|href)="https?:' "$run/report.html"; then echo "report refers to the network"; exit 1; fi
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$dir/chrome" --window-size=900,1800 --screenshot="$dir/shot.png" \
    "file://$run/report.html" >/dev/null 2>&1
[ -s "$dir/shot.png" ] || { echo "no screenshot"; exit 1; }
# pixels of the train-loss (1f77b4), validation-loss (d62728), lr (2ca02c) and distillation KL (9467bd) curves
read -r n_loss n_val n_lr n_kl < <("$SLM_PYTHON" scripts/png_colors.py "$dir/shot.png" 1f77b4 d62728 2ca02c 9467bd | xargs)
echo "curve pixels: loss $n_loss, val_loss $n_val, lr $n_lr, kl $n_kl"
[ "$n_loss" -gt 300 ] && [ "$n_val" -gt 300 ] && [ "$n_lr" -gt 300 ] && [ "$n_kl" -gt 300 ]
