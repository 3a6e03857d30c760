#include "cli/diff_text.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"

/* Beyond this many edits the shortest script is not worth its O(D^2) memory: the
 * remaining middle part is reported as deleted-then-inserted, still a correct diff. */
#define MAX_EDIT_DISTANCE 2000

typedef struct line {
    const char *s;
    size_t n;
} line_t;

typedef enum op { OP_EQ, OP_DEL, OP_INS } op_t;

typedef struct edit {
    op_t op;
    size_t ai, bi; /* line index in a (EQ/DEL) and in b (EQ/INS) */
} edit_t;

typedef struct edits {
    edit_t *v;
    size_t n, cap;
} edits_t;

static void push(edits_t *e, op_t op, size_t ai, size_t bi)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = xrealloc(e->v, e->cap * sizeof *e->v);
    }
    e->v[e->n++] = (edit_t){op, ai, bi};
}

static line_t *split_lines(const char *s, size_t *count)
{
    size_t cap = 16, n = 0;
    line_t *v = xmalloc(cap * sizeof *v);
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (n == cap) {
            cap *= 2;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[n++] = (line_t){s, len};
        s += len + (nl ? 1 : 0);
    }
    *count = n;
    return v;
}

static bool line_eq(const line_t *a, const line_t *b)
{
    return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
}

/* Myers' greedy shortest edit script over a[0..n) and b[0..m), appended to e in order.
 * Returns false when the distance exceeds MAX_EDIT_DISTANCE (nothing appended). */
static bool myers(const line_t *a, size_t n, const line_t *b, size_t m, size_t aoff, size_t boff,
                  edits_t *e)
{
    long max = (long)(n + m);
    long dmax = max < MAX_EDIT_DISTANCE ? max : MAX_EDIT_DISTANCE;
    /* trace[d] holds v[-d..d] after step d, so backtracking can find each step's origin. */
    long **trace = xcalloc((size_t)dmax + 1, sizeof *trace);
    cleanup_free long *v = xcalloc((size_t)(2 * dmax + 3), sizeof *v);
    long off = dmax + 1;
    long found = -1;
    for (long d = 0; d <= dmax && found < 0; d++) {
        for (long k = -d; k <= d; k += 2) {
            long x;
            if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
                x = v[off + k + 1];
            else
                x = v[off + k - 1] + 1;
            long y = x - k;
            while (x < (long)n && y < (long)m && line_eq(&a[x], &b[y])) {
                x++;
                y++;
            }
            v[off + k] = x;
            if (x >= (long)n && y >= (long)m) {
                found = d;
                break;
            }
        }
        trace[d] = xmalloc((size_t)(2 * d + 1) * sizeof(long));
        for (long k = -d; k <= d; k++)
            trace[d][k + d] = v[off + k];
    }
    bool ok = found >= 0;
    if (ok) {
        /* Walk back from (n, m), collecting edits in reverse. */
        edits_t rev = {0};
        long x = (long)n, y = (long)m;
        for (long d = found; d >= 0; d--) {
            long k = x - y;
            long px, py;
            if (d == 0) {
                px = 0;
                py = 0;
            } else {
                const long *pv = trace[d - 1]; /* indexed k + (d - 1) */
                long pk;
                long left = (k - 1 >= -(d - 1)) ? pv[k - 1 + d - 1] : -1;
                long right = (k + 1 <= d - 1) ? pv[k + 1 + d - 1] : -1;
                if (k == -d || (k != d && left < right))
                    pk = k + 1;
                else
                    pk = k - 1;
                px = pv[pk + d - 1];
                py = px - pk;
            }
            while (x > px && y > py) {
                push(&rev, OP_EQ, aoff + (size_t)x - 1, boff + (size_t)y - 1);
                x--;
                y--;
            }
            if (d > 0) {
                if (x == px)
                    push(&rev, OP_INS, aoff + (size_t)x, boff + (size_t)py);
                else
                    push(&rev, OP_DEL, aoff + (size_t)px, boff + (size_t)y);
            }
            x = px;
            y = py;
        }
        for (size_t i = rev.n; i > 0; i--)
            push(e, rev.v[i - 1].op, rev.v[i - 1].ai, rev.v[i - 1].bi);
        free(rev.v);
    }
    for (long d = 0; d <= dmax; d++)
        free(trace[d]);
    free(trace);
    return ok;
}

/* GNU diff's range notation: "l" for one line, "l,c" otherwise, and for an empty range the
 * line before it. */
static void range(minik_buf_t *out, size_t start, size_t count)
{
    if (count == 1)
        minik_buf_appendf(out, "%zu", start + 1);
    else if (count == 0)
        minik_buf_appendf(out, "%zu,0", start);
    else
        minik_buf_appendf(out, "%zu,%zu", start + 1, count);
}

static void emit_line(minik_buf_t *out, char mark, const line_t *l)
{
    minik_buf_append_char(out, mark);
    minik_buf_append(out, l->s, l->n);
    minik_buf_append_char(out, '\n');
}

int minik_diff_unified(const char *a_label, const char *a, const char *b_label, const char *b,
                       int context, minik_buf_t *out, minik_error_t **err)
{
    size_t n, m;
    cleanup_free line_t *la = split_lines(a, &n);
    cleanup_free line_t *lb = split_lines(b, &m);
    if (n + m > MINIK_DIFF_MAX_LINES)
        return minik_error_set(err, EFBIG, "diff: inputs too large (%zu lines, at most %d)", n + m,
                               MINIK_DIFF_MAX_LINES);
    /* Common prefix and suffix need no search. */
    size_t pre = 0;
    while (pre < n && pre < m && line_eq(&la[pre], &lb[pre]))
        pre++;
    size_t suf = 0;
    while (suf < n - pre && suf < m - pre && line_eq(&la[n - 1 - suf], &lb[m - 1 - suf]))
        suf++;
    if (pre == n && pre == m)
        return 0;

    edits_t e = {0};
    for (size_t i = 0; i < pre; i++)
        push(&e, OP_EQ, i, i);
    size_t an = n - pre - suf, bm = m - pre - suf;
    if (!myers(la + pre, an, lb + pre, bm, pre, pre, &e)) {
        for (size_t i = 0; i < an; i++)
            push(&e, OP_DEL, pre + i, pre);
        for (size_t i = 0; i < bm; i++)
            push(&e, OP_INS, pre + an, pre + i);
    }
    for (size_t i = 0; i < suf; i++)
        push(&e, OP_EQ, n - suf + i, m - suf + i);

    minik_buf_appendf(out, "--- %s\n+++ %s\n", a_label, b_label);
    size_t ctx = context < 0 ? 0 : (size_t)context;
    size_t i = 0;
    while (i < e.n) {
        /* Find the next change. */
        while (i < e.n && e.v[i].op == OP_EQ)
            i++;
        if (i == e.n)
            break;
        size_t start = i > ctx ? i - ctx : 0;
        /* Extend the hunk while the gap to the next change is at most 2*ctx. */
        size_t end = i;
        for (;;) {
            while (end < e.n && e.v[end].op != OP_EQ)
                end++;
            size_t eq = end;
            while (eq < e.n && e.v[eq].op == OP_EQ)
                eq++;
            if (eq < e.n && eq - end <= 2 * ctx) {
                end = eq;
                continue;
            }
            end = end + ctx < e.n ? end + ctx : e.n;
            if (end > eq)
                end = eq;
            break;
        }
        /* Line numbers where the hunk starts in each side. */
        size_t a_start = 0, b_start = 0, a_count = 0, b_count = 0;
        const edit_t *first = &e.v[start];
        a_start = first->ai;
        b_start = first->bi;
        for (size_t j = start; j < end; j++) {
            if (e.v[j].op != OP_INS)
                a_count++;
            if (e.v[j].op != OP_DEL)
                b_count++;
        }
        minik_buf_append_str(out, "@@ -");
        range(out, a_start, a_count);
        minik_buf_append_str(out, " +");
        range(out, b_start, b_count);
        minik_buf_append_str(out, " @@\n");
        for (size_t j = start; j < end; j++) {
            const edit_t *x = &e.v[j];
            if (x->op == OP_EQ)
                emit_line(out, ' ', &la[x->ai]);
            else if (x->op == OP_DEL)
                emit_line(out, '-', &la[x->ai]);
            else
                emit_line(out, '+', &lb[x->bi]);
        }
        i = end;
    }
    free(e.v);
    return 1;
}
