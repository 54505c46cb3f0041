/* data/chat.c — records -> tokens + loss mask (rules in data/chat.h).
 * Template formats follow the chat templates shipped with the models
 * (ChatML: OpenAI/Qwen; Llama-2-chat and Llama-3-instruct: Meta's
 * tokenizer_config.json templates; Zephyr: HuggingFaceH4/zephyr-7b-beta). */
#include "data/chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *template_names[SLM_TEMPLATE_COUNT] = {"none", "chatml", "llama2", "llama3",
                                                         "zephyr"};

bool slm_template_from_name(const char *name, slm_template_kind *out) {
    for (int i = 0; i < SLM_TEMPLATE_COUNT; i++)
        if (!strcmp(name, template_names[i])) {
            *out = (slm_template_kind)i;
            return true;
        }
    return false;
}

const char *slm_template_name(slm_template_kind k) {
    SLM_ASSERT(k >= 0 && k < SLM_TEMPLATE_COUNT);
    return template_names[k];
}

static slm_status need(const slm_encoder *e, slm_template_kind k, const char *piece,
                       int32_t *out) {
    *out = e->find(e->ctx, piece);
    if (*out >= 0) return SLM_OK;
    slm_log_error("chat template '%s' needs the special token '%s', which this vocabulary "
                  "does not have (pick another --template, or a vocabulary trained with "
                  "the chat markers reserved)", template_names[k], piece);
    return SLM_ERR_USAGE;
}

slm_status slm_chat_template_init(slm_chat_template *ct, slm_template_kind kind,
                                  const slm_encoder *e) {
    memset(ct, 0xff, sizeof *ct); /* every id -1 */
    ct->kind = kind;
    slm_status st = SLM_OK;
    switch (kind) {
    case SLM_TEMPLATE_NONE: break;
    case SLM_TEMPLATE_CHATML:
        if ((st = need(e, kind, "<|im_start|>", &ct->start)) != SLM_OK) break;
        st = need(e, kind, "<|im_end|>", &ct->end);
        ct->end_marker = ct->end;
        break;
    case SLM_TEMPLATE_LLAMA3:
        if ((st = need(e, kind, "<|begin_of_text|>", &ct->bot)) != SLM_OK) break;
        if ((st = need(e, kind, "<|start_header_id|>", &ct->start)) != SLM_OK) break;
        if ((st = need(e, kind, "<|end_header_id|>", &ct->end)) != SLM_OK) break;
        st = need(e, kind, "<|eot_id|>", &ct->eot);
        ct->end_marker = ct->eot;
        break;
    case SLM_TEMPLATE_LLAMA2:
    case SLM_TEMPLATE_ZEPHYR:
        if (kind == SLM_TEMPLATE_LLAMA2 && e->bos < 0) {
            slm_log_error("chat template 'llama2' needs a BOS token (<s>); this vocabulary has "
                          "none");
            st = SLM_ERR_USAGE;
        } else if (e->eos < 0) {
            slm_log_error("chat template '%s' needs an EOS token (</s>); this vocabulary has "
                          "none", template_names[kind]);
            st = SLM_ERR_USAGE;
        }
        ct->end_marker = e->eos;
        break;
    default: SLM_ASSERT(!"unknown template");
    }
    return st;
}

void slm_token_buf_free(slm_token_buf *b) {
    free(b->tokens);
    free(b->mask);
    memset(b, 0, sizeof *b);
}

static slm_status reserve(slm_token_buf *b, int64_t extra) {
    if (b->n + extra <= b->cap) return SLM_OK;
    int64_t nc = b->cap ? b->cap : 256;
    while (nc < b->n + extra) nc *= 2;
    int32_t *t = realloc(b->tokens, sizeof(int32_t) * (size_t)nc);
    if (!t) return SLM_ERR_NOMEM;
    b->tokens = t;
    uint8_t *m = realloc(b->mask, (size_t)nc);
    if (!m) return SLM_ERR_NOMEM;
    b->mask = m;
    b->cap = nc;
    return SLM_OK;
}

static slm_status push_id(slm_token_buf *b, int32_t id, uint8_t m) {
    SLM_ASSERT(id >= 0);
    slm_status st = reserve(b, 1);
    if (st != SLM_OK) return st;
    b->tokens[b->n] = id;
    b->mask[b->n++] = m;
    return SLM_OK;
}

static slm_status push_text(const slm_encoder *e, slm_token_buf *b, const char *s, size_t len,
                            uint8_t m) {
    if (len == 0) return SLM_OK;
    int32_t *ids = NULL;
    size_t n = 0;
    slm_status st = e->encode(e->ctx, s, len, &ids, &n);
    if (st == SLM_OK) st = reserve(b, (int64_t)n);
    if (st == SLM_OK) {
        memcpy(b->tokens + b->n, ids, sizeof(int32_t) * n);
        memset(b->mask + b->n, m, n);
        b->n += (int64_t)n;
    }
    free(ids);
    return st;
}

static slm_status push_str(const slm_encoder *e, slm_token_buf *b, const char *s, uint8_t m) {
    return push_text(e, b, s, strlen(s), m);
}

/* "[INST] " + (system block) + user + " [/INST]" as one encoded string. */
static slm_status llama2_user(const slm_encoder *e, slm_token_buf *b, const slm_message *sys,
                              const slm_message *user) {
    size_t n = user->len + (sys ? sys->len : 0) + 64;
    char *s = malloc(n);
    if (!s) return SLM_ERR_NOMEM;
    size_t k = 0;
    k += (size_t)snprintf(s + k, n - k, "[INST] ");
    if (sys) {
        k += (size_t)snprintf(s + k, n - k, "<<SYS>>\n");
        memcpy(s + k, sys->text, sys->len), k += sys->len;
        k += (size_t)snprintf(s + k, n - k, "\n<</SYS>>\n\n");
    }
    memcpy(s + k, user->text, user->len), k += user->len;
    k += (size_t)snprintf(s + k, n - k, " [/INST]");
    slm_status st = push_text(e, b, s, k, 0);
    free(s);
    return st;
}

static slm_status render_llama2(const slm_encoder *e, const slm_message *m, int64_t n,
                                slm_token_buf *b, char *err) {
    const slm_message *sys = NULL;
    int64_t i = 0;
    if (n > 0 && m[0].role == SLM_ROLE_SYSTEM) sys = &m[0], i = 1;
    slm_status st = SLM_OK;
    for (int64_t turn = 0; i < n && st == SLM_OK; i++, turn++) {
        slm_role want = turn % 2 == 0 ? SLM_ROLE_USER : SLM_ROLE_ASSISTANT;
        if (m[i].role != want) {
            snprintf(err, 256, "llama2 template needs alternating user/assistant turns "
                     "(message %lld is %s, expected %s)", (long long)i + 1,
                     slm_role_name(m[i].role), slm_role_name(want));
            b->n = 0;
            return SLM_OK;
        }
        if (want == SLM_ROLE_USER) {
            st = push_id(b, e->bos, 0);
            if (st == SLM_OK) st = llama2_user(e, b, turn == 0 ? sys : NULL, &m[i]);
        } else {
            /* " " + ASSISTANT + " " as one piece (no space of our own if the
             * encoder's dummy prefix already supplies it) */
            size_t n = m[i].len + 2, k = 0;
            char *s = malloc(n + 1);
            if (!s) return SLM_ERR_NOMEM;
            if (!e->space_prefix) s[k++] = ' ';
            memcpy(s + k, m[i].text, m[i].len), k += m[i].len;
            s[k++] = ' ';
            st = push_text(e, b, s, k, 1);
            free(s);
            if (st == SLM_OK) st = push_id(b, e->eos, 1);
        }
    }
    return st;
}

static slm_status render_chat(const slm_chat_template *ct, const slm_encoder *e,
                              const slm_message *m, int64_t n, slm_token_buf *b, char *err) {
    slm_status st = SLM_OK;
    if (ct->kind == SLM_TEMPLATE_LLAMA2) return render_llama2(e, m, n, b, err);
    if (ct->kind == SLM_TEMPLATE_LLAMA3) st = push_id(b, ct->bot, 0);
    else if (e->add_bos && e->bos >= 0) st = push_id(b, e->bos, 0);
    for (int64_t i = 0; i < n && st == SLM_OK; i++) {
        uint8_t learn = m[i].role == SLM_ROLE_ASSISTANT;
        const char *role = slm_role_name(m[i].role);
        char hdr[32];
        switch (ct->kind) {
        case SLM_TEMPLATE_CHATML:
            st = push_id(b, ct->start, 0);
            snprintf(hdr, sizeof hdr, "%s\n", role);
            if (st == SLM_OK) st = push_str(e, b, hdr, 0);
            if (st == SLM_OK) st = push_text(e, b, m[i].text, m[i].len, learn);
            if (st == SLM_OK) st = push_id(b, ct->end, learn);
            if (st == SLM_OK) st = push_str(e, b, "\n", 0);
            break;
        case SLM_TEMPLATE_LLAMA3:
            st = push_id(b, ct->start, 0);
            if (st == SLM_OK) st = push_str(e, b, role, 0);
            if (st == SLM_OK) st = push_id(b, ct->end, 0);
            if (st == SLM_OK) st = push_str(e, b, "\n\n", 0);
            if (st == SLM_OK) st = push_text(e, b, m[i].text, m[i].len, learn);
            if (st == SLM_OK) st = push_id(b, ct->eot, learn);
            break;
        case SLM_TEMPLATE_ZEPHYR:
            snprintf(hdr, sizeof hdr, "<|%s|>\n", role);
            st = push_str(e, b, hdr, 0);
            if (st == SLM_OK) st = push_text(e, b, m[i].text, m[i].len, learn);
            if (st == SLM_OK) st = push_id(b, e->eos, learn);
            if (st == SLM_OK) st = push_str(e, b, "\n", 0);
            break;
        default: SLM_ASSERT(!"template");
        }
    }
    return st;
}

slm_status slm_render_record(const slm_chat_template *ct, const slm_encoder *e,
                             const slm_record *rec, slm_token_buf *out, char *err) {
    out->n = 0;
    err[0] = 0;
    slm_status st = SLM_OK;
    bool templated = ct && ct->kind != SLM_TEMPLATE_NONE && rec->kind != SLM_REC_TEXT;
    if (!templated) {
        if (rec->kind == SLM_REC_CHAT) {
            snprintf(err, 256, "a 'messages' record needs a chat template (--template chatml, "
                     "llama2, llama3 or zephyr)");
            return SLM_OK;
        }
        if (e->add_bos && e->bos >= 0) st = push_id(out, e->bos, 0);
        for (int64_t i = 0; i < rec->n_msgs && st == SLM_OK; i++)
            st = push_text(e, out, rec->msgs[i].text, rec->msgs[i].len,
                           rec->msgs[i].role == SLM_ROLE_ASSISTANT);
        if (st == SLM_OK && e->eos >= 0) st = push_id(out, e->eos, 1);
        return st;
    }
    st = render_chat(ct, e, rec->msgs, rec->n_msgs, out, err);
    if (st != SLM_OK || err[0]) return st;
    if (e->eos >= 0 && e->eos != ct->end_marker && (out->n == 0 || out->tokens[out->n - 1] != e->eos))
        st = push_id(out, e->eos, 0);
    return st;
}
