/* Error text into a caller's buffer: the loaders (users, tokens, keys,
 * certificates) report why a file is refused this way. */
#include <stdarg.h>
#include <stdio.h>

#include "snapgate/common.h"

void sg_errf(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}
