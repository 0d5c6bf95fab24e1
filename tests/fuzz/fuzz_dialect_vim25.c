/* fuzz_dialect_vim25: an upstream HTTP status (first byte) and a raw body to
 * the vim25 dialect's normalize op (modules/dialect/vim25/: a SOAP envelope
 * read with libxml2, its TaskInfo converted to the VI/JSON shape and mapped by
 * gateway/normalize/taskinfo.c); property: INFO only on 2xx and then a fixed
 * point of the Info checks (sg_info_canonicalize), 401/403/429/502/503/504
 * classified by the status alone, any other outcome without Info and with a
 * reason. The status table and the checks are in fuzz_dialect.h.
 * SG_FUZZ_DICT: vim25.dict */
#define SG_FUZZ_DIALECT "vim25"
#define SG_FUZZ_TASK "task-2102"
#include "fuzz_dialect.h"
