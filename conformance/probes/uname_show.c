/* uname's six fields, printed in full (not differential: the nodename and
 * release are what an identity override changes). */
#define _GNU_SOURCE
#include <sys/utsname.h>

#include "probe.h"

int main(void)
{
    struct utsname u;
    REQUIRE(uname(&u) == 0);
    printf("sysname=%s\nnodename=%s\nrelease=%s\nversion=%s\nmachine=%s\ndomainname=%s\n",
           u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname);
    return 0;
}
