/* differential */
/* sethostname/setdomainname error paths that change nothing, even natively
 * as root.  NEVER add a call that can succeed here: the suite runs this
 * natively, as root, and it would rename the host. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

int main(void)
{
    char buf[128];
    memset(buf, 'x', sizeof buf);
    long pg = sysconf(_SC_PAGESIZE);

    CHECK(sethostname(buf, LEN(-1)));
    CHECK(sethostname(buf, LEN(65)));
    CHECK(sethostname(buf, LEN(100)));
    CHECK(syscall(SYS_sethostname, buf, -5));
    CHECK(syscall(SYS_sethostname, buf, 0x80000000L));       /* int len: negative */
    CHECK(syscall(SYS_sethostname, buf, 0x100000041L));      /* int len: 65 */
    CHECK(setdomainname(buf, LEN(100)));
    CHECK(setdomainname(buf, LEN(65)));
    CHECK(syscall(SYS_setdomainname, buf, -1));

    /* Bad pointers with a valid length: EFAULT, nothing changed. */
    CHECK(sethostname(BADPTR(0), 5));
    CHECK(sethostname(BADPTR(1), 64));
    CHECK(setdomainname(BADPTR(0), 5));
    CHECK(syscall(SYS_sethostname, NULL, 1));

    /* The name straddles into a PROT_NONE page. */
    char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    REQUIRE(mprotect(m + pg, pg, PROT_NONE) == 0);
    memset(m, 'y', pg);
    CHECK(sethostname(m + pg - 10, LEN(20)));
    CHECK(setdomainname(m + pg - 1, LEN(2)));
    CHECK(sethostname(m + pg, LEN(8)));
    /* Both errors at once: the length is checked first. */
    CHECK(sethostname(m + pg, LEN(65)));
    CHECK(sethostname(BADPTR(0), LEN(-1)));
    return 0;
}
