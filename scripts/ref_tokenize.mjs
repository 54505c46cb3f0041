// scripts/ref_tokenize.mjs — llama.cpp's tokenizer (node-llama-cpp) as an
// independent reference: node ref_tokenize.mjs VOCAB.gguf IN.json OUT.json
// IN.json is a JSON array of strings (tokenized with no BOS/EOS added and
// special tokens in the text not parsed) or {"special": "<|im_start|>"}
// items (tokenized with special tokens parsed); OUT.json gets an array of
// token-id arrays, plus the
// vocabulary's bos/eos ids and whether BOS is prepended:
// {"bos": N, "eos": N, "add_bos": B, "ids": [[...], ...]}.
import fs from "node:fs";
const [vocab, inPath, outPath] = process.argv.slice(2);
const { getLlama } = await import(process.env.SLM_NODE_MODULES + "/node-llama-cpp/dist/index.js");
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath: vocab, vocabOnly: true });
const texts = JSON.parse(fs.readFileSync(inPath, "utf8"));
const ids = texts.map((t) =>
    Array.from(typeof t === "string" ? model.tokenize(t, false) : model.tokenize(t.special, true)));
const bos = model.tokens.bos, eos = model.tokens.eos;
fs.writeFileSync(outPath, JSON.stringify({ bos: bos ?? -1, eos: eos ?? -1,
    add_bos: model.tokens.shouldPrependBosToken, ids }));
await model.dispose();
await llama.dispose();
