/* fuzz_dialect_vijson: an upstream HTTP status (first byte) and a raw body to
 * the vijson dialect's normalize op (modules/dialect/vijson/: a VI/JSON
 * TaskInfo mapped by gateway/normalize/taskinfo.c, or a fault object);
 * property: INFO only on 2xx and then a fixed point of the Info checks
 * (sg_info_canonicalize), 401/403/429/502/503/504 classified by the status
 * alone, any other outcome without Info and with a reason. The status table and
 * the checks are in fuzz_dialect.h.
 * SG_FUZZ_DICT: json.dict */
#define SG_FUZZ_DIALECT "vijson"
#define SG_FUZZ_TASK "task-1234"
#include "fuzz_dialect.h"
