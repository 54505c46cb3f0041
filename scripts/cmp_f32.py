"""scripts/cmp_f32.py A.f32 B.f32 TOL [V] — compares two raw float32 files
(slm's and llama.cpp's logits).  Prints the max abs diff (and, with V, the
worst position of a (T, V) layout); exits 1 when it exceeds TOL or the sizes
differ, 0 otherwise.  Run with $SLM_PYTHON (numpy)."""
import sys

import numpy as np

a = np.fromfile(sys.argv[1], dtype="<f4")
b = np.fromfile(sys.argv[2], dtype="<f4")
tol = float(sys.argv[3])
if a.size != b.size or a.size == 0:
    print(f"size mismatch: {a.size} vs {b.size}")
    sys.exit(1)
if not (np.isfinite(a).all() and np.isfinite(b).all()):
    print("non-finite values")
    sys.exit(1)
d = np.abs(a.astype(np.float64) - b)
msg = f"max abs diff {d.max():.3g} (tol {tol:g}, max |logit| {np.abs(b).max():.3g})"
if len(sys.argv) > 4:
    V = int(sys.argv[4])
    msg += f", worst position {int(d.argmax()) // V} of {a.size // V}"
print(msg)
sys.exit(0 if d.max() <= tol else 1)
