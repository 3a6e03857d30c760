/* The store-backed token table of auth.h. */
#include "apiserver/auth.h"

#include <string.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/timestamp.h"
#include "lib/xalloc.h"

typedef struct token_entry {
    char id[MINIK_TOKEN_ID_LEN + 1];
    char hash[65];
    minik_role_t role;
    char node[254];
    int64_t created, expires; /* unix seconds; 0: unset / never */
    char description[256];
    bool credential; /* a node credential from minik_auth_exchange (not a join token) */
} token_entry_t;

struct minik_auth {
    minik_store_t *store;
    token_entry_t *items;
    size_t n, cap;
};

static const char *role_name(minik_role_t r)
{
    return r == MINIK_ROLE_ADMIN ? "admin" : "node";
}

/* Add (or refresh) the entry an object describes; ignores malformed objects. */
static token_entry_t *add_from_object(minik_auth_t *a, const cJSON *obj)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "id"));
    const char *hash = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "sha256"));
    const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "role"));
    const char *node = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "node"));
    if (!id || strlen(id) != MINIK_TOKEN_ID_LEN || !hash || strlen(hash) != 64 || !role)
        return NULL;
    token_entry_t *e = NULL;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i].id, id) == 0)
            e = &a->items[i];
    if (!e) {
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 8;
            a->items = xrealloc(a->items, a->cap * sizeof(*a->items));
        }
        e = &a->items[a->n++];
    }
    memset(e, 0, sizeof(*e));
    memcpy(e->id, id, MINIK_TOKEN_ID_LEN + 1);
    memcpy(e->hash, hash, 65);
    e->role = strcmp(role, "admin") == 0 ? MINIK_ROLE_ADMIN : MINIK_ROLE_NODE;
    if (node)
        snprintf(e->node, sizeof(e->node), "%s", node);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(spec, "expires");
    const cJSON *cre = cJSON_GetObjectItemCaseSensitive(spec, "created");
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "description"));
    e->expires = cJSON_IsNumber(exp) ? (int64_t)exp->valuedouble : 0;
    e->created = cJSON_IsNumber(cre) ? (int64_t)cre->valuedouble : 0;
    if (desc)
        snprintf(e->description, sizeof(e->description), "%s", desc);
    e->credential = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "credential"));
    return e;
}

int minik_auth_new(minik_store_t *store, minik_auth_t **out, minik_error_t **err)
{
    minik_auth_t *a = xcalloc(1, sizeof(*a));
    a->store = store;
    cleanup_cjson cJSON *items = NULL;
    int r = minik_store_list(store, MINIK_TOKEN_KIND, NULL, NULL, NULL, &items, NULL, err);
    if (r < 0) {
        minik_auth_free(a);
        return minik_error_wrap(err, "load tokens");
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        add_from_object(a, it);
    }
    *out = a;
    return 0;
}

void minik_auth_free(minik_auth_t *a)
{
    if (!a)
        return;
    free(a->items);
    free(a);
}

bool minik_auth_has_admin(const minik_auth_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->items[i].role == MINIK_ROLE_ADMIN)
            return true;
    return false;
}

static cJSON *token_object(const token_entry_t *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", MINIK_TOKEN_API_VERSION);
    cJSON_AddStringToObject(o, "kind", MINIK_TOKEN_KIND);
    cJSON *md = cJSON_AddObjectToObject(o, "metadata");
    char name[32];
    snprintf(name, sizeof(name), "token-%s", e->id);
    cJSON_AddStringToObject(md, "name", name);
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON_AddStringToObject(spec, "id", e->id);
    cJSON_AddStringToObject(spec, "sha256", e->hash);
    cJSON_AddStringToObject(spec, "role", role_name(e->role));
    cJSON_AddStringToObject(spec, "node", e->node);
    if (e->created)
        cJSON_AddNumberToObject(spec, "created", (double)e->created);
    if (e->expires)
        cJSON_AddNumberToObject(spec, "expires", (double)e->expires);
    if (e->description[0])
        cJSON_AddStringToObject(spec, "description", e->description);
    if (e->credential)
        cJSON_AddBoolToObject(spec, "credential", true);
    return o;
}

static int create_entry(minik_auth_t *a, token_entry_t e, char **token, minik_error_t **err);

int minik_auth_create(minik_auth_t *a, minik_role_t role, char **token, minik_error_t **err)
{
    return create_entry(a, (token_entry_t){.role = role}, token, err);
}

int minik_auth_create_join(minik_auth_t *a, int64_t ttl_s, const char *description, char **token,
                           minik_error_t **err)
{
    token_entry_t e = {.role = MINIK_ROLE_NODE, .created = (int64_t)time(NULL)};
    if (ttl_s > 0)
        e.expires = e.created + ttl_s;
    if (description)
        snprintf(e.description, sizeof(e.description), "%s", description);
    return create_entry(a, e, token, err);
}

static void rfc3339(int64_t t, char out[32])
{
    out[0] = '\0';
    if (!t)
        return;
    minik_timestamp_format((time_t)t, out);
}

int minik_auth_list(minik_auth_t *a, cJSON **out, minik_error_t **err)
{
    /* From the store, not the table: tokens made by another process sharing it count. */
    cleanup_cjson cJSON *items = NULL;
    if (minik_store_list(a->store, MINIK_TOKEN_KIND, NULL, NULL, NULL, &items, NULL, err) < 0)
        return minik_error_wrap(err, "list tokens");
    cJSON *arr = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        token_entry_t *e = add_from_object(a, it);
        if (!e)
            continue;
        char c[32], x[32];
        rfc3339(e->created, c);
        rfc3339(e->expires, x);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", e->id);
        cJSON_AddStringToObject(o, "role", role_name(e->role));
        cJSON_AddStringToObject(o, "node", e->node);
        cJSON_AddStringToObject(o, "description", e->description);
        cJSON_AddStringToObject(o, "created", c);
        cJSON_AddStringToObject(o, "expires", x);
        cJSON_AddBoolToObject(o, "credential", e->credential);
        cJSON_AddItemToArray(arr, o);
    }
    *out = arr;
    return 0;
}

/* Delete token `tid` from the store and the table. */
static int remove_token(minik_auth_t *a, const char *tid, minik_error_t **err)
{
    char name[32];
    snprintf(name, sizeof(name), "token-%s", tid);
    if (minik_store_delete(a->store, MINIK_TOKEN_KIND, "", name, NULL, NULL, err) < 0)
        return minik_error_wrap(err, "delete token %s", tid);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i].id, tid) == 0) {
            a->items[i] = a->items[--a->n];
            break;
        }
    return 0;
}

int minik_auth_delete(minik_auth_t *a, const char *id, minik_error_t **err)
{
    char tid[MINIK_TOKEN_ID_LEN + 1];
    char probe[MINIK_TOKEN_ID_LEN + 1 + MINIK_TOKEN_SECRET_LEN + 1];
    /* Reuse the token syntax check on "<id>.<zeros>" so a bad id gets a clear 400. */
    snprintf(probe, sizeof(probe), "%.*s.%0*d", MINIK_TOKEN_ID_LEN, id, MINIK_TOKEN_SECRET_LEN, 0);
    if (strlen(id) != MINIK_TOKEN_ID_LEN || !minik_token_parse(probe, tid))
        return minik_error_set_code(err, 400, 0,
                                    "token id \"%s\" is not 8 lower-case hex characters", id);
    char name[32];
    snprintf(name, sizeof(name), "token-%s", tid);
    cleanup_cjson cJSON *obj = NULL;
    if (minik_store_get(a->store, MINIK_TOKEN_KIND, "", name, &obj, err) < 0)
        return minik_error_set_code(err, 404, 0, "token %s not found", tid);
    const token_entry_t *e = add_from_object(a, obj);
    if (e && e->role == MINIK_ROLE_ADMIN)
        return minik_error_set_code(err, 403, 0,
                                    "token %s is the admin token; it cannot be deleted", tid);
    if (remove_token(a, tid, err) < 0)
        return -1;
    minik_log_info("token deleted", "token", tid, NULL);
    return 0;
}

static int create_entry(minik_auth_t *a, token_entry_t e, char **token, minik_error_t **err)
{
    minik_role_t role = e.role;
    cleanup_free char *tok = minik_token_generate();
    minik_token_parse(tok, e.id);
    minik_token_hash(tok, e.hash);
    cleanup_cjson cJSON *obj = token_object(&e);
    int r = minik_store_create(a->store, obj, NULL, err);
    if (r < 0)
        return minik_error_wrap(err, "store new %s token", role_name(role));
    add_from_object(a, obj);
    *token = steal_pointer(&tok);
    return 0;
}

static token_entry_t *find(minik_auth_t *a, const char *id)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i].id, id) == 0)
            return &a->items[i];
    return NULL;
}

int minik_auth_authenticate(minik_auth_t *a, const char *header, minik_identity_t *id,
                            minik_error_t **err)
{
    const char *tok = minik_token_from_header(header);
    if (!tok)
        return minik_error_set_code(err, 401, 0, "Unauthorized: a bearer token is required");
    char tid[MINIK_TOKEN_ID_LEN + 1];
    if (!minik_token_parse(tok, tid))
        return minik_error_set_code(err, 401, 0, "Unauthorized: invalid bearer token");
    token_entry_t *e = find(a, tid);
    if (!e) {
        char name[32];
        snprintf(name, sizeof(name), "token-%s", tid);
        cleanup_cjson cJSON *obj = NULL;
        cleanup_error minik_error_t *gerr = NULL;
        if (minik_store_get(a->store, MINIK_TOKEN_KIND, "", name, &obj, &gerr) == 0)
            e = add_from_object(a, obj);
    }
    char hash[65];
    minik_token_hash(tok, hash);
    if (!e || !minik_token_hash_equal(hash, e->hash))
        return minik_error_set_code(err, 401, 0, "Unauthorized: invalid bearer token");
    /* Expiry bounds the join window: a token not yet bound to a node is refused after it;
     * one that joined a node stays that node's credential until `minik token delete`. */
    if (e->role == MINIK_ROLE_NODE && !e->node[0] && e->expires &&
        (int64_t)time(NULL) >= e->expires) {
        char x[32];
        rfc3339(e->expires, x);
        return minik_error_set_code(err, 401, 0,
                                    "Unauthorized: token %s expired at %s (make a new one with "
                                    "minik token create)",
                                    e->id, x);
    }
    memset(id, 0, sizeof(*id));
    id->role = e->role;
    memcpy(id->id, e->id, sizeof(id->id));
    memcpy(id->node, e->node, sizeof(id->node));
    return 0;
}

int minik_auth_bind_node(minik_auth_t *a, const char *token_id, const char *node,
                         minik_error_t **err)
{
    token_entry_t *e = find(a, token_id);
    if (!e)
        return minik_error_set_code(err, 401, 0, "token %s no longer exists", token_id);
    if (e->node[0])
        return strcmp(e->node, node) == 0
                   ? 0
                   : minik_error_set_code(err, 403, 0, "token is bound to node \"%s\"", e->node);
    token_entry_t upd = *e;
    snprintf(upd.node, sizeof(upd.node), "%s", node);
    cleanup_cjson cJSON *obj = token_object(&upd);
    int r = minik_store_update(a->store, obj, NULL, err);
    if (r < 0)
        return minik_error_wrap(err, "bind token to node \"%s\"", node);
    *e = upd;
    minik_log_info("node token bound", "token", token_id, "node", node, NULL);
    return 0;
}

/* A node that joins again (lost data dir, reinstalled machine) replaces its credential:
 * every older credential of `node` is deleted, so a copy left on the old disk is dead. */
static void retire_credentials(minik_auth_t *a, const char *node, const char *keep)
{
    cleanup_cjson cJSON *items = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_store_list(a->store, MINIK_TOKEN_KIND, NULL, NULL, NULL, &items, NULL, &err) < 0) {
        minik_log_warn("cannot list tokens to retire old node credentials", "node", node, "error",
                       err->msg, NULL);
        return;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const token_entry_t *e = add_from_object(a, it);
        if (!e || !e->credential || strcmp(e->node, node) != 0 || strcmp(e->id, keep) == 0)
            continue;
        char old[MINIK_TOKEN_ID_LEN + 1];
        memcpy(old, e->id, sizeof(old));
        cleanup_error minik_error_t *derr = NULL;
        if (remove_token(a, old, &derr) < 0)
            minik_log_warn("cannot retire an old node credential", "token", old, "error", derr->msg,
                           NULL);
        else
            minik_log_info("old node credential retired", "token", old, "node", node, NULL);
    }
}

int minik_auth_exchange(minik_auth_t *a, const char *token_id, const char *node, char **credential,
                        minik_error_t **err)
{
    token_entry_t *e = find(a, token_id);
    if (!e)
        return minik_error_set_code(err, 401, 0, "token %s no longer exists", token_id);
    if (e->role != MINIK_ROLE_NODE || e->credential)
        return minik_error_set_code(err, 403, 0,
                                    "only a join token can be exchanged for a node credential "
                                    "(token %s is %s)",
                                    token_id,
                                    e->credential ? "already a node credential" : "admin");
    if (e->node[0] && strcmp(e->node, node) != 0)
        return minik_error_set_code(err, 403, 0, "join token %s is bound to node \"%s\"", token_id,
                                    e->node);
    token_entry_t c = {.role = MINIK_ROLE_NODE, .created = (int64_t)time(NULL), .credential = true};
    snprintf(c.node, sizeof(c.node), "%s", node);
    snprintf(c.description, sizeof(c.description), "credential of node %s (join token %s)", node,
             token_id);
    char join_id[MINIK_TOKEN_ID_LEN + 1];
    memcpy(join_id, token_id, sizeof(join_id)); /* e moves when the table changes */
    cleanup_free char *tok = NULL;
    if (create_entry(a, c, &tok, err) < 0)
        return -1;
    /* The join token is spent: single use, whatever its TTL. If it cannot be deleted, take
     * the new credential back so nothing is left half done. */
    if (remove_token(a, join_id, err) < 0) {
        char cid[MINIK_TOKEN_ID_LEN + 1];
        minik_token_parse(tok, cid);
        cleanup_error minik_error_t *rerr = NULL;
        remove_token(a, cid, &rerr);
        return -1;
    }
    char cid[MINIK_TOKEN_ID_LEN + 1];
    minik_token_parse(tok, cid);
    retire_credentials(a, node, cid);
    minik_log_info("join token exchanged for a node credential", "token", join_id, "credential",
                   cid, "node", node, NULL);
    *credential = steal_pointer(&tok);
    return 0;
}
