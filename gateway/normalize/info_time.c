/* RFC 3339 date-times to the one UTC millisecond form the gateway serves.
 * Calendar math is done by hand (days from the civil date and back) so the
 * result never depends on the process's TZ or locale. */
#include <stdint.h>

#include "snapgate/common.h"
#include "snapgate/info.h"

/* Exactly n ASCII digits at s; isdigit() would follow the locale. */
static int read_digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SG_ERR;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return SG_OK;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Writes v (0 <= v < 10^width) zero-padded, then sep; returns the next position. */
static char *put_digits(char *o, int64_t v, int width, char sep)
{
    for (int i = width - 1; i >= 0; i--) {
        o[i] = (char)('0' + v % 10);
        v /= 10;
    }
    o[width] = sep;
    return o + width + 1;
}

/* Layout: YYYY-MM-DD T HH:MM:SS [.f+] (Z | +HH:MM | -HH:MM) */
static int parse(const char *in, int64_t *epoch_ms)
{
    int y, mo, d, h, mi, s, ms = 0, oh = 0, om = 0, sign = 0;
    const char *p = in;

    if (!in || read_digits(p, 4, &y) || p[4] != '-' || read_digits(p + 5, 2, &mo) || p[7] != '-' ||
        read_digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't') || read_digits(p + 11, 2, &h) ||
        p[13] != ':' || read_digits(p + 14, 2, &mi) || p[16] != ':' || read_digits(p + 17, 2, &s))
        return SG_ERR;
    p += 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return SG_ERR;
        /* Truncate: keep three digits (padding short fractions), skip the rest. */
        for (int i = 0; i < 3; i++) {
            ms = ms * 10;
            if (*p >= '0' && *p <= '9')
                ms += *p++ - '0';
        }
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (read_digits(p + 1, 2, &oh) || p[3] != ':' || read_digits(p + 4, 2, &om))
            return SG_ERR;
        p += 6;
    } else {
        return SG_ERR;
    }
    if (*p != '\0')
        return SG_ERR;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 ||
        oh > 23 || om > 59)
        return SG_ERR;

    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
                   (int64_t)sign * (oh * 3600 + om * 60);
    *epoch_ms = secs * 1000 + ms;
    return SG_OK;
}

int sg_time_format_utc_ms(int64_t epoch_ms, char out[32])
{
    int64_t ms = epoch_ms >= 0 ? epoch_ms % 1000 : (1000 - -epoch_ms % 1000) % 1000;
    int64_t secs = (epoch_ms - ms) / 1000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t uy;
    int um, ud;
    civil_from_days(days, &uy, &um, &ud);
    if (uy < 0 || uy > 9999)
        return SG_ERR;
    char *o = out;
    o = put_digits(o, uy, 4, '-');
    o = put_digits(o, um, 2, '-');
    o = put_digits(o, ud, 2, 'T');
    o = put_digits(o, rem / 3600, 2, ':');
    o = put_digits(o, rem % 3600 / 60, 2, ':');
    o = put_digits(o, rem % 60, 2, '.');
    o = put_digits(o, ms, 3, 'Z');
    *o = '\0';
    return SG_OK;
}

int sg_time_to_epoch_ms(const char *in, int64_t *epoch_ms)
{
    char check[32];
    /* The same range as sg_time_to_utc_ms: a UTC year of 0000..9999. */
    if (parse(in, epoch_ms) != SG_OK || sg_time_format_utc_ms(*epoch_ms, check) != SG_OK)
        return SG_ERR;
    return SG_OK;
}

int sg_time_to_utc_ms(const char *in, char out[32])
{
    int64_t ms;
    return parse(in, &ms) == SG_OK ? sg_time_format_utc_ms(ms, out) : SG_ERR;
}
