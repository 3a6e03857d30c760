/* Manifests: the documents of files, directories, stdin and buffers, with positions. */
#include "proto/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/posmap.h"
#include "proto/yaml_decode.h"

minik_manifest_t *minik_manifest_new(void)
{
    minik_manifest_t *m = xcalloc(1, sizeof *m);
    m->pos = minik_posmap_new();
    return m;
}

void minik_manifest_free(minik_manifest_t *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_docs; i++)
        cJSON_Delete(m->docs[i].obj);
    free(m->docs);
    for (size_t i = 0; i < m->n_sources; i++)
        free(m->sources[i]);
    free(m->sources);
    minik_posmap_free(m->pos);
    free(m);
}

static const char *intern_source(minik_manifest_t *m, const char *source)
{
    if (source == NULL)
        return NULL;
    for (size_t i = 0; i < m->n_sources; i++)
        if (strcmp(m->sources[i], source) == 0)
            return m->sources[i];
    m->sources = xrealloc(m->sources, (m->n_sources + 1) * sizeof *m->sources);
    m->sources[m->n_sources] = xstrdup(source);
    return m->sources[m->n_sources++];
}

typedef struct sink {
    minik_manifest_t *m;
    const char *source;
    minik_diags_t *diags;
} sink_t;

static int add_doc(sink_t *s, cJSON *doc, unsigned line)
{
    minik_manifest_t *m = s->m;
    if (m->n_docs >= MINIK_MANIFEST_MAX_DOCS) {
        minik_diags_add(s->diags, MINIK_DIAG_ERROR, s->source, line, 1, "",
                        "more than %d documents; split the input", MINIK_MANIFEST_MAX_DOCS);
        cJSON_Delete(doc);
        return -1;
    }
    if (m->n_docs == m->cap_docs) {
        m->cap_docs = m->cap_docs ? m->cap_docs * 2 : 16;
        m->docs = xrealloc(m->docs, m->cap_docs * sizeof *m->docs);
    }
    m->docs[m->n_docs].obj = doc;
    m->docs[m->n_docs].source = s->source;
    m->docs[m->n_docs].line = line;
    m->n_docs++;
    return 0;
}

/* A `kind: List` document is a container: its items become documents of their own (as
 * kubectl apply treats them), each keeping its recorded position. */
static int on_doc(void *ud, cJSON *doc, unsigned line)
{
    sink_t *s = ud;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
    cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
    if (!cJSON_IsObject(doc) || !cJSON_IsString(kind) || strcmp(kind->valuestring, "List") != 0)
        return add_doc(s, doc, line);
    if (!cJSON_IsArray(items)) {
        const minik_pos_t *p = minik_posmap_get(s->m->pos, items ? items : doc);
        minik_diags_add(s->diags, MINIK_DIAG_ERROR, s->source, p ? p->line : line, p ? p->col : 1,
                        "items", items ? "must be a list of objects" : "a List needs items");
        cJSON_Delete(doc);
        return 0;
    }
    int idx = 0;
    int ret = 0;
    while (items->child) {
        cJSON *it = cJSON_DetachItemViaPointer(items, items->child);
        const minik_pos_t *p = minik_posmap_get(s->m->pos, it);
        if (!cJSON_IsObject(it)) {
            cleanup_free char *path = xasprintf("items[%d]", idx);
            minik_diags_add(s->diags, MINIK_DIAG_ERROR, s->source, p ? p->line : line,
                            p ? p->col : 1, path, "must be an object");
            cJSON_Delete(it);
        } else if (ret == 0) {
            ret = on_doc(s, it, p ? p->line : line); /* a List may hold Lists */
        } else {
            cJSON_Delete(it);
        }
        idx++;
    }
    cJSON_Delete(doc);
    return ret;
}

int minik_manifest_decode_buf(minik_manifest_t *m, const char *source, const char *data, size_t len,
                              minik_diags_t *diags)
{
    size_t before = diags->n_errors;
    const char *src = intern_source(m, source);
    if (len > MINIK_MANIFEST_MAX_BYTES) {
        minik_diags_add(diags, MINIK_DIAG_ERROR, src, 0, 0, "",
                        "input is larger than %u bytes (3 MiB); split it into several files",
                        MINIK_MANIFEST_MAX_BYTES);
        return -1;
    }
    sink_t s = {m, src, diags};
    minik_yaml_decode(src, data, len, m->pos, diags, on_doc, &s);
    return diags->n_errors > before ? -1 : 0;
}

static bool is_manifest_name(const char *name)
{
    return name[0] != '.' &&
           (minik_str_has_suffix(name, ".yaml") || minik_str_has_suffix(name, ".yml") ||
            minik_str_has_suffix(name, ".json"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_fd_limited(int fd, minik_buf_t *b)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return 0;
        minik_buf_append(b, chunk, (size_t)n);
        if (b->len > MINIK_MANIFEST_MAX_BYTES)
            return -EFBIG;
    }
}

static int decode_file(minik_manifest_t *m, const char *path, minik_diags_t *diags)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    cleanup_error minik_error_t *err = NULL;
    if (minik_file_read(path, MINIK_MANIFEST_MAX_BYTES, &data, &len, &err) < 0) {
        if (err->errnum == EFBIG)
            minik_diags_add(diags, MINIK_DIAG_ERROR, path, 0, 0, "",
                            "input is larger than %u bytes (3 MiB); split it into several files",
                            MINIK_MANIFEST_MAX_BYTES);
        else
            minik_diags_add(diags, MINIK_DIAG_ERROR, NULL, 0, 0, "", "%s", err->msg);
        return -1;
    }
    return minik_manifest_decode_buf(m, path, data, len, diags);
}

int minik_manifest_decode_path(minik_manifest_t *m, const char *path, minik_diags_t *diags)
{
    if (strcmp(path, "-") == 0) {
        cleanup_buf minik_buf_t b = MINIK_BUF_INIT;
        int r = read_fd_limited(STDIN_FILENO, &b);
        if (r == -EFBIG) {
            minik_diags_add(diags, MINIK_DIAG_ERROR, "<stdin>", 0, 0, "",
                            "input is larger than %u bytes (3 MiB); split it into several files",
                            MINIK_MANIFEST_MAX_BYTES);
            return -1;
        }
        if (r < 0) {
            minik_diags_add(diags, MINIK_DIAG_ERROR, "<stdin>", 0, 0, "", "read: %s", strerror(-r));
            return -1;
        }
        return minik_manifest_decode_buf(m, "<stdin>", b.data ? b.data : "", b.len, diags);
    }

    struct stat st;
    if (stat(path, &st) < 0) {
        minik_diags_add(diags, MINIK_DIAG_ERROR, NULL, 0, 0, "", "open \"%s\": %s", path,
                        strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return decode_file(m, path, diags);

    cleanup_closedir DIR *dir = opendir(path);
    if (dir == NULL) {
        minik_diags_add(diags, MINIK_DIAG_ERROR, NULL, 0, 0, "", "open directory \"%s\": %s", path,
                        strerror(errno));
        return -1;
    }
    cleanup_strv char **names = xcalloc(1, sizeof *names);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (!is_manifest_name(de->d_name))
            continue;
        names = xrealloc(names, (n + 2) * sizeof *names);
        names[n++] = xstrdup(de->d_name);
        names[n] = NULL;
    }
    if (n == 0) {
        minik_diags_add(diags, MINIK_DIAG_ERROR, NULL, 0, 0, "",
                        "directory \"%s\" has no *.yaml, *.yml or *.json files", path);
        return -1;
    }
    qsort(names, n, sizeof *names, cmp_str);
    int ret = 0;
    bool slash = minik_str_has_suffix(path, "/");
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *full = xasprintf("%s%s%s", path, slash ? "" : "/", names[i]);
        struct stat fst;
        if (stat(full, &fst) == 0 && S_ISDIR(fst.st_mode))
            continue; /* not recursive, like kubectl without -R */
        if (decode_file(m, full, diags) < 0)
            ret = -1;
    }
    return ret;
}

typedef struct one {
    cJSON *doc;
    int n;
} one_t;

static int keep_one(void *ud, cJSON *doc, unsigned line)
{
    one_t *o = ud;
    (void)line;
    o->n++;
    if (o->doc == NULL) {
        o->doc = doc;
        return 0;
    }
    cJSON_Delete(doc);
    return -1;
}

int minik_yaml_parse_one(const char *source, const char *data, size_t len, cJSON **out,
                         minik_error_t **err)
{
    if (len > MINIK_MANIFEST_MAX_BYTES)
        return minik_error_set(err, EFBIG, "%s: larger than %u bytes", source ? source : "input",
                               MINIK_MANIFEST_MAX_BYTES);
    cleanup_diags minik_diags_t diags = MINIK_DIAGS_INIT;
    one_t o = {NULL, 0};
    minik_yaml_decode(source, data, len, NULL, &diags, keep_one, &o);
    if (diags.n_errors > 0) {
        cJSON_Delete(o.doc);
        cleanup_buf minik_buf_t b = MINIK_BUF_INIT;
        minik_diag_format(&diags.items[0], &b);
        return minik_error_set(err, 0, "%s", b.data);
    }
    if (o.n > 1) {
        cJSON_Delete(o.doc);
        return minik_error_set(err, 0, "%s: expected one document, found several",
                               source ? source : "input");
    }
    if (o.doc == NULL)
        return minik_error_set(err, 0, "%s: empty document", source ? source : "input");
    *out = o.doc;
    return 0;
}
