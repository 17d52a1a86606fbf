/* Time of MPI_Allreduce (in place, float, sum) of the gradient sizes of the benchmark workloads, with a barrier
 * before each call so that waiting for a slower rank is not counted: the transfer cost alone, beside the
 * allreduce_ms that training logs (which includes that waiting).
 *
 *   mpicc -O2 -o /tmp/allreduce_bench tools/distributed/allreduce_bench.c
 *   mpirun --oversubscribe -np 2 /tmp/allreduce_bench          (add --allow-run-as-root as root)
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int by_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* floats per step: D's and G's gradients of mlpgan, dcgan28, dcgan64 (tools/distributed/cost_model.py) */
    const char *names[] = {"dcgan28", "mlpgan", "dcgan64"};
    const long counts[] = {910658, 2019857, 6338176};
    enum { Reps = 30 };
    for (int w = 0; w < 3; w++) {
        float *buffer = calloc(counts[w], sizeof(float));
        double times[Reps];
        for (int i = 0; i < Reps + 3; i++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double start = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buffer, (int)counts[w], MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            if (i >= 3) times[i - 3] = MPI_Wtime() - start;   /* the first calls set up the shared-memory segments */
        }
        qsort(times, Reps, sizeof(double), by_double);
        if (rank == 0)
            printf("%s\t%d ranks\t%.2f MiB\tmedian %.2f ms\tmin %.2f ms\t%.2f GB/s (algorithm bandwidth)\n", names[w], size,
                   counts[w] * 4.0 / (1 << 20), times[Reps / 2] * 1e3, times[0] * 1e3, counts[w] * 4.0 / times[Reps / 2] / 1e9);
        free(buffer);
    }
    MPI_Finalize();
    return 0;
}
