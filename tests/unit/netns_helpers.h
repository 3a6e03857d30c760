/* Test hosts and pods as real network namespaces, made by the test itself. */
#ifndef MINIK_TESTS_NETNS_HELPERS_H
#define MINIK_TESTS_NETNS_HELPERS_H

#include <stdbool.h>

/* Move this test process into fresh network and mount namespaces (so every bridge,
 * veth, route, nftables table and bind mount it makes vanishes when it exits). Returns
 * false when that is not possible (not root). */
bool netns_test_isolate(void);

/* Make a new network namespace bound at `path` (a file that is created) without moving
 * the caller into it. Returns 0 or -1. */
int netns_test_make(const char *path);

/* Run a shell command inside the namespace bound at `path`; returns its exit status. */
int netns_test_run(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A fresh temporary directory (caller frees the string; removed by netns_test_rmdir). */
char *netns_test_tmpdir(void);
void netns_test_rmdir(const char *dir);

#endif
