/* Label selectors and field selectors with Kubernetes semantics.
 *
 * Label selector strings (labelSelector= in the API, -l in the CLI):
 *     app=web,tier in (a,b),!canary       app==web   app!=web   x notin (y)   key
 * and the object form of Deployments/Services (matchLabels + matchExpressions with
 * In/NotIn/Exists/DoesNotExist). Requirements are ANDed; an empty selector matches
 * everything. `key!=v` and `notin` also match objects without that key, as in Kubernetes.
 *
 * Field selectors (fieldSelector=spec.nodeName=node-1,metadata.name!=x): a conjunction of
 * `path=value`, `path==value`, `path!=value` on dotted paths; a missing field compares as
 * the empty string (so `spec.nodeName=` selects unscheduled pods). */
#ifndef MINIK_PROTO_SELECTOR_H
#define MINIK_PROTO_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

typedef enum minik_sel_op {
    MINIK_SEL_EQ,         /* key=v, key==v, matchLabels */
    MINIK_SEL_NEQ,        /* key!=v */
    MINIK_SEL_IN,         /* key in (a,b) */
    MINIK_SEL_NOTIN,      /* key notin (a,b) */
    MINIK_SEL_EXISTS,     /* key */
    MINIK_SEL_NOT_EXISTS, /* !key */
} minik_sel_op_t;

typedef struct minik_sel_req {
    char *key;
    minik_sel_op_t op;
    char **values; /* NULL-terminated; one value for EQ/NEQ, none for (NOT_)EXISTS */
} minik_sel_req_t;

typedef struct minik_selector {
    minik_sel_req_t *reqs;
    size_t n_reqs;
    bool nothing; /* matches no object (a null selector object) */
} minik_selector_t;

/* Parse a label selector string. "" (or all spaces) matches everything. Keys and values
 * are checked as Kubernetes checks them; errors say what is wrong and where:
 * `selector "app in (a": expected ")" at position 9`. */
int minik_selector_parse(const char *s, minik_selector_t **out, minik_error_t **err);

/* Build a selector from a LabelSelector object ({matchLabels, matchExpressions}).
 * NULL or JSON null gives a selector that matches nothing; {} matches everything. */
int minik_selector_from_json(const cJSON *label_selector, minik_selector_t **out,
                             minik_error_t **err);

/* Does a labels object ({"app":"web"}, NULL or absent = no labels) satisfy sel? */
bool minik_selector_matches(const minik_selector_t *sel, const cJSON *labels);

/* Does an object's metadata.labels satisfy sel? A store filter is
 *     static bool by_labels(const cJSON *obj, void *ud) {
 *         return minik_selector_matches_object(ud, obj); }                               */
bool minik_selector_matches_object(const minik_selector_t *sel, const cJSON *obj);

/* Is the selector empty (matches everything)? */
bool minik_selector_is_empty(const minik_selector_t *sel);

/* The canonical string form ("app=web,!canary,tier in (a,b)"): as Kubernetes prints it,
 * requirements sorted by key, values of in/notin sorted. The caller owns it. */
char *minik_selector_format(const minik_selector_t *sel);

void minik_selector_free(minik_selector_t *sel);

typedef struct minik_field_req {
    char *path; /* "spec.nodeName" */
    bool negate;
    char *value;
} minik_field_req_t;

typedef struct minik_field_selector {
    minik_field_req_t *reqs;
    size_t n_reqs;
} minik_field_selector_t;

/* Parse "a.b=v,c!=w". Values may escape ',', '=' and '\' with a backslash. "" matches
 * everything. */
int minik_field_selector_parse(const char *s, minik_field_selector_t **out, minik_error_t **err);

/* Does the object satisfy every requirement? String, number and bool fields compare by
 * their text form; missing fields compare as "". */
bool minik_field_selector_matches(const minik_field_selector_t *fs, const cJSON *obj);

void minik_field_selector_free(minik_field_selector_t *fs);

#endif
