/* What the CPU and the operating system let the library run, read once when the GEMM
 * chooses its kernels. Swift has no CPUID, so it is asked here, in a static inline
 * function that clang compiles into the caller; nothing is linked. */
#ifndef BACKPROP_CPU_FEATURES_H
#define BACKPROP_CPU_FEATURES_H

#if defined(__x86_64__)
#include <cpuid.h>
#endif

/* 1 when AVX-512 F, CD, BW, DQ and VL (what -target-cpu skylake-avx512 may emit) are
 * there and the OS saves the mask and zmm registers across context switches; else 0. */
static inline int bp_cpu_has_avx512(void)
{
#if defined(__x86_64__)
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned osxsave = 1u << 27, avx = 1u << 28, fma = 1u << 12;
    if ((ecx & (osxsave | avx | fma)) != (osxsave | avx | fma)) return 0;
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    /* XMM, YMM, opmask, ZMM_Hi256 and Hi16_ZMM state. */
    const unsigned avx512_state = 0x2u | 0x4u | 0x20u | 0x40u | 0x80u;
    if ((xcr0_low & avx512_state) != avx512_state) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned avx2 = 1u << 5, f = 1u << 16, dq = 1u << 17, cd = 1u << 28, bw = 1u << 30, vl = 1u << 31;
    const unsigned wanted = avx2 | f | dq | cd | bw | vl;
    return (ebx & wanted) == wanted;
#else
    return 0;
#endif
}

#endif
