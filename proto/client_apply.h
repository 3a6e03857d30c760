/* Client-side apply, as kubectl does it for objects without a strategic-merge schema:
 * the last-applied configuration lives in an annotation, and an update is a JSON merge
 * patch (RFC 7386) computed three ways (last-applied vs the new file vs the live object)
 * so that fields removed from the file are removed from the object while fields other
 * writers own (status, defaults, controller-set fields) are left alone. */
#ifndef MINIK_PROTO_CLIENT_APPLY_H
#define MINIK_PROTO_CLIENT_APPLY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#define MINIK_LAST_APPLIED_ANNOTATION "kubectl.kubernetes.io/last-applied-configuration"

/* A copy of `desired` (borrowed) whose metadata.annotations carries the last-applied
 * annotation: desired itself as compact JSON, minus any previous annotation of that name.
 * This is the "modified" side of the three-way merge and the body of a create. */
cJSON *minik_apply_annotate(const cJSON *desired);

/* The last-applied configuration recorded on a live object, parsed; NULL when absent or
 * not valid JSON (then the merge is two-way: nothing is known to have been removed). */
cJSON *minik_apply_last_applied(const cJSON *live);

/* When the live object's last-applied configuration says the same as `desired` — only
 * written differently, e.g. by stock kubectl (sorted keys, an empty annotations map) —
 * put the live annotation text into `modified`, so that a file applied before by kubectl
 * and unchanged since is "unchanged" here too instead of rewriting the annotation.
 * Returns true when it did. */
bool minik_apply_adopt_annotation(cJSON *modified, const cJSON *desired, const cJSON *live);

/* RFC 7386 patch turning `from` into `to` (both borrowed): keys missing from `to` become
 * null, nested objects recurse, everything else (arrays, scalars) is replaced whole when
 * different. Never NULL: {} when they are equal. */
cJSON *minik_merge_patch_create(const cJSON *from, const cJSON *to);

/* The three-way patch: deletions (null entries of original->modified) merged with
 * changes (non-null entries of current->modified). original may be NULL. {} means the
 * live object already matches: nothing to send. */
cJSON *minik_apply_three_way_patch(const cJSON *original, const cJSON *modified,
                                   const cJSON *current);

/* Apply an RFC 7386 merge patch to target (both borrowed); returns a new object. */
cJSON *minik_merge_patch_apply(const cJSON *target, const cJSON *patch);

/* true when patch is an empty object (nothing to change). */
bool minik_merge_patch_is_empty(const cJSON *patch);

#endif
