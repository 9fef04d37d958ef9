/* sethostname/setdomainname that SUCCEED.  Run ONLY under lx, never
 * natively: as root it would rename the host.  As a guard it refuses to
 * run unless it is under a seccomp filter (lx's), see /proc/self/status. */
#define _GNU_SOURCE
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

static int under_seccomp_filter(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int mode = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Seccomp: %d", &mode) == 1)
            break;
    fclose(f);
    return mode == 2;
}

int main(void)
{
    if (!under_seccomp_filter()) {
        fprintf(stderr, "sethostname_set: refusing to run outside lx (no seccomp filter)\n");
        return 2;
    }
    struct utsname u;
    CHECK(sethostname("zone-test", 9));
    CHECK(uname(&u));
    printf("nodename = %s\n", u.nodename);
    char h[128];
    CHECK(gethostname(h, sizeof h));
    printf("gethostname = %s\n", h);

    /* Only the given bytes count: a longer buffer's tail is not taken. */
    CHECK(sethostname("zone-test-extra", 7));
    CHECK(uname(&u));
    printf("nodename = %s\n", u.nodename);
    /* 64 bytes: the maximum. */
    char big[64];
    memset(big, 'n', sizeof big);
    CHECK(sethostname(big, 64));
    CHECK(uname(&u));
    printf("nodename length = %zu\n", strlen(u.nodename));

    CHECK(setdomainname("zone.example", 12));
    CHECK(uname(&u));
    printf("domainname = %s\n", u.domainname);

    /* A child sees the renamed identity too. */
    CHECK(sethostname("zone-test", 9));
    fflush(stdout);
    pid_t c = fork();
    REQUIRE(c >= 0);
    if (c == 0) {
        struct utsname cu;
        uname(&cu);
        printf("child nodename = %s\n", cu.nodename);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    return 0;
}
