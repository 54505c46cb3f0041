#!/usr/bin/env python3
"""Test and benchmark texts for the tokenizers (deterministic).

  gen_tok_corpus.py test  > tests/data/tok_multilingual.txt
      hand-written parts (tests/data/tok_multilingual_{a,b}.txt) plus generated
      sections: numbers of every length, whitespace runs (spaces, tabs, CR/LF,
      NBSP, ideographic space), apostrophe forms, punctuation runs, lone
      combining marks and rare scripts.
  gen_tok_corpus.py bench MB > corpus.txt
      a multi-MB corpus: lines of the test text shuffled and varied with a
      fixed seed, cut into documents separated by blank lines.
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data")


def generated(rng):
    out = ["\n## Generated: numbers\n"]
    for n in range(1, 25):
        out.append(" ".join("".join(rng.choice("0123456789") for _ in range(n)) for _ in range(3)) + "\n")
    out.append("3.14159 2,718.28 -42 +7 1e-9 6.02E23 0x1F 0b1010 1_000_000 12:30:45 2024-03-15 ½ ¾ ² ³ ⅓ ⅔ ① ② Ⅻ ٣٤٥ ४५६\n")
    out.append("\n## Generated: whitespace\n")
    for ws in [" ", "  ", "   ", "    ", "\t", "\t\t", " \t ", "\u00a0", "\u3000", "\u2003", " \u00a0 "]:
        out.append("a%sb%sc%s\n" % (ws, ws * 2, ws * 3))
    out.append("trailing spaces   \nline\r\nwindows\r\n\r\nmixed \n \n\t\n\n\n   \n" + " " * 17 + "x\n")
    out.append("\n\n\n\n" + "\t" * 5 + "deep\n" + " " * 40 + "\n")
    out.append("\n## Generated: apostrophes and punctuation\n")
    for w in ["it's", "IT'S", "we've", "WE'VE", "they're", "THEY'RE", "I'm", "I'M", "you'll", "YOU'LL", "he'd",
              "HE'D", "rock'n'roll", "'quoted'", "''", "'s", "'t", "'re", "O'Brien", "l'homme", "dell'arte"]:
        out.append(w + " " + w.capitalize() + " ")
    out.append("\n!!! ??? ... ,,, ;;; ::: --- ___ +++ === ~~~ ^^^ ||| $$$ %%% &&& *** ### @@@ ``` '''\n")
    out.append("(a) [b] {c} <d> «e» „f“ “g” ‘h’ ‹i› 「j」 『k』 【l】 〔m〕 …n… ·o· •p•\n")
    out.append("\n## Generated: marks and rare scripts\n")
    out.append("\u0301a\u0301 e\u0300\u0323 \u0915\u094d\u0937 \u0e01\u0e34\u0e19 \u1100\u1161\u11a8 "
               "\U00010348\U00010349 \U0001d400\U0001d401 \u16a0\u16a1 \u13a0\u13a1 \u0531\u0532 \u10d0\u10d1\n")
    out.append("Ａｂｃ１２３ ｶﾀｶﾅ ㈱ ㎏ ℃ № ™ © ® ° ± × ÷ µ ¶ § † ‡ ‰ ′ ″\n")
    return "".join(out)


def test_text():
    parts = []
    for name in ("tok_multilingual_a.txt", "tok_multilingual_b.txt"):
        with open(os.path.join(DATA, name), encoding="utf-8") as f:
            parts.append(f.read())
    rng = random.Random(1234)
    gen = generated(rng)
    base = "".join(parts) + gen
    # a second, re-ordered copy of the paragraphs keeps the file >= 20 KB with new contexts
    paras = base.split("\n\n")
    rng.shuffle(paras)
    return base + "\n\n## Shuffled paragraphs\n\n" + "\n\n".join(paras)


def mutate(rng, line):
    words = line.split(" ")
    for i, w in enumerate(words):
        if len(w) > 3 and rng.random() < 0.3:
            j = rng.randrange(len(w))
            words[i] = w[:j] + rng.choice(line.replace(" ", "") or "x") + w[j + 1:]
    return " ".join(words)


def bench_text(mb):
    rng = random.Random(42)
    lines = test_text().split("\n")
    target = int(mb * 1024 * 1024)
    out, size, doc = [], 0, 0
    while size < target:
        n = rng.randint(5, 40)
        start = rng.randrange(len(lines))
        chunk = lines[start:start + n]
        if rng.random() < 0.3:  # vary numbers so the text is not a pure repetition
            chunk = [l.replace("2024", str(rng.randint(1900, 2100))) for l in chunk]
        if rng.random() < 0.5:  # and mutate words: many distinct words, like real text
            chunk = [mutate(rng, l) for l in chunk]
        s = "\n".join(chunk) + "\n\n"
        out.append(s)
        size += len(s.encode("utf-8"))
        doc += 1
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.reconfigure(encoding="utf-8", newline="")
    if len(sys.argv) >= 2 and sys.argv[1] == "test":
        sys.stdout.write(test_text())
    elif len(sys.argv) >= 3 and sys.argv[1] == "bench":
        sys.stdout.write(bench_text(float(sys.argv[2])))
    else:
        sys.exit(__doc__)
