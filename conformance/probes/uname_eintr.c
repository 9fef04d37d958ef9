/* differential */
/* uname(2) under a flood of signals whose handler has no SA_RESTART:
 * natively it never fails (see signal_flood.h). */
#define _GNU_SOURCE
#include "signal_flood.h"

int main(void)
{
    flood("without SA_RESTART", 0, 50000);
    return 0;
}
