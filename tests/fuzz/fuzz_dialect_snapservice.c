/* fuzz_dialect_snapservice: a raw upstream body, answered with HTTP 200, to the snapservice
 * dialect's normalize op (modules/dialect/snapservice/); property: an INFO outcome
 * passes the Info checks (sg_info_canonicalize) unchanged, any other outcome
 * carries no Info and a reason. The body and the checks are in fuzz_dialect.h.
 * SG_FUZZ_DICT: json.dict */
#define SG_FUZZ_DIALECT "snapservice"
#define SG_FUZZ_TASK "8c1f0e2d-4b6a-4d3e-9f7a-0b1c2d3e4f50"
#include "fuzz_dialect.h"
