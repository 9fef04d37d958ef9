/* differential-uts */
/* sethostname/setdomainname that SUCCEED, compared with Linux itself.
 *
 * The native run happens ONLY inside a private UTS namespace (the test runs
 * `unshare --uts PROBE`); under lx the names are the zone's.  As a guard the
 * probe refuses to run unless it is in a UTS namespace other than its
 * parent's or under a seccomp filter (lx's): as root on the host's own UTS
 * namespace it would rename the host. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "uts.h"

static void *thread_main(void *arg)
{
    (void)arg;
    CHECK(sethostname("from-thread", 11));
    return NULL;
}

int main(void)
{
    uts_guard("sethostname_ns");
    CHECK(sethostname("zone-test", 9));
    show_uname();
    CHECK(sethostname("longer-host-name", 16));
    CHECK(sethostname("x", 1));              /* shorter: the tail is cleared */
    show_uname();
    char h[128];
    memset(h, 0, sizeof h);
    CHECK(gethostname(h, sizeof h));
    printf("gethostname = %s\n", h);
    CHECK(sethostname("zone-test-extra", 7));
    show_uname();
    char big[64];
    memset(big, 'n', sizeof big);
    CHECK(sethostname(big, 64));
    show_uname();
    CHECK(gethostname(h, 10));
    CHECK(syscall(SYS_sethostname, "abcdef", 0x100000003L));   /* int len: 3 */
    show_uname();
    CHECK(sethostname("", 0));
    show_uname();

    CHECK(setdomainname("zone.example", 12));
    show_uname();
    CHECK(setdomainname("", 0));
    show_uname();
    CHECK(setdomainname("d", 1));

    /* Another thread's change is the process's; a child sees it and its
     * own change is seen by the parent (one UTS namespace, one zone). */
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, thread_main, NULL) == 0);
    pthread_join(t, NULL);
    show_uname();
    fflush(stdout);
    pid_t c = fork();
    REQUIRE(c >= 0);
    if (c == 0) {
        show_uname();
        sethostname("from-child", 10);
        _exit(0);
    }
    int st;
    REQUIRE(waitpid(c, &st, 0) == c);
    printf("after child:\n");
    show_uname();
    return 0;
}
