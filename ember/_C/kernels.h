/* What every kernel file of ember's compiled extension shares.
 *
 * Kernels see arrays through Python's buffer protocol: NumPy exports its data pointer, and
 * refuses (BufferError) when the array is not C-contiguous or, for an output, not writable.
 * So the extension needs no NumPy headers, and NumPy stays ember's only runtime dependency.
 * `array_arg` adds the checks NumPy's export leaves to us: the element type (float32 or
 * float64 only; the ops' Python side sends anything else to the NumPy code) and the size the
 * caller promises, so a kernel never reads or writes past an array's end.
 *
 * Each kernel is written once, for a type named `real`, in a file `NAME.inc` that the topic's
 * `.c` file includes twice: with `real` as float and the suffix `_f32`, then as double and
 * `_f64` (`#define KERNELS "NAME.inc"` and `#include "each_type.h"` do both; loss.c and
 * adaptive.c spell the two out, as they also choose a math function per type).
 * `KERNEL(name)` gives the suffixed name. The wrapper that Python calls picks one by
 * the arrays' format and lets go of the global interpreter lock while it runs, so ember's
 * threads (ember/_parallel.py) can run one kernel on each part of a batch at the same time.
 */
#ifndef EMBER_KERNELS_H
#define EMBER_KERNELS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>

#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)

/* Marks a kernel whose loops run over long stretches of memory: GCC also compiles it for AVX2,
 * and the loader picks the version the CPU runs (function multiversioning, through glibc's
 * ifunc), so the build still runs on any x86-64. On data in cache it is twice as fast as the
 * baseline SSE2 loop. The results are the same bits: no FMA, and each vector lane does what
 * the scalar loop does. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define WIDE_LOOPS __attribute__((target_clones("avx2", "default")))
#else
#define WIDE_LOOPS
#endif

/* WIDE_LOOPS for a kernel whose results need not be its scalar loop's bits (GELU's, whose exp
 * already differs from NumPy's in the last place): the fast version is for x86-64-v3, AVX2
 * with fused multiply-add, and a file that uses it starts with FUSE_MULTIPLY_ADD, which lets
 * the compiler make each a * b + c one rounding there. A result may then differ in its last
 * place between machines with FMA and without, as PyTorch's do. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) \
    && __GNUC__ >= 11
#define FUSED_WIDE_LOOPS __attribute__((target_clones("arch=x86-64-v3", "default")))
#define FUSE_MULTIPLY_ADD _Pragma("GCC optimize (\"fp-contract=fast\")")
#else
#define FUSED_WIDE_LOOPS WIDE_LOOPS
#define FUSE_MULTIPLY_ADD
#endif

/* The element types kernels handle. */
typedef enum { DTYPE_FLOAT32 = 0, DTYPE_FLOAT64 = 1 } dtype_t;

/* Get a C-contiguous buffer of `obj` (writable if asked) and return its element format without
 * the byte-order mark ("f", "d", "q"...), or NULL with a Python exception set. */
const char *get_buffer(PyObject *obj, Py_buffer *view, int writable);

/* Get a C-contiguous buffer of `count` elements of `obj` (any number if `count` is negative),
 * writable if asked; `*dtype` is set
 * from the first array and later arrays must match it (pass `*dtype = -1` to set it).
 * Returns 0, or -1 with a Python exception set (and nothing to release). */
int array_arg(PyObject *obj, Py_buffer *view, Py_ssize_t count, int writable, int *dtype,
              const char *name);

/* Get the strided buffer of `obj`, an array of `ndim` dimensions whose last is contiguous
 * (or one element long; its other strides any whole number of elements), writable if asked;
 * `*dtype` as for
 * array_arg. Returns 0, or -1 with a Python exception set (and nothing to release). The
 * view's shape and strides (bytes) describe where the elements are. */
int strided_arg(PyObject *obj, Py_buffer *view, int ndim, int writable, int *dtype,
                const char *name);

/* Release the buffers that array_arg got, in any number. */
void release_all(Py_buffer *views, int count);

/* The buffers of `count` arguments at once: `objects[i]` with `counts[i]` elements, writable
 * where `writable[i]`; None where `optional[i]` (`optional` NULL: nothing is) gives a NULL
 * pointer and an empty view. All share one dtype (`*dtype = -1` to take the first's).
 * Returns 0, or -1 with a Python exception set and nothing held. */
int array_args(PyObject *const *objects, int count, const Py_ssize_t *counts,
               const int *writable, const int *optional, Py_buffer *views, void **pointers,
               int *dtype, const char *name);

/* Release the buffers that array_args got (None's hold none). */
void release_args(Py_buffer *views, int count);

/* array_args for an elementwise kernel's `count` (at most 8) arrays of one size, which the
 * first gives: `*n` is its element count. Returns 0, or -1 with a Python exception set and
 * nothing held; release with release_args. */
int same_size_args(PyObject *const *objects, int count, const int *writable, Py_buffer *views,
                   void **pointers, int *dtype, Py_ssize_t *n, const char *name);

/* Matrix products through NumPy's BLAS (blas.c). `KERNEL(product)`: c (m, n) = op(a) @ op(b)
 * with the calls (and so the bits) of NumPy's matmul, where op(a) is (m, k), op(b) is (k, n),
 * each contiguous and stored transposed where asked. `KERNEL(gemm)`: cblas_?gemm itself, c =
 * alpha * op(a) @ op(b) + beta * c, row-major with leading dimensions. Both return 0, or -1
 * when no BLAS was handed over or the sizes do not fit it: ops check
 * `ember._C.gemm_ready()` before calling a kernel that multiplies, so a kernel meets -1 only
 * for sizes past 2**31 with a 32-bit BLAS, and must then report an error. */
int blas_available(void);
int product_f32(int trans_a, int trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                const float *a, const float *b, float *c);
int product_f64(int trans_a, int trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                const double *a, const double *b, double *c);
int gemm_f32(int trans_a, int trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha,
             const float *a, Py_ssize_t lda, const float *b, Py_ssize_t ldb, float beta,
             float *c, Py_ssize_t ldc);
int gemm_f64(int trans_a, int trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, double alpha,
             const double *a, Py_ssize_t lda, const double *b, Py_ssize_t ldb, double beta,
             double *c, Py_ssize_t ldc);

/* The buffers of a product's wrapper (matmul, panel_matmul): a (m * k elements), b (k * n) and
 * c (m * n, writable), after checking that the sizes are not negative and their products fit.
 * Returns 0, or -1 with a Python exception set (`name` in its message) and nothing held;
 * release with release_args(views, 3). */
int product_args(PyObject *a, PyObject *b, PyObject *c, Py_ssize_t m, Py_ssize_t n,
                 Py_ssize_t k, Py_buffer *views, void **p, int *dtype, const char *name);

/* ember's own products for many small products with one operand (panel.c: the recurrent
 * layers' loops, attention's heads): op(b) (k, n) packed once into `panels` (panel_size
 * values: pack_panels, b transposed where `trans`, its rows `ldb` apart; packed_panels into
 * memory of its own, which the caller frees), then as many
 * products c (m, n) = a (m, k) @ op(b) as needed, a's element (i, q) at a[i * lda + q * step]
 * and c's rows `ldc` apart. Each result's bits depend on its row of `a` only, not on which
 * rows a call is given. */
Py_ssize_t panel_size_f32(Py_ssize_t k, Py_ssize_t n);
Py_ssize_t panel_size_f64(Py_ssize_t k, Py_ssize_t n);
void pack_panels_f32(int trans, Py_ssize_t k, Py_ssize_t n, const float *b, Py_ssize_t ldb,
                     float *panels);
void pack_panels_f64(int trans, Py_ssize_t k, Py_ssize_t n, const double *b, Py_ssize_t ldb,
                     double *panels);
float *packed_panels_f32(int trans, Py_ssize_t k, Py_ssize_t n, const float *b, Py_ssize_t ldb);
double *packed_panels_f64(int trans, Py_ssize_t k, Py_ssize_t n, const double *b,
                          Py_ssize_t ldb);
void panel_product_f32(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const float *a, Py_ssize_t lda,
                       Py_ssize_t step, const float *panels, float *c, Py_ssize_t ldc);
void panel_product_f64(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const double *a,
                       Py_ssize_t lda, Py_ssize_t step, const double *panels, double *c,
                       Py_ssize_t ldc);
/* Both steps at once, for one product: op(b) packed into fresh memory, c (m, n) = a @ op(b)
 * with contiguous rows, the memory freed. Returns 0, or -1 when there was no memory. */
int packed_product_f32(int trans, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const float *a,
                       const float *b, float *c);
int packed_product_f64(int trans, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const double *a,
                       const double *b, double *c);

/* NumPy's `sum` of n values `stride` apart, bit for bit: 0 plus its pairwise summation of
 * the values (linear.inc), what `array.sum()` gives for a contiguous array. */
float numpy_sum_f32(const float *x, Py_ssize_t n, Py_ssize_t stride);
double numpy_sum_f64(const double *x, Py_ssize_t n, Py_ssize_t stride);

/* ember's threads for kernels (threads.c): function(context, start, stop) over [0, count)
 * cut into `parts` ranges, range 0 on the calling thread and the others at the same time on
 * the pool's threads; returns when all are done. Called without Python's global lock. While
 * another call uses the pool, the ranges all run on the calling thread, in order. */
typedef void (*range_function)(void *context, Py_ssize_t start, Py_ssize_t stop);
void parallel_ranges(Py_ssize_t count, int parts, range_function function, void *context);
/* How many ranges parallel_ranges cuts `count` items into when asked for `parts` (at least
 * 1, at most `count` and the pool's limit, 64): for a caller that keeps something per range. */
int parallel_parts(Py_ssize_t count, int parts);

/* The Python-facing kernels, one per line of the module's method table (module.c). */
PyObject *parallel_threads(PyObject *self, PyObject *args);
PyObject *set_blas(PyObject *self, PyObject *args);
PyObject *blas_ready(PyObject *self, PyObject *args);
PyObject *matmul(PyObject *self, PyObject *args);
PyObject *panel_matmul(PyObject *self, PyObject *args);
PyObject *sgd_step(PyObject *self, PyObject *args);
PyObject *adam_step(PyObject *self, PyObject *args);
PyObject *rmsprop_step(PyObject *self, PyObject *args);
PyObject *adagrad_step(PyObject *self, PyObject *args);
PyObject *log_softmax_forward(PyObject *self, PyObject *args);
PyObject *log_softmax_backward(PyObject *self, PyObject *args);
PyObject *nll_loss_forward(PyObject *self, PyObject *args);
PyObject *nll_loss_backward(PyObject *self, PyObject *args);
PyObject *relu_forward(PyObject *self, PyObject *args);
PyObject *relu_backward(PyObject *self, PyObject *args);
PyObject *max_pool2x2_forward(PyObject *self, PyObject *args);
PyObject *max_pool2x2_backward(PyObject *self, PyObject *args);
PyObject *max_pool2d_forward(PyObject *self, PyObject *args);
PyObject *max_pool2d_backward(PyObject *self, PyObject *args);
PyObject *avg_pool2d_forward(PyObject *self, PyObject *args);
PyObject *avg_pool2d_backward(PyObject *self, PyObject *args);
PyObject *conv2d_im2col(PyObject *self, PyObject *args);
PyObject *conv2d_col2im(PyObject *self, PyObject *args);
PyObject *conv2d_add_bias(PyObject *self, PyObject *args);
PyObject *conv2d_bias_grad(PyObject *self, PyObject *args);
PyObject *linear_forward(PyObject *self, PyObject *args);
PyObject *linear_backward(PyObject *self, PyObject *args);
PyObject *mse_loss_forward(PyObject *self, PyObject *args);
PyObject *mse_loss_backward(PyObject *self, PyObject *args);
PyObject *conv2d_forward(PyObject *self, PyObject *args);
PyObject *conv2d_backward(PyObject *self, PyObject *args);
PyObject *lstm_forward(PyObject *self, PyObject *args);
PyObject *lstm_backward(PyObject *self, PyObject *args);
PyObject *gru_forward(PyObject *self, PyObject *args);
PyObject *gru_backward(PyObject *self, PyObject *args);
PyObject *lstm_layer_forward(PyObject *self, PyObject *args);
PyObject *lstm_layer_backward(PyObject *self, PyObject *args);
PyObject *gru_layer_forward(PyObject *self, PyObject *args);
PyObject *gru_layer_backward(PyObject *self, PyObject *args);

/* ember.compile's replay loop and its guards (replay.c). */
PyObject *replay(PyObject *self, PyObject *args);
PyObject *replay_holds(PyObject *self, PyObject *args);
PyObject *replay_describe(PyObject *self, PyObject *args);
PyObject *replay_same_free(PyObject *self, PyObject *args);

/* Transformer pieces (gelu.c, norm.c, attention.c): GELU, LayerNorm over rows, attention's
 * softmax; each kernel handles a range of elements or rows, which ops split over threads. */
PyObject *gelu_erf_forward(PyObject *self, PyObject *args);
PyObject *gelu_erf_backward(PyObject *self, PyObject *args);
PyObject *gelu_tanh_forward(PyObject *self, PyObject *args);
PyObject *gelu_tanh_backward(PyObject *self, PyObject *args);
PyObject *layer_norm_forward(PyObject *self, PyObject *args);
PyObject *layer_norm_backward(PyObject *self, PyObject *args);
PyObject *attention_forward(PyObject *self, PyObject *args);
PyObject *attention_backward(PyObject *self, PyObject *args);
PyObject *attention_softmax_forward(PyObject *self, PyObject *args);
PyObject *attention_softmax_backward(PyObject *self, PyObject *args);

#endif
