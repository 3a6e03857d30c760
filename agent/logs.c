/* CRI log records -> what the user sees. See logs.h. */
#include "agent/logs.h"

#include <stdlib.h>
#include <string.h>

typedef struct line {
    size_t start, len; /* in the output buffer */
} line_t;

size_t minik_agent_logs_render(const char *in, size_t len, long tail, bool timestamps,
                               minik_buf_t *out)
{
    /* First render every line into a scratch buffer, remembering where lines start, so
     * the tail is cut on whole (joined) lines. */
    minik_buf_t all = MINIK_BUF_INIT;
    size_t n_lines = 0, cap = 0;
    size_t *starts = NULL;
    bool in_partial = false;
    const char *p = in, *end = in + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        /* "<ts> <stream> <tag> <msg>" */
        const char *s1 = memchr(p, ' ', (size_t)(le - p));
        const char *s2 = s1 ? memchr(s1 + 1, ' ', (size_t)(le - s1 - 1)) : NULL;
        const char *s3 = s2 ? memchr(s2 + 1, ' ', (size_t)(le - s2 - 1)) : NULL;
        bool ok = s3 && (s3 - s2 == 2) && (s2[1] == 'P' || s2[1] == 'F') &&
                  ((s2 - s1 - 1 == 6 && memcmp(s1 + 1, "stdout", 6) == 0) ||
                   (s2 - s1 - 1 == 6 && memcmp(s1 + 1, "stderr", 6) == 0));
        if (ok) {
            if (!in_partial) {
                if (n_lines == cap) {
                    cap = cap ? cap * 2 : 64;
                    size_t *ns = realloc(starts, cap * sizeof(*starts));
                    if (!ns)
                        break;
                    starts = ns;
                }
                starts[n_lines++] = all.len;
                if (timestamps) {
                    minik_buf_append(&all, p, (size_t)(s1 - p));
                    minik_buf_append_char(&all, ' ');
                }
            }
            minik_buf_append(&all, s3 + 1, (size_t)(le - s3 - 1));
            in_partial = s2[1] == 'P';
            if (!in_partial)
                minik_buf_append_char(&all, '\n');
        }
        p = nl ? nl + 1 : end;
    }
    size_t first = 0;
    if (tail >= 0 && (size_t)tail < n_lines)
        first = n_lines - (size_t)tail;
    size_t written = n_lines - first;
    if (written > 0 && all.data)
        minik_buf_append(out, all.data + starts[first], all.len - starts[first]);
    free(starts);
    minik_buf_free(&all);
    return written;
}
