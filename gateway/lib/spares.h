/* Whether freed structs are kept as per-worker spares for reuse. Under
 * AddressSanitizer every one is freed at once instead, so a use after the
 * end is still caught. */
#ifndef SG_LIB_SPARES_H
#define SG_LIB_SPARES_H

#if defined(__SANITIZE_ADDRESS__)
#define SG_KEEP_SPARES 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SG_KEEP_SPARES 0
#endif
#endif
#ifndef SG_KEEP_SPARES
#define SG_KEEP_SPARES 1
#endif

#endif
