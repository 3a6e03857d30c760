/* Restart policy and crash back-off, with the kubelet's numbers: the delay starts at the
 * base (10 s), doubles per crash up to 5 minutes, and starts over once a container has
 * run for 10 minutes without crashing. */
#include <string.h>

#include "agent/internal.h"

int64_t minik_agent_backoff_next(int64_t prev_ms, int64_t base_ms, int64_t ran_ms)
{
    if (prev_ms <= 0 || ran_ms >= MINIK_AGENT_BACKOFF_RESET_MS)
        return base_ms;
    int64_t next = prev_ms * 2;
    return next > MINIK_AGENT_BACKOFF_MAX_MS ? MINIK_AGENT_BACKOFF_MAX_MS : next;
}

bool minik_agent_should_restart(const char *policy, int exit_code)
{
    if (!policy || strcmp(policy, "Always") == 0)
        return true;
    if (strcmp(policy, "OnFailure") == 0)
        return exit_code != 0;
    return false; /* Never */
}
