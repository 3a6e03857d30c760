/* Internal to proto/: number tests without libm (the build links no -lm). */
#ifndef MINIK_PROTO_NUM_H
#define MINIK_PROTO_NUM_H

#include <stdbool.h>

/* An integer that a double holds exactly (|d| <= 2^53); false for NaN and infinities. */
static inline bool minik_num_is_int53(double d)
{
    return d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(long long)d;
}

#endif
