/* Resource quantities, exact: the number is read as an integer mantissa and a power of
 * ten, multiplied out in 128-bit arithmetic, and only then rounded to milli-units. */
#include "proto/quantity.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

typedef __int128 i128;

static const char *const binary_suffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

/* m * 10^p10 * 2^p2 in milli-units, rounded away from zero; false on overflow. */
static bool scale_to_milli(i128 m, int p10, int p2, int64_t *out)
{
    const i128 limit = (i128)INT64_MAX;
    p10 += 3;
    for (int i = 0; i < p2; i++) {
        m *= 2;
        if (m > limit * 1000000)
            return false;
    }
    while (p10 > 0) {
        m *= 10;
        p10--;
        if (m > limit * 1000000)
            return false;
    }
    if (p10 < 0) {
        i128 div = 1;
        while (p10 < 0) {
            if (div > limit) {
                /* Dividing by more than the mantissa can be: the result rounds to 1. */
                *out = m ? 1 : 0;
                return true;
            }
            div *= 10;
            p10++;
        }
        i128 q = m / div;
        if (m % div)
            q++;
        m = q;
    }
    if (m > limit)
        return false;
    *out = (int64_t)m;
    return true;
}

int minik_quantity_parse(const char *s, minik_quantity_t *out, minik_error_t **err)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    i128 mant = 0;
    int frac = 0, ndig = 0;
    bool seen_dot = false;
    int sig = 0;
    for (; *p; p++) {
        if (*p == '.') {
            if (seen_dot)
                break;
            seen_dot = true;
            continue;
        }
        if (!isdigit((unsigned char)*p))
            break;
        ndig++;
        if (mant == 0 && *p == '0') {
            if (seen_dot)
                frac++;
            continue;
        }
        if (sig >= 36)
            return minik_error_set(err, 0, "quantity \"%s\": too many digits", s);
        mant = mant * 10 + (*p - '0');
        sig++;
        if (seen_dot)
            frac++;
    }
    if (ndig == 0)
        return minik_error_set(
            err, 0, "quantity \"%s\": must start with a number (e.g. 100m, 0.5, 128Mi)", s);
    int p10 = -frac, p2 = 0;
    minik_quantity_format_t fmt = MINIK_QTY_DECIMAL_SI;
    const char *suf = p;
    if ((*suf == 'e' || *suf == 'E') && suf[1] != '\0' && suf[1] != 'i') {
        const char *q = suf + 1;
        bool eneg = false;
        if (*q == '+' || *q == '-') {
            eneg = *q == '-';
            q++;
        }
        if (!isdigit((unsigned char)*q))
            return minik_error_set(err, 0, "quantity \"%s\": unknown suffix \"%s\"", s, suf);
        int e = 0;
        for (; isdigit((unsigned char)*q); q++) {
            e = e * 10 + (*q - '0');
            if (e > 100)
                return minik_error_set(err, 0, "quantity \"%s\": exponent too large", s);
        }
        if (*q != '\0')
            return minik_error_set(err, 0, "quantity \"%s\": unknown suffix \"%s\"", s, suf);
        p10 += eneg ? -e : e;
        fmt = MINIK_QTY_DECIMAL_EXP;
        goto scaled;
    }
    if (suf[0] != '\0' && suf[1] == 'i' && suf[2] == '\0') {
        int k = 0;
        for (int i = 1; i < 7; i++)
            if (binary_suffixes[i][0] == suf[0])
                k = i;
        if (k == 0)
            return minik_error_set(err, 0, "quantity \"%s\": unknown suffix \"%s\"", s, suf);
        p2 = 10 * k;
        fmt = MINIK_QTY_BINARY_SI;
    } else if (suf[0] == '\0') {
        /* plain number */
    } else if (suf[1] == '\0') {
        switch (suf[0]) {
        case 'n':
            p10 -= 9;
            break;
        case 'u':
            p10 -= 6;
            break;
        case 'm':
            p10 -= 3;
            break;
        case 'k':
            p10 += 3;
            break;
        case 'M':
            p10 += 6;
            break;
        case 'G':
            p10 += 9;
            break;
        case 'T':
            p10 += 12;
            break;
        case 'P':
            p10 += 15;
            break;
        case 'E':
            p10 += 18;
            break;
        default:
            return minik_error_set(err, 0, "quantity \"%s\": unknown suffix \"%s\"", s, suf);
        }
    } else {
        return minik_error_set(err, 0, "quantity \"%s\": unknown suffix \"%s\"", s, suf);
    }
scaled:;
    int64_t milli;
    if (!scale_to_milli(mant, p10, p2, &milli))
        return minik_error_set(
            err, 0, "quantity \"%s\": too large (at most 9223372036854775807m, about 9.2P)", s);
    out->milli = neg ? -milli : milli;
    out->format = fmt;
    return 0;
}

static void append_decimal(minik_buf_t *b, int64_t milli, bool exp_form)
{
    uint64_t m = milli < 0 ? (uint64_t)0 - (uint64_t)milli : (uint64_t)milli;
    int e = -3;
    while (m % 10 == 0) {
        m /= 10;
        e++;
    }
    while (((e % 3) + 3) % 3 != 0) {
        m *= 10;
        e--;
    }
    if (milli < 0)
        minik_buf_append_char(b, '-');
    minik_buf_appendf(b, "%llu", (unsigned long long)m);
    if (exp_form) {
        if (e != 0)
            minik_buf_appendf(b, "e%d", e);
        return;
    }
    static const char *const si[] = {"m", "", "k", "M", "G", "T", "P", "E"};
    int idx = e / 3 + 1;
    if (idx > 7) {
        /* Beyond exa (cannot happen within int64 milli-units), keep it exact anyway. */
        minik_buf_appendf(b, "e%d", e);
        return;
    }
    minik_buf_append_str(b, si[idx]);
}

char *minik_quantity_format(const minik_quantity_t *q)
{
    minik_buf_t b = MINIK_BUF_INIT;
    if (q->milli == 0) {
        minik_buf_append_str(&b, "0");
        return minik_buf_steal(&b);
    }
    uint64_t mag = q->milli < 0 ? (uint64_t)0 - (uint64_t)q->milli : (uint64_t)q->milli;
    if (q->format == MINIK_QTY_BINARY_SI && mag % 1000 == 0 && mag / 1000 >= 1024) {
        uint64_t v = mag / 1000;
        int k = 0;
        while (k < 6 && v % 1024 == 0) {
            v /= 1024;
            k++;
        }
        minik_buf_appendf(&b, "%s%llu%s", q->milli < 0 ? "-" : "", (unsigned long long)v,
                          binary_suffixes[k]);
        return minik_buf_steal(&b);
    }
    append_decimal(&b, q->milli, q->format == MINIK_QTY_DECIMAL_EXP);
    return minik_buf_steal(&b);
}

int64_t minik_quantity_value(const minik_quantity_t *q)
{
    int64_t v = q->milli / 1000;
    if (q->milli % 1000 > 0)
        v++;
    else if (q->milli % 1000 < 0)
        v--;
    return v;
}

int minik_quantity_cmp(const minik_quantity_t *a, const minik_quantity_t *b)
{
    return a->milli < b->milli ? -1 : a->milli > b->milli ? 1 : 0;
}
