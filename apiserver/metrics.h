/* Prometheus metrics of the API server, rendered in the text exposition format:
 *   minik_apiserver_requests_total{verb,resource,code}
 *   minik_apiserver_request_duration_seconds{verb} (histogram)
 *   minik_apiserver_objects{kind}   (from the store at scrape time)
 *   minik_apiserver_watches         (open watch streams) */
#ifndef MINIK_APISERVER_METRICS_H
#define MINIK_APISERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

typedef struct minik_metrics minik_metrics_t;

minik_metrics_t *minik_metrics_new(void);
void minik_metrics_free(minik_metrics_t *m);
/* Count one finished request; verb/resource are static strings (NULL = "unknown"). */
void minik_metrics_observe(minik_metrics_t *m, const char *verb, const char *resource, int code,
                           double seconds);
/* Append the request counters and histograms. */
void minik_metrics_render(const minik_metrics_t *m, minik_buf_t *out);

#endif
