#!/usr/bin/env python3
# scripts/h5_same_data.py A.h5 B.h5: prints "differ: none" when every dataset of
# A equals the same-named dataset of B (values and presence; attributes are
# not compared), else the names that differ.  Exit 0 either way.
import h5py,sys,numpy as np
a=h5py.File(sys.argv[1],'r'); b=h5py.File(sys.argv[2],'r')
def walk(f):
    out={}
    f.visititems(lambda n,o: out.__setitem__(n,o[()]) if isinstance(o,h5py.Dataset) else None)
    return out
A=walk(a);B=walk(b)
bad=[k for k in set(A)|set(B) if k not in A or k not in B or not np.array_equal(A[k],B[k])]
print("differ:",bad if bad else "none")
