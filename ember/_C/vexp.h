/* e**x written so that a loop calling it runs on vectors of elements.
 *
 * The C library's exp and expf are calls the compiler cannot vectorize (without -ffast-math),
 * and the transformer kernels (gelu.inc, attention.inc) spend most of their time in exp.
 * These compute exp(x) = 2**n * exp(r), with n = x / ln 2 rounded to the nearest integer and
 * |r| <= ln(2) / 2, exp(r) by its Taylor polynomial (degree 7 for float, 13 for double:
 * truncation under a tenth of the type's epsilon), and 2**n applied as two factors built
 * from their exponent bits, so that results down to the subnormals come out right. Only
 * additions, multiplications, comparisons and bit operations: no branches, no calls.
 *
 * Accuracy, measured against the exact value (every 7th float32 from -104 to 89, and 2e7
 * float64 values from -745 to 709 against long double's expl): within 1.21 units in the last
 * place for float, 1.17 for double, where the C library's are correctly rounded or nearly
 * (0.5 ulp). exp(NaN) is NaN, exp(+inf) is +inf, exp(-inf) is 0, as in C.
 *
 * The rounding of x / ln 2 uses the "magic number" 1.5 * 2**mantissa_bits: adding it pushes
 * the fraction out of the mantissa (round to nearest), and the integer then sits in the low
 * bits of the sum, where integer operations read it. That needs the default rounding mode and
 * no reassociation, which setup.py's flags keep (no -ffast-math). */
#ifndef EMBER_VEXP_H
#define EMBER_VEXP_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float float_of_bits(uint32_t bits)
{
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline uint32_t bits_of_float(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static inline double double_of_bits(uint64_t bits)
{
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline uint64_t bits_of_double(double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

/* What both forms of exp share: n = x / ln 2 rounded (returned in `*shifted`, n + magic,
 * with n in its low bits, and as the float `*n`), r = x - n ln 2 with ln 2 in two parts (n *
 * hi is exact), and exp(r) by its Taylor polynomial, which is returned. */
#define VEXP_MAGIC_F32 12582912.0f          /* 1.5 * 2**23 */
#define VEXP_MAGIC_F64 6755399441055744.0   /* 1.5 * 2**52 */

static inline float vexp_reduced_f32(float x, float *n, float *shifted)
{
    *shifted = x * 1.44269502162933349609375f + VEXP_MAGIC_F32;
    *n = *shifted - VEXP_MAGIC_F32;
    /* hi has 9 significant bits: n * hi is exact for |n| <= 150. */
    float r = x - *n * 0.693359375f;
    r = r - *n * -2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p;
}

static inline double vexp_reduced_f64(double x, double *n, double *shifted)
{
    *shifted = x * 1.44269504088896338700 + VEXP_MAGIC_F64;
    *n = *shifted - VEXP_MAGIC_F64;
    /* ln 2 in two parts (fdlibm's): n * hi is exact for |n| < 2**20. */
    double r = x - *n * 6.93147180369123816490e-01;
    r = r - *n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p;
}

static inline float vexp_f32(float x)
{
    const float magic = VEXP_MAGIC_F32;
    const float largest = 88.72283935546875f;          /* above: overflows to inf */
    const float smallest = -103.97208404541015625f;    /* below: rounds to 0 */
    /* Clamped so that n stays in range; NaN compares false and becomes `smallest`. */
    float clamped = x > smallest ? x : smallest;
    clamped = clamped < largest ? clamped : largest;
    float n, shifted;
    const float p = vexp_reduced_f32(clamped, &n, &shifted);
    /* 2**n as 2**half * 2**(n - half): each factor a normal number for n in [-150, 128]. */
    const float half = (n * 0.5f + magic) - magic;
    const uint32_t half_bits = bits_of_float(half + magic) - bits_of_float(magic);
    const uint32_t rest_bits = bits_of_float((n - half) + magic) - bits_of_float(magic);
    const float result = p * float_of_bits((half_bits + 127u) << 23)
                         * float_of_bits((rest_bits + 127u) << 23);
    const float outside = x > 0 ? INFINITY : 0.0f;
    const float bounded = x > largest || x < smallest ? outside : result;
    return x != x ? x : bounded;
}

static inline double vexp_f64(double x)
{
    const double magic = VEXP_MAGIC_F64;
    const double largest = 709.782712893383973096;    /* above: overflows to inf */
    const double smallest = -745.1332191019412076235; /* below: rounds to 0 */
    double clamped = x > smallest ? x : smallest;
    clamped = clamped < largest ? clamped : largest;
    double n, shifted;
    const double p = vexp_reduced_f64(clamped, &n, &shifted);
    const double half = (n * 0.5 + magic) - magic;
    const uint64_t half_bits = bits_of_double(half + magic) - bits_of_double(magic);
    const uint64_t rest_bits = bits_of_double((n - half) + magic) - bits_of_double(magic);
    const double result = p * double_of_bits((half_bits + 1023u) << 52)
                          * double_of_bits((rest_bits + 1023u) << 52);
    const double outside = x > 0 ? INFINITY : 0.0;
    const double bounded = x > largest || x < smallest ? outside : result;
    return x != x ? x : bounded;
}

/* exp(x) for x whose result is a normal number, NaN excluded: x in [-87.33, 88.72] for float,
 * [-708.39, 709.78] for double. The same bits as vexp_f32 / vexp_f64 there (2**n is one
 * normal factor, and multiplying by a power of two is exact while the product stays normal),
 * without the clamps, the second factor and the choices for infinities, NaN and underflow:
 * a shorter chain of dependent operations, for a caller that knows its range (GELU's erf). */
static inline float vexp_normal_f32(float x)
{
    float n, shifted;
    const float p = vexp_reduced_f32(x, &n, &shifted);
    /* n in the low bits of `shifted` (magic's binade holds it), as two's complement. */
    const uint32_t n_bits = bits_of_float(shifted) - bits_of_float(VEXP_MAGIC_F32);
    return p * float_of_bits((n_bits + 127u) << 23);
}

static inline double vexp_normal_f64(double x)
{
    double n, shifted;
    const double p = vexp_reduced_f64(x, &n, &shifted);
    const uint64_t n_bits = bits_of_double(shifted) - bits_of_double(VEXP_MAGIC_F64);
    return p * double_of_bits((n_bits + 1023u) << 52);
}

#endif
