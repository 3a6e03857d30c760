#include "tests/unit/proto_helpers.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "proto/manifest.h"

char *proto_check(const char *yaml, minik_validate_mode_t mode, cJSON **objs)
{
    minik_manifest_t *m = minik_manifest_new();
    minik_diags_t diags = MINIK_DIAGS_INIT;
    minik_manifest_decode_buf(m, "app.yaml", yaml, strlen(yaml), &diags);
    cJSON *out = cJSON_CreateArray();
    for (size_t i = 0; i < m->n_docs; i++) {
        if (minik_validate(m->docs[i].obj, m->pos, m->docs[i].source, mode, &diags, NULL) > 0)
            continue;
        cJSON *o = m->docs[i].obj;
        m->docs[i].obj = NULL;
        minik_default(o);
        cJSON_AddItemToArray(out, o);
    }
    minik_buf_t b = MINIK_BUF_INIT;
    minik_diags_format(&diags, &b);
    minik_diags_clear(&diags);
    minik_manifest_free(m);
    if (objs)
        *objs = out;
    else
        cJSON_Delete(out);
    return minik_buf_steal(&b);
}

cJSON *proto_load_one(const char *yaml)
{
    cJSON *objs = NULL;
    char *diags = proto_check(yaml, MINIK_VALIDATE_STRICT, &objs);
    if (diags[0])
        fprintf(stderr, "unexpected diagnostics:\n%s", diags);
    assert_string_equal(diags, "");
    free(diags);
    assert_true(cJSON_GetArraySize(objs) >= 1);
    cJSON *first = cJSON_DetachItemFromArray(objs, 0);
    cJSON_Delete(objs);
    return first;
}

const cJSON *proto_at(const cJSON *obj, const char *path)
{
    char *copy = xstrdup(path);
    const cJSON *cur = obj;
    char *p = copy;
    while (cur && *p) {
        char *end = p + strcspn(p, ".[");
        char sep = *end;
        *end = '\0';
        if (*p)
            cur = cJSON_GetObjectItemCaseSensitive(cur, p);
        p = end + (sep ? 1 : 0);
        while (cur && sep == '[') {
            int idx = atoi(p);
            cur = cJSON_GetArrayItem(cur, idx);
            p = strchr(p, ']');
            if (!p) {
                cur = NULL;
                break;
            }
            p++;
            sep = *p;
            if (sep == '.' || sep == '[')
                p++;
        }
    }
    free(copy);
    return cur;
}

int proto_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}
