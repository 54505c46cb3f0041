/* cli/cmd_dump_logits.c — `slm dump-logits`: run a teacher GGUF over a
 * tokenized dataset and write a top-k (or sampled) logit dump. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "core/gguf.h"
#include "data/tokenizer.h"
#include "distill/kld_llamacpp.h"
#include "distill/teacher.h"
#include "train/ckpt.h" /* slm_file_sha256 */
#include "train/dist.h"

int slm_cmd_dump_logits(int argc, char **argv) {
    slm_dump_logits_params p = slm_dump_logits_default_params();
    const char *teacher = NULL, *lora = NULL, *data = NULL, *out = NULL, *split = NULL,
               *dtype = NULL;
    int64_t k = 0, sample = 0, seq_len = 0, batch = 0, max_seqs = 0, deflate = 0, seed = 0,
            chunk_seqs = 1;
    double lora_scale = 1.0;
    bool no_shuffle = false, restart = false, kld_bos = false;
    const char *kld = NULL, *vocab = NULL;
    slm_opt opts[] = {
        {"teacher", 't', SLM_OPT_STR, &teacher, NULL, "T.gguf", "teacher model (required)"},
        {"lora", 0, SLM_OPT_STR, &lora, NULL, "A.gguf", "LoRA adapter merged into the teacher"},
        {"lora-scale", 0, SLM_OPT_FLOAT, &lora_scale, "1", "X", "adapter scale"},
        {"data", 'd', SLM_OPT_STR, &data, NULL, "DATA.h5", "tokenized dataset (required)"},
        {"split", 0, SLM_OPT_STR, &split, "train", "NAME", "dataset split: train or val"},
        {"top-k", 'k', SLM_OPT_INT, &k, "32", "K", "entries per position"},
        {"sample", 0, SLM_OPT_INT, &sample, "0", "N",
         "store N draws from the teacher (ids with counts) instead of the top-k"},
        {"dtype", 0, SLM_OPT_STR, &dtype, "f16", "f16|f32", "log-prob storage type"},
        {"seq-len", 0, SLM_OPT_INT, &seq_len, "0", "T", "tokens per sequence (0: min(256, n_ctx))"},
        {"batch", 'b', SLM_OPT_INT, &batch, "4", "B", "sequences per forward pass"},
        {"max-seqs", 0, SLM_OPT_INT, &max_seqs, "0", "N", "stop after N sequences (0: all)"},
        {"deflate", 0, SLM_OPT_INT, &deflate, "4", "0-9", "zlib level"},
        {"no-shuffle", 0, SLM_OPT_FLAG, &no_shuffle, NULL, NULL, "no HDF5 shuffle filter"},
        {"chunk-seqs", 0, SLM_OPT_INT, &chunk_seqs, "1", "N",
         "sequences per HDF5 chunk (more: smaller file, random reads decompress N sequences)"},
        {"restart", 0, SLM_OPT_FLAG, &restart, NULL, NULL,
         "discard OUT.partial of an interrupted run instead of resuming it"},
        {"seed", 0, SLM_OPT_INT, &seed, "1", "N", "seed of the --sample draws"},
        {"out", 'o', SLM_OPT_STR, &out, NULL, "DUMP.h5", "output dump (required)"},
        {"from-kld", 0, SLM_OPT_STR, &kld, NULL, "FILE",
         "convert llama.cpp's `llama-perplexity --kl-divergence-base FILE` output instead of "
         "running a teacher (needs --vocab)"},
        {"vocab", 0, SLM_OPT_STR, &vocab, NULL, "V.gguf",
         "with --from-kld: the teacher's GGUF (or vocab GGUF) for the tokenizer fingerprint"},
        {"kld-bos", 0, SLM_OPT_FLAG, &kld_bos, NULL, NULL,
         "with --from-kld: the model adds BOS (llama.cpp then evaluated each chunk with BOS first)"},
        {0},
    };
    int rc = slm_opts_parse(
        "dump-logits",
        "slm dump-logits --teacher T.gguf [--lora A.gguf] --data data.h5 --top-k K "
        "[--sample N] [--dtype f16|f32] --out dump.h5",
        "Run a teacher over a dataset's sequences and write its top-k log-probs (HDF5 logit "
        "dump, docs/distillation.md).  Resumable: an interrupted run leaves DUMP.h5.partial "
        "and the same command continues it.",
        opts, argc, argv, NULL);
    if (rc >= 0) return rc;
    if (kld) { /* llama.cpp full-vocabulary file -> top-k dump */
        if (!vocab || !out) {
            fprintf(stderr, "slm dump-logits: --from-kld needs --vocab V.gguf and --out\n");
            return 2;
        }
        slm_gguf *g = NULL;
        slm_tokenizer *tok = NULL;
        slm_status st = slm_gguf_open(vocab, &g);
        if (!st) st = slm_tokenizer_from_gguf(g, &tok);
        slm_dump_info in = slm_dump_default_info();
        if (!st) {
            slm_tokenizer_fingerprint(tok, in.tokenizer_fp);
            in.vocab_size = slm_tokenizer_n_vocab(tok);
            in.k = k;
            in.f16 = !strcmp(dtype, "f16");
            in.deflate = (int)deflate;
            in.shuffle = !no_shuffle;
            in.chunk_seqs = chunk_seqs;
            snprintf(in.teacher, sizeof in.teacher, "llama.cpp KL-divergence base %s", kld);
            st = slm_file_sha256(kld, in.teacher_fp);
        }
        int32_t bos = kld_bos && tok ? slm_tokenizer_bos(tok) : -1;
        if (!st) st = slm_kld_convert(kld, out, &in, bos);
        if (!st) printf("dump-logits: converted %s -> %s (k=%lld)\n", kld, out, (long long)k);
        slm_tokenizer_free(tok);
        slm_gguf_close(g);
        return slm_status_exit_code(st);
    }
    if (!teacher || !data || !out) {
        fprintf(stderr, "slm dump-logits: --teacher, --data and --out are required "
                        "(slm dump-logits --help)\n");
        return 2;
    }
    if (strcmp(dtype, "f16") && strcmp(dtype, "f32")) {
        fprintf(stderr, "slm dump-logits: --dtype '%s': expected f16 or f32\n", dtype);
        return 2;
    }
    if (k < 1 || sample < 0 || sample > 65535 || seq_len < 0 || batch < 1 || deflate < 0 ||
        deflate > 9 || max_seqs < 0 || chunk_seqs < 1 || chunk_seqs > 4096) {
        fprintf(stderr, "slm dump-logits: need --top-k >= 1, 0 <= --sample <= 65535, --batch >= 1, "
                        "--deflate 0..9, --seq-len >= 0, --chunk-seqs 1..4096\n");
        return 2;
    }
    p.teacher = teacher;
    p.lora = lora;
    p.lora_scale = (float)lora_scale;
    p.data = data;
    p.split = split;
    p.out = out;
    p.k = k;
    p.sample_n = sample;
    p.seq_len = seq_len;
    p.batch = batch;
    p.max_seqs = max_seqs;
    p.f16 = !strcmp(dtype, "f16");
    p.deflate = (int)deflate;
    p.shuffle = !no_shuffle;
    p.chunk_seqs = chunk_seqs;
    p.resume = !restart;
    p.seed = (uint64_t)seed;
    int64_t ntok = 0;
    double sec = 0;
    /* mpirun -np N: sequences sharded across ranks, rank 0 writes (docs/mpi.md) */
    slm_status st = slm_dist_init();
    if (st == SLM_OK) st = slm_dump_logits_run(&p, &ntok, &sec);
    if (st != SLM_OK && slm_dist_size() > 1) slm_dist_abort(slm_status_exit_code(st));
    const bool writer = slm_dist_rank() == 0;
    slm_dist_finalize();
    if (st == SLM_OK && writer)
        printf("dump-logits: wrote %s (%lld tokens in %.1f s, %.0f tokens/s)\n", out,
               (long long)ntok, sec, sec > 0 ? (double)ntok / sec : 0.0);
    return slm_status_exit_code(st);
}
