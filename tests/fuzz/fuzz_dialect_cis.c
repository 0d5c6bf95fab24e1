/* fuzz_dialect_cis: an upstream HTTP status (first byte) and a raw body
 * to the cis dialect's normalize op (modules/dialect/cis/);
 * property: INFO only on 2xx and then a fixed point of the Info checks
 * (sg_info_canonicalize), 401/403/429/502/503/504 classified by the status
 * alone, any other outcome without Info and with a reason. The status table and
 * the checks are in fuzz_dialect.h.
 * SG_FUZZ_DICT: json.dict */
#define SG_FUZZ_DIALECT "cis"
#define SG_FUZZ_TASK                                                                               \
    "52a0c7f3-1b9e-4d25-8f60-7e3a2b1c0d02:com.vmware.esx.settings.clusters.software"
#include "fuzz_dialect.h"
