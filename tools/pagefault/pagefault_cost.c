// What a page fault costs on this host (issue 17, docs/performance.md, forty-third pass): the time to first-touch each
// 4 KB page of 256 MB of fresh anonymous memory, then of the same memory after MADV_DONTNEED gives it back to the kernel
// (as a runtime does with memory it decommits), three rounds. A training step that writes into memory the GC took
// fresh pays this once a page; the bench reports the step's faults (page_faults_per_iter).
// Build and run:  gcc -O2 -o /tmp/pagefault_cost tools/pagefault/pagefault_cost.c && /tmp/pagefault_cost
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static double touch(volatile char *p, size_t n)
{
    double t = now();
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    return (now() - t) / (n / 4096) * 1e6;
}

int main(void)
{
    size_t n = (size_t)256 << 20;
    for (int round = 0; round < 3; round++)
    {
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { perror("mmap"); return 1; }
        double fresh = touch(p, n);
        madvise(p, n, MADV_DONTNEED);
        double returned = touch(p, n);
        printf("round %d: %.2f us a 4 KB page fresh, %.2f after MADV_DONTNEED\n", round + 1, fresh, returned);
        munmap(p, n);
    }
    return 0;
}
