/* fuzz_dialect_rest: an upstream HTTP status (first byte) and a raw body
 * to the rest dialect's normalize op (modules/dialect/rest/);
 * property: INFO only on 2xx and then a fixed point of the Info checks
 * (sg_info_canonicalize), 401/403/429/502/503/504 classified by the status
 * alone, any other outcome without Info and with a reason. The status table and
 * the checks are in fuzz_dialect.h.
 * SG_FUZZ_DICT: json.dict */
#define SG_FUZZ_DIALECT "rest"
#define SG_FUZZ_TASK                                                                               \
    "524f5061-7283-94a5-b6c7-d8e9fa0b1c11:com.vmware.esx.settings.clusters.software"
#include "fuzz_dialect.h"
