/* differential */
/* uname(2) with unwritable buffers: EFAULT in every case. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

#define UTS_SIZE 390

int main(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    CHECK(syscall(SYS_uname, NULL));
    CHECK(syscall(SYS_uname, (void *)1));
    CHECK(syscall(SYS_uname, (void *)-4096L));
    CHECK(syscall(SYS_uname, (void *)0xffff800000000000UL));   /* kernel half */

    unsigned char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    REQUIRE(mprotect(m + pg, pg, PROT_NONE) == 0);

    /* The last byte of the struct lies in the PROT_NONE page. */
    unsigned char *straddle = m + pg - (UTS_SIZE - 1);
    memset(m, 0xAA, pg);
    CHECK(syscall(SYS_uname, straddle));
    /* What was written before the fault (Linux copies up to the page end). */
    int changed = 0;
    for (int i = 0; i < UTS_SIZE - 1; i++)
        changed += straddle[i] != 0xAA;
    printf("bytes changed before the fault: %d of %d, sysname = %.5s\n", changed, UTS_SIZE - 1,
           straddle[0] == 0xAA ? "-----" : (char *)straddle);
    /* Only the first byte is writable. */
    CHECK(syscall(SYS_uname, m + pg - 1));
    /* Entirely inside the PROT_NONE page. */
    CHECK(syscall(SYS_uname, m + pg));
    /* Exactly fitting before the PROT_NONE page: fine. */
    CHECK(syscall(SYS_uname, m + pg - UTS_SIZE));
    printf("fitting buffer sysname = %s\n", (char *)(m + pg - UTS_SIZE));

    /* A read-only page. */
    REQUIRE(mprotect(m, pg, PROT_READ) == 0);
    CHECK(syscall(SYS_uname, m));
    /* And through libc. */
    CHECK(uname((struct utsname *)m));
    CHECK(uname(BADPTR(0)));
    munmap(m, 2 * pg);

    /* An unmapped address (just unmapped). */
    CHECK(syscall(SYS_uname, m));
    return 0;
}
