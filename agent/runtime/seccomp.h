/* seccomp filters for containers.
 *
 * The filter is compiled with libseccomp in the parent (minik_seccomp_prepare) into a
 * classic-BPF program held in memory; the container child installs it right before
 * execve (minik_seccomp_apply) with a bare prctl, so the child never calls libseccomp or
 * malloc after fork. */
#ifndef MINIK_SECCOMP_H
#define MINIK_SECCOMP_H

#include <cjson/cJSON.h>

#include "lib/error.h"

typedef struct minik_seccomp minik_seccomp_t;

/* Compile OCI linux.seccomp (borrowed; NULL = the built-in Docker-equivalent default
 * profile) into a BPF program, in the parent, before fork. The filter covers the native
 * architecture plus its compat ABIs (x86 and x32 on x86_64, arm on aarch64) unless the
 * spec lists architectures. Errors name the offending field ("syscalls[2].action: unknown
 * action \"SCMP_ACT_FOO\""); syscall names the running libseccomp does not know are
 * skipped, as runc does; "flags" and "listenerPath" are ignored. *out is owned by the
 * caller (minik_seccomp_free). */
int minik_seccomp_prepare(const cJSON *linux_seccomp, minik_seccomp_t **out, minik_error_t **err);

/* In the container child, right before execve: install the precompiled filter. No
 * allocation; async-signal-safe. Returns 0 or -errno. The caller must have set
 * no_new_privs or hold CAP_SYS_ADMIN. */
int minik_seccomp_apply(const minik_seccomp_t *sc);

/* NULL is a no-op. */
void minik_seccomp_free(minik_seccomp_t *sc);

/* ---- additions beyond the runtime's contract --------------------------------------- */

/* Parse and validate an OCI linux.seccomp object without compiling it (the fuzz target's
 * entry point). Returns 0 or < 0 with *err naming the field. */
int minik_seccomp_validate(const cJSON *linux_seccomp, minik_error_t **err);

/* The built-in default profile (Docker's, for the running architecture) as an OCI
 * linux.seccomp object; the caller owns it. minik_seccomp_prepare(NULL) compiles this. */
cJSON *minik_seccomp_default_profile(void);

/* Size in BPF instructions of the compiled program (tests, benchmarks). */
size_t minik_seccomp_insns(const minik_seccomp_t *sc);

struct sock_filter;
/* The compiled program (owned by sc), *n instructions. */
const struct sock_filter *minik_seccomp_filter(const minik_seccomp_t *sc, size_t *n);

/* The default profile precompiled at development time for this architecture
 * (seccomp_default_<arch>.inc), or NULL when there is none and it must be compiled.
 * libseccomp 2.5 needs ~10 ms for the ~350-syscall, three-ABI default profile, a cost
 * every container start would otherwise pay. */
const struct sock_filter *minik_seccomp_default_filter(size_t *n);

#endif
