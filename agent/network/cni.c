/* CNI plugin invocation (see cni.h). Plugins run synchronously: an ADD takes a few
 * milliseconds and the agent calls it from its pod worker, not from the libuv loop. */
#include "agent/network/cni.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/runtime/state.h"
#include "lib/buf.h"
#include "lib/cidr.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define CNI_VERSION    "1.0.0"
#define NETWORK_NAME   "minik"
#define MAX_OUTPUT     (1024 * 1024) /* a result is a few hundred bytes */
#define DEFAULT_IFNAME "eth0"

static const char *plugin_dir(const minik_cni_config_t *c)
{
    return c->plugin_dir ? c->plugin_dir : "/usr/lib/cni";
}

static const char *bridge_name(const minik_cni_config_t *c)
{
    return c->bridge ? c->bridge : "minik0";
}

void minik_cni_result_clear(minik_cni_result_t *r)
{
    if (!r)
        return;
    free(r->ip);
    free(r->gateway);
    memset(r, 0, sizeof(*r));
}

/* ---- configuration -------------------------------------------------------------------- */

static cJSON *conflist_json(const minik_cni_config_t *c)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "cniVersion", CNI_VERSION);
    cJSON_AddStringToObject(root, "name", NETWORK_NAME);
    cJSON *plugins = cJSON_AddArrayToObject(root, "plugins");

    cJSON *br = cJSON_CreateObject();
    cJSON_AddStringToObject(br, "type", "bridge");
    cJSON_AddStringToObject(br, "bridge", bridge_name(c));
    cJSON_AddBoolToObject(br, "isGateway", 1);
    /* Outbound NAT is nftables' job (--masquerade-outbound), not the bridge plugin's. */
    cJSON_AddBoolToObject(br, "ipMasq", 0);
    /* A pod reaching its own Service is DNATed back out of the port it came in on. */
    cJSON_AddBoolToObject(br, "hairpinMode", 1);
    if (c->mtu > 0)
        cJSON_AddNumberToObject(br, "mtu", c->mtu);
    cJSON *ipam = cJSON_AddObjectToObject(br, "ipam");
    cJSON_AddStringToObject(ipam, "type", "host-local");
    cJSON *ranges = cJSON_AddArrayToObject(ipam, "ranges");
    cJSON *set = cJSON_CreateArray();
    cJSON *range = cJSON_CreateObject();
    cJSON_AddStringToObject(range, "subnet", c->pod_cidr ? c->pod_cidr : "");
    cJSON_AddItemToArray(set, range);
    cJSON_AddItemToArray(ranges, set);
    cJSON *routes = cJSON_AddArrayToObject(ipam, "routes");
    cJSON *def = cJSON_CreateObject();
    cJSON_AddStringToObject(def, "dst", "0.0.0.0/0");
    cJSON_AddItemToArray(routes, def);
    cleanup_free char *ipam_dir = xasprintf("%s/ipam", c->data_dir);
    cJSON_AddStringToObject(ipam, "dataDir", ipam_dir);
    cJSON_AddItemToArray(plugins, br);

    cJSON *pm = cJSON_CreateObject();
    cJSON_AddStringToObject(pm, "type", "portmap");
    cJSON *caps = cJSON_AddObjectToObject(pm, "capabilities");
    cJSON_AddBoolToObject(caps, "portMappings", 1);
    cJSON_AddBoolToObject(pm, "snat", 1);
    cJSON_AddItemToArray(plugins, pm);
    return root;
}

char *minik_cni_conflist(const minik_cni_config_t *cfg)
{
    cleanup_cjson cJSON *j = conflist_json(cfg);
    return cJSON_Print(j);
}

cJSON *minik_cni_port_mappings(const cJSON *pod)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const cJSON *ctr;
    cJSON_ArrayForEach(ctr, cJSON_GetObjectItemCaseSensitive(spec, "containers"))
    {
        const cJSON *port;
        cJSON_ArrayForEach(port, cJSON_GetObjectItemCaseSensitive(ctr, "ports"))
        {
            const cJSON *hp = cJSON_GetObjectItemCaseSensitive(port, "hostPort");
            const cJSON *cp = cJSON_GetObjectItemCaseSensitive(port, "containerPort");
            if (!cJSON_IsNumber(hp) || hp->valueint <= 0 || !cJSON_IsNumber(cp))
                continue;
            const char *proto =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(port, "protocol"));
            const char *hip =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(port, "hostIP"));
            cJSON *m = cJSON_CreateObject();
            cJSON_AddNumberToObject(m, "hostPort", hp->valueint);
            cJSON_AddNumberToObject(m, "containerPort", cp->valueint);
            /* CNI spells protocols in lower case; Kubernetes in upper case. */
            cJSON_AddStringToObject(m, "protocol",
                                    minik_str_eq(proto, "UDP")    ? "udp"
                                    : minik_str_eq(proto, "SCTP") ? "sctp"
                                                                  : "tcp");
            if (hip && *hip)
                cJSON_AddStringToObject(m, "hostIP", hip);
            cJSON_AddItemToArray(out, m);
        }
    }
    return out;
}

/* ---- running a plugin ----------------------------------------------------------------- */

int minik_cni_parse_output(const char *plugin, const char *command, const char *text,
                           int exit_status, cJSON **out, minik_error_t **err)
{
    *out = NULL;
    cleanup_cjson cJSON *j = text && *text ? cJSON_Parse(text) : NULL;
    if (exit_status != 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "msg");
        const cJSON *details = cJSON_GetObjectItemCaseSensitive(j, "details");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
        int c = cJSON_IsNumber(code) ? code->valueint : 0;
        if (cJSON_IsString(msg)) {
            const char *d = cJSON_GetStringValue(details);
            return minik_error_set_code(err, c, 0, "cni %s %s: %s%s%s (code %d)", plugin, command,
                                        msg->valuestring, d && *d ? ": " : "", d ? d : "", c);
        }
        return minik_error_set(err, 0, "cni %s %s: exited with status %d%s%.200s", plugin, command,
                               exit_status, text && *text ? ": " : "", text ? text : "");
    }
    if (!text || !*text) {
        /* DEL and CHECK print nothing on success. */
        return 0;
    }
    if (!cJSON_IsObject(j))
        return minik_error_set(err, 0, "cni %s %s: output is not a JSON object: %.200s", plugin,
                               command, text);
    *out = steal_pointer(&j);
    return 0;
}

/* Write `in` to fd_in and collect fd_out until EOF, without deadlocking on full pipes. */
static int pump(int fd_in, const char *in, int fd_out, minik_buf_t *out, minik_error_t **err)
{
    size_t off = 0, len = strlen(in);
    if (len == 0) {
        close(fd_in);
        fd_in = -1;
    }
    for (;;) {
        struct pollfd p[2] = {{.fd = fd_out, .events = POLLIN}, {.fd = fd_in, .events = POLLOUT}};
        int n = poll(p, fd_in >= 0 ? 2 : 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (fd_in >= 0)
                close(fd_in);
            return minik_error_set(err, errno, "poll");
        }
        if (fd_in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(fd_in, in + off, len - off);
            if (w > 0)
                off += (size_t)w;
            if (w < 0 || off == len) {
                close(fd_in); /* EOF on the plugin's stdin */
                fd_in = -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[4096];
            ssize_t r = read(fd_out, chunk, sizeof(chunk));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            if (out->len + (size_t)r > MAX_OUTPUT) {
                if (fd_in >= 0)
                    close(fd_in);
                return minik_error_set(err, EFBIG, "plugin output over %d bytes", MAX_OUTPUT);
            }
            minik_buf_append(out, chunk, (size_t)r);
        }
    }
    if (fd_in >= 0)
        close(fd_in);
    return 0;
}

typedef struct {
    const char *command, *id, *netns, *ifname;
} invocation_t;

/* Run one plugin binary with the CNI environment; *result gets its parsed output (NULL
 * when it printed nothing). */
static int exec_plugin(const minik_cni_config_t *c, const char *type, const invocation_t *inv,
                       const cJSON *conf, cJSON **result, minik_error_t **err)
{
    *result = NULL;
    if (strchr(type, '/') || strstr(type, ".."))
        return minik_error_set(err, EINVAL, "cni: bad plugin type \"%s\"", type);
    cleanup_free char *path = xasprintf("%s/%s", plugin_dir(c), type);
    if (access(path, X_OK) < 0)
        return minik_error_set(err, errno, "cni: plugin \"%s\"", path);
    cleanup_free char *stdin_text = cJSON_PrintUnformatted(conf);
    cleanup_free char *e_cmd = xasprintf("CNI_COMMAND=%s", inv->command);
    cleanup_free char *e_id = xasprintf("CNI_CONTAINERID=%s", inv->id);
    cleanup_free char *e_ns = xasprintf("CNI_NETNS=%s", inv->netns ? inv->netns : "");
    cleanup_free char *e_if = xasprintf("CNI_IFNAME=%s", inv->ifname);
    cleanup_free char *e_path = xasprintf("CNI_PATH=%s", plugin_dir(c));
    /* portmap runs iptables/nft; bridge runs nothing, but keep a sane PATH for all. */
    char *envp[] = {e_cmd,
                    e_id,
                    e_ns,
                    e_if,
                    e_path,
                    (char *)"CNI_ARGS=",
                    (char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    NULL};
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return minik_error_set(err, errno, "pipe");
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        return minik_error_set(err, errno, "pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        return minik_error_set(err, e, "fork");
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        char *argv[] = {path, NULL};
        execve(path, argv, envp);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    /* A plugin that exits without reading stdin must not kill us with SIGPIPE. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    cleanup_buf minik_buf_t buf = MINIK_BUF_INIT;
    int r = pump(in[1], stdin_text, out[0], &buf, err);
    sigaction(SIGPIPE, &old, NULL);
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return minik_error_wrap(err, "cni %s %s", type, inv->command);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return minik_cni_parse_output(type, inv->command, buf.data ? buf.data : "", code, result, err);
}

/* The stdin for one plugin of the list: its own object plus name, cniVersion, and
 * prevResult/runtimeConfig as the spec says. */
static cJSON *plugin_conf(const cJSON *plugin, const cJSON *prev, const cJSON *port_mappings)
{
    cJSON *conf = cJSON_Duplicate(plugin, 1);
    cJSON_AddStringToObject(conf, "cniVersion", CNI_VERSION);
    cJSON_AddStringToObject(conf, "name", NETWORK_NAME);
    if (prev)
        cJSON_AddItemToObject(conf, "prevResult", cJSON_Duplicate(prev, 1));
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(plugin, "capabilities");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(caps, "portMappings"))) {
        cJSON *rc = cJSON_AddObjectToObject(conf, "runtimeConfig");
        cJSON_AddItemToObject(rc, "portMappings",
                              port_mappings ? cJSON_Duplicate(port_mappings, 1)
                                            : cJSON_CreateArray());
    }
    return conf;
}

static cJSON *loopback_conf(void)
{
    cJSON *conf = cJSON_CreateObject();
    cJSON_AddStringToObject(conf, "cniVersion", CNI_VERSION);
    cJSON_AddStringToObject(conf, "name", NETWORK_NAME "-lo");
    cJSON_AddStringToObject(conf, "type", "loopback");
    return conf;
}

/* ---- records -------------------------------------------------------------------------- */

/* Checked before any plugin runs: with a bad range even DEL fails, and the attachment
 * could never be released. */
static bool cidr_ok(const char *cidr)
{
    uint32_t base;
    int len;
    return minik_cidr4_parse(cidr, &base, &len) == 0 && len >= 8 && len <= 30;
}

static char *record_path(const minik_cni_config_t *c, const char *id)
{
    return xasprintf("%s/records/%s.json", c->data_dir, id);
}

static int record_write(const minik_cni_config_t *c, const char *id, const cJSON *rec,
                        minik_error_t **err)
{
    cleanup_free char *dir = xasprintf("%s/records", c->data_dir);
    if (minik_mkdir_p(dir, 0700, err) < 0)
        return -1;
    cleanup_free char *path = record_path(c, id);
    cleanup_free char *text = cJSON_PrintUnformatted(rec);
    return minik_file_write_atomic(path, text, strlen(text), 0600, err);
}

/* Every id minik hands to CNI names a file under the state dir: the runtime's container id
 * rule (CNI's own: alphanumeric first, then [A-Za-z0-9_.-]) keeps it one file name. */
static int check_id(const char *id, minik_error_t **err)
{
    if (!id)
        return minik_error_set(err, EINVAL, "cni: no container id");
    if (minik_oci_id_check(id, err) < 0)
        return minik_error_wrap(err, "cni");
    return 0;
}

/* The record of container `id` (checked); *rec is NULL (and 0 returned) when the pod has no
 * record. */
static int record_read(const minik_cni_config_t *c, const char *id, cJSON **rec,
                       minik_error_t **err)
{
    *rec = NULL;
    if (check_id(id, err) < 0)
        return -1;
    cleanup_free char *path = record_path(c, id);
    cleanup_free char *text = NULL;
    if (minik_file_read(path, MAX_OUTPUT, &text, NULL, err) < 0) {
        if ((*err)->errnum == ENOENT) {
            minik_error_clear(err);
            return 0;
        }
        return -1;
    }
    *rec = cJSON_Parse(text);
    if (!cJSON_IsObject(*rec)) {
        cJSON_Delete(*rec);
        *rec = NULL;
        return minik_error_set(err, 0, "cni record \"%s\" is not a JSON object", path);
    }
    return 0;
}

/* ---- ADD / CHECK / DEL ---------------------------------------------------------------- */

static int run_del(const minik_cni_config_t *cfg, const cJSON *rec, minik_error_t **err)
{
    /* The range the pod was added with: after a restart the agent may not know its pod
     * CIDR yet, and host-local refuses a configuration without one, even for DEL. */
    minik_cni_config_t copy = *cfg;
    const char *cidr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "podCIDR"));
    if (cidr && *cidr)
        copy.pod_cidr = cidr;
    const minik_cni_config_t *c = &copy;
    cleanup_cjson cJSON *list = conflist_json(c);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "id"));
    const char *netns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "netns"));
    const char *ifname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "ifname"));
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(rec, "result");
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(rec, "portMappings");
    /* A vanished namespace is normal here (the pod is gone); plugins accept an empty
     * CNI_NETNS for DEL and then only release what lives outside it. */
    struct stat st;
    if (netns && stat(netns, &st) < 0)
        netns = "";
    const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(list, "plugins");
    invocation_t inv = {"DEL", id, netns, ifname ? ifname : DEFAULT_IFNAME};
    for (int i = cJSON_GetArraySize(plugins) - 1; i >= 0; i--) {
        const cJSON *pl = cJSON_GetArrayItem(plugins, i);
        cleanup_cjson cJSON *conf = plugin_conf(pl, cJSON_IsObject(prev) ? prev : NULL, pm);
        cleanup_cjson cJSON *res = NULL;
        if (exec_plugin(c, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pl, "type")), &inv,
                        conf, &res, err) < 0)
            return -1;
    }
    cleanup_cjson cJSON *lo = loopback_conf();
    cleanup_cjson cJSON *res = NULL;
    invocation_t loinv = {"DEL", id, netns, "lo"};
    return exec_plugin(c, "loopback", &loinv, lo, &res, err);
}

static int result_extract(const cJSON *res, minik_cni_result_t *out, minik_error_t **err)
{
    const cJSON *ip;
    cJSON_ArrayForEach(ip, cJSON_GetObjectItemCaseSensitive(res, "ips"))
    {
        const char *addr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ip, "address"));
        if (!addr || strchr(addr, ':'))
            continue; /* IPv6 is not configured by minik */
        const char *slash = strchr(addr, '/');
        if (!slash)
            continue;
        out->ip = xstrndup(addr, (size_t)(slash - addr));
        out->prefix = atoi(slash + 1);
        const char *gw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ip, "gateway"));
        out->gateway = gw ? xstrdup(gw) : NULL;
        return 0;
    }
    return minik_error_set(err, 0, "cni: the result has no IPv4 address");
}

int minik_cni_add(const minik_cni_config_t *c, const char *id, const char *netns,
                  const char *ifname, const cJSON *port_mappings, minik_cni_result_t *out,
                  minik_error_t **err)
{
    memset(out, 0, sizeof(*out));
    if (check_id(id, err) < 0)
        return -1;
    if (!c->pod_cidr || !*c->pod_cidr)
        return minik_error_set(err, EINVAL, "cni: the node has no pod CIDR yet");
    if (!cidr_ok(c->pod_cidr))
        return minik_error_set(err, 0, "cni: bad pod CIDR \"%s\"", c->pod_cidr);
    if (!ifname)
        ifname = DEFAULT_IFNAME;
    /* The record goes first: if we die inside a plugin, recovery still runs DEL. */
    cleanup_cjson cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "id", id);
    cJSON_AddStringToObject(rec, "netns", netns);
    cJSON_AddStringToObject(rec, "ifname", ifname);
    cJSON_AddStringToObject(rec, "podCIDR", c->pod_cidr);
    cJSON_AddItemToObject(rec, "portMappings",
                          port_mappings ? cJSON_Duplicate(port_mappings, 1) : cJSON_CreateArray());
    if (record_write(c, id, rec, err) < 0)
        return -1;

    cleanup_cjson cJSON *lo = loopback_conf();
    cleanup_cjson cJSON *lores = NULL;
    invocation_t loinv = {"ADD", id, netns, "lo"};
    int r = exec_plugin(c, "loopback", &loinv, lo, &lores, err);

    cleanup_cjson cJSON *list = conflist_json(c);
    const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(list, "plugins");
    cJSON *prev = NULL;
    invocation_t inv = {"ADD", id, netns, ifname};
    const cJSON *pl;
    cJSON_ArrayForEach(pl, plugins)
    {
        if (r < 0)
            break;
        cleanup_cjson cJSON *conf = plugin_conf(pl, prev, port_mappings);
        cJSON *res = NULL;
        r = exec_plugin(c, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pl, "type")), &inv,
                        conf, &res, err);
        if (r == 0) {
            cJSON_Delete(prev);
            prev = res;
        }
    }
    if (r == 0 && !prev)
        r = minik_error_set(err, 0, "cni: the plugins returned no result");
    if (r == 0)
        r = result_extract(prev, out, err);
    if (r == 0) {
        cJSON_AddItemToObject(rec, "result", prev);
        prev = NULL;
        r = record_write(c, id, rec, err);
    }
    cJSON_Delete(prev);
    if (r < 0) {
        minik_cni_result_clear(out);
        /* Undo the half-made attachment now rather than at the next restart. */
        minik_error_t *e2 = NULL;
        if (minik_cni_del(c, id, &e2) < 0) {
            minik_log_warn("cni: cleanup after a failed ADD failed", "id", id, "error", e2->msg,
                           NULL);
            minik_error_free(e2);
        }
        return -1;
    }
    return 0;
}

int minik_cni_lookup(const minik_cni_config_t *c, const char *id, bool *found,
                     minik_cni_result_t *out, minik_error_t **err)
{
    memset(out, 0, sizeof(*out));
    *found = false;
    cleanup_cjson cJSON *rec = NULL;
    if (record_read(c, id, &rec, err) < 0)
        return -1;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(rec, "result");
    if (!cJSON_IsObject(res))
        return 0;
    if (result_extract(res, out, err) < 0)
        return -1;
    *found = true;
    return 0;
}

int minik_cni_check(const minik_cni_config_t *c, const char *id, minik_error_t **err)
{
    cleanup_cjson cJSON *rec = NULL;
    if (record_read(c, id, &rec, err) < 0)
        return -1;
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(rec, "result");
    if (!cJSON_IsObject(prev))
        return minik_error_set(err, ENOENT, "cni: pod %s has no network attachment", id);
    cleanup_cjson cJSON *list = conflist_json(c);
    const char *netns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "netns"));
    const char *ifname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "ifname"));
    invocation_t inv = {"CHECK", id, netns, ifname ? ifname : DEFAULT_IFNAME};
    const cJSON *pl;
    cJSON_ArrayForEach(pl, cJSON_GetObjectItemCaseSensitive(list, "plugins"))
    {
        cleanup_cjson cJSON *conf =
            plugin_conf(pl, prev, cJSON_GetObjectItemCaseSensitive(rec, "portMappings"));
        cleanup_cjson cJSON *res = NULL;
        if (exec_plugin(c, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pl, "type")), &inv,
                        conf, &res, err) < 0)
            return -1;
    }
    return 0;
}

int minik_cni_del(const minik_cni_config_t *c, const char *id, minik_error_t **err)
{
    cleanup_cjson cJSON *rec = NULL;
    if (record_read(c, id, &rec, err) < 0)
        return -1;
    if (!rec)
        return 0;
    if (run_del(c, rec, err) < 0)
        return minik_error_wrap(err, "release the network of pod %s", id);
    cleanup_free char *path = record_path(c, id);
    if (unlink(path) < 0 && errno != ENOENT)
        return minik_error_set(err, errno, "remove \"%s\"", path);
    return 0;
}

int minik_cni_recover(const minik_cni_config_t *c, bool (*live)(const char *id, void *arg),
                      void *arg, minik_error_t **err)
{
    cleanup_free char *dir = xasprintf("%s/records", c->data_dir);
    cleanup_closedir DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : minik_error_set(err, errno, "open \"%s\"", dir);
    int released = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!minik_str_has_suffix(de->d_name, ".json"))
            continue;
        cleanup_free char *id = xstrndup(de->d_name, strlen(de->d_name) - 5);
        if (minik_oci_id_check(id, NULL) < 0 || (live && live(id, arg)))
            continue;
        if (minik_cni_del(c, id, err) < 0)
            return -1;
        minik_log_info("cni: released the network of a pod that is gone", "id", id, NULL);
        released++;
    }
    return released;
}
