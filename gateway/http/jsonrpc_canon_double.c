/* The vAPI runtime's canonical double (see http/jsonrpc_canonical.h for what
 * it is and which of the runtime's quirks are kept). Decimal digits are
 * shifted, never converted to binary, except where the runtime itself goes
 * through a float: log10 of the value, which picks the exponent. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/jsonrpc_canonical.h"
#include "snapgate/common.h"

#define EXP_LIMIT 1000000000000000LL

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

struct number {
    bool neg;
    char *d;       /* the coefficient's digits, no leading zeros ("" for zero) */
    size_t nd;     /* how many */
    long long exp; /* value = d * 10^exp */
};

/* Reads an RFC 8259 number into coefficient and exponent. */
static bool read_number(const char *t, size_t n, struct number *x)
{
    size_t i = 0, nfrac = 0;
    long long e = 0;
    bool eneg = false;
    x->neg = n > 0 && t[0] == '-';
    i = x->neg;
    x->nd = 0;
    for (; i < n && digit(t[i]); i++) {
        if (x->nd > 0 || t[i] != '0')
            x->d[x->nd++] = t[i];
    }
    if (i < n && t[i] == '.') {
        for (i++; i < n && digit(t[i]); i++, nfrac++) {
            if (x->nd > 0 || t[i] != '0')
                x->d[x->nd++] = t[i];
        }
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            eneg = t[i++] == '-';
        for (; i < n && digit(t[i]); i++) {
            e = e * 10 + (t[i] - '0');
            if (e > EXP_LIMIT)
                return false;
        }
    }
    x->d[x->nd] = '\0';
    x->exp = (eneg ? -e : e) - (long long)nfrac;
    return true;
}

/* Writes [-]I.FE<exp> for the value d * 10^q: I its integer digits ("0" when
 * below 1), F its fraction without trailing zeros ("0" when none). */
static int write(const struct number *x, long long q, long long exp, char *out, size_t cap)
{
    long long nd = (long long)x->nd, point = nd + q; /* digits before the point */
    size_t o = 0;
    /* Normalized, the point falls within two places of the first digit; the
     * caller's n + 32 bytes hold that. */
    if (point > 2 || point < -2)
        return -1;
    if (x->neg)
        out[o++] = '-';
    if (point <= 0) {
        out[o++] = '0';
    } else {
        for (long long i = 0; i < point; i++)
            out[o++] = i < nd ? x->d[i] : '0';
    }
    out[o++] = '.';
    size_t frac_at = o;
    for (long long i = point; i < 0; i++)
        out[o++] = '0';
    for (long long i = point > 0 ? point : 0; i < nd; i++)
        out[o++] = x->d[i];
    while (o > frac_at && out[o - 1] == '0')
        o--;
    if (o == frac_at)
        out[o++] = '0';
    int w = snprintf(out + o, cap - o, "E%lld", exp);
    return w < 0 || (size_t)w >= cap - o ? -1 : (int)(o + (size_t)w);
}

static int canonical(const char *text, struct number *x, char *out, size_t cap)
{
    if (x->nd == 0) {
        /* Zero: Python prints Decimal zero with an exponent when it is > 0 or
         * < -6 ("0E+5", "0E-7"), which becomes the canonical exponent. */
        long long e = x->exp > 0 || x->exp < -6 ? x->exp : 0;
        return snprintf(out, cap, "%s0.0E%lld", x->neg ? "-" : "", e);
    }
    long long adjusted = x->exp + (long long)x->nd - 1;
    if (x->exp > 0 || adjusted < -6) {
        /* Printed as d.dddE+n: the mantissa is already in [1, 10). */
        return write(x, 1 - (long long)x->nd, adjusted, out, cap);
    }
    /* Printed plain: the runtime takes int(math.log10(value)) as the
     * exponent, truncating toward zero, and shifts by 10**that. */
    double lg = log10(fabs(strtod(text, NULL)));
    if (!isfinite(lg) || lg >= 23)
        return -1;
    long long k = (long long)lg, e = k, q;
    if (k < 0) {
        e = k - 1;
        q = x->exp + 1 - k;
    } else {
        q = x->exp - k;
    }
    if ((long long)x->nd + q <= 0) { /* below 1: one more shift */
        q++;
        e--;
    }
    return write(x, q, e, out, cap);
}

int sg_json_canonical_double(const char *text, size_t n, char *out, size_t cap)
{
    if (cap < n + 32)
        return -1;
    struct number x = {.d = sg_xmalloc(n + 1)};
    int rc = -1;
    if (read_number(text, n, &x)) {
        /* strtod reads the whole text: make it a C string. */
        char *t = sg_xstrndup(text, n);
        rc = canonical(t, &x, out, cap);
        free(t);
    }
    free(x.d);
    return rc;
}
