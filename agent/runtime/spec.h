/* The OCI runtime-spec config.json, parsed into what the runtime needs.
 *
 * Only the subset minik implements is decoded; unknown properties are ignored as the
 * runtime spec requires, but a known property with the wrong type or an invalid value is
 * an error naming the field ("config.json: process.args[1]: expected a string"), so a bad
 * bundle fails at `create`, never half-way through setting up a container. */
#ifndef MINIK_RUNTIME_SPEC_H
#define MINIK_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

/* The 14 capabilities Docker and runc grant by default (CapEff 00000000a80425fb). */
#define MINIK_SPEC_DEFAULT_CAPS 0x00000000a80425fbULL

typedef struct minik_spec_mount {
    char *destination; /* absolute path inside the container */
    char *type;        /* "bind" for bind mounts (also implied by a bind option) */
    char *source;
    unsigned long flags;       /* MS_* to set */
    unsigned long clear_flags; /* MS_* named by the "rw", "suid", ... options */
    unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (|MS_REC) */
    bool bind;
    char *data; /* options that are not flags, comma-joined ("mode=755,size=64k"); may be NULL */
} minik_spec_mount_t;

typedef struct minik_spec_namespace {
    int type;   /* CLONE_NEW* */
    char *path; /* join this namespace instead of creating one; NULL to create */
} minik_spec_namespace_t;

typedef struct minik_spec_idmap {
    uint32_t container_id, host_id, size;
} minik_spec_idmap_t;

typedef struct minik_spec_rlimit {
    int resource; /* RLIMIT_* */
    uint64_t soft, hard;
} minik_spec_rlimit_t;

typedef struct minik_spec_device {
    char *path;
    char type; /* 'c', 'b', 'p' (and 'u' = unbuffered char, same as 'c') */
    int64_t major, minor;
    mode_t mode;
    uid_t uid;
    gid_t gid;
} minik_spec_device_t;

typedef struct minik_spec_sysctl {
    char *key, *value;
} minik_spec_sysctl_t;

typedef struct minik_spec {
    cJSON *json; /* the whole document; the borrowed pointers below point into it */
    char *oci_version;

    /* process */
    char **args; /* NULL-terminated, at least one entry */
    char **env;  /* NULL-terminated, may be empty */
    char *cwd;   /* absolute */
    uid_t uid;
    gid_t gid;
    gid_t *additional_gids;
    size_t n_additional_gids;
    bool caps_given; /* false: the Docker defaults below were filled in */
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_ambient;
    minik_spec_rlimit_t *rlimits;
    size_t n_rlimits;
    bool no_new_privileges;
    bool has_oom_score_adj;
    int oom_score_adj;

    /* root */
    char *root_path; /* as written: relative paths are relative to the bundle */
    bool root_readonly;
    char *hostname; /* NULL if not set */

    minik_spec_mount_t *mounts;
    size_t n_mounts;

    /* linux */
    minik_spec_namespace_t *namespaces;
    size_t n_namespaces;
    minik_spec_idmap_t *uid_mappings, *gid_mappings;
    size_t n_uid_mappings, n_gid_mappings;
    const cJSON *resources; /* borrowed from json; NULL if absent */
    const cJSON *seccomp;   /* borrowed from json; NULL if absent */
    char *cgroups_path;     /* NULL if absent */
    minik_spec_sysctl_t *sysctls;
    size_t n_sysctls;
    char **masked_paths;   /* NULL-terminated */
    char **readonly_paths; /* NULL-terminated */
    minik_spec_device_t *devices;
    size_t n_devices;
    unsigned long rootfs_propagation; /* 0 if not set */
    const cJSON *annotations;         /* borrowed; NULL if absent */
} minik_spec_t;

/* Parse a config.json document of `len` bytes. On success *out owns everything. */
int minik_spec_parse(const char *text, size_t len, minik_spec_t **out, minik_error_t **err);

/* Read and parse <bundle>/config.json. */
int minik_spec_load(const char *bundle, minik_spec_t **out, minik_error_t **err);

void minik_spec_free(minik_spec_t *spec);

/* The namespace entry of the given CLONE_NEW* type, or NULL. */
const minik_spec_namespace_t *minik_spec_namespace(const minik_spec_t *spec, int type);

/* The capabilities minik knows, CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40): the one table
 * of their names, indexed by capability number. */
#define MINIK_SPEC_CAP_COUNT 41
/* Every capability in minik_spec_cap_names, as a mask (what a privileged container gets). */
#define MINIK_SPEC_ALL_CAPS ((1ULL << MINIK_SPEC_CAP_COUNT) - 1)
extern const char *const minik_spec_cap_names[MINIK_SPEC_CAP_COUNT];

/* Capability name ("CAP_CHOWN") to number; -1 if unknown. */
int minik_spec_cap_from_name(const char *name);
/* And back; "CAP_UNKNOWN" for numbers minik has no name for. */
const char *minik_spec_cap_name(int cap);

/* Parse mount options (the OCI "options" array) into m's flags/propagation/data. Unknown
 * options that look like flags are passed to the filesystem as data, as mount(8) does. */
void minik_spec_mount_parse_option(minik_spec_mount_t *m, const char *opt);

#endif
