/* Compiles the kernels of the `.inc` file named by KERNELS twice: with `real` as float and
 * names ending in `_f32`, then as double with `_f64` (kernels.h explains the pattern). A
 * topic's `.c` file says `#define KERNELS "topic.inc"` and includes this file; no include
 * guard, on purpose. */
#define real float
#define KERNEL(name) CONCAT(name, _f32)
#include KERNELS
#undef real
#undef KERNEL

#define real double
#define KERNEL(name) CONCAT(name, _f64)
#include KERNELS
#undef real
#undef KERNEL
#undef KERNELS
