/*
 * math.h -- tvm freestanding libc (wasm32).
 *
 * The tvm machine has no floating point yet, so every function here is
 * declared but unavailable: a program that calls one (or uses one of the
 * classification macros) fails to BUILD, with clang's error
 *     'sqrt' is unavailable: tvm has no floating point yet: sqrt() cannot
 *     be used
 * The constants (HUGE_VAL, INFINITY, NAN, M_PI, ...) are defined, but any
 * floating-point value in a program makes the build fail later, when tvm
 * lowers its WebAssembly (the machine has no float instructions).
 */
#ifndef TVM_MATH_H
#define TVM_MATH_H

#ifdef __cplusplus
extern "C" {
#endif

#define TVM_NO_FLOAT(name)                                                    \
    __attribute__((unavailable("tvm has no floating point yet: " #name       \
                               "() cannot be used")))

typedef float float_t;
typedef double double_t;

#define HUGE_VAL (__builtin_huge_val())
#define HUGE_VALF (__builtin_huge_valf())
#define HUGE_VALL (__builtin_huge_vall())
#define INFINITY (__builtin_inff())
#define NAN (__builtin_nanf(""))

#define FP_NAN 0
#define FP_INFINITE 1
#define FP_ZERO 2
#define FP_SUBNORMAL 3
#define FP_NORMAL 4
#define FP_ILOGB0 (-2147483647 - 1)
#define FP_ILOGBNAN (-2147483647 - 1)

#define MATH_ERRNO 1
#define MATH_ERREXCEPT 2
#define math_errhandling MATH_ERRNO

#define M_E 2.7182818284590452354
#define M_LOG2E 1.4426950408889634074
#define M_LOG10E 0.43429448190325182765
#define M_LN2 0.69314718055994530942
#define M_LN10 2.30258509299404568402
#define M_PI 3.14159265358979323846
#define M_PI_2 1.57079632679489661923
#define M_PI_4 0.78539816339744830962
#define M_1_PI 0.31830988618379067154
#define M_2_PI 0.63661977236758134308
#define M_2_SQRTPI 1.12837916709551257390
#define M_SQRT2 1.41421356237309504880
#define M_SQRT1_2 0.70710678118654752440

/* The classification and comparison macros, as unavailable functions. */
int __tvm_fpclassify(long double x) TVM_NO_FLOAT(fpclassify);
int __tvm_isfinite(long double x) TVM_NO_FLOAT(isfinite);
int __tvm_isinf(long double x) TVM_NO_FLOAT(isinf);
int __tvm_isnan(long double x) TVM_NO_FLOAT(isnan);
int __tvm_isnormal(long double x) TVM_NO_FLOAT(isnormal);
int __tvm_signbit(long double x) TVM_NO_FLOAT(signbit);
int __tvm_isgreater(long double x, long double y) TVM_NO_FLOAT(isgreater);
int __tvm_isgreaterequal(long double x, long double y) TVM_NO_FLOAT(isgreaterequal);
int __tvm_isless(long double x, long double y) TVM_NO_FLOAT(isless);
int __tvm_islessequal(long double x, long double y) TVM_NO_FLOAT(islessequal);
int __tvm_islessgreater(long double x, long double y) TVM_NO_FLOAT(islessgreater);
int __tvm_isunordered(long double x, long double y) TVM_NO_FLOAT(isunordered);
#define fpclassify(x) __tvm_fpclassify(x)
#define isfinite(x) __tvm_isfinite(x)
#define isinf(x) __tvm_isinf(x)
#define isnan(x) __tvm_isnan(x)
#define isnormal(x) __tvm_isnormal(x)
#define signbit(x) __tvm_signbit(x)
#define isgreater(x, y) __tvm_isgreater(x, y)
#define isgreaterequal(x, y) __tvm_isgreaterequal(x, y)
#define isless(x, y) __tvm_isless(x, y)
#define islessequal(x, y) __tvm_islessequal(x, y)
#define islessgreater(x, y) __tvm_islessgreater(x, y)
#define isunordered(x, y) __tvm_isunordered(x, y)

double acos(double) TVM_NO_FLOAT(acos);
float acosf(float) TVM_NO_FLOAT(acosf);
long double acosl(long double) TVM_NO_FLOAT(acosl);
double asin(double) TVM_NO_FLOAT(asin);
float asinf(float) TVM_NO_FLOAT(asinf);
long double asinl(long double) TVM_NO_FLOAT(asinl);
double atan(double) TVM_NO_FLOAT(atan);
float atanf(float) TVM_NO_FLOAT(atanf);
long double atanl(long double) TVM_NO_FLOAT(atanl);
double atan2(double, double) TVM_NO_FLOAT(atan2);
float atan2f(float, float) TVM_NO_FLOAT(atan2f);
long double atan2l(long double, long double) TVM_NO_FLOAT(atan2l);
double cos(double) TVM_NO_FLOAT(cos);
float cosf(float) TVM_NO_FLOAT(cosf);
long double cosl(long double) TVM_NO_FLOAT(cosl);
double sin(double) TVM_NO_FLOAT(sin);
float sinf(float) TVM_NO_FLOAT(sinf);
long double sinl(long double) TVM_NO_FLOAT(sinl);
double tan(double) TVM_NO_FLOAT(tan);
float tanf(float) TVM_NO_FLOAT(tanf);
long double tanl(long double) TVM_NO_FLOAT(tanl);
double acosh(double) TVM_NO_FLOAT(acosh);
float acoshf(float) TVM_NO_FLOAT(acoshf);
long double acoshl(long double) TVM_NO_FLOAT(acoshl);
double asinh(double) TVM_NO_FLOAT(asinh);
float asinhf(float) TVM_NO_FLOAT(asinhf);
long double asinhl(long double) TVM_NO_FLOAT(asinhl);
double atanh(double) TVM_NO_FLOAT(atanh);
float atanhf(float) TVM_NO_FLOAT(atanhf);
long double atanhl(long double) TVM_NO_FLOAT(atanhl);
double cosh(double) TVM_NO_FLOAT(cosh);
float coshf(float) TVM_NO_FLOAT(coshf);
long double coshl(long double) TVM_NO_FLOAT(coshl);
double sinh(double) TVM_NO_FLOAT(sinh);
float sinhf(float) TVM_NO_FLOAT(sinhf);
long double sinhl(long double) TVM_NO_FLOAT(sinhl);
double tanh(double) TVM_NO_FLOAT(tanh);
float tanhf(float) TVM_NO_FLOAT(tanhf);
long double tanhl(long double) TVM_NO_FLOAT(tanhl);
double exp(double) TVM_NO_FLOAT(exp);
float expf(float) TVM_NO_FLOAT(expf);
long double expl(long double) TVM_NO_FLOAT(expl);
double exp2(double) TVM_NO_FLOAT(exp2);
float exp2f(float) TVM_NO_FLOAT(exp2f);
long double exp2l(long double) TVM_NO_FLOAT(exp2l);
double expm1(double) TVM_NO_FLOAT(expm1);
float expm1f(float) TVM_NO_FLOAT(expm1f);
long double expm1l(long double) TVM_NO_FLOAT(expm1l);
double frexp(double, int*) TVM_NO_FLOAT(frexp);
float frexpf(float, int*) TVM_NO_FLOAT(frexpf);
long double frexpl(long double, int*) TVM_NO_FLOAT(frexpl);
int ilogb(double) TVM_NO_FLOAT(ilogb);
int ilogbf(float) TVM_NO_FLOAT(ilogbf);
int ilogbl(long double) TVM_NO_FLOAT(ilogbl);
double ldexp(double, int) TVM_NO_FLOAT(ldexp);
float ldexpf(float, int) TVM_NO_FLOAT(ldexpf);
long double ldexpl(long double, int) TVM_NO_FLOAT(ldexpl);
double log(double) TVM_NO_FLOAT(log);
float logf(float) TVM_NO_FLOAT(logf);
long double logl(long double) TVM_NO_FLOAT(logl);
double log10(double) TVM_NO_FLOAT(log10);
float log10f(float) TVM_NO_FLOAT(log10f);
long double log10l(long double) TVM_NO_FLOAT(log10l);
double log1p(double) TVM_NO_FLOAT(log1p);
float log1pf(float) TVM_NO_FLOAT(log1pf);
long double log1pl(long double) TVM_NO_FLOAT(log1pl);
double log2(double) TVM_NO_FLOAT(log2);
float log2f(float) TVM_NO_FLOAT(log2f);
long double log2l(long double) TVM_NO_FLOAT(log2l);
double logb(double) TVM_NO_FLOAT(logb);
float logbf(float) TVM_NO_FLOAT(logbf);
long double logbl(long double) TVM_NO_FLOAT(logbl);
double modf(double, double*) TVM_NO_FLOAT(modf);
float modff(float, float*) TVM_NO_FLOAT(modff);
long double modfl(long double, long double*) TVM_NO_FLOAT(modfl);
double scalbn(double, int) TVM_NO_FLOAT(scalbn);
float scalbnf(float, int) TVM_NO_FLOAT(scalbnf);
long double scalbnl(long double, int) TVM_NO_FLOAT(scalbnl);
double scalbln(double, long) TVM_NO_FLOAT(scalbln);
float scalblnf(float, long) TVM_NO_FLOAT(scalblnf);
long double scalblnl(long double, long) TVM_NO_FLOAT(scalblnl);
double cbrt(double) TVM_NO_FLOAT(cbrt);
float cbrtf(float) TVM_NO_FLOAT(cbrtf);
long double cbrtl(long double) TVM_NO_FLOAT(cbrtl);
double fabs(double) TVM_NO_FLOAT(fabs);
float fabsf(float) TVM_NO_FLOAT(fabsf);
long double fabsl(long double) TVM_NO_FLOAT(fabsl);
double hypot(double, double) TVM_NO_FLOAT(hypot);
float hypotf(float, float) TVM_NO_FLOAT(hypotf);
long double hypotl(long double, long double) TVM_NO_FLOAT(hypotl);
double pow(double, double) TVM_NO_FLOAT(pow);
float powf(float, float) TVM_NO_FLOAT(powf);
long double powl(long double, long double) TVM_NO_FLOAT(powl);
double sqrt(double) TVM_NO_FLOAT(sqrt);
float sqrtf(float) TVM_NO_FLOAT(sqrtf);
long double sqrtl(long double) TVM_NO_FLOAT(sqrtl);
double erf(double) TVM_NO_FLOAT(erf);
float erff(float) TVM_NO_FLOAT(erff);
long double erfl(long double) TVM_NO_FLOAT(erfl);
double erfc(double) TVM_NO_FLOAT(erfc);
float erfcf(float) TVM_NO_FLOAT(erfcf);
long double erfcl(long double) TVM_NO_FLOAT(erfcl);
double lgamma(double) TVM_NO_FLOAT(lgamma);
float lgammaf(float) TVM_NO_FLOAT(lgammaf);
long double lgammal(long double) TVM_NO_FLOAT(lgammal);
double tgamma(double) TVM_NO_FLOAT(tgamma);
float tgammaf(float) TVM_NO_FLOAT(tgammaf);
long double tgammal(long double) TVM_NO_FLOAT(tgammal);
double ceil(double) TVM_NO_FLOAT(ceil);
float ceilf(float) TVM_NO_FLOAT(ceilf);
long double ceill(long double) TVM_NO_FLOAT(ceill);
double floor(double) TVM_NO_FLOAT(floor);
float floorf(float) TVM_NO_FLOAT(floorf);
long double floorl(long double) TVM_NO_FLOAT(floorl);
double nearbyint(double) TVM_NO_FLOAT(nearbyint);
float nearbyintf(float) TVM_NO_FLOAT(nearbyintf);
long double nearbyintl(long double) TVM_NO_FLOAT(nearbyintl);
double rint(double) TVM_NO_FLOAT(rint);
float rintf(float) TVM_NO_FLOAT(rintf);
long double rintl(long double) TVM_NO_FLOAT(rintl);
long lrint(double) TVM_NO_FLOAT(lrint);
long lrintf(float) TVM_NO_FLOAT(lrintf);
long lrintl(long double) TVM_NO_FLOAT(lrintl);
long long llrint(double) TVM_NO_FLOAT(llrint);
long long llrintf(float) TVM_NO_FLOAT(llrintf);
long long llrintl(long double) TVM_NO_FLOAT(llrintl);
double round(double) TVM_NO_FLOAT(round);
float roundf(float) TVM_NO_FLOAT(roundf);
long double roundl(long double) TVM_NO_FLOAT(roundl);
long lround(double) TVM_NO_FLOAT(lround);
long lroundf(float) TVM_NO_FLOAT(lroundf);
long lroundl(long double) TVM_NO_FLOAT(lroundl);
long long llround(double) TVM_NO_FLOAT(llround);
long long llroundf(float) TVM_NO_FLOAT(llroundf);
long long llroundl(long double) TVM_NO_FLOAT(llroundl);
double trunc(double) TVM_NO_FLOAT(trunc);
float truncf(float) TVM_NO_FLOAT(truncf);
long double truncl(long double) TVM_NO_FLOAT(truncl);
double fmod(double, double) TVM_NO_FLOAT(fmod);
float fmodf(float, float) TVM_NO_FLOAT(fmodf);
long double fmodl(long double, long double) TVM_NO_FLOAT(fmodl);
double remainder(double, double) TVM_NO_FLOAT(remainder);
float remainderf(float, float) TVM_NO_FLOAT(remainderf);
long double remainderl(long double, long double) TVM_NO_FLOAT(remainderl);
double remquo(double, double, int*) TVM_NO_FLOAT(remquo);
float remquof(float, float, int*) TVM_NO_FLOAT(remquof);
long double remquol(long double, long double, int*) TVM_NO_FLOAT(remquol);
double copysign(double, double) TVM_NO_FLOAT(copysign);
float copysignf(float, float) TVM_NO_FLOAT(copysignf);
long double copysignl(long double, long double) TVM_NO_FLOAT(copysignl);
double nan(const char*) TVM_NO_FLOAT(nan);
float nanf(const char*) TVM_NO_FLOAT(nanf);
long double nanl(const char*) TVM_NO_FLOAT(nanl);
double nextafter(double, double) TVM_NO_FLOAT(nextafter);
float nextafterf(float, float) TVM_NO_FLOAT(nextafterf);
long double nextafterl(long double, long double) TVM_NO_FLOAT(nextafterl);
double nexttoward(double, long double) TVM_NO_FLOAT(nexttoward);
float nexttowardf(float, long double) TVM_NO_FLOAT(nexttowardf);
long double nexttowardl(long double, long double) TVM_NO_FLOAT(nexttowardl);
double fdim(double, double) TVM_NO_FLOAT(fdim);
float fdimf(float, float) TVM_NO_FLOAT(fdimf);
long double fdiml(long double, long double) TVM_NO_FLOAT(fdiml);
double fmax(double, double) TVM_NO_FLOAT(fmax);
float fmaxf(float, float) TVM_NO_FLOAT(fmaxf);
long double fmaxl(long double, long double) TVM_NO_FLOAT(fmaxl);
double fmin(double, double) TVM_NO_FLOAT(fmin);
float fminf(float, float) TVM_NO_FLOAT(fminf);
long double fminl(long double, long double) TVM_NO_FLOAT(fminl);
double fma(double, double, double) TVM_NO_FLOAT(fma);
float fmaf(float, float, float) TVM_NO_FLOAT(fmaf);
long double fmal(long double, long double, long double) TVM_NO_FLOAT(fmal);

#ifdef __cplusplus
}
#endif

#endif /* TVM_MATH_H */
