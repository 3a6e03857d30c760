#include "lib/cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int minik_cidr4_parse(const char *s, uint32_t *base, int *prefix)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || slash - s >= INET_ADDRSTRLEN)
        return -1;
    char ip[INET_ADDRSTRLEN];
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    char *end = NULL;
    long p = strtol(slash + 1, &end, 10);
    struct in_addr a;
    if (end == slash + 1 || *end || p < 1 || p > 32 || inet_pton(AF_INET, ip, &a) != 1)
        return -1;
    *base = ntohl(a.s_addr);
    *prefix = (int)p;
    return 0;
}
