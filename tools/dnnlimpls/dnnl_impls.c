// Every implementation oneDNN offers for one fp32 forward convolution, each timed alone on buffers in the layout it
// chose (no reorders around it, warm caches): what the library's kernels reach here, beside what the same layer reaches
// through GanForge's wrapper (`bench --kernels`) and inside a training step (`--profile`). Issue 17, docs/performance.md.
// Needs libdnnl-dev (oneDNN 2.x C API).  Build and run, e.g. dcgan28's 64 -> 128 4 x 4 stride-2 layer at batch 128:
//   gcc -O2 -o dnnl_impls dnnl_impls.c -ldnnl && OMP_NUM_THREADS=2 ./dnnl_impls 128 64 14 128 7 4 2 1
// Arguments: batch, input channels, input size, output channels, output size, kernel, stride, padding, and optionally
// nhwc: the activations in channels-last instead of the library's choice (oneDNN 2.6's brgemm convolutions need it).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <oneapi/dnnl/dnnl.h>

#define CHECK(call) do { dnnl_status_t s = (call); if (s != dnnl_success) { fprintf(stderr, "%s: status %d\n", #call, s); exit(1); } } while (0)

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static dnnl_memory_t allocate(const_dnnl_primitive_desc_t pd, dnnl_query_t what, dnnl_engine_t engine)
{
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, dnnl_primitive_desc_query_md(pd, what, 0), engine, DNNL_MEMORY_ALLOCATE));
    return m;
}

int main(int argc, char **argv)
{
    if (argc != 9 && argc != 10) { fprintf(stderr, "usage: %s N Ci H Co OH K S P [nhwc]\n", argv[0]); return 2; }
    long n = atol(argv[1]), ci = atol(argv[2]), h = atol(argv[3]), co = atol(argv[4]), oh = atol(argv[5]),
         k = atol(argv[6]), s = atol(argv[7]), p = atol(argv[8]);
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));

    // Layouts left to the library (any), as GanForge's wrapper asks by default, or channels-last activations.
    dnnl_format_tag_t activations = argc == 10 && argv[9][0] == 'n' ? dnnl_nhwc : dnnl_format_tag_any;
    dnnl_memory_desc_t src, wei, dst;
    dnnl_dims_t srcDims = { n, ci, h, h }, weiDims = { co, ci, k, k }, dstDims = { n, co, oh, oh };
    CHECK(dnnl_memory_desc_init_by_tag(&src, 4, srcDims, dnnl_f32, activations));
    CHECK(dnnl_memory_desc_init_by_tag(&wei, 4, weiDims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&dst, 4, dstDims, dnnl_f32, activations));
    long right = (oh - 1) * s + k - h - p;
    dnnl_dims_t strides = { s, s }, dilates = { 0, 0 }, padL = { p, p }, padR = { right, right };
    dnnl_convolution_desc_t conv;
    CHECK(dnnl_dilated_convolution_forward_desc_init(&conv, dnnl_forward_training, dnnl_convolution_direct,
        &src, &wei, NULL, &dst, strides, dilates, padL, padR));

    double flop = 2.0 * n * co * oh * oh * ci * k * k;
    dnnl_primitive_desc_iterator_t it;
    CHECK(dnnl_primitive_desc_iterator_create(&it, &conv, NULL, engine, NULL));
    do
    {
        const_dnnl_primitive_desc_t pd = dnnl_primitive_desc_iterator_fetch(it);
        const char *impl = "?";
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        dnnl_primitive_t conv_prim;
        if (dnnl_primitive_create(&conv_prim, pd) != dnnl_success) { printf("%-24s (not created)\n", impl); continue; }
        dnnl_exec_arg_t args[] = {
            { DNNL_ARG_SRC, allocate(pd, dnnl_query_src_md, engine) },
            { DNNL_ARG_WEIGHTS, allocate(pd, dnnl_query_weights_md, engine) },
            { DNNL_ARG_DST, allocate(pd, dnnl_query_dst_md, engine) },
            { DNNL_ARG_SCRATCHPAD, allocate(pd, dnnl_query_scratchpad_md, engine) },
        };
        // The reference kernel runs at ~1 GFLOP/s: one run is enough to place it.
        int runs = flop / 1e9 > 1 && impl[0] == 'r' ? 1 : 20;
        for (int i = 0; i < 3 && runs > 1; i++) CHECK(dnnl_primitive_execute(conv_prim, stream, 4, args));
        CHECK(dnnl_stream_wait(stream));
        double start = now();
        for (int i = 0; i < runs; i++) CHECK(dnnl_primitive_execute(conv_prim, stream, 4, args));
        CHECK(dnnl_stream_wait(stream));
        double seconds = (now() - start) / runs;
        printf("%-24s %8.2f ms %7.1f GFLOP/s\n", impl, seconds * 1e3, flop / seconds / 1e9);
        for (int i = 0; i < 4; i++) dnnl_memory_destroy(args[i].memory);
        dnnl_primitive_destroy(conv_prim);
    } while (dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);
    return 0;
}
