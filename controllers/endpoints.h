/* What the Endpoints controller writes: the Endpoints object of a Service, computed from
 * the pods that match its selector. Pure, so it is tested and fuzzed without a server;
 * the controller calls it whenever a Service or a pod in its namespace changes. */
#ifndef MINIK_CONTROLLERS_ENDPOINTS_H
#define MINIK_CONTROLLERS_ENDPOINTS_H

#include <cjson/cJSON.h>

#include "lib/error.h"

/* Compute the Endpoints object (apiVersion/kind/metadata.name+namespace/subsets) of
 * `service` from `pods` (an array of Pod objects, any namespace: others are ignored).
 *   - pods with a podIP, not terminating, not Succeeded/Failed, labels matching
 *     spec.selector; Ready ones in addresses, the others in notReadyAddresses (all in
 *     addresses when spec.publishNotReadyAddresses);
 *   - each Service port resolved per pod: a numeric targetPort (default: port) as is, a
 *     named one through the pod's containers[].ports[].name (a pod without that name
 *     serves no such port);
 *   - pods with the same resolved ports share a subset; addresses sorted by IP.
 * *out is NULL (and 0 returned) for a Service without a selector: its Endpoints are the
 * user's to manage. */
int minik_endpoints_compute(const cJSON *service, const cJSON *pods, cJSON **out,
                            minik_error_t **err);

#endif
