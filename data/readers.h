/* data/readers.h — input readers for `slm data prepare` / `slm data show`:
 * plain text and Markdown (one document per file), JSONL (one record per
 * line: {"text"}, {"prompt","completion"}, {"messages":[{"role","content"}]}),
 * any of them gzip-compressed (.gz, read through zlib), and directories of
 * them (recursive, byte-wise sorted paths).
 *
 * Text handling (docs/data.md):
 *  - raw text files: a leading UTF-8 BOM is dropped; each invalid UTF-8
 *    sequence is replaced by U+FFFD (EF BF BD) and counted (a warning names
 *    the file and the first bad byte offset).  Bytes are otherwise unchanged.
 *  - JSONL: parsed by jansson, which decodes escapes (\n, \", \u00e9) and
 *    surrogate pairs (\ud83d\ude00 -> U+1F600).  A lone surrogate, \u0000 or
 *    invalid UTF-8 inside a line make the record bad (reason given), because
 *    the text cannot be represented faithfully.
 *
 *   slm_reader *r;
 *   st = slm_reader_open(path, &opts, &r);
 *   slm_record rec = {0};
 *   while ((st = slm_reader_next(r, &rec)) == SLM_OK && !rec.eof) {
 *       if (rec.error[0]) { report rec.file:rec.line: rec.error; continue; }
 *       ... use rec.msgs ...
 *   }
 *   slm_record_free(&rec);
 *   slm_reader_close(r);
 */
#ifndef SLM_DATA_READERS_H
#define SLM_DATA_READERS_H

#include "core/base.h"

typedef enum {
    SLM_FORMAT_AUTO = 0, /* by extension: .jsonl/.json -> JSONL, else text; record type by fields */
    SLM_FORMAT_TEXT,     /* whole file is one document */
    SLM_FORMAT_JSONL,    /* {"text"} or {"prompt","completion"} (or messages) per line */
    SLM_FORMAT_CHAT,     /* JSONL of {"messages"} (or prompt/completion) rendered by a template */
    SLM_FORMAT_COUNT
} slm_format;

bool slm_format_from_name(const char *name, slm_format *out);

typedef enum { SLM_REC_TEXT, SLM_REC_PROMPT, SLM_REC_CHAT, SLM_REC_COUNT } slm_record_kind;

typedef enum { SLM_ROLE_SYSTEM, SLM_ROLE_USER, SLM_ROLE_ASSISTANT, SLM_ROLE_COUNT } slm_role;
const char *slm_role_name(slm_role r);

typedef struct {
    slm_role role;
    char *text; /* UTF-8, NUL-terminated, owned by the record */
    size_t len;
} slm_message;

/* One record.  TEXT: one message (role ASSISTANT: all of it is learned).
 * PROMPT: USER (prompt) then ASSISTANT (completion).  CHAT: as in the file. */
typedef struct {
    slm_record_kind kind;
    slm_message *msgs; /* (n_msgs) */
    int64_t n_msgs, cap_msgs;
    const char *file;  /* borrowed from the reader */
    int64_t line;      /* 1-based line of a JSONL record; 0 for a whole-file document */
    char *raw;         /* the raw line (JSONL), for reject files */
    size_t raw_len, raw_cap;
    int64_t n_replaced; /* invalid UTF-8 sequences replaced by U+FFFD */
    bool eof;           /* no more records */
    char error[256];    /* non-empty: a bad record, with the reason */
} slm_record;

typedef struct {
    slm_format format;
    const char *text_field;       /* "text" */
    const char *prompt_field;     /* "prompt" */
    const char *completion_field; /* "completion" */
    const char *messages_field;   /* "messages" */
    const char *role_field;       /* "role" */
    const char *content_field;    /* "content" */
} slm_reader_opts;

slm_reader_opts slm_reader_default_opts(void);

typedef struct slm_reader slm_reader;

/* Opens one file (gzip or plain; gzip is detected by content).  SLM_ERR_IO
 * if it cannot be opened. */
slm_status slm_reader_open(const char *path, const slm_reader_opts *opts, slm_reader **out);
/* Fills rec with the next record (reusing its buffers).  Returns SLM_OK with
 * rec->eof at the end, SLM_OK with rec->error set for a bad record (the
 * reader continues with the next line), SLM_ERR_IO / SLM_ERR_FORMAT on a read
 * failure (e.g. a corrupt gzip stream, named in the log). */
slm_status slm_reader_next(slm_reader *r, slm_record *rec);
void slm_reader_close(slm_reader *r); /* accepts NULL */
void slm_record_free(slm_record *rec);

/* Record building (used by the readers and by tests): set_text makes a
 * one-message record of the given kind; add_msg appends a message.  Text is
 * copied. */
slm_status slm_record_set_text(slm_record *rec, slm_record_kind kind, slm_role role,
                               const char *text, size_t len);
slm_status slm_record_add_msg(slm_record *rec, slm_role role, const char *text, size_t len);

/* Parses one JSONL line (len bytes, no newline) into rec per opts; sets
 * rec->error for a bad record.  Exposed for tests. */
slm_status slm_jsonl_parse_line(const char *line, size_t len, const slm_reader_opts *opts,
                                slm_record *rec);

/* Replaces invalid UTF-8 sequences (overlong forms, surrogates, > U+10FFFF,
 * truncated sequences, stray continuation bytes) by U+FFFD.  *out allocated
 * (NUL-terminated, caller frees); *n_bad the number replaced, *first_bad
 * the byte offset of the first (or -1). */
slm_status slm_utf8_sanitize(const char *in, size_t len, char **out, size_t *out_len,
                             int64_t *n_bad, int64_t *first_bad);

/* Expands input paths: files as given; directories recursively, keeping
 * files whose name ends in .txt .md .markdown .text .jsonl .json (optionally
 * + .gz), skipping names starting with '.'; result sorted byte-wise within
 * each directory argument.  *paths allocated (free each, then the array). */
slm_status slm_inputs_expand(const char *const *inputs, int n_inputs, char ***paths,
                             int64_t *n_paths);

#endif
