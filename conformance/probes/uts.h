/* uts.h -- helpers of the probes that successfully rename (sethostname_ns,
 * sethostname_nul): the guard that keeps them off the host's own names,
 * and a dump of uname's name fields, NULs and all. */
#ifndef LX_PROBE_UTS_H
#define LX_PROBE_UTS_H

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

static int seccomp_mode(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int mode = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Seccomp: %d", &mode) == 1)
            break;
    fclose(f);
    return mode;
}

/* In a UTS namespace other than our parent's (`unshare --uts PROBE` execs
 * the probe, so the parent is the caller, on the host's namespace). */
static int private_uts(void)
{
    char parent[64];
    struct stat self, up;
    snprintf(parent, sizeof parent, "/proc/%d/ns/uts", (int)getppid());
    if (stat("/proc/self/ns/uts", &self) != 0 || stat(parent, &up) != 0)
        return 0;
    return self.st_ino != up.st_ino || self.st_dev != up.st_dev;
}

/* The whole 65-byte field, NULs and all, as text: "ab\0cd\0*60". */
static void show(const char *label, const char *field)
{
    int len = 65;
    while (len > 0 && field[len - 1] == 0)
        len--;
    printf("%s = \"", label);
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)field[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("\" + %d NULs\n", 65 - len);
}

static void show_uname(void)
{
    struct utsname u;
    memset(&u, 0xAA, sizeof u);
    if (uname(&u) != 0) {
        printf("uname -> -1 %s\n", errname(errno));
        return;
    }
    show("  nodename", u.nodename);
    show("  domainname", u.domainname);
}

/* Exit unless renaming cannot touch the host: under lx (its seccomp filter)
 * or natively in a private UTS namespace (`unshare --uts PROBE`). */
static void uts_guard(const char *name)
{
    if (seccomp_mode() != 2 && !private_uts()) {
        fprintf(stderr, "%s: refusing to run in the host's UTS namespace without lx\n", name);
        exit(2);
    }
}

#endif
