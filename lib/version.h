/* Build identity, filled in by the Makefile at build time. */
#ifndef MINIK_VERSION_H
#define MINIK_VERSION_H

const char *minik_version(void);    /* "0.1.0" */
const char *minik_git_commit(void); /* short hash, "-dirty" suffix, or "unknown" */
const char *minik_build_date(void); /* RFC 3339 UTC */

#endif
