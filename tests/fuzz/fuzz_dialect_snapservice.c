/* fuzz_dialect_snapservice: an upstream HTTP status (first byte) and a raw body
 * to the snapservice dialect's normalize op (modules/dialect/snapservice/);
 * property: INFO only on 2xx and then a fixed point of the Info checks
 * (sg_info_canonicalize), 401/403/429/502/503/504 classified by the status
 * alone, any other outcome without Info and with a reason. The status table and
 * the checks are in fuzz_dialect.h.
 * SG_FUZZ_DICT: json.dict */
#define SG_FUZZ_DIALECT "snapservice"
#define SG_FUZZ_TASK "8c1f0e2d-4b6a-4d3e-9f7a-0b1c2d3e4f50"
#include "fuzz_dialect.h"
