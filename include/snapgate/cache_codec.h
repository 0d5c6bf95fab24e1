/* The byte form of a cache entry in a shared tier (Redis), so replicas built
 * from this tree can read what any other one wrote.
 *
 * Layout, version 3 (integers big-endian):
 *   0  4  magic "SGCE"
 *   4  1  version (3)
 *   5  2  http_status (100..599)
 *   7  2  task_status, signed (-1 for a negative entry, else 0..SG_TASK_FAILED)
 *   9  8  fetched_at_ms (wall clock)
 *  17  8  expires_at_ms (wall clock)
 *  25  1  etag length n (1..31)
 *  26  n  etag, must equal the ETag computed from the body
 *  26+n 1 owner length o (0..SG_CACHE_OWNER_MAX): the backend that answered
 *  27+n o owner, "" when unknown
 *  27+n+o 8 completed, signed (-1: no progress)
 *  35+n+o 4 body length m
 *  39+n+o m body
 *  then   4 rpc length r: 0, or for a 200 entry its JSON-RPC envelope suffix
 *         (sg_cache_entry.rpc), framed as ,"result":{"output": ... }}
 *  then   r rpc
 * Nothing may follow. A reader rejects any other version: a new layout comes
 * with a new key prefix (snapgate:v3:...), never in place. Version 3 added
 * the rpc part (issue 13): an older replica's v2 entries sit under v2 keys
 * and are never read, so a rolling upgrade costs misses, not errors. */
#ifndef SG_CACHE_CODEC_H
#define SG_CACHE_CODEC_H

#include <stddef.h>

#include "snapgate/cache.h"

#define SG_CACHE_CODEC_VERSION 3
/* The longest rpc part a reader takes: an Info's DataValue is a few times its
 * flat JSON, and the flat JSON is bounded by the upstream answer cap. */
#define SG_CACHE_CODEC_RPC_MAX (8u * 1024u * 1024u)

/* Serializes e. Returns a malloc'd buffer the caller frees; *len its size. */
char *sg_cache_codec_encode(const struct sg_cache_entry *e, size_t *len);

/* Parses len bytes of buf. Returns a new entry (one reference, the caller's),
 * or NULL when buf is not exactly a version-3 entry; then *why (when why is not
 * NULL) names the first problem found (a static string). Never reads past len. */
struct sg_cache_entry *sg_cache_codec_decode(const void *buf, size_t len, const char **why);

#endif
