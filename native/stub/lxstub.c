/* lxstub.c -- lx's loader stub.
 *
 * Every guest execve in a zone becomes an execve of this static, freestanding
 * program.  While it is stopped at PTRACE_EVENT_EXEC, the supervisor writes a
 * load plan (lx/loader/wire.py) into lx_plan; the stub then does what the
 * kernel's binfmt_elf would have done with the zone's files -- map the
 * program and its interpreter, build the initial stack -- and jumps to the
 * entry point.  The kernel never resolves PT_INTERP or #! on the host.
 *
 * No libc: raw syscalls only, so nothing of the stub runs once it jumps.
 * It is linked far from where programs, PIEs, mmaps and stacks go.
 */
#include <stddef.h>
#include <stdint.h>

#define PLAN_MAGIC 0x31504c58u /* "XLP1" */
#define PLAN_MAX (6u << 20)
#define PAGE 4096ul

/* Written by the supervisor (process_vm_writev) before the stub runs. */
__attribute__((aligned(4096))) volatile unsigned char lx_plan[PLAN_MAX];

struct plan_hdr {
    uint32_t magic, size, nfiles, nimages;
    uint32_t nmaps, nfixups, flags, entry_image; /* flags: 1 = executable stack */
    uint64_t entry;
    uint64_t stack_base, stack_len, rsp, stack_low;
    uint64_t mm[11]; /* start_code end_code start_data end_data start_brk brk start_stack
                        arg_start arg_end env_start env_end (program-relative if it floats) */
    uint64_t auxv_off, auxv_size;         /* in the stack image */
    uint64_t files_off, images_off, maps_off, fixups_off, stack_off;
    char comm[16];
};
struct plan_image { uint64_t bias, span, first_page, align; uint32_t floating, file; };
struct plan_map { uint32_t image, op, prot, pad; uint64_t addr, len, offset; };
struct plan_fixup { uint64_t offset; uint32_t image, pad; };
enum { OP_FILE = 0, OP_ZERO = 1, OP_ANON = 2, OP_HOLE = 3 };

#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_prctl 157
#define SYS_exit_group 231
#define PROT_NONE 0
#define PROT_RW 3
#define PROT_RWX 7
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define O_RDONLY 0
#define O_CLOEXEC 02000000
#define PR_SET_NAME 15
#define PR_SET_MM 35
#define PR_SET_MM_MAP 14

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}
void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

__attribute__((noreturn)) static void die(const char *what)
{
    sys3(SYS_write, 2, "lx-stub: ", 9);
    sys3(SYS_write, 2, what, slen(what));
    sys3(SYS_write, 2, "\n", 1);
    sys6(SYS_exit_group, 127, 0, 0, 0, 0, 0);
    __builtin_unreachable();
}

static int failed(long r) { return (unsigned long)r > -4096ul; }

static void *map(uint64_t addr, uint64_t len, long prot, long flags, long fd, uint64_t off)
{
    long r = sys6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
    if (failed(r))
        die("mmap failed");
    return (void *)r;
}

/* Reserve an image that may go anywhere: its bias, as load_elf_binary
 * gets from elf_map(total_size) with the alignment it needs. */
static uint64_t reserve(const struct plan_image *im)
{
    uint64_t extra = im->align > PAGE ? im->align : 0;
    uint64_t base = (uint64_t)map(0, im->span + extra, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t aligned = extra ? (base + im->align - 1) & ~(im->align - 1) : base;
    if (aligned > base)
        sys3(SYS_munmap, base, aligned - base, 0);
    if (extra && base + im->span + extra > aligned + im->span)
        sys3(SYS_munmap, aligned + im->span, base + im->span + extra - (aligned + im->span), 0);
    return aligned - im->first_page;
}

struct prctl_mm_map {
    uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t *auxv;
    uint32_t auxv_size, exe_fd;
};

__attribute__((noreturn, used)) void lx_stub_main(void)
{
    const unsigned char *P = (const unsigned char *)lx_plan;
    const struct plan_hdr *h = (const void *)P;
    if (h->magic != PLAN_MAGIC)
        die("no load plan (lx-stub is started by lx's supervisor only)");

    const struct plan_image *images = (const void *)(P + h->images_off);
    uint64_t bias[2] = { 0, 0 };
    long fds[2] = { -1, -1 };
    const char *names = (const char *)P + h->files_off;
    for (uint32_t i = 0; i < h->nfiles && i < 2; i++) {
        fds[i] = sys3(SYS_open, names, O_RDONLY | O_CLOEXEC, 0);
        if (failed(fds[i]))
            die("cannot open a file of the program");
        names += slen(names) + 1;
    }
    for (uint32_t i = 0; i < h->nimages && i < 2; i++)
        bias[i] = images[i].floating ? reserve(&images[i]) : images[i].bias;

    const struct plan_map *maps = (const void *)(P + h->maps_off);
    for (uint32_t i = 0; i < h->nmaps; i++) {
        const struct plan_map *m = &maps[i];
        uint64_t at = m->addr + bias[m->image & 1];
        switch (m->op) {
        case OP_FILE:
            map(at, m->len, m->prot, MAP_PRIVATE | MAP_FIXED, fds[images[m->image & 1].file & 1], m->offset);
            break;
        case OP_ZERO:
            memset((void *)at, 0, m->len);
            break;
        case OP_ANON:
            map(at, m->len, m->prot, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
            break;
        case OP_HOLE:
            sys3(SYS_munmap, at, m->len, 0);
            break;
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            sys3(SYS_close, fds[i], 0, 0);

    /* The initial stack, below the stub's own (the supervisor chose the place). */
    unsigned char *stack = (unsigned char *)h->stack_base;
    memcpy(stack, P + h->stack_off, h->stack_len);
    const struct plan_fixup *fx = (const void *)(P + h->fixups_off);
    for (uint32_t i = 0; i < h->nfixups; i++)
        *(uint64_t *)(stack + fx[i].offset) += bias[fx[i].image & 1];
    if (h->flags & 1)
        sys3(SYS_mprotect, h->stack_low & ~(PAGE - 1), h->stack_base + h->stack_len - (h->stack_low & ~(PAGE - 1)),
             PROT_RWX);

    /* What /proc shows of the new image; best effort (older kernels refuse). */
    sys6(SYS_prctl, PR_SET_NAME, (long)h->comm, 0, 0, 0, 0);
    uint64_t pb = bias[0];
    struct prctl_mm_map mm = {
        h->mm[0] + pb, h->mm[1] + pb, h->mm[2] + pb, h->mm[3] + pb, h->mm[4], h->mm[5], h->mm[6],
        h->mm[7], h->mm[8], h->mm[9], h->mm[10],
        (uint64_t *)(stack + h->auxv_off), (uint32_t)h->auxv_size, (uint32_t)-1,
    };
    sys6(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)&mm, sizeof mm, 0, 0);

    uint64_t entry = h->entry + (h->entry_image ? bias[(h->entry_image - 1) & 1] : 0);
    uint64_t rsp = h->rsp;
    /* The plan is no longer needed; the stub's text stays (a few pages). */
    sys3(SYS_munmap, (long)lx_plan, PLAN_MAX, 0);
    /* Push the entry on the new stack and `ret` to it, so that every
     * register can be cleared first (rdx = 0: no atexit function). */
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "push %1\n\t"
                     "xor %%eax, %%eax\n\t xor %%ebx, %%ebx\n\t xor %%ecx, %%ecx\n\t"
                     "xor %%edx, %%edx\n\t xor %%esi, %%esi\n\t xor %%edi, %%edi\n\t"
                     "xor %%ebp, %%ebp\n\t xor %%r8d, %%r8d\n\t xor %%r9d, %%r9d\n\t"
                     "xor %%r10d, %%r10d\n\t xor %%r11d, %%r11d\n\t xor %%r12d, %%r12d\n\t"
                     "xor %%r13d, %%r13d\n\t xor %%r14d, %%r14d\n\t xor %%r15d, %%r15d\n\t"
                     "ret"
                     :
                     : "r"(rsp), "r"(entry)
                     : "memory");
    __builtin_unreachable();
}

/* The kernel starts us with rsp at argc; align and call the C part. */
__asm__(".globl _start\n"
        "_start:\n"
        "  and $-16, %rsp\n"
        "  call lx_stub_main\n"
        "  hlt\n");
