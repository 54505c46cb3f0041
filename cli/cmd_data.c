/* cli/cmd_data.c — `slm data prepare` (inputs -> HDF5 dataset) and
 * `slm data show` (rendered records with the learned spans highlighted). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "core/gguf.h"
#include "data/prepare.h"

#define MAX_POSITIONAL 4096

/* Options shared by prepare and show. */
typedef struct {
    const char *vocab, *format, *template_name;
    const char *text_f, *prompt_f, *completion_f, *messages_f, *role_f, *content_f;
    slm_strlist inputs;
} common_opts;

#define COMMON_OPTS(c)                                                                        \
    {"vocab", 'v', SLM_OPT_STR, &(c).vocab, NULL, "V.gguf", "model or vocab-only GGUF whose tokenizer to use (required)"}, \
    {"input", 'i', SLM_OPT_LIST, &(c).inputs, NULL, "PATH", "file or directory (repeatable; more paths may follow as arguments)"}, \
    {"format", 0, SLM_OPT_STR, &(c).format, "auto", "F", "auto|text|jsonl|chat"},             \
    {"template", 't', SLM_OPT_STR, &(c).template_name, NULL, "T", "chat template: chatml|llama2|llama3|zephyr|none (default: chatml for --format chat, else none)"}, \
    {"text-field", 0, SLM_OPT_STR, &(c).text_f, "text", "NAME", "JSONL field of plain text"}, \
    {"prompt-field", 0, SLM_OPT_STR, &(c).prompt_f, "prompt", "NAME", "JSONL prompt field"}, \
    {"completion-field", 0, SLM_OPT_STR, &(c).completion_f, "completion", "NAME", "JSONL completion field"}, \
    {"messages-field", 0, SLM_OPT_STR, &(c).messages_f, "messages", "NAME", "JSONL messages array field"}, \
    {"role-field", 0, SLM_OPT_STR, &(c).role_f, "role", "NAME", "role field in a message"}, \
    {"content-field", 0, SLM_OPT_STR, &(c).content_f, "content", "NAME", "content field in a message"}

/* Resolves format, template and field names; collects inputs (options then
 * positionals) into *inputs (allocated array of borrowed strings). */
static int resolve_common(const char *cmd, common_opts *c, const slm_positional *pos,
                          slm_reader_opts *ro, slm_template_kind *tk, const char ***inputs,
                          int *n_inputs) {
    if (!c->vocab) {
        fprintf(stderr, "slm data %s: --vocab V.gguf is required (the model's GGUF or a vocab "
                "from 'slm tokenizer train')\n", cmd);
        return 2;
    }
    *ro = slm_reader_default_opts();
    if (!slm_format_from_name(c->format, &ro->format)) {
        fprintf(stderr, "slm data %s: --format '%s' unknown (auto, text, jsonl, chat)\n", cmd,
                c->format);
        return 2;
    }
    const char *tname = c->template_name ? c->template_name
                        : ro->format == SLM_FORMAT_CHAT ? "chatml" : "none";
    if (!slm_template_from_name(tname, tk)) {
        fprintf(stderr, "slm data %s: --template '%s' unknown (chatml, llama2, llama3, zephyr, "
                "none)\n", cmd, tname);
        return 2;
    }
    ro->text_field = c->text_f;
    ro->prompt_field = c->prompt_f;
    ro->completion_field = c->completion_f;
    ro->messages_field = c->messages_f;
    ro->role_field = c->role_f;
    ro->content_field = c->content_f;
    int n = c->inputs.n + pos->n;
    if (n == 0) {
        fprintf(stderr, "slm data %s: no input (--input PATH...)\n", cmd);
        return 2;
    }
    const char **v = malloc(sizeof *v * (size_t)n);
    if (!v) return 1;
    for (int i = 0; i < c->inputs.n; i++) v[i] = c->inputs.v[i];
    for (int i = 0; i < pos->n; i++) v[c->inputs.n + i] = pos->v[i];
    *inputs = v;
    *n_inputs = n;
    return -1;
}

static slm_status load_vocab(const char *path, slm_gguf **g, slm_tokenizer **tok) {
    slm_status st = slm_gguf_open(path, g);
    if (st != SLM_OK) return st;
    st = slm_tokenizer_from_gguf(*g, tok);
    if (st != SLM_OK) {
        slm_log_error("%s: no usable tokenizer in this GGUF", path);
        slm_gguf_close(*g);
        *g = NULL;
    }
    return st;
}

static int cmd_prepare(int argc, char **argv) {
    common_opts c = {0};
    const char *out = NULL, *on_error = NULL, *reject = NULL;
    double val_fraction = 0;
    int64_t seed = 0, max_tokens = 0, threads = 0;
    slm_opt opts[] = {
        COMMON_OPTS(c),
        {"out", 'o', SLM_OPT_STR, &out, NULL, "FILE.h5", "dataset to write or extend (required)"},
        {"val-fraction", 0, SLM_OPT_FLOAT, &val_fraction, "0.05", "F", "fraction of documents in /val"},
        {"seed", 0, SLM_OPT_INT, &seed, "1234", "N", "seed of the train/val split"},
        {"on-error", 0, SLM_OPT_STR, &on_error, "fail", "fail|skip", "bad records: stop (exit 2, nothing written) or skip them"},
        {"max-tokens", 0, SLM_OPT_INT, &max_tokens, "0", "N", "records longer than N tokens are bad records (0: no limit)"},
        {"reject-file", 0, SLM_OPT_STR, &reject, NULL, "FILE", "where skipped lines go (default OUT.rejects)"},
        {"threads", 0, SLM_OPT_INT, &threads, "0", "N", "tokenizer threads (0: OMP_NUM_THREADS / all cores)"},
        {0},
    };
    char *posv[MAX_POSITIONAL];
    slm_positional pos = {0, posv, MAX_POSITIONAL};
    int rc = slm_opts_parse("data prepare",
                            "slm data prepare --vocab V.gguf --input PATH... --out data.h5 [options]",
                            "Tokenize text, Markdown, JSONL and chat JSONL (optionally .gz) into an "
                            "HDF5 dataset\nwith a loss mask and a train/val split.  Re-running with "
                            "an existing --out adds only\nfiles whose content (SHA-256) is new.",
                            opts, argc, argv, &pos);
    if (rc >= 0) goto out_opts;
    slm_prepare_params p = slm_prepare_default_params();
    const char **inputs = NULL;
    rc = resolve_common("prepare", &c, &pos, &p.reader, &p.template_kind, &inputs, &p.n_inputs);
    if (rc >= 0) goto out_opts;
    rc = 2;
    if (!out) {
        fprintf(stderr, "slm data prepare: --out FILE.h5 is required\n");
        goto out_inputs;
    }
    if (!strcmp(on_error, "fail")) p.on_error = SLM_ON_ERROR_FAIL;
    else if (!strcmp(on_error, "skip")) p.on_error = SLM_ON_ERROR_SKIP;
    else {
        fprintf(stderr, "slm data prepare: --on-error '%s' must be fail or skip\n", on_error);
        goto out_inputs;
    }
    if (max_tokens < 0 || threads < 0 || seed < 0) {
        fprintf(stderr, "slm data prepare: --max-tokens, --threads and --seed must be >= 0\n");
        goto out_inputs;
    }
    p.inputs = inputs;
    p.out = out;
    p.val_fraction = val_fraction;
    p.seed = (uint64_t)seed;
    p.max_tokens = max_tokens;
    p.reject_path = reject;
    p.n_threads = (int)threads;

    slm_gguf *g = NULL;
    slm_tokenizer *tok = NULL;
    slm_status st = load_vocab(c.vocab, &g, &tok);
    if (st == SLM_OK) {
        slm_encoder e;
        slm_encoder_from_tokenizer(&e, tok);
        char fp[65];
        slm_tokenizer_fingerprint(tok, fp);
        slm_log_info("slm data prepare: vocab %s (%d tokens, fingerprint %.16s...), template %s, "
                     "val fraction %g, seed %" PRId64 ", on-error %s", c.vocab, (int)e.n_vocab, fp,
                     slm_template_name(p.template_kind), val_fraction, seed, on_error);
        slm_prepare_stats s;
        st = slm_data_prepare(&p, &e, fp, &s);
        if (st == SLM_OK && !s.unchanged) {
            int64_t tok_all = s.tokens_total[0] + s.tokens_total[1];
            printf("%s: %" PRId64 " input files (%" PRId64 " new, %" PRId64 " "
                   "known by content), %.2f MB read\n", out, s.files_total, s.files_new, s.files_known,
                   (double)s.bytes_new / 1e6);
            printf("  records %" PRId64 ": bad %" PRId64 " (%s), duplicates dropped %" PRId64
                   ", empty dropped %" PRId64 "\n", s.records, s.bad,
                   p.on_error == SLM_ON_ERROR_SKIP ? "skipped" : "none allowed", s.duplicates,
                   s.empty);
            printf("  added: train %" PRId64 " docs / %" PRId64 " tokens, val %" PRId64
                   " docs / %" PRId64 " tokens\n", s.docs_new[0], s.tokens_new[0], s.docs_new[1],
                   s.tokens_new[1]);
            printf("  total: train %" PRId64 " docs / %" PRId64 " tokens, val %" PRId64
                   " docs / %" PRId64 " tokens, masked (learned) %.2f%%\n", s.docs_total[0],
                   s.tokens_total[0], s.docs_total[1], s.tokens_total[1],
                   tok_all ? 100.0 * (double)s.masked_total / (double)tok_all : 0.0);
            printf("  %.2f s, %.2f MB/s of input\n", s.seconds,
                   s.seconds > 0 ? (double)s.bytes_new / 1e6 / s.seconds : 0.0);
        } else if (st == SLM_OK) {
            printf("%s: unchanged (no new input files)\n", out);
        }
    }
    slm_tokenizer_free(tok);
    slm_gguf_close(g);
    rc = slm_status_exit_code(st);
out_inputs:
    free(inputs);
out_opts:
    slm_strlist_free(&c.inputs);
    return rc;
}

/* Prints the record token by token (each token's text as the tokenizer
 * renders it, special tokens included); learned spans highlighted.  Token
 * by token, so that no decode-time space stripping hides a boundary. */
static void print_record(const slm_tokenizer *tok, const slm_token_buf *b, bool color) {
    for (int64_t i = 0; i < b->n;) {
        int64_t j = i;
        while (j < b->n && b->mask[j] == b->mask[i]) j++;
        fputs(b->mask[i] ? (color ? "\x1b[1;32m" : "[[") : (color ? "\x1b[2m" : ""), stdout);
        for (int64_t k = i; k < j; k++) {
            size_t len = 0;
            const char *p = slm_tokenizer_piece(tok, b->tokens[k], true, &len);
            if (p) fwrite(p, 1, len, stdout);
        }
        fputs(b->mask[i] ? (color ? "\x1b[0m" : "]]") : (color ? "\x1b[0m" : ""), stdout);
        i = j;
    }
    printf("\n");
}

static int cmd_show(int argc, char **argv) {
    common_opts c = {0};
    int64_t n_max = 0;
    const char *color_s = NULL;
    slm_opt opts[] = {
        COMMON_OPTS(c),
        {"n", 'n', SLM_OPT_INT, &n_max, "5", "N", "records to show (0: all)"},
        {"color", 0, SLM_OPT_STR, &color_s, "auto", "WHEN", "auto|always|never: ANSI colour (else [[learned]] brackets)"},
        {0},
    };
    char *posv[MAX_POSITIONAL];
    slm_positional pos = {0, posv, MAX_POSITIONAL};
    int rc = slm_opts_parse("data show", "slm data show --vocab V.gguf --input FILE [--template T] [-n N]",
                            "Print records as the model will see them; the learned tokens (loss "
                            "mask 1) are\nhighlighted (green on a terminal, [[like this]] "
                            "otherwise).", opts, argc, argv, &pos);
    if (rc >= 0) goto out_opts;
    slm_reader_opts ro;
    slm_template_kind tk;
    const char **inputs = NULL;
    int n_inputs = 0;
    rc = resolve_common("show", &c, &pos, &ro, &tk, &inputs, &n_inputs);
    if (rc >= 0) goto out_opts;
    bool color = !strcmp(color_s, "always") || (!strcmp(color_s, "auto") && isatty(1));
    slm_gguf *g = NULL;
    slm_tokenizer *tok = NULL;
    slm_status st = load_vocab(c.vocab, &g, &tok);
    char **paths = NULL;
    int64_t n_paths = 0, shown = 0;
    slm_record rec = {0};
    slm_token_buf b = {0};
    slm_encoder e;
    slm_chat_template ct;
    if (st == SLM_OK) {
        slm_encoder_from_tokenizer(&e, tok);
        st = slm_chat_template_init(&ct, tk, &e);
    }
    if (st == SLM_OK) st = slm_inputs_expand(inputs, n_inputs, &paths, &n_paths);
    for (int64_t f = 0; f < n_paths && st == SLM_OK && (n_max == 0 || shown < n_max); f++) {
        slm_reader *r;
        if ((st = slm_reader_open(paths[f], &ro, &r)) != SLM_OK) break;
        while ((n_max == 0 || shown < n_max) && (st = slm_reader_next(r, &rec)) == SLM_OK && !rec.eof) {
            char err[256] = "";
            shown++;
            if (!rec.error[0]) st = slm_render_record(&ct, &e, &rec, &b, err);
            if (st != SLM_OK) break;
            char where[512];
            if (rec.line > 0) snprintf(where, sizeof where, "%s:%" PRId64, paths[f], rec.line);
            else snprintf(where, sizeof where, "%s", paths[f]);
            if (rec.error[0] || err[0]) {
                printf("=== %s: BAD RECORD: %s\n", where, rec.error[0] ? rec.error : err);
                continue;
            }
            int64_t learned = 0;
            for (int64_t i = 0; i < b.n; i++) learned += b.mask[i];
            printf("=== %s: %" PRId64 " tokens, %" PRId64 " learned (template %s)\n", where, b.n,
                   learned, slm_template_name(tk));
            print_record(tok, &b, color);
        }
        slm_reader_close(r);
    }
    slm_record_free(&rec);
    slm_token_buf_free(&b);
    for (int64_t i = 0; i < n_paths; i++) free(paths[i]);
    free(paths);
    slm_tokenizer_free(tok);
    slm_gguf_close(g);
    free(inputs);
    rc = slm_status_exit_code(st);
out_opts:
    slm_strlist_free(&c.inputs);
    return rc;
}

int slm_cmd_data(int argc, char **argv) {
    if (argc >= 1 && !strcmp(argv[0], "prepare")) return cmd_prepare(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "show")) return cmd_show(argc - 1, argv + 1);
    FILE *f = argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) ? stdout : stderr;
    fprintf(f, "usage: slm data prepare --vocab V.gguf --input PATH... --out data.h5 [options]\n"
               "       slm data show --vocab V.gguf --input FILE [--template T] [-n N]\n"
               "(slm data prepare --help, slm data show --help for the options)\n");
    return f == stdout ? 0 : 2;
}
