/* A file a harness gives to code that reads a path: a memfd (no disk, nothing
 * left behind), opened by the code under test through its /proc/self/fd path,
 * and rewritten in place for each execution. */
#ifndef SG_FUZZ_FILE_H
#define SG_FUZZ_FILE_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h> /* memfd_create: _GNU_SOURCE, set for the whole build */
#include <sys/types.h>
#include <unistd.h>

struct sg_fuzz_file {
    int fd;
    char path[64];
};

/* Creates f's memfd (name shows in /proc only); empty until set. */
static inline void sg_fuzz_file_open(struct sg_fuzz_file *f, const char *name)
{
    f->fd = memfd_create(name, 0);
    if (f->fd < 0)
        abort();
    snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

/* f now holds exactly data[0..n). */
static inline void sg_fuzz_file_set(const struct sg_fuzz_file *f, const void *data, size_t n)
{
    if (ftruncate(f->fd, 0) != 0 || (n && pwrite(f->fd, data, n, 0) != (ssize_t)n))
        abort();
}

#endif
