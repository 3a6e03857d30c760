/* The container's filesystem view: mounts, /dev, masked and read-only paths, pivot_root.
 *
 * Everything here runs in the container's init process, inside its new mount namespace.
 * Every path from the config is resolved inside the rootfs by file descriptor
 * (openat2 RESOLVE_IN_ROOT, no magic links), and mounts target the resolved fd through
 * /proc/self/fd of a verified procfs, so a symlink in the image can never redirect a mount
 * onto the host (CVE-2021-30465). */
#ifndef MINIK_RUNTIME_ROOTFS_H
#define MINIK_RUNTIME_ROOTFS_H

#include <stdbool.h>

#include "agent/runtime/spec.h"
#include "lib/error.h"

/* Open `path` (absolute or relative) inside the tree rooted at rootfd, following symlinks
 * only as if rootfd were "/". flags are open(2) flags (O_CLOEXEC is added). */
int minik_rootfs_open_in_root(int rootfd, const char *path, int flags, minik_error_t **err);

/* Create the directories of `path` inside rootfd as needed (mode 0755) and return an
 * O_PATH fd of the last one. With `file` set the last component is created as an empty
 * regular file instead (for bind mounts of files). */
int minik_rootfs_mkpath(int rootfd, const char *path, bool file, minik_error_t **err);

/* In the init, before pivot_root: make the mount tree private to the container, bind the
 * rootfs onto itself, do the config's mounts, a minimal /dev, devices, masked and
 * read-only paths. procfd is a verified host procfs (for /proc/self/fd). */
int minik_rootfs_prepare(const minik_spec_t *spec, const char *rootfs, int procfd, bool in_userns,
                         minik_error_t **err);

/* pivot_root into rootfs, detach the old root, remount / read-only if asked and apply
 * rootfsPropagation. Leaves the cwd at "/". */
int minik_rootfs_pivot(const minik_spec_t *spec, const char *rootfs, minik_error_t **err);

#endif
