/* fuzz_dialect_rest: a raw upstream body, answered with HTTP 200, to the rest
 * dialect's normalize op (modules/dialect/rest/); property: an INFO outcome
 * passes the Info checks (sg_info_canonicalize) unchanged, any other outcome
 * carries no Info and a reason. The body and the checks are in fuzz_dialect.h.
 * SG_FUZZ_DICT: json.dict */
#define SG_FUZZ_DIALECT "rest"
#define SG_FUZZ_TASK                                                                               \
    "524f5061-7283-94a5-b6c7-d8e9fa0b1c11:com.vmware.esx.settings.clusters.software"
#include "fuzz_dialect.h"
