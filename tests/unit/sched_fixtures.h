/* Shared helpers for the scheduler unit tests: Nodes and Pods from compact JSON written
 * with single quotes (turned into double quotes before parsing). */
#ifndef MINIK_TESTS_SCHED_FIXTURES_H
#define MINIK_TESTS_SCHED_FIXTURES_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "scheduler/snapshot.h"

/* Parse JSON written with ' for "; aborts the test on a syntax error. */
cJSON *sched_json(const char *single_quoted);
/* A Pod named `name` in "default" with the given spec (a JSON object text, may be NULL)
 * and extra metadata members (a JSON members text such as "'labels':{'a':'b'}", may be
 * NULL). */
minik_sched_pod_t *sched_pod(const char *name, const char *meta_members, const char *spec);
/* A Node named `name`: allocatable cpu/memory/pods and optional labels / spec members. */
minik_sched_node_t *sched_node(const char *name, const char *cpu, const char *memory, int pods,
                               const char *labels, const char *spec_members, bool ready);

#endif
