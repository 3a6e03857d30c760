/* Network benchmark driver (tests/bench/bench_network.sh). Runs entirely inside fresh
 * network and mount namespaces of its own:
 *   net_bench cni N          time N CNI ADDs and DELs (real plugins), print ms per pod
 *   net_bench serve SECONDS  attach a pod running busybox httpd, put a ClusterIP in front
 *                            of it and run `wrk` against the pod IP and the ClusterIP,
 *                            printing wrk's requests/s and mean latency for both.
 *   net_bench rules N        N Services (NodePort, 3 endpoints each) as the agent renders
 *                            them; then 20 endpoint changes (one pod leaves a Service, as
 *                            on a readiness failure), each rendered and applied with one
 *                            `nft -f` transaction: ms per render and per apply.
 * Traffic only goes between namespaces this process made. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/network/cni.h"
#include "agent/network/services.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/xalloc.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int make_ns(const char *path)
{
    cleanup_close int cur = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (cur < 0 || fd < 0)
        return -1;
    close(fd);
    if (unshare(CLONE_NEWNET) < 0)
        return -1;
    int r = mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL);
    if (setns(cur, CLONE_NEWNET) < 0)
        abort();
    return r;
}

static int die(minik_error_t *err)
{
    fprintf(stderr, "net_bench: %s\n", err ? err->msg : "failed");
    minik_error_free(err);
    return 1;
}

static int bench_cni(const char *dir, int n)
{
    minik_cni_config_t cfg = {.data_dir = dir, .pod_cidr = "10.42.0.0/24"};
    minik_error_t *err = NULL;
    double add = 0, del = 0;
    for (int i = 0; i < n; i++) {
        cleanup_free char *ns = xasprintf("%s/pod%d", dir, i);
        cleanup_free char *id = xasprintf("bench-%d", i);
        if (make_ns(ns) < 0)
            return die(NULL);
        minik_cni_result_t res;
        double t0 = now_ms();
        if (minik_cni_add(&cfg, id, ns, NULL, NULL, &res, &err) < 0)
            return die(err);
        add += now_ms() - t0;
        minik_cni_result_clear(&res);
    }
    for (int i = 0; i < n; i++) {
        cleanup_free char *id = xasprintf("bench-%d", i);
        cleanup_free char *ns = xasprintf("%s/pod%d", dir, i);
        double t0 = now_ms();
        if (minik_cni_del(&cfg, id, &err) < 0)
            return die(err);
        del += now_ms() - t0;
        umount2(ns, MNT_DETACH);
    }
    printf("cni_add_ms %.2f\ncni_del_ms %.2f\n", add / n, del / n);
    return 0;
}

static void wrk(const char *label, const char *url, int seconds)
{
    cleanup_free char *cmd = xasprintf(
        "wrk -t1 -c8 -d%ds %s 2>&1 | awk '/Requests\\/sec/ {rps=$2} /^    Latency/ {lat=$2} "
        "END {print \"%s_rps\", rps; print \"%s_latency\", lat}'",
        seconds, url, label, label);
    fflush(stdout);
    if (system(cmd) != 0)
        fprintf(stderr, "net_bench: wrk failed for %s\n", url);
}

static int bench_serve(const char *dir, int seconds)
{
    minik_cni_config_t cfg = {.data_dir = dir, .pod_cidr = "10.42.0.0/24"};
    minik_error_t *err = NULL;
    cleanup_free char *ns = xasprintf("%s/pod", dir);
    cleanup_free char *www = xasprintf("%s/www", dir);
    cleanup_free char *index = xasprintf("%s/index.html", www);
    if (make_ns(ns) < 0 || minik_mkdir_p(www, 0755, &err) < 0 ||
        minik_file_write_atomic(index, "pod\n", 4, 0644, &err) < 0)
        return die(err);
    minik_cni_result_t res;
    if (minik_cni_add(&cfg, "serve", ns, NULL, NULL, &res, &err) < 0)
        return die(err);
    cleanup_free char *netarg = xasprintf("--net=%s", ns);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execlp("nsenter", "nsenter", netarg, "busybox", "httpd", "-f", "-p", "8080", "-h", www,
               (char *)NULL);
        _exit(127);
    }
    cleanup_free char *svcs = xstrdup(
        "[{\"metadata\":{\"name\":\"web\"},\"spec\":{\"clusterIP\":\"10.43.0.10\",\"ports\":[{"
        "\"port\":80}]}}]");
    cleanup_free char *eps = xasprintf("[{\"metadata\":{\"name\":\"web\"},\"subsets\":[{"
                                       "\"addresses\":[{\"ip\":\"%s\"}],\"ports\":[{\"port\":"
                                       "8080}]}]}]",
                                       res.ip);
    cleanup_cjson cJSON *s = cJSON_Parse(svcs);
    cleanup_cjson cJSON *e = cJSON_Parse(eps);
    minik_services_opts_t o = {.cluster_cidr = "10.42.0.0/16"};
    cleanup_free char *rules = minik_services_render(s, e, &o);
    int rc = 0;
    if (system("ip route replace 10.43.0.0/16 dev minik0") != 0 ||
        minik_services_apply(rules, &err) < 0) {
        rc = die(err);
    } else {
        cleanup_free char *probe =
            xasprintf("for i in $(seq 50); do curl -s -o /dev/null -m 1 http://%s:8080/ && exit 0; "
                      "sleep 0.1; done; exit 1",
                      res.ip);
        if (system(probe) != 0) {
            rc = die(NULL);
        } else {
            cleanup_free char *direct = xasprintf("http://%s:8080/", res.ip);
            wrk("direct", direct, seconds);
            wrk("clusterip", "http://10.43.0.10/", seconds);
        }
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (minik_cni_del(&cfg, "serve", &err) < 0)
        rc = die(err);
    minik_cni_result_clear(&res);
    umount2(ns, MNT_DETACH);
    return rc;
}

/* N Services with 3 endpoints each; endpoint `gone` of service 0 is left out (-1: none). */
static void rules_world(int n, int gone, cJSON **svcs, cJSON **eps)
{
    *svcs = cJSON_CreateArray();
    *eps = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        char name[32], ip[32];
        snprintf(name, sizeof name, "svc%d", i);
        snprintf(ip, sizeof ip, "10.43.%d.%d", i / 250, i % 250 + 2);
        cJSON *s = cJSON_CreateObject();
        cJSON *md = cJSON_AddObjectToObject(s, "metadata");
        cJSON_AddStringToObject(md, "name", name);
        cJSON_AddStringToObject(md, "namespace", "default");
        cJSON *spec = cJSON_AddObjectToObject(s, "spec");
        cJSON_AddStringToObject(spec, "clusterIP", ip);
        cJSON_AddStringToObject(spec, "type", "NodePort");
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "port", 80);
        cJSON_AddNumberToObject(p, "nodePort", 30000 + i);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "ports"), p);
        cJSON_AddItemToArray(*svcs, s);
        cJSON *e = cJSON_CreateObject();
        md = cJSON_AddObjectToObject(e, "metadata");
        cJSON_AddStringToObject(md, "name", name);
        cJSON_AddStringToObject(md, "namespace", "default");
        cJSON *sub = cJSON_CreateObject();
        cJSON *addrs = cJSON_AddArrayToObject(sub, "addresses");
        for (int k = 0; k < 3; k++) {
            if (i == 0 && k == gone)
                continue;
            char pip[32];
            snprintf(pip, sizeof pip, "10.42.%d.%d", k, i % 250 + 2);
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "ip", pip);
            cJSON_AddItemToArray(addrs, a);
        }
        cJSON *ep = cJSON_CreateObject();
        cJSON_AddNumberToObject(ep, "port", 8080);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(sub, "ports"), ep);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(e, "subsets"), sub);
        cJSON_AddItemToArray(*eps, e);
    }
}

static int bench_rules(int n)
{
    minik_services_opts_t o = {.cluster_cidr = "10.42.0.0/16"};
    minik_error_t *err = NULL;
    double render = 0, apply = 0;
    const int rounds = 20;
    for (int r = -1; r < rounds; r++) {
        cJSON *s, *e;
        rules_world(n, r < 0 ? -1 : r % 3, &s, &e);
        double t0 = now_ms();
        char *text = minik_services_render(s, e, &o);
        double t1 = now_ms();
        int rc = minik_services_apply(text, &err);
        double t2 = now_ms();
        free(text);
        cJSON_Delete(s);
        cJSON_Delete(e);
        if (rc < 0)
            return die(err);
        if (r >= 0) { /* the first apply creates the table; the rounds replace it */
            render += t1 - t0;
            apply += t2 - t1;
        }
    }
    printf("rules_services %d\nrules_render_ms %.2f\nrules_apply_ms %.1f\n", n, render / rounds,
           apply / rounds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: net_bench cni N | serve SECONDS | rules N\n");
        return 2;
    }
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || system("ip link set lo up") != 0) {
        perror("net_bench: namespaces (root needed)");
        return 1;
    }
    char tmpl[] = "/tmp/minik-netbench-XXXXXX";
    if (!mkdtemp(tmpl))
        return 1;
    int n = atoi(argv[2]);
    int rc = strcmp(argv[1], "cni") == 0     ? bench_cni(tmpl, n > 0 ? n : 20)
             : strcmp(argv[1], "serve") == 0 ? bench_serve(tmpl, n > 0 ? n : 5)
             : strcmp(argv[1], "rules") == 0 ? bench_rules(n > 0 ? n : 100)
                                             : 2;
    minik_error_t *err = NULL;
    if (minik_rm_rf(tmpl, &err) < 0)
        minik_error_free(err);
    return rc;
}
