/* data/jsonl.c — one JSONL line -> one record, with jansson.
 *
 * jansson decodes escapes and surrogate pairs and rejects, with a message we
 * pass on: invalid UTF-8, lone surrogates (\ud800 alone) and \u0000.  Each
 * of those makes the record bad rather than silently altering the text. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "data/readers.h"

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

#define BAD(...)                                                                            \
    do {                                                                                    \
        snprintf(rec->error, sizeof rec->error, __VA_ARGS__);                               \
        goto done;                                                                          \
    } while (0)

/* The string field name of obj, or NULL with rec->error set. */
static const json_t *get_string(const json_t *obj, const char *name, const char *where,
                                slm_record *rec) {
    const json_t *v = json_object_get(obj, name);
    if (!v) snprintf(rec->error, sizeof rec->error, "missing field '%s'%s", name, where);
    else if (!json_is_string(v))
        snprintf(rec->error, sizeof rec->error, "field '%s'%s is %s, expected a string", name,
                 where, json_type_name(v));
    else return v;
    return NULL;
}

static bool role_from_name(const char *s, slm_role *out) {
    for (int r = 0; r < SLM_ROLE_COUNT; r++)
        if (!strcmp(s, slm_role_name((slm_role)r))) {
            *out = (slm_role)r;
            return true;
        }
    return false;
}

slm_status slm_jsonl_parse_line(const char *line, size_t len, const slm_reader_opts *o,
                                slm_record *rec) {
    rec->error[0] = 0;
    rec->n_msgs = 0;
    json_error_t err;
    json_t *root = json_loadb(line, len, 0, &err);
    slm_status st = SLM_OK;
    if (!root) BAD("malformed JSON at column %d: %s", err.column, err.text);
    if (!json_is_object(root)) BAD("expected a JSON object, found %s", json_type_name(root));
    const json_t *msgs = json_object_get(root, o->messages_field);
    const json_t *prompt = json_object_get(root, o->prompt_field);
    if (msgs) {
        if (!json_is_array(msgs))
            BAD("field '%s' is %s, expected an array of {\"%s\", \"%s\"} objects",
                o->messages_field, json_type_name(msgs), o->role_field, o->content_field);
        if (json_array_size(msgs) == 0) BAD("field '%s' is an empty array", o->messages_field);
        rec->kind = SLM_REC_CHAT;
        bool any_assistant = false;
        for (size_t i = 0; i < json_array_size(msgs); i++) {
            const json_t *m = json_array_get(msgs, i);
            char where[64];
            snprintf(where, sizeof where, " in message %zu", i + 1);
            if (!json_is_object(m))
                BAD("message %zu is %s, expected an object", i + 1, json_type_name(m));
            const json_t *role = get_string(m, o->role_field, where, rec);
            if (!role) goto done;
            const json_t *content = get_string(m, o->content_field, where, rec);
            if (!content) goto done;
            slm_role r;
            if (!role_from_name(json_string_value(role), &r))
                BAD("unknown role '%.40s' in message %zu (expected system, user or assistant)",
                    json_string_value(role), i + 1);
            if (r == SLM_ROLE_SYSTEM && i != 0)
                BAD("system message %zu is not the first message", i + 1);
            any_assistant |= r == SLM_ROLE_ASSISTANT;
            st = slm_record_add_msg(rec, r, json_string_value(content), json_string_length(content));
            if (st != SLM_OK) goto done;
        }
        if (!any_assistant) BAD("no assistant message: nothing for the model to learn");
    } else if (prompt) {
        const json_t *p = get_string(root, o->prompt_field, "", rec);
        if (!p) goto done;
        const json_t *c = get_string(root, o->completion_field, "", rec);
        if (!c) goto done;
        rec->kind = SLM_REC_PROMPT;
        st = slm_record_add_msg(rec, SLM_ROLE_USER, json_string_value(p), json_string_length(p));
        if (st == SLM_OK)
            st = slm_record_add_msg(rec, SLM_ROLE_ASSISTANT, json_string_value(c),
                                    json_string_length(c));
    } else {
        if (o->format == SLM_FORMAT_CHAT)
            BAD("missing field '%s' (--format chat expects {\"%s\": [...]} or "
                "{\"%s\", \"%s\"})",
                o->messages_field, o->messages_field, o->prompt_field, o->completion_field);
        if (!json_object_get(root, o->text_field))
            BAD("missing field: expected '%s', '%s' + '%s', or '%s'", o->text_field,
                o->prompt_field, o->completion_field, o->messages_field);
        const json_t *t = get_string(root, o->text_field, "", rec);
        if (!t) goto done;
        st = slm_record_set_text(rec, SLM_REC_TEXT, SLM_ROLE_ASSISTANT, json_string_value(t),
                                 json_string_length(t));
    }
done:
    if (rec->error[0]) rec->n_msgs = 0;
    json_decref(root);
    return st;
}
