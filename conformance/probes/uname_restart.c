/* differential */
/* uname(2) under a flood of signals whose handler has SA_RESTART: it never
 * fails (see signal_flood.h). */
#define _GNU_SOURCE
#include "signal_flood.h"

int main(void)
{
    flood("with SA_RESTART", SA_RESTART, 2000);
    return 0;
}
