/* fuzz_dialect_cis: a raw upstream body, answered with HTTP 200, to the cis
 * dialect's normalize op (modules/dialect/cis/); property: an INFO outcome
 * passes the Info checks (sg_info_canonicalize) unchanged, any other outcome
 * carries no Info and a reason. The body and the checks are in fuzz_dialect.h.
 * SG_FUZZ_DICT: json.dict */
#define SG_FUZZ_DIALECT "cis"
#define SG_FUZZ_TASK                                                                               \
    "52a0c7f3-1b9e-4d25-8f60-7e3a2b1c0d02:com.vmware.esx.settings.clusters.software"
#include "fuzz_dialect.h"
