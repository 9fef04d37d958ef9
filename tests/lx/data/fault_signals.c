/* Dies the way argv[1] says: segv (write to 0x10), ill (ud2), handled
 * (SIGSEGV ignored and raised: survives), or exits 0. */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "segv")) {
        volatile int *p = (int *)0x10;
        *p = 42;
    }
    if (!strcmp(argv[1], "ill"))
        __asm__ volatile("ud2");
    if (!strcmp(argv[1], "handled")) {
        signal(SIGUSR1, SIG_IGN);
        raise(SIGUSR1);
        return 5;
    }
    return 0;
}
