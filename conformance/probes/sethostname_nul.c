/* differential-uts */
/* sethostname/setdomainname with an embedded NUL: Linux stores all LEN
 * bytes (kernel/sys.c: memcpy, then zero the rest of the field), so uname
 * returns the bytes after the NUL too; gethostname stops at the NUL.
 * Run natively only in a private UTS namespace (see uts.h). */
#define _GNU_SOURCE
#include "uts.h"

int main(void)
{
    uts_guard("sethostname_nul");
    CHECK(sethostname("ab\0cd", 5));
    show_uname();
    char h[128];
    memset(h, 0, sizeof h);
    CHECK(gethostname(h, sizeof h));
    printf("gethostname = %s\n", h);
    CHECK(sethostname("\0x", 2));
    show_uname();
    CHECK(setdomainname("dom\0ain", 7));
    show_uname();
    return 0;
}
