/* The floating-point control register of the calling thread (MXCSR on x86-64, FPCR on
 * AArch64), read and written from Swift, which has neither. Static inline functions that
 * clang compiles into the caller (always: each library call runs them); nothing is linked. */
#ifndef BACKPROP_FLOATING_POINT_H
#define BACKPROP_FLOATING_POINT_H

#include <stdint.h>

/* The thread's control register, status flags included. */
__attribute__((always_inline)) static inline uint64_t bp_fp_control(void)
{
#if defined(__x86_64__)
    uint32_t csr;
    __asm__ volatile("stmxcsr %0" : "=m"(csr));
    return csr;
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return fpcr;
#else
    return 0;
#endif
}

__attribute__((always_inline)) static inline void bp_fp_set_control(uint64_t value)
{
#if defined(__x86_64__)
    uint32_t csr = (uint32_t)value;
    __asm__ volatile("ldmxcsr %0" : : "m"(csr));
#elif defined(__aarch64__)
    __asm__ volatile("msr fpcr, %0" : : "r"(value));
#else
    (void)value;
#endif
}

/* The library's own setting: round to nearest, every exception masked (no trap), no
 * status flag, subnormal results flushed to zero and subnormal inputs read as zero
 * (x86-64: MXCSR FTZ and DAZ; AArch64: FPCR.FZ, which does both). */
__attribute__((always_inline)) static inline uint64_t bp_fp_library_control(void)
{
#if defined(__x86_64__)
    return 0x1F80u | 0x8000u | 0x0040u;
#elif defined(__aarch64__)
    return UINT64_C(1) << 24;
#else
    return 0;
#endif
}

#endif
