// tests/e2e/tok_node.mjs — llama.cpp's tokenizer through node-llama-cpp, for
// the tokenizer tests and benchmark.
//   node tok_node.mjs tokenize VOCAB.gguf TEXTFILE [special]   -> ids on one line (no BOS)
//   node tok_node.mjs cases VOCAB.gguf CASEFILE                 -> one id line per case;
//        CASEFILE holds texts separated by "\n__case__\n"
//   node tok_node.mjs suite VOCAB.gguf TEXTFILE SPECIALFILE CASEFILE
//        -> line 1: ids of TEXTFILE; line 2: ids of SPECIALFILE with special
//           tokens parsed; then one line per case of CASEFILE
//   node tok_node.mjs detok VOCAB.gguf IDSFILE                  -> the text of the ids (stdout)
//   node tok_node.mjs bench VOCAB.gguf TEXTFILE REPS            -> "bytes seconds n_tokens cpu_seconds"
//        (documents separated by blank lines, each tokenized by one call)
//   node tok_node.mjs benchwhole VOCAB.gguf TEXTFILE REPS       -> same, the whole file in one call
import fs from "node:fs";

const [, , mode, vocab, file, extra] = process.argv;
const { getLlama, LlamaLogLevel } = await import(process.env.SLM_NODE_MODULES + "/node-llama-cpp/dist/index.js");
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: vocab, vocabOnly: true });

if (mode === "tokenize") {
    const text = fs.readFileSync(file, "utf8");
    process.stdout.write(Array.from(model.tokenize(text, extra === "special")).join(" ") + "\n");
} else if (mode === "suite") {
    const [special, cases] = process.argv.slice(5);
    const lines = [Array.from(model.tokenize(fs.readFileSync(file, "utf8"), false)).join(" "),
                   Array.from(model.tokenize(fs.readFileSync(special, "utf8"), true)).join(" ")];
    for (const t of fs.readFileSync(cases, "utf8").split("\n__case__\n"))
        lines.push(Array.from(model.tokenize(t, false)).join(" "));
    process.stdout.write(lines.join("\n") + "\n");
} else if (mode === "cases") {
    const texts = fs.readFileSync(file, "utf8").split("\n__case__\n");
    const out = texts.map((t) => Array.from(model.tokenize(t, false)).join(" "));
    process.stdout.write(out.join("\n") + "\n");
} else if (mode === "detok") {
    const ids = fs.readFileSync(file, "utf8").trim().split(/\s+/).filter((s) => s.length).map(Number);
    process.stdout.write(model.detokenize(ids, false));
} else if (mode === "bench") {
    const docs = fs.readFileSync(file, "utf8").split("\n\n");
    const bytes = Buffer.byteLength(docs.join("\n\n"), "utf8");
    const reps = Number(extra || 1);
    let n = 0;
    for (const d of docs.slice(0, 64)) model.tokenize(d, false); // warm up
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    for (let r = 0; r < reps; r++) for (const d of docs) n += model.tokenize(d, false).length;
    const dt = Number(process.hrtime.bigint() - t0) / 1e9, c = process.cpuUsage(c0);
    process.stdout.write(`${bytes * reps} ${dt} ${n} ${(c.user + c.system) / 1e6}\n`);
} else if (mode === "benchwhole") {
    const text = fs.readFileSync(file, "utf8");
    const reps = Number(extra || 1);
    let n = 0;
    model.tokenize(text.slice(0, 10000), false); // warm up
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    for (let r = 0; r < reps; r++) n = model.tokenize(text, false).length;
    const dt = Number(process.hrtime.bigint() - t0) / 1e9, c = process.cpuUsage(c0);
    process.stdout.write(`${Buffer.byteLength(text, "utf8") * reps} ${dt} ${n} ${(c.user + c.system) / 1e6}\n`);
} else {
    console.error("usage: tok_node.mjs tokenize|cases|detok|bench VOCAB.gguf FILE [arg]");
    process.exit(2);
}
await model.dispose();
await llama.dispose();
