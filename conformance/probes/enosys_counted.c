/* io_uring_setup: a NOSYS entry.  Natively Linux answers EFAULT (NULL
 * params) or something else; under lx ENOSYS, and lx counts the call.
 * Not differential: the test checks the lx transcript and report. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

int main(void)
{
    CHECK(syscall(SYS_io_uring_setup, 1, NULL));
    return 0;
}
