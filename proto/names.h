/* Name and label syntax exactly as Kubernetes' validation (apimachinery's
 * validation.IsDNS1123Label & co.). Each returns NULL when `s` is valid, else a message
 * (static storage, or written into buf) explaining the rule that was broken. */
#ifndef MINIK_PROTO_NAMES_H
#define MINIK_PROTO_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define MINIK_NAME_MSG_MAX 256

/* lowercase alphanumerics and '-', starts and ends alphanumeric, at most 63 */
const char *minik_names_check_dns1123_label(const char *s, char *buf, size_t bufsz);
/* dot-separated DNS-1123 labels, at most 253 */
const char *minik_names_check_dns1123_subdomain(const char *s, char *buf, size_t bufsz);
/* a DNS-1123 label that starts with a letter (Service names) */
const char *minik_names_check_dns1035_label(const char *s, char *buf, size_t bufsz);
/* label/annotation key: optional DNS subdomain prefix + '/' + name (<= 63, [A-Za-z0-9._-],
 * alphanumeric at both ends) */
const char *minik_names_check_qualified_name(const char *s, char *buf, size_t bufsz);
/* label value: empty, or <= 63 of [A-Za-z0-9._-], alphanumeric at both ends */
const char *minik_names_check_label_value(const char *s, char *buf, size_t bufsz);
/* ConfigMap/Secret data key: [-._a-zA-Z0-9]+, <= 253, not "." or ".." */
const char *minik_names_check_config_key(const char *s, char *buf, size_t bufsz);
/* IANA service name (named ports): <= 15, lowercase alnum and '-', a letter somewhere, no
 * "--", not starting or ending with '-' */
const char *minik_names_check_port_name(const char *s, char *buf, size_t bufsz);
/* C identifier-ish env var name: [-._a-zA-Z][-._a-zA-Z0-9]* */
const char *minik_names_check_env_var_name(const char *s, char *buf, size_t bufsz);

#endif
