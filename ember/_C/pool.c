/* Pooling: max (a fast 2x2 stride-2 case and the general one) and average, forward and
 * backward. The wrappers check every size against the arrays before a kernel runs. */
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One call's sizes: `planes` images of height x width pooled to out_height x out_width with
 * kernel (kh, kw), stride (sh, sw), padding (ph, pw) and dilation (dh, dw). */
typedef struct {
    Py_ssize_t planes, height, width, out_height, out_width;
    Py_ssize_t kh, kw, sh, sw, ph, pw, dh, dw;
} geometry_t;

static Py_ssize_t min_size(Py_ssize_t a, Py_ssize_t b) { return a < b ? a : b; }
static Py_ssize_t max_size(Py_ssize_t a, Py_ssize_t b) { return a > b ? a : b; }

/* Whether `value` replaces `best` in a running maximum: it is greater, or NaN. */
#define REPLACES(value, best) ((value) > (best) || (value) != (value))

/* Kept out of line: inlined into its caller, GCC 12 no longer vectorizes a loop it does alone
 * (the float64 2x2 row). */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* The longest run of 2x2 windows the kernels work on at once (see pool.inc). */
#define ROW_CHUNK 256


/* The output positions [*first, *end) along one axis whose window's element at `offset`
 * (kernel index times dilation) lies inside the input: those with
 * 0 <= position * stride - padding + offset < size. */
static void inside_range(Py_ssize_t size, Py_ssize_t out_size, Py_ssize_t stride,
                         Py_ssize_t padding, Py_ssize_t offset, Py_ssize_t *first,
                         Py_ssize_t *end)
{
    const Py_ssize_t shift = padding - offset, stop = size + shift;
    *first = shift > 0 ? (shift + stride - 1) / stride : 0;
    *end = stop > 0 ? min_size(out_size, (stop + stride - 1) / stride) : 0;
    if (*end < *first)
        *end = *first;
}

/* The 2x2 rows' vector part (pool.inc's max_pool2x2_row does the rest of a row, scalar):
 * GCC 12 leaves that loop scalar, with a branch per comparison that random data mispredicts
 * half the time (1.4 ms for the tutorial net's first pooling at batch 64, 6x NumPy's strided
 * maxima), so the windows are taken four (float32) or two (float64) at a time with SSE2, part
 * of every x86-64 CPU. Each step deinterleaves the windows' left and right corners of both
 * rows, and makes the same selects as the scalar loop with comparison masks ("greater, or
 * NaN": cmpgt | cmpunord), so output and corners are the scalar loop's, bit for bit. Each
 * returns how many windows it did; 0 without SSE2. */
#if defined(__SSE2__)
#include <emmintrin.h>

static __m128 select_ps(__m128 mask, __m128 yes, __m128 no)
{
    return _mm_or_ps(_mm_and_ps(mask, yes), _mm_andnot_ps(mask, no));
}

static __m128d select_pd(__m128d mask, __m128d yes, __m128d no)
{
    return _mm_or_pd(_mm_and_pd(mask, yes), _mm_andnot_pd(mask, no));
}
#endif

#if defined(__SSE2__)
/* Windows x..x+3 of a row. */
static void max_pool2x2_step_f32(const float *top, const float *bottom, float *out,
                                 int32_t *corner, Py_ssize_t x)
{
    const __m128i two = _mm_set1_epi32(2);
    const __m128 top_0 = _mm_loadu_ps(top + 2 * x), top_1 = _mm_loadu_ps(top + 2 * x + 4);
    const __m128 bottom_0 = _mm_loadu_ps(bottom + 2 * x);
    const __m128 bottom_1 = _mm_loadu_ps(bottom + 2 * x + 4);
    const __m128 a = _mm_shuffle_ps(top_0, top_1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 b = _mm_shuffle_ps(top_0, top_1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m128 c = _mm_shuffle_ps(bottom_0, bottom_1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 d = _mm_shuffle_ps(bottom_0, bottom_1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m128 right_top = _mm_or_ps(_mm_cmpgt_ps(b, a), _mm_cmpunord_ps(b, b));
    const __m128 right_bottom = _mm_or_ps(_mm_cmpgt_ps(d, c), _mm_cmpunord_ps(d, d));
    const __m128 best_top = select_ps(right_top, b, a);
    const __m128 best_bottom = select_ps(right_bottom, d, c);
    const __m128 lower = _mm_or_ps(_mm_cmpgt_ps(best_bottom, best_top),
                                   _mm_cmpunord_ps(best_bottom, best_bottom));
    _mm_storeu_ps(out + x, select_ps(lower, best_bottom, best_top));
    /* The scalar loop's right_top + (lower & (2 + right_bottom - right_top)), with masks
     * that are -1 where true (so right_top is -rt). */
    const __m128i rt = _mm_castps_si128(right_top), rb = _mm_castps_si128(right_bottom);
    const __m128i low_part = _mm_and_si128(_mm_castps_si128(lower),
                                           _mm_add_epi32(two, _mm_sub_epi32(rt, rb)));
    _mm_storeu_si128((__m128i *)(corner + x), _mm_sub_epi32(low_part, rt));
}
#endif

static Py_ssize_t max_pool2x2_row_vector_f32(const float *top, const float *bottom, float *out,
                                             int32_t *corner, Py_ssize_t n)
{
#if defined(__SSE2__)
    if (n < 4)
        return 0;
    /* A row's last windows are taken as the four that end it, again over some done before:
     * the same values written twice, and no scalar remainder (a 15-window row is 4+4+4+4). */
    for (Py_ssize_t x = 0; x < n; x += 4)
        max_pool2x2_step_f32(top, bottom, out, corner, x + 4 <= n ? x : n - 4);
    return n;
#else
    return 0;
#endif
}

#if defined(__SSE2__)
/* Windows x and x+1 of a row. */
static void max_pool2x2_step_f64(const double *top, const double *bottom, double *out,
                                 int32_t *corner, Py_ssize_t x)
{
    const __m128i two = _mm_set1_epi64x(2);
    const __m128d top_0 = _mm_loadu_pd(top + 2 * x), top_1 = _mm_loadu_pd(top + 2 * x + 2);
    const __m128d bottom_0 = _mm_loadu_pd(bottom + 2 * x);
    const __m128d bottom_1 = _mm_loadu_pd(bottom + 2 * x + 2);
    const __m128d a = _mm_unpacklo_pd(top_0, top_1), b = _mm_unpackhi_pd(top_0, top_1);
    const __m128d c = _mm_unpacklo_pd(bottom_0, bottom_1);
    const __m128d d = _mm_unpackhi_pd(bottom_0, bottom_1);
    const __m128d right_top = _mm_or_pd(_mm_cmpgt_pd(b, a), _mm_cmpunord_pd(b, b));
    const __m128d right_bottom = _mm_or_pd(_mm_cmpgt_pd(d, c), _mm_cmpunord_pd(d, d));
    const __m128d best_top = select_pd(right_top, b, a);
    const __m128d best_bottom = select_pd(right_bottom, d, c);
    const __m128d lower = _mm_or_pd(_mm_cmpgt_pd(best_bottom, best_top),
                                    _mm_cmpunord_pd(best_bottom, best_bottom));
    _mm_storeu_pd(out + x, select_pd(lower, best_bottom, best_top));
    const __m128i rt = _mm_castpd_si128(right_top), rb = _mm_castpd_si128(right_bottom);
    const __m128i low_part = _mm_and_si128(_mm_castpd_si128(lower),
                                           _mm_add_epi64(two, _mm_sub_epi64(rt, rb)));
    /* Two 64-bit lanes; their low halves are the two int32 corners. */
    const __m128i both = _mm_sub_epi64(low_part, rt);
    _mm_storel_epi64((__m128i *)(corner + x), _mm_shuffle_epi32(both, _MM_SHUFFLE(2, 0, 2, 0)));
}
#endif

static Py_ssize_t max_pool2x2_row_vector_f64(const double *top, const double *bottom,
                                             double *out, int32_t *corner, Py_ssize_t n)
{
#if defined(__SSE2__)
    if (n < 2)
        return 0;
    for (Py_ssize_t x = 0; x < n; x += 2)
        max_pool2x2_step_f64(top, bottom, out, corner, x + 2 <= n ? x : n - 2);
    return n;
#else
    return 0;
#endif
}

/* The 2x2 backward's vector part, as the forward's: each window's gradient to the corner its
 * byte names and +0 to the others, four float32 (two float64) windows a step with SSE2, the
 * last step of a row over the windows that end it. A corner byte is spread over its lane
 * (b * 0x01010101) and compared with each corner number spread the same way, so a byte
 * forward never writes matches none, as in the scalar loop; the gradient ANDed with the
 * comparison's mask is the gradient or +0, the scalar loop's selects, bit for bit. Each
 * returns how many windows it did. */
#if defined(__SSE2__)
static void max_pool2x2_grad_step_f32(const float *grad, const int8_t *bytes, float *top,
                                      float *bottom, Py_ssize_t x)
{
    int32_t four;
    memcpy(&four, bytes + x, sizeof four);
    __m128i spread = _mm_cvtsi32_si128(four);
    spread = _mm_unpacklo_epi8(spread, spread);
    spread = _mm_unpacklo_epi16(spread, spread);  /* lane i: byte i, four times */
    const __m128 value = _mm_loadu_ps(grad + x);
    __m128 to[4];
    for (int k = 0; k < 4; k++)
        to[k] = _mm_and_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(spread, _mm_set1_epi32(
                               k * 0x01010101))), value);
    _mm_storeu_ps(top + 2 * x, _mm_unpacklo_ps(to[0], to[1]));
    _mm_storeu_ps(top + 2 * x + 4, _mm_unpackhi_ps(to[0], to[1]));
    _mm_storeu_ps(bottom + 2 * x, _mm_unpacklo_ps(to[2], to[3]));
    _mm_storeu_ps(bottom + 2 * x + 4, _mm_unpackhi_ps(to[2], to[3]));
}

static void max_pool2x2_grad_step_f64(const double *grad, const int8_t *bytes, double *top,
                                      double *bottom, Py_ssize_t x)
{
    int16_t two;
    memcpy(&two, bytes + x, sizeof two);
    __m128i spread = _mm_cvtsi32_si128((uint16_t)two);
    spread = _mm_unpacklo_epi8(spread, spread);
    spread = _mm_unpacklo_epi16(spread, spread);
    spread = _mm_unpacklo_epi32(spread, spread);  /* 64-bit lane i: byte i, eight times */
    const __m128d value = _mm_loadu_pd(grad + x);
    __m128d to[4];
    for (int k = 0; k < 4; k++)  /* both halves of a lane are equal, so 32-bit compares do */
        to[k] = _mm_and_pd(_mm_castsi128_pd(_mm_cmpeq_epi32(spread, _mm_set1_epi32(
                               k * 0x01010101))), value);
    _mm_storeu_pd(top + 2 * x, _mm_unpacklo_pd(to[0], to[1]));
    _mm_storeu_pd(top + 2 * x + 2, _mm_unpackhi_pd(to[0], to[1]));
    _mm_storeu_pd(bottom + 2 * x, _mm_unpacklo_pd(to[2], to[3]));
    _mm_storeu_pd(bottom + 2 * x + 2, _mm_unpackhi_pd(to[2], to[3]));
}
#endif

static Py_ssize_t max_pool2x2_grad_vector_f32(const float *grad, const int8_t *bytes,
                                              float *top, float *bottom, Py_ssize_t n)
{
#if defined(__SSE2__)
    if (n < 4)
        return 0;
    for (Py_ssize_t x = 0; x < n; x += 4)
        max_pool2x2_grad_step_f32(grad, bytes, top, bottom, x + 4 <= n ? x : n - 4);
    return n;
#else
    return 0;
#endif
}

static Py_ssize_t max_pool2x2_grad_vector_f64(const double *grad, const int8_t *bytes,
                                              double *top, double *bottom, Py_ssize_t n)
{
#if defined(__SSE2__)
    if (n < 2)
        return 0;
    for (Py_ssize_t x = 0; x < n; x += 2)
        max_pool2x2_grad_step_f64(grad, bytes, top, bottom, x + 2 <= n ? x : n - 2);
    return n;
#else
    return 0;
#endif
}

#define KERNELS "pool.inc"
#include "each_type.h"

/* Get a C-contiguous buffer of `count` integers of `bytes` bytes each (int64 positions, or
 * int8 corners for the 2x2 kernels), writable if asked: array_arg's rules for the integer
 * arrays of max pooling. Returns 0, or -1 with a Python exception set. */
static int integer_arg(PyObject *obj, Py_buffer *view, Py_ssize_t count, int bytes,
                       int writable, const char *name)
{
    const char *format = get_buffer(obj, view, writable);
    if (format == NULL)
        return -1;
    const int int64 = strcmp(format, "q") == 0 || strcmp(format, "l") == 0;
    if (view->itemsize != bytes || !(bytes == 8 ? int64 : strcmp(format, "b") == 0)) {
        PyErr_Format(PyExc_TypeError, "%s: expected an int%d array, got format '%s'", name,
                     8 * bytes, view->format);
        PyBuffer_Release(view);
        return -1;
    }
    if (count > PY_SSIZE_T_MAX / bytes || view->len != count * bytes) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd indices, got %zd", name, count,
                     view->len / bytes);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* Check the geometry, and set `planes` from the element count of the input (or of its
 * gradient). Returns 0, or -1 with a ValueError set. */
static int check_geometry(geometry_t *g, Py_ssize_t count, const char *name)
{
    if (g->height < 1 || g->width < 1 || g->out_height < 0 || g->out_width < 0 || g->kh < 1
        || g->kw < 1 || g->sh < 1 || g->sw < 1 || g->ph < 0 || g->pw < 0 || g->dh < 1
        || g->dw < 1) {
        PyErr_Format(PyExc_ValueError, "%s: invalid sizes", name);
        return -1;
    }
    /* Below 2**30 each, so that no product of two sizes (tables, offsets) overflows. */
    const Py_ssize_t limit = (Py_ssize_t)1 << 30;
    if (g->height > limit || g->width > limit || g->out_height > limit || g->out_width > limit
        || g->kh > limit || g->kw > limit || g->sh > limit || g->sw > limit || g->ph > limit
        || g->pw > limit || g->dh > limit || g->dw > limit) {
        PyErr_Format(PyExc_ValueError, "%s: sizes too large", name);
        return -1;
    }
    if (count % (g->height * g->width) != 0) {
        PyErr_Format(PyExc_ValueError, "%s: %zd elements are not planes of %zd x %zd", name,
                     count, g->height, g->width);
        return -1;
    }
    g->planes = count / (g->height * g->width);
    /* The pooled count, planes * out_height * out_width, in bytes too: one that overflowed
     * would wrap around to the size of some small array. */
    if (g->out_height * g->out_width > PY_SSIZE_T_MAX / 8 / (g->planes ? g->planes : 1)) {
        PyErr_Format(PyExc_ValueError, "%s: sizes too large", name);
        return -1;
    }
    return 0;
}

/* How many elements the window at each output position spans along one axis: clipped to the
 * padded input (a ceil_mode window may reach past it), and to the input itself unless the
 * padding counts. */
static void window_sizes(Py_ssize_t *sizes, Py_ssize_t size, Py_ssize_t out_size,
                         Py_ssize_t kernel, Py_ssize_t stride, Py_ssize_t padding,
                         int count_padding)
{
    for (Py_ssize_t k = 0; k < out_size; k++) {
        Py_ssize_t start = k * stride - padding;
        Py_ssize_t end = min_size(start + kernel, size + padding);
        if (!count_padding) {
            start = max_size(start, 0);
            end = min_size(end, size);
        }
        sizes[k] = end - start;
    }
}

#define GEOMETRY_FORMAT "(nn)(nn)(nn)(nn)(nn)(nn)"
#define GEOMETRY_ARGS(g) &g.height, &g.width, &g.out_height, &g.out_width, &g.kh, &g.kw, \
    &g.sh, &g.sw, &g.ph, &g.pw, &g.dh, &g.dw

/* The shared start of the max-pooling wrappers: the float array `values` (the input, or the
 * output's gradient when `backward`), the indices (integers of `index_bytes` bytes), and the
 * float array `result` written. */
static int max_pool_args(PyObject *values, PyObject *indices, PyObject *result, geometry_t *g,
                         int backward, int index_bytes, Py_buffer *views, int *dtype,
                         const char *name)
{
    *dtype = -1;
    if (array_arg(values, &views[0], -1, 0, dtype, name) < 0)
        return -1;
    Py_ssize_t count = views[0].len / views[0].itemsize;
    Py_ssize_t pooled = 0;
    if (backward) {
        /* The output's gradient has planes * out_height * out_width elements; the planes
         * come from the input's gradient, which must have planes * height * width. */
        if (array_arg(result, &views[2], -1, 1, dtype, name) < 0)
            goto fail1;
        if (check_geometry(g, views[2].len / views[2].itemsize, name) < 0)
            goto fail2;
        pooled = g->planes * g->out_height * g->out_width;
        if (count != pooled) {
            PyErr_Format(PyExc_ValueError, "%s: expected %zd gradients, got %zd", name, pooled,
                         count);
            goto fail2;
        }
        if (integer_arg(indices, &views[1], pooled, index_bytes, 0, name) < 0)
            goto fail2;
        return 0;
    }
    if (check_geometry(g, count, name) < 0)
        goto fail1;
    pooled = g->planes * g->out_height * g->out_width;
    if (array_arg(result, &views[2], pooled, 1, dtype, name) < 0)
        goto fail1;
    if (integer_arg(indices, &views[1], pooled, index_bytes, 1, name) < 0)
        goto fail2;
    return 0;
fail2:
    PyBuffer_Release(&views[2]);
fail1:
    PyBuffer_Release(&views[0]);
    return -1;
}

PyObject *max_pool2x2_forward(PyObject *self, PyObject *args)
{
    PyObject *input, *output, *corners;
    geometry_t g = {0, 0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 1, 1};
    if (!PyArg_ParseTuple(args, "OOO(nn):max_pool2x2_forward", &input, &output, &corners,
                          &g.height, &g.width))
        return NULL;
    g.out_height = g.height / 2;
    g.out_width = g.width / 2;
    Py_buffer views[3];
    int dtype;
    if (max_pool_args(input, corners, output, &g, 0, 1, views, &dtype, "max_pool2x2_forward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        max_pool2x2_forward_f32(views[0].buf, views[2].buf, views[1].buf, &g);
    else
        max_pool2x2_forward_f64(views[0].buf, views[2].buf, views[1].buf, &g);
    Py_END_ALLOW_THREADS
    release_all(views, 3);
    Py_RETURN_NONE;
}

PyObject *max_pool2x2_backward(PyObject *self, PyObject *args)
{
    PyObject *grad_output, *corners, *grad_input;
    geometry_t g = {0, 0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 1, 1};
    if (!PyArg_ParseTuple(args, "OOO(nn):max_pool2x2_backward", &grad_output, &corners,
                          &grad_input, &g.height, &g.width))
        return NULL;
    g.out_height = g.height / 2;
    g.out_width = g.width / 2;
    Py_buffer views[3];
    int dtype;
    if (max_pool_args(grad_output, corners, grad_input, &g, 1, 1, views, &dtype,
                      "max_pool2x2_backward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        max_pool2x2_backward_f32(views[0].buf, views[1].buf, views[2].buf, &g);
    else
        max_pool2x2_backward_f64(views[0].buf, views[1].buf, views[2].buf, &g);
    Py_END_ALLOW_THREADS
    release_all(views, 3);
    Py_RETURN_NONE;
}

PyObject *max_pool2d_forward(PyObject *self, PyObject *args)
{
    PyObject *input, *output, *indices;
    geometry_t g;
    if (!PyArg_ParseTuple(args, "OOO" GEOMETRY_FORMAT ":max_pool2d_forward", &input, &output,
                          &indices, GEOMETRY_ARGS(g)))
        return NULL;
    Py_buffer views[3];
    int dtype;
    if (max_pool_args(input, indices, output, &g, 0, 8, views, &dtype, "max_pool2d_forward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        max_pool2d_forward_f32(views[0].buf, views[2].buf, views[1].buf, &g);
    else
        max_pool2d_forward_f64(views[0].buf, views[2].buf, views[1].buf, &g);
    Py_END_ALLOW_THREADS
    release_all(views, 3);
    Py_RETURN_NONE;
}

PyObject *max_pool2d_backward(PyObject *self, PyObject *args)
{
    PyObject *grad_output, *indices, *grad_input;
    geometry_t g;
    if (!PyArg_ParseTuple(args, "OOO" GEOMETRY_FORMAT ":max_pool2d_backward", &grad_output,
                          &indices, &grad_input, GEOMETRY_ARGS(g)))
        return NULL;
    Py_buffer views[3];
    int dtype;
    if (max_pool_args(grad_output, indices, grad_input, &g, 1, 8, views, &dtype,
                      "max_pool2d_backward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        max_pool2d_backward_f32(views[0].buf, views[1].buf, views[2].buf, &g);
    else
        max_pool2d_backward_f64(views[0].buf, views[1].buf, views[2].buf, &g);
    Py_END_ALLOW_THREADS
    release_all(views, 3);
    Py_RETURN_NONE;
}

/* avg_pool2d_forward(input, output, (H, W), (OH, OW), kernel, stride, padding,
 * count_include_pad, divisor_override) and avg_pool2d_backward(grad_output, grad_input, ...
 * the same): `values` is the input (or the output's gradient), `result` the output (or the
 * input's gradient). */
static PyObject *avg_pool(PyObject *args, int backward)
{
    const char *name = backward ? "avg_pool2d_backward" : "avg_pool2d_forward";
    PyObject *values, *result;
    geometry_t g;
    g.dh = g.dw = 1;
    int count_padding;
    long long divisor_override;
    if (!PyArg_ParseTuple(args, "OO(nn)(nn)(nn)(nn)(nn)pL", &values, &result, &g.height,
                          &g.width, &g.out_height, &g.out_width, &g.kh, &g.kw, &g.sh, &g.sw,
                          &g.ph, &g.pw, &count_padding, &divisor_override))
        return NULL;
    Py_buffer views[2];
    int dtype = -1;
    if (array_arg(values, &views[0], -1, 0, &dtype, name) < 0)
        return NULL;
    if (array_arg(result, &views[1], -1, 1, &dtype, name) < 0) {
        release_all(views, 1);
        return NULL;
    }
    /* The input side sets the planes; the output side must match them. */
    const Py_buffer *input = backward ? &views[1] : &views[0];
    const Py_buffer *output = backward ? &views[0] : &views[1];
    if (check_geometry(&g, input->len / input->itemsize, name) < 0) {
        release_all(views, 2);
        return NULL;
    }
    const Py_ssize_t pooled = g.planes * g.out_height * g.out_width;
    if (output->len / output->itemsize != pooled) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd pooled elements, got %zd", name,
                     pooled, output->len / output->itemsize);
        release_all(views, 2);
        return NULL;
    }
    /* The window sizes along each axis, then (backward) one plane of scratch. */
    const size_t scratch = backward ? g.out_height * g.out_width * sizeof(double) : 0;
    Py_ssize_t *row_sizes = malloc((g.out_height + g.out_width) * sizeof(Py_ssize_t) + scratch);
    if (row_sizes == NULL) {
        release_all(views, 2);
        return PyErr_NoMemory();
    }
    Py_ssize_t *column_sizes = row_sizes + g.out_height;
    void *plane = column_sizes + g.out_width;
    Py_BEGIN_ALLOW_THREADS
    window_sizes(row_sizes, g.height, g.out_height, g.kh, g.sh, g.ph, count_padding);
    window_sizes(column_sizes, g.width, g.out_width, g.kw, g.sw, g.pw, count_padding);
    if (backward && dtype == DTYPE_FLOAT32)
        avg_pool2d_backward_f32(views[0].buf, views[1].buf, &g, row_sizes, column_sizes,
                                divisor_override, plane);
    else if (backward)
        avg_pool2d_backward_f64(views[0].buf, views[1].buf, &g, row_sizes, column_sizes,
                                divisor_override, plane);
    else if (dtype == DTYPE_FLOAT32)
        avg_pool2d_forward_f32(views[0].buf, views[1].buf, &g, row_sizes, column_sizes,
                               divisor_override);
    else
        avg_pool2d_forward_f64(views[0].buf, views[1].buf, &g, row_sizes, column_sizes,
                               divisor_override);
    Py_END_ALLOW_THREADS
    free(row_sizes);
    release_all(views, 2);
    Py_RETURN_NONE;
}

PyObject *avg_pool2d_forward(PyObject *self, PyObject *args)
{
    return avg_pool(args, 0);
}

PyObject *avg_pool2d_backward(PyObject *self, PyObject *args)
{
    return avg_pool(args, 1);
}
