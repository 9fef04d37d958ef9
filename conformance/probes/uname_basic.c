/* differential */
/* uname(2): the fields and the layout of what is written (390 bytes of
 * struct new_utsname, each field NUL-padded to 65 bytes, nothing beyond). */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

#define FIELD 65
#define NFIELDS 6
static const char *names[NFIELDS] = { "sysname", "nodename", "release", "version", "machine", "domainname" };

int main(void)
{
    unsigned char buf[512] __attribute__((aligned(16)));
    printf("sizeof(struct utsname) = %zu\n", sizeof(struct utsname));

    memset(buf, 0xAA, sizeof buf);
    CHECK(syscall(SYS_uname, buf));
    int beyond = 0;
    for (size_t i = FIELD * NFIELDS; i < sizeof buf; i++)
        beyond += buf[i] != 0xAA;
    printf("bytes changed after 390: %d\n", beyond);
    for (int f = 0; f < NFIELDS; f++) {
        unsigned char *p = buf + f * FIELD;
        size_t len = strnlen((char *)p, FIELD);
        int zero = 0, untouched = 0, other = 0;
        for (size_t i = len; i < FIELD; i++) {
            if (p[i] == 0) zero++;
            else if (p[i] == 0xAA) untouched++;
            else other++;
        }
        printf("%s: len %s, terminated %s, padding zero=%d untouched=%d other=%d\n", names[f],
               len ? "non-empty" : "empty", len < FIELD ? "yes" : "no", zero, untouched, other);
    }

    struct utsname u;
    memset(&u, 0xAA, sizeof u);
    CHECK(uname(&u));
    printf("sysname = %s\n", u.sysname);
    printf("machine = %s\n", u.machine);
    printf("domainname = %s\n", u.domainname);
    printf("nodename non-empty: %s\n", u.nodename[0] ? "yes" : "no");
    printf("release non-empty: %s\n", u.release[0] ? "yes" : "no");
    printf("version non-empty: %s\n", u.version[0] ? "yes" : "no");
    printf("syscall and libc agree: %s\n", memcmp(&u, buf, sizeof u) == 0 ? "yes" : "no");

    /* A second call into the same buffer gives the same bytes. */
    unsigned char again[FIELD * NFIELDS];
    memset(again, 0x55, sizeof again);
    CHECK(syscall(SYS_uname, again));
    printf("stable across calls: %s\n", memcmp(again, buf, sizeof again) == 0 ? "yes" : "no");

    /* An unaligned buffer works too. */
    unsigned char odd[FIELD * NFIELDS + 1];
    CHECK(syscall(SYS_uname, odd + 1));
    printf("unaligned buffer same bytes: %s\n", memcmp(odd + 1, buf, FIELD * NFIELDS) == 0 ? "yes" : "no");
    return 0;
}
