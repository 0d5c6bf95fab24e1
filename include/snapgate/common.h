/* Shared basics: return codes, allocation wrappers that abort on OOM, time. */
#ifndef SG_COMMON_H
#define SG_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/* Plain int return codes used across the module ABI. Modules never pick HTTP
 * status codes; only gateway/reply maps outcomes to answers. */
#define SG_OK 0
#define SG_ERR (-1)
#define SG_AGAIN (-2)    /* a callback will come, from the loop, exactly once */
#define SG_DECLINED (-3) /* not mine: ask the next provider / a cache miss */
#define SG_DENIED (-4)

#define SG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Out of memory is not a condition we recover from: abort with file:line. */
void *sg_xmalloc_at(size_t n, const char *file, int line);
void *sg_xcalloc_at(size_t n, size_t size, const char *file, int line);
void *sg_xrealloc_at(void *p, size_t n, const char *file, int line);
char *sg_xstrdup_at(const char *s, const char *file, int line);
char *sg_xstrndup_at(const char *s, size_t n, const char *file, int line);
#define sg_xmalloc(n) sg_xmalloc_at((n), __FILE__, __LINE__)
#define sg_xcalloc(n, s) sg_xcalloc_at((n), (s), __FILE__, __LINE__)
#define sg_xrealloc(p, n) sg_xrealloc_at((p), (n), __FILE__, __LINE__)
#define sg_xstrdup(s) sg_xstrdup_at((s), __FILE__, __LINE__)
#define sg_xstrndup(s, n) sg_xstrndup_at((s), (n), __FILE__, __LINE__)
/* Frees a secret string (a password, a session id, a URL with credentials)
 * after wiping it, so it does not linger in freed memory; NULL is fine. */
void sg_wipe_free(char *s);
/* asprintf that aborts on OOM. */
char *sg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* vsnprintf into err (cap bytes; err may be NULL when cap is 0). */
void sg_errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Milliseconds on the monotonic clock (for deadlines and TTLs within a process). */
uint64_t sg_now_ms(void);
/* Milliseconds since the Unix epoch (for values shared across processes). */
uint64_t sg_wall_ms(void);
/* A duration in milliseconds as the struct timeval libevent timers take. */
static inline struct timeval sg_timeval_ms(uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

#endif
