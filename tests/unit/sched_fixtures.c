#include "tests/unit/sched_fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

cJSON *sched_json(const char *sq)
{
    char *s = xstrdup(sq);
    for (char *c = s; *c; c++) {
        if (*c == '\'')
            *c = '"';
    }
    cJSON *j = cJSON_Parse(s);
    if (!j) {
        fprintf(stderr, "bad test JSON: %s\n", s);
        abort();
    }
    free(s);
    return j;
}

minik_sched_pod_t *sched_pod(const char *name, const char *meta_members, const char *spec)
{
    /* Extra members may name another namespace; JSON keeps the first duplicate key. */
    bool own_ns = meta_members && strstr(meta_members, "'namespace'");
    char *text = xasprintf("{'apiVersion':'v1','kind':'Pod','metadata':{'name':'%s',%s"
                           "'uid':'uid-%s'%s%s},'spec':%s}",
                           name, own_ns ? "" : "'namespace':'default',", name,
                           meta_members ? "," : "", meta_members ? meta_members : "",
                           spec ? spec : "{'containers':[{'name':'c','image':'busybox'}]}");
    cJSON *j = sched_json(text);
    free(text);
    minik_sched_pod_t *p = NULL;
    if (minik_sched_pod_new(j, &p, NULL) < 0)
        abort();
    cJSON_Delete(j);
    return p;
}

minik_sched_node_t *sched_node(const char *name, const char *cpu, const char *memory, int pods,
                               const char *labels, const char *spec_members, bool ready)
{
    char *text = xasprintf("{'apiVersion':'v1','kind':'Node','metadata':{'name':'%s','labels':%s},"
                           "'spec':{%s},'status':{'allocatable':{'cpu':'%s','memory':'%s','pods':"
                           "'%d'}}}",
                           name, labels ? labels : "{}", spec_members ? spec_members : "", cpu,
                           memory, pods);
    cJSON *j = sched_json(text);
    free(text);
    minik_sched_node_t *n = NULL;
    if (minik_sched_node_new(j, ready, &n, NULL) < 0)
        abort();
    cJSON_Delete(j);
    return n;
}
