// What fresh memory costs in 4 KB pages and in 2 MB transparent huge pages on this host (issue 17, docs/performance.md,
// sixty-fourth pass): 256 MB of fresh anonymous memory on a 2 MB boundary, advised MADV_NOHUGEPAGE or MADV_HUGEPAGE, each
// 4 KB touched once, then the whole written again once resident; three rounds. The engine advises its large fresh
// buffers (src/GanForge.Tensors/HugePages.cs); huge pages need transparent_hugepage/enabled at "madvise" or "always".
// Build and run:  gcc -O2 -o /tmp/hugepage_cost tools/pagefault/hugepage_cost.c && /tmp/hugepage_cost
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void)
{
    const size_t len = (size_t)256 << 20, huge = (size_t)2 << 20;
    for (int round = 1; round <= 3; round++)
        for (int advice = 0; advice < 2; advice++)
        {
            char *p = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) { perror("mmap"); return 1; }
            volatile char *a = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
            madvise((void *)a, len, advice ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
            double t = now();
            for (size_t i = 0; i < len; i += 4096) a[i] = 1;
            double first = now() - t;
            t = now();
            memset((void *)a, 2, len);
            double again = now() - t;
            printf("round %d, %s pages: first touch %.1f ms (%.2f us a 4 KB page), written again %.1f ms\n", round,
                   advice ? "2 MB" : "4 KB", first * 1e3, first * 1e6 / (len / 4096), again * 1e3);
            munmap(p, len + huge);
        }
    return 0;
}
