/* Line files: the users file (auth/basic) and the tokens file (auth/bearer)
 * are one "name:..." entry per line, with blank lines and '#' comments. */
#ifndef SG_LINE_FILE_H
#define SG_LINE_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* One entry line (trailing whitespace and line end removed, never blank or a
 * comment) of path at lineno; SG_OK, or SG_ERR with err filled. */
typedef int (*sg_line_fn)(void *ctx, char *line, const char *path, int lineno, char *err,
                          size_t cap);

/* Reads path and hands each entry line to fn, stopping at the first SG_ERR.
 * A line holding a NUL byte is an error ("PATH:LINE: holds a NUL byte").
 * Returns SG_OK, or SG_ERR with err filled ("PATH: reason" when the file
 * cannot be opened or read). */
int sg_line_file_read(const char *path, sg_line_fn fn, void *ctx, char *err, size_t cap);

/* Whether s holds a control character (below 0x20, or DEL). */
bool sg_has_control(const char *s);

#endif
