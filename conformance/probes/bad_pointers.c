/* differential */
/* Bad pointers to calls lx passes through or answers itself: the errors
 * must be the kernel's (EFAULT), and nothing may crash. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

int main(void)
{
    CHECK(uname(BADPTR(0)));
    CHECK(syscall(SYS_uname, (void *)8));

    int z = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    REQUIRE(z >= 0);
    CHECK(read(z, BADPTR(0), 8));
    CHECK(read(z, BADPTR(1), 8));
    CHECK(read(z, NULL, 0));
    close(z);

    int p[2];
    REQUIRE(pipe(p) == 0);
    CHECK(write(p[1], BADPTR(0), 8));
    CHECK(write(p[1], NULL, 0));
    struct iovec iov = { NULL, 4 };
    CHECK(writev(p[1], &iov, 1));
    CHECK(writev(p[1], BADPTR(0), 1));
    close(p[0]);
    close(p[1]);

    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL));
    CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, (void *)1));
    CHECK(syscall(SYS_gettimeofday, (void *)1, NULL));
    CHECK(syscall(SYS_getrandom, NULL, 8, 0));
    CHECK(getrandom(BADPTR(0), 8, 0));
    CHECK(getrandom(NULL, 0, 0));

    CHECK(syscall(SYS_open, NULL, O_RDONLY));
    CHECK(syscall(SYS_openat, AT_FDCWD, (void *)1, O_RDONLY));
    CHECK(syscall(SYS_stat, "/", NULL));
    CHECK(syscall(SYS_stat, NULL, NULL));
    CHECK(syscall(SYS_getcwd, NULL, 64));
    CHECK(syscall(SYS_sethostname, NULL, -1));   /* EINVAL: checked before the pointer */
    CHECK(syscall(SYS_pipe, NULL));
    CHECK(syscall(SYS_rt_sigaction, 10, (void *)1, NULL, 8));
    CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)1, NULL, 8));
    CHECK(syscall(SYS_nanosleep, (void *)1, NULL));
    CHECK(syscall(SYS_wait4, -1, (void *)1, 0, NULL));   /* ECHILD: no children */
    return 0;
}
