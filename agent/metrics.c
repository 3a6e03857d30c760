/* GET /stats/summary on the agent endpoint: cumulative CPU time and memory of the node and
 * of every running container (from their cgroups), for `minik top`. Callers sample twice
 * and divide by the time between for a rate, as metrics-server does with the kubelet's
 * summary API. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/internal.h"
#include "agent/runtime/cgroup.h"
#include "agent/runtime/oci.h"
#include "agent/runtime/state.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"

static void node_usage(uint64_t *cpu_ns, uint64_t *mem_bytes)
{
    *cpu_ns = *mem_bytes = 0;
    cleanup_fclose FILE *f = fopen("/proc/stat", "re");
    unsigned long long u = 0, n = 0, s = 0, idle = 0, io = 0, irq = 0, sirq = 0, steal = 0;
    if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &n, &s, &idle, &io, &irq,
                    &sirq, &steal) == 8)
        *cpu_ns = (uint64_t)(u + n + s + irq + sirq + steal) *
                  (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
    cleanup_fclose FILE *m = fopen("/proc/meminfo", "re");
    char line[256];
    unsigned long long total = 0, avail = 0, v;
    while (m && fgets(line, sizeof(line), m)) {
        if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
            total = v;
        else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
            avail = v;
    }
    *mem_bytes = (uint64_t)(total - avail) * 1024;
}

void minik_agent_stats_summary(struct minik_agent *a, minik_http_request_t *req)
{
    cleanup_cjson cJSON *out = cJSON_CreateObject();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    cJSON_AddNumberToObject(out, "timeNanoSeconds", (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec);
    cJSON *node = cJSON_AddObjectToObject(out, "node");
    uint64_t cpu, mem;
    node_usage(&cpu, &mem);
    cJSON_AddStringToObject(node, "name", a->node_name);
    cJSON_AddNumberToObject(node, "cpuUsageNanoSeconds", (double)cpu);
    cJSON_AddNumberToObject(node, "memoryWorkingSetBytes", (double)mem);
    cJSON *pods = cJSON_AddArrayToObject(out, "pods");
    for (agent_pod_t *p = a->pods; p; p = p->next) {
        if (p->deleted || !p->name[0])
            continue;
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "namespace", p->ns);
        cJSON_AddStringToObject(pj, "name", p->name);
        /* The pod's own cgroup: all its containers, and what exec'd commands add. */
        minik_cgroup_stats_t ps = {0};
        minik_error_t *pe = NULL;
        if (!a->hollow && minik_agent_pod_cgroup_stats(p->uid, &ps, &pe) == 0) {
            cJSON_AddNumberToObject(pj, "cpuUsageNanoSeconds", (double)ps.cpu_usage_ns);
            cJSON_AddNumberToObject(pj, "memoryWorkingSetBytes", (double)ps.memory_usage_bytes);
            if (ps.memory_limit_bytes != UINT64_MAX)
                cJSON_AddNumberToObject(pj, "memoryLimitBytes", (double)ps.memory_limit_bytes);
        }
        minik_error_free(pe); /* not started yet, or from before pod cgroups */
        cJSON *cs = cJSON_AddArrayToObject(pj, "containers");
        /* A busy pod's containers belong to its job (internal.h); its pod cgroup above
         * still counts them. */
        for (size_t i = 0; i < p->n_ctrs && !a->hollow && !p->busy; i++) {
            agent_ctr_t *c = &p->ctrs[i];
            if (!c->id || c->pid <= 0)
                continue;
            minik_oci_state_t *st = NULL;
            const char *status = NULL;
            minik_error_t *e = NULL;
            minik_cgroup_t *cg = NULL;
            minik_cgroup_stats_t s = {0};
            if (minik_oci_load(a->oci_root, c->id, &st, &status, &e) < 0 || !st->cgroup_path ||
                minik_cgroup_open(st->cgroup_path, &cg, &e) < 0 ||
                minik_cgroup_stats(cg, &s, &e) < 0) {
                minik_error_free(e); /* exited between looks: not listed */
                minik_cgroup_free(cg);
                minik_oci_state_free(st);
                continue;
            }
            cJSON *cj = cJSON_CreateObject();
            cJSON_AddStringToObject(cj, "name", c->name);
            cJSON_AddNumberToObject(cj, "cpuUsageNanoSeconds", (double)s.cpu_usage_ns);
            cJSON_AddNumberToObject(cj, "memoryWorkingSetBytes", (double)s.memory_usage_bytes);
            cJSON_AddItemToArray(cs, cj);
            minik_cgroup_free(cg);
            minik_oci_state_free(st);
        }
        cJSON_AddItemToArray(pods, pj);
    }
    cleanup_free char *text = cJSON_PrintUnformatted(out);
    minik_http_respond(req, 200, "application/json", text, strlen(text), NULL);
}
