#!/usr/bin/env python3
"""Writes a small Llama-style GGUF v3 with Python's struct module only, as an
independent writer for tests of slm's reader and `slm info` (it shares no code
with core/gguf_write.c).  Prints a JSON description of what it wrote.

usage: gguf_write_sample.py OUT.gguf [--alignment N]
"""
import json
import struct
import sys

UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
F32, F16, Q8_0 = 0, 1, 8
BLOCK = {F32: (1, 4), F16: (1, 2), Q8_0: (32, 34)}
TYPE_NAME = {F32: "F32", F16: "F16", Q8_0: "Q8_0"}


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def scalar(t, v):
    fmt = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
           FLOAT32: "<f", BOOL: "<B", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}[t]
    return struct.pack(fmt, v)


def value(t, v):
    if t == STRING:
        return gstr(v)
    if t == ARRAY:
        et, items = v
        out = struct.pack("<IQ", et, len(items))
        for x in items:
            out += value(et, x)
        return out
    return scalar(t, v)


def main():
    out = sys.argv[1]
    align = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--alignment" else 32
    tokens = ["<unk>", "<s>", "</s>", "\u2581hello", "\u2581world"]
    kv = [
        ("general.architecture", STRING, "llama"),
        ("general.name", STRING, "sample"),
        ("llama.block_count", UINT32, 1),
        ("llama.context_length", UINT32, 128),
        ("llama.embedding_length", UINT32, 64),
        ("llama.feed_forward_length", UINT32, 32),
        ("llama.attention.head_count", UINT32, 4),
        ("llama.attention.head_count_kv", UINT32, 2),
        ("llama.rope.freq_base", FLOAT32, 10000.0),
        ("llama.attention.layer_norm_rms_epsilon", FLOAT32, 1e-5),
        ("general.sample.f64", FLOAT64, -0.125),
        ("general.sample.i64", INT64, -5),
        ("general.sample.flag", BOOL, 1),
        ("tokenizer.ggml.model", STRING, "llama"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        ("tokenizer.ggml.scores", ARRAY, (FLOAT32, [0.0, 0.0, 0.0, -1.0, -2.0])),
        ("tokenizer.ggml.token_type", ARRAY, (INT32, [2, 3, 3, 1, 1])),
        ("tokenizer.ggml.bos_token_id", UINT32, 1),
        ("tokenizer.ggml.eos_token_id", UINT32, 2),
    ]
    if align != 32:
        kv.append(("general.alignment", UINT32, align))
    tensors = [  # name, type, ne
        ("token_embd.weight", F32, [64, 5]),
        ("blk.0.attn_norm.weight", F32, [64]),
        ("blk.0.attn_q.weight", F16, [64, 64]),
        ("blk.0.ffn_up.weight", Q8_0, [64, 32]),
    ]
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for k, t, v in kv:
        head += gstr(k) + struct.pack("<I", t) + value(t, v)
    offset, sizes, desc = 0, [], []
    for name, t, ne in tensors:
        bs, bb = BLOCK[t]
        n = 1
        for d in ne:
            n *= d
        nbytes = n // bs * bb
        head += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        head += struct.pack("<IQ", t, offset)
        sizes.append(nbytes)
        desc.append({"name": name, "type": TYPE_NAME[t], "shape": ne, "n_elements": n, "bytes": nbytes,
                     "offset": offset})
        offset += (nbytes + align - 1) // align * align
    data_offset = (len(head) + align - 1) // align * align
    body = bytearray()
    for i, n in enumerate(sizes):
        if tensors[i][1] == F32:
            body += struct.pack("<%df" % (n // 4), *[0.01 * (j % 7) for j in range(n // 4)])
        else:
            body += bytes((j * 7 + i) % 61 for j in range(n))  # f16 / Q8_0 bytes, all finite
        body += bytes((-len(body)) % align)
    with open(out, "wb") as f:
        f.write(head + bytes(data_offset - len(head)) + body)
    print(json.dumps({"alignment": align, "data_offset": data_offset, "n_kv": len(kv),
                      "file_size": data_offset + len(body), "tensors": desc,
                      "n_params": sum(t["n_elements"] for t in desc),
                      "tensor_bytes": sum(sizes)}))


if __name__ == "__main__":
    main()
