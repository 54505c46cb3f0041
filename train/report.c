/* train/report.c — report.html with inline SVG curves (see report.h). */
#include "train/report.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

#define MAX_SERIES 10

typedef struct {
    const char *key;   /* field in metrics.jsonl */
    const char *label; /* legend text */
    const char *color;
    double *x, *y;
    size_t n, cap;
} series;

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} strbuf;

static void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *sb, const char *fmt, ...) {
    if (sb->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
        if (n < 0) { sb->oom = true; return; }
        if ((size_t)n < sb->cap - sb->len) { sb->len += (size_t)n; return; }
        size_t ncap = (sb->cap + (size_t)n + 1) * 2;
        char *nb = realloc(sb->buf, ncap);
        if (!nb) { sb->oom = true; return; }
        sb->buf = nb;
        sb->cap = ncap;
    }
}

/* HTML-escapes s into sb. */
static void sb_escape(strbuf *sb, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '<': sb_printf(sb, "&lt;"); break;
        case '>': sb_printf(sb, "&gt;"); break;
        case '&': sb_printf(sb, "&amp;"); break;
        case '"': sb_printf(sb, "&quot;"); break;
        default: sb_printf(sb, "%c", s[i]);
        }
    }
}

static bool series_push(series *s, double x, double y) {
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 256;
        double *nx = realloc(s->x, ncap * sizeof *nx);
        if (!nx) return false;
        s->x = nx;
        double *ny = realloc(s->y, ncap * sizeof *ny);
        if (!ny) return false;
        s->y = ny;
        s->cap = ncap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return true;
}

static slm_status load_metrics(const char *path, series *ss, int n_series, size_t *n_lines) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        slm_log_error("report: cannot open '%s' (is this a run directory?)", path);
        return SLM_ERR_USAGE;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    slm_status st = SLM_OK;
    while (getline(&line, &cap, fp) > 0) {
        lineno++;
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        if (!json_is_object(o)) {
            slm_log_warn("%s:%zu: not a JSON object (%s); line ignored", path, lineno, err.text);
            json_decref(o);
            continue;
        }
        json_t *step = json_object_get(o, "step");
        if (json_is_number(step)) {
            double x = json_number_value(step);
            for (int i = 0; i < n_series; i++) {
                json_t *v = json_object_get(o, ss[i].key);
                if (json_is_number(v) && isfinite(json_number_value(v)) &&
                    !series_push(&ss[i], x, json_number_value(v)))
                    st = SLM_ERR_NOMEM;
            }
        }
        json_decref(o);
    }
    free(line);
    fclose(fp);
    *n_lines = lineno;
    return st;
}

/* One SVG line chart of the given series (those with points). */
static void svg_chart(strbuf *sb, const char *title, series **ss, int n, bool log_y) {
    const double W = 640, H = 300, L = 64, R = 16, T = 28, B = 40;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int with_points = 0;
    for (int i = 0; i < n; i++) {
        for (size_t j = 0; j < ss[i]->n; j++) {
            double y = ss[i]->y[j];
            if (log_y && y <= 0) continue;
            y = log_y ? log10(y) : y;
            x0 = fmin(x0, ss[i]->x[j]); x1 = fmax(x1, ss[i]->x[j]);
            y0 = fmin(y0, y); y1 = fmax(y1, y);
        }
        with_points += ss[i]->n > 0;
    }
    if (!with_points) return;
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) { y1 = y0 + 1e-6 + fabs(y0) * 0.05; y0 -= 1e-6 + fabs(y0) * 0.05; }
    double pad = 0.05 * (y1 - y0);
    y0 -= pad; y1 += pad;
    sb_printf(sb, "<figure><svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                  "width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" data-title=\"%s\">\n",
              W, H, W, H, title);
    sb_printf(sb, "<rect x=\"0\" y=\"0\" width=\"%g\" height=\"%g\" fill=\"#fff\"/>\n", W, H);
    sb_printf(sb, "<text x=\"%g\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>\n", L, title);
    for (int k = 0; k <= 4; k++) {
        double fy = y0 + (y1 - y0) * k / 4, py = H - B - (H - T - B) * k / 4;
        double label = log_y ? pow(10, fy) : fy;
        sb_printf(sb, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                      "<text x=\"%g\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.4g</text>\n",
                  L, py, W - R, py, L - 4, py + 4, label);
        double fx = x0 + (x1 - x0) * k / 4, px = L + (W - L - R) * k / 4;
        sb_printf(sb, "<text x=\"%.1f\" y=\"%g\" font-size=\"11\" text-anchor=\"middle\">%.0f</text>\n",
                  px, H - B + 16, fx);
    }
    sb_printf(sb, "<text x=\"%g\" y=\"%g\" font-size=\"11\" text-anchor=\"middle\">step</text>\n",
              (W + L) / 2, H - 6);
    int legend = 0;
    for (int i = 0; i < n; i++) {
        if (!ss[i]->n) continue;
        sb_printf(sb, "<polyline class=\"curve\" data-series=\"%s\" fill=\"none\" stroke=\"%s\" "
                      "stroke-width=\"1.5\" points=\"", ss[i]->key, ss[i]->color);
        for (size_t j = 0; j < ss[i]->n; j++) {
            double y = ss[i]->y[j];
            if (log_y && y <= 0) continue;
            y = log_y ? log10(y) : y;
            double px = L + (W - L - R) * (ss[i]->x[j] - x0) / (x1 - x0);
            double py = H - B - (H - T - B) * (y - y0) / (y1 - y0);
            sb_printf(sb, "%.1f,%.1f ", px, py);
        }
        sb_printf(sb, "\"/>\n");
        if (ss[i]->n == 1) { /* a single point is invisible as a line */
            double px = L + (W - L - R) * (ss[i]->x[0] - x0) / (x1 - x0);
            double y = log_y ? log10(ss[i]->y[0]) : ss[i]->y[0];
            double py = H - B - (H - T - B) * (y - y0) / (y1 - y0);
            sb_printf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px, py, ss[i]->color);
        }
        sb_printf(sb, "<rect x=\"%g\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/>"
                      "<text x=\"%g\" y=\"%d\" font-size=\"11\">%s</text>\n",
                  W - R - 150, 12 + 14 * legend, ss[i]->color, W - R - 134, 16 + 14 * legend,
                  ss[i]->label);
        legend++;
    }
    sb_printf(sb, "</svg></figure>\n");
}

static void emit_file_block(strbuf *sb, const char *title, const char *path) {
    char *data = NULL;
    size_t len = 0;
    int saved = slm_log_level;
    slm_log_level = -1; /* the file is optional: no error if absent */
    slm_status st = slm_read_file(path, &data, &len);
    slm_log_level = saved;
    if (st != SLM_OK) return;
    sb_printf(sb, "<h2>%s</h2>\n<pre>", title);
    sb_escape(sb, data, len);
    sb_printf(sb, "</pre>\n");
    free(data);
}

static void emit_summary(strbuf *sb, series *ss, int n, size_t n_lines) {
    sb_printf(sb, "<h2>Summary</h2>\n<table><tr><th>metric</th><th>first</th><th>last</th>"
                  "<th>min</th><th>points</th></tr>\n");
    for (int i = 0; i < n; i++) {
        if (!ss[i].n) continue;
        double mn = INFINITY;
        for (size_t j = 0; j < ss[i].n; j++) mn = fmin(mn, ss[i].y[j]);
        sb_printf(sb, "<tr><td>%s</td><td>%.6g</td><td>%.6g</td><td>%.6g</td><td>%zu</td></tr>\n",
                  ss[i].label, ss[i].y[0], ss[i].y[ss[i].n - 1], mn, ss[i].n);
    }
    sb_printf(sb, "</table>\n<p>%zu metric records.</p>\n", n_lines);
}

slm_status slm_report_write(const char *run_dir) {
    series ss[] = {
        {"loss", "train loss", "#1f77b4", 0, 0, 0, 0},
        {"val_loss", "validation loss", "#d62728", 0, 0, 0, 0},
        {"kl", "train KL (distillation)", "#9467bd", 0, 0, 0, 0},
        {"lr", "learning rate", "#2ca02c", 0, 0, 0, 0},
        {"grad_norm", "gradient norm", "#ff7f0e", 0, 0, 0, 0},
        {"tokens_per_s", "tokens/s", "#17becf", 0, 0, 0, 0},
    };
    const int n = (int)(sizeof ss / sizeof ss[0]);
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    size_t n_lines = 0;
    slm_status st = load_metrics(path, ss, n, &n_lines);
    strbuf sb = {0};
    if (st == SLM_OK) {
        sb_printf(&sb, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>slm run ");
        sb_escape(&sb, run_dir, strlen(run_dir));
        sb_printf(&sb, "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
                       "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
                       "pre{background:#f6f6f6;padding:1em;overflow:auto}figure{margin:1em 0}"
                       "</style></head><body>\n<h1>slm run: ");
        sb_escape(&sb, run_dir, strlen(run_dir));
        sb_printf(&sb, "</h1>\n");
        emit_summary(&sb, ss, n, n_lines);
        sb_printf(&sb, "<h2>Curves</h2>\n");
        series *loss[] = {&ss[0], &ss[1]}, *kl[] = {&ss[2]}, *lr[] = {&ss[3]}, *gn[] = {&ss[4]},
               *tps[] = {&ss[5]};
        svg_chart(&sb, "Loss", loss, 2, false);
        svg_chart(&sb, "KL to teacher (distillation)", kl, 1, false);
        svg_chart(&sb, "Learning rate", lr, 1, false);
        svg_chart(&sb, "Gradient norm", gn, 1, true);
        svg_chart(&sb, "Throughput (tokens/s)", tps, 1, false);
        snprintf(path, sizeof path, "%s/eval.json", run_dir);
        emit_file_block(&sb, "Evaluation", path);
        snprintf(path, sizeof path, "%s/config.ini", run_dir);
        emit_file_block(&sb, "Configuration", path);
        sb_printf(&sb, "</body></html>\n");
        if (sb.oom) st = SLM_ERR_NOMEM;
    }
    if (st == SLM_OK) {
        snprintf(path, sizeof path, "%s/report.html", run_dir);
        slm_outfile of;
        st = slm_outfile_open(&of, path);
        if (st == SLM_OK) {
            st = slm_outfile_write(&of, sb.buf, sb.len);
            if (st == SLM_OK) st = slm_outfile_commit(&of);
            else slm_outfile_abort(&of);
        }
    }
    for (int i = 0; i < n; i++) {
        free(ss[i].x);
        free(ss[i].y);
    }
    free(sb.buf);
    return st;
}
