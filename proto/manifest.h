/* Manifest decoding: YAML (libyaml) or JSON text -> cJSON objects, with the line and column
 * of every node kept for the validator's error messages.
 *
 * A minik_manifest_t collects the documents of any number of inputs (files, directories,
 * stdin, buffers) in order. Scalars are typed the way Kubernetes' YAML reader types them
 * (YAML 1.1-ish: true/false/yes/no..., ints, floats, null/~; quoted scalars stay strings);
 * anchors and aliases are expanded (within limits); empty documents are skipped;
 * `kind: List` documents are replaced by their items.
 *
 * Problems are located diagnostics (proto/diag.h). A syntax error ends the decoding of
 * that input (its later documents are not read); a duplicate key is reported and decoding
 * goes on, so every duplicate in a file is listed. */
#ifndef MINIK_PROTO_MANIFEST_H
#define MINIK_PROTO_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/error.h"
#include "proto/diag.h"

/* Limits against hostile input, matching the API server's body limit. */
#define MINIK_MANIFEST_MAX_BYTES   (3u * 1024u * 1024u) /* per input file / body */
#define MINIK_MANIFEST_MAX_DEPTH   100                  /* nesting of maps/sequences */
#define MINIK_MANIFEST_MAX_DOCS    1000                 /* documents per manifest */
#define MINIK_MANIFEST_MAX_ALIASES 10000 /* nodes produced by alias expansion, per document */

/* Where a node came from. For a member of a mapping, key_* is the key's position (what
 * "unknown field" points at) and line/col the value's; for other nodes key_* == line/col. */
typedef struct minik_pos {
    unsigned line, col;         /* 1-based */
    unsigned key_line, key_col; /* 1-based */
} minik_pos_t;

/* Positions of cJSON nodes, keyed by node pointer. Opaque. */
typedef struct minik_posmap minik_posmap_t;

/* The position recorded for `node`, or NULL if none (e.g. a node added by defaulting). */
const minik_pos_t *minik_posmap_get(const minik_posmap_t *pm, const cJSON *node);

typedef struct minik_doc {
    cJSON *obj;         /* the decoded document (an object for a valid manifest) */
    const char *source; /* the input's name (owned by the manifest), NULL for anonymous */
    unsigned line;      /* where the document starts */
} minik_doc_t;

typedef struct minik_manifest {
    minik_doc_t *docs;
    size_t n_docs, cap_docs;
    minik_posmap_t *pos; /* positions of every decoded node, of every document */
    char **sources;      /* names of the inputs, owned */
    size_t n_sources;
} minik_manifest_t;

minik_manifest_t *minik_manifest_new(void);
/* Frees every document, position and name. NULL is a no-op. */
void minik_manifest_free(minik_manifest_t *m);

/* Decode `len` bytes of YAML or JSON (JSON is YAML's flow subset, so one parser reads
 * both; positions are kept either way). `source` names the input in diagnostics (may be
 * NULL). Documents are appended to m; problems go to diags. Returns 0 if the input
 * produced no error diagnostics, -1 otherwise (documents decoded before a syntax error
 * are kept). */
int minik_manifest_decode_buf(minik_manifest_t *m, const char *source, const char *data, size_t len,
                              minik_diags_t *diags);

/* Decode a file, a directory (its *.yaml, *.yml and *.json entries, sorted by name, not
 * recursive) or "-" (stdin). Unreadable inputs, empty directories and oversized files
 * are diagnostics too. Returns 0 if no error diagnostic was added, -1 otherwise. */
int minik_manifest_decode_path(minik_manifest_t *m, const char *path, minik_diags_t *diags);

/* Decode a YAML or JSON buffer that must hold exactly one document (kubeconfig files,
 * request bodies) into *out (owned by the caller), without positions. The first problem
 * becomes *err as "source:line:col: message". An empty input is an error. */
int minik_yaml_parse_one(const char *source, const char *data, size_t len, cJSON **out,
                         minik_error_t **err);

#endif
