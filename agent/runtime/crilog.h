/* Container logs in the CRI format kubelet and `kubectl logs` expect:
 *
 *     2026-11-26T15:04:25.123456789Z stdout F a complete line
 *     2026-11-26T15:04:25.123456789Z stderr P the first 16 KiB of a longer line...
 *
 * "F" ends a line; "P" marks a piece of a line that was cut because it exceeded
 * MINIK_CRILOG_MAX_LINE. The file is rotated by size: <path> -> <path>.1 -> ... keeping
 * at most max_files files in all. */
#ifndef MINIK_RUNTIME_CRILOG_H
#define MINIK_RUNTIME_CRILOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/error.h"

#define MINIK_CRILOG_MAX_LINE (16 * 1024)

typedef enum { MINIK_CRILOG_STDOUT = 0, MINIK_CRILOG_STDERR = 1 } minik_crilog_stream_t;

typedef struct minik_crilog minik_crilog_t;

/* Open (append to) the log at path. max_size 0 = never rotate; max_files >= 1. */
int minik_crilog_open(const char *path, uint64_t max_size, int max_files, minik_crilog_t **out,
                      minik_error_t **err);

/* Feed bytes a stream produced. Complete lines are written at once; the rest waits for
 * more data (or minik_crilog_flush). */
int minik_crilog_write(minik_crilog_t *l, minik_crilog_stream_t s, const char *data, size_t len,
                       minik_error_t **err);

/* Write a stream's pending partial line as a final "F" record (at EOF). */
int minik_crilog_flush(minik_crilog_t *l, minik_crilog_stream_t s, minik_error_t **err);

void minik_crilog_free(minik_crilog_t *l);

/* Append one record to b: "<RFC3339Nano UTC> <stream> <tag> <data>\n". */
void minik_crilog_format(minik_buf_t *b, const struct timespec *ts, minik_crilog_stream_t s,
                         char tag, const char *data, size_t len);

/* Split bytes into records exactly as minik_crilog_write does, but into b (no file):
 * pending carries the partial line between calls. Exposed for tests and fuzzing. */
void minik_crilog_split(minik_buf_t *b, minik_buf_t *pending, const struct timespec *ts,
                        minik_crilog_stream_t s, const char *data, size_t len);

#endif
