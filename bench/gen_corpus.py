#!/usr/bin/env python3
"""bench/gen_corpus.py OUT_DIR MB — a deterministic mixed corpus for the data
benchmarks: Markdown/text "documents" (prose, lists, code, numbers, some
non-ASCII), a JSONL of tickets (text and prompt/completion records) and a
gzipped JSONL, about MB megabytes in total, every document distinct."""
import gzip, json, os, random, sys

out, mb = sys.argv[1], float(sys.argv[2])
rng = random.Random(1234)
words = ("the a of to and in is for on that with as by this be are from at or it an "
         "printer server invoice customer order account password network update release "
         "meeting report budget schedule policy contract delivery warehouse support ticket "
         "database backup migration deploy latency error timeout request response user admin "
         "café naïve Zürich São Paulo 東京 данные überprüfen señor").split()
def sentence():
    n = rng.randint(6, 18)
    s = " ".join(rng.choice(words) for _ in range(n))
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", "!"])
def paragraph():
    return " ".join(sentence() for _ in range(rng.randint(2, 6)))
def markdown(i):
    parts = ["# Document %d: %s" % (i, sentence())]
    for _ in range(rng.randint(3, 8)):
        r = rng.random()
        if r < 0.6: parts.append(paragraph())
        elif r < 0.8: parts.append("\n".join("* " + sentence() for _ in range(rng.randint(2, 5))))
        elif r < 0.9: parts.append("```python\ndef f_%d(x):\n    return x * %d + %d\n```" % (i, rng.randint(1, 99), rng.randint(0, 999)))
        else: parts.append("| id | value |\n|---|---|\n" + "\n".join("| %d | %.3f |" % (k, rng.random() * 1000) for k in range(5)))
    return "\n\n".join(parts) + "\n"
os.makedirs(os.path.join(out, "docs"), exist_ok=True)
target = int(mb * 1e6)
total, i = 0, 0
while total < target * 0.5:
    text = markdown(i)
    p = os.path.join(out, "docs", "doc_%05d.%s" % (i, "md" if i % 2 else "txt"))
    open(p, "w", encoding="utf-8").write(text)
    total += len(text.encode()); i += 1
with open(os.path.join(out, "tickets.jsonl"), "w", encoding="utf-8") as f:
    k = 0
    while total < target * 0.85:
        if k % 2:
            rec = {"prompt": "Ticket %d: %s" % (k, paragraph()), "completion": " " + paragraph()}
        else:
            rec = {"text": "Ticket %d\n%s\n\n%s" % (k, sentence(), paragraph())}
        line = json.dumps(rec, ensure_ascii=False) + "\n"
        f.write(line); total += len(line.encode()); k += 1
lines = []
while total < target:
    line = json.dumps({"text": "Archive %d: %s" % (len(lines), paragraph())}, ensure_ascii=False) + "\n"
    lines.append(line); total += len(line.encode())
with gzip.open(os.path.join(out, "archive.jsonl.gz"), "wt", encoding="utf-8") as f:
    f.write("".join(lines))
print("corpus: %d files, %.1f MB uncompressed" % (i + 2, total / 1e6))
