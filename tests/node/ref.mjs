// tests/node/ref.mjs — llama.cpp (through node-llama-cpp) as the reference
// for slm's model tests and benchmarks.  Options:
//   --model M.gguf            model to load (required)
//   --ids "1 2 3"             token ids to evaluate
//   --ids-text FILE           token ids from a text file instead (llama.cpp's
//                             tokenizer, no BOS unless --bos)
//   --logits OUT.f32          write the raw logits at every position of --ids,
//                             (T, V) little-endian float32
//   --nll-ctx N               print {"tokens", "nll", "ppl"} for --ids cut into
//                             windows of N tokens (eval's rule: within a window
//                             every token but the first is predicted; log-softmax
//                             in double)
//   --gen N                   greedy-generate N tokens after --ids with
//                             llama.cpp's own sampler (temperature 0); prints
//                             {"ids": [...]} (stops early at end-of-generation)
//   --gen-ids "1 2"           prompt of --gen instead of --ids
//   --gen-prompt TEXT         prompt of --gen as text (llama.cpp's tokenizer,
//                             BOS when the vocabulary adds it)
//   --lora A.gguf             apply a LoRA adapter (scale 1)
//   --bench T --reps R        prompt processing of T tokens, R timed reps
//                             (after one warm-up); prints {"tokens_per_s", ...}
//   --threads N               threads (default 2)
// Contexts use flashAttention false and F32 K/V caches for tight agreement.
import { writeFileSync } from "node:fs";

const args = process.argv.slice(2);
const opt = (name, def) => {
    const i = args.indexOf("--" + name);
    return i >= 0 ? args[i + 1] : def;
};
const modelPath = opt("model");
if (!modelPath) { console.error("ref.mjs: --model is required"); process.exit(2); }
let ids = (opt("ids", "") || "").trim().split(/\s+/).filter((s) => s.length).map(Number);
const threads = Number(opt("threads", "2"));
const lora = opt("lora");

const { getLlama, LlamaLogLevel } = await import(process.env.SLM_NODE_MODULES + "/node-llama-cpp/dist/index.js");
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: threads });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });

if (opt("ids-text")) {
    const { readFileSync } = await import("node:fs");
    ids = model.tokenize(readFileSync(opt("ids-text"), "utf8"));
    if (args.includes("--bos")) ids = [model.tokens.bos, ...ids];
}

async function makeContext(n) {
    const o = {
        contextSize: Math.max(n + 1, 16), batchSize: Math.max(n + 1, 16), sequences: 1, threads,
        flashAttention: false,
        experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
    };
    if (lora) o.lora = { adapters: [{ filePath: lora, scale: 1 }] };
    return await model.createContext(o);
}

// logits (T, V) at every position of toks, in a fresh sequence
async function allLogits(seq, toks, nv) {
    const out = new Float32Array(toks.length * nv);
    const res = await seq.controlledEvaluate(toks.map((t) => [t, { generateNext: { logits: true } }]));
    for (let t = 0; t < toks.length; t++) {
        const m = res[t]?.next?.logits;
        if (!m || m.size !== nv) throw new Error(`position ${t}: got ${m ? m.size : 0} logits, expected ${nv}`);
        for (const [tok, v] of m) out[t * nv + tok] = v;
    }
    return out;
}

const vocabSize = model.fileInfo.metadata?.llama?.vocab_size ??
    model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length;

if (opt("logits") || opt("nll-ctx")) {
    const ctxN = Number(opt("nll-ctx", String(ids.length)));
    // --nll-ctx alone: a context of one window (the whole text would size
    // llama.cpp's batch and logits buffers by the text length: minutes)
    const ctx = await makeContext(opt("logits") ? Math.max(ctxN, ids.length) : ctxN);
    const seq = ctx.getSequence();
    if (opt("logits")) {
        const lg = await allLogits(seq, ids, vocabSize);
        writeFileSync(opt("logits"), Buffer.from(lg.buffer));
        await seq.clearHistory();
    }
    if (opt("nll-ctx")) {
        let sum = 0, cnt = 0;
        for (let s = 0; s < ids.length; s += ctxN) {
            const w = ids.slice(s, s + ctxN);
            if (w.length < 2) continue;
            const lg = await allLogits(seq, w.slice(0, -1), vocabSize);
            await seq.clearHistory();
            for (let t = 0; t + 1 < w.length; t++) {
                let mx = -Infinity;
                for (let i = 0; i < vocabSize; i++) mx = Math.max(mx, lg[t * vocabSize + i]);
                let z = 0;
                for (let i = 0; i < vocabSize; i++) z += Math.exp(lg[t * vocabSize + i] - mx);
                sum += mx + Math.log(z) - lg[t * vocabSize + w[t + 1]];
                cnt++;
            }
        }
        console.log(JSON.stringify({ tokens: cnt, nll: sum / cnt, ppl: Math.exp(sum / cnt) }));
    }
    await ctx.dispose();
}

if (opt("gen")) {
    const n = Number(opt("gen"));
    let gids = opt("gen-ids") ? opt("gen-ids").trim().split(/\s+/).map(Number) : ids;
    if (opt("gen-prompt") !== undefined) {
        gids = model.tokenize(opt("gen-prompt"));
        if (model.tokens.shouldPrependBosToken && model.tokens.bos !== null) gids = [model.tokens.bos, ...gids];
    }
    const ctx = await makeContext(gids.length + n + 1);
    const seq = ctx.getSequence();
    const out = [];
    if (n > 0) {
        for await (const t of seq.evaluate(gids, { temperature: 0 })) {
            if (model.isEogToken(t)) break;
            out.push(t);
            if (out.length >= n) break;
        }
    }
    console.log(JSON.stringify({ ids: out }));
    await ctx.dispose();
}

if (opt("bench")) {
    const T = Number(opt("bench")), reps = Number(opt("reps", "3"));
    const ctx = await makeContext(T);
    const seq = ctx.getSequence();
    const toks = Array.from({ length: T }, (_, i) => 3 + ((i * 7919) % (vocabSize - 3)));
    await seq.evaluateWithoutGeneratingNewTokens(toks); // warm-up
    await seq.clearHistory();
    const times = [];
    for (let r = 0; r < reps; r++) {
        const t0 = process.hrtime.bigint();
        await seq.evaluateWithoutGeneratingNewTokens(toks);
        times.push(Number(process.hrtime.bigint() - t0) / 1e9);
        await seq.clearHistory();
    }
    times.sort((a, b) => a - b);
    const best = times[0];
    console.log(JSON.stringify({ tokens: T, reps, best_s: best, median_s: times[Math.floor(reps / 2)], tokens_per_s: T / best }));
    await ctx.dispose();
}
await model.dispose();
