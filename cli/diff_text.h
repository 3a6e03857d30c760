/* Line-based unified diff (the `diff -u` format) for `minik diff`. */
#ifndef MINIK_CLI_DIFF_TEXT_H
#define MINIK_CLI_DIFF_TEXT_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/error.h"

/* Compare texts a and b line by line (Myers' algorithm: a shortest edit script) and append
 * a unified diff with `context` lines around each change, under "--- a_label" /
 * "+++ b_label" headers, to out. Appends nothing when the texts are equal. Returns 1 when
 * they differ, 0 when equal, < 0 (err set) when the inputs are too large to compare
 * (more than MINIK_DIFF_MAX_LINES lines together). */
#define MINIK_DIFF_MAX_LINES 200000
int minik_diff_unified(const char *a_label, const char *a, const char *b_label, const char *b,
                       int context, minik_buf_t *out, minik_error_t **err);

#endif
