/* The size of libuv's thread pool for a process that runs an agent. Every pod job runs
 * there and may block for long (sandbox and CNI set-up, image pulls, exec and httpGet
 * probes up to their timeouts, stopping containers), and in `minik server` the store's
 * commits and the network sync share the same pool: with libuv's default of 4 threads,
 * four slow pods would hold every write of the API server back. */
#include <stdlib.h>

#include "agent/agent.h"

void minik_agent_threadpool_size(void)
{
    /* An explicit UV_THREADPOOL_SIZE wins; libuv reads it once, on first use. */
    setenv("UV_THREADPOOL_SIZE", MINIK_AGENT_THREADPOOL_SIZE, 0);
}
