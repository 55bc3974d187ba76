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

/* The x86-64-v3 features (Haswell, Zen and later: what -target-cpu haswell may emit) that
 * the CPU or the OS lacks, as a bitmask of BP_CPU_* below (0: all present). Also checks
 * the x86-64-v2 ones v3 includes. Compiled into the caller: call it only from code built
 * for the x86-64 baseline, before any code built for more. */
enum {
    BP_CPU_SSE3 = 1 << 0, BP_CPU_SSSE3 = 1 << 1, BP_CPU_SSE4_1 = 1 << 2, BP_CPU_SSE4_2 = 1 << 3,
    BP_CPU_POPCNT = 1 << 4, BP_CPU_CMPXCHG16B = 1 << 5, BP_CPU_LAHF_SAHF = 1 << 6, BP_CPU_AVX = 1 << 7,
    BP_CPU_AVX2 = 1 << 8, BP_CPU_FMA = 1 << 9, BP_CPU_BMI1 = 1 << 10, BP_CPU_BMI2 = 1 << 11,
    BP_CPU_F16C = 1 << 12, BP_CPU_LZCNT = 1 << 13, BP_CPU_MOVBE = 1 << 14, BP_CPU_OS_YMM = 1 << 15
};

static inline unsigned bp_cpu_missing_x86_64_v3(void)
{
#if defined(__x86_64__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0, missing = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0xFFFFu;
    if (!(ecx & (1u << 0))) missing |= BP_CPU_SSE3;
    if (!(ecx & (1u << 9))) missing |= BP_CPU_SSSE3;
    if (!(ecx & (1u << 12))) missing |= BP_CPU_FMA;
    if (!(ecx & (1u << 13))) missing |= BP_CPU_CMPXCHG16B;
    if (!(ecx & (1u << 19))) missing |= BP_CPU_SSE4_1;
    if (!(ecx & (1u << 20))) missing |= BP_CPU_SSE4_2;
    if (!(ecx & (1u << 22))) missing |= BP_CPU_MOVBE;
    if (!(ecx & (1u << 23))) missing |= BP_CPU_POPCNT;
    if (!(ecx & (1u << 28))) missing |= BP_CPU_AVX;
    if (!(ecx & (1u << 29))) missing |= BP_CPU_F16C;
    if (ecx & (1u << 27)) { /* OSXSAVE: the OS saves XMM and YMM state? */
        unsigned xcr0_low, xcr0_high;
        __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
        if ((xcr0_low & 0x6u) != 0x6u) missing |= BP_CPU_OS_YMM;
    } else {
        missing |= BP_CPU_OS_YMM;
    }
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        if (!(ebx & (1u << 3))) missing |= BP_CPU_BMI1;
        if (!(ebx & (1u << 5))) missing |= BP_CPU_AVX2;
        if (!(ebx & (1u << 8))) missing |= BP_CPU_BMI2;
    } else {
        missing |= BP_CPU_BMI1 | BP_CPU_AVX2 | BP_CPU_BMI2;
    }
    if (__get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx)) {
        if (!(ecx & (1u << 0))) missing |= BP_CPU_LAHF_SAHF;
        if (!(ecx & (1u << 5))) missing |= BP_CPU_LZCNT;
    } else {
        missing |= BP_CPU_LAHF_SAHF | BP_CPU_LZCNT;
    }
    return missing;
#else
    return 0;
#endif
}

/* The refusal of a build for a CPU baseline on a CPU below it: NULL when the CPU has what
 * the build needs (or the build records no baseline), else the message naming what is
 * missing. All in C, compiled for plain x86-64 into the C layer, so that a refused call
 * runs no Swift code, none of which may be built for the baseline (the core's copies of
 * standard-library helpers can take the place of the library's own at link time). The
 * baseline is -DBACKPROP_REQUIRES_X86_64_V3 or -DBACKPROP_REQUIRES_AVX512 (Package.swift). */
#if defined(BACKPROP_REQUIRES_X86_64_V3) || defined(BACKPROP_REQUIRES_AVX512)
#include <stdio.h>
#include <string.h>

static inline const char *bp_cpu_refusal(void)
{
    static const char *const names[16] = {"SSE3", "SSSE3", "SSE4.1", "SSE4.2", "POPCNT", "CMPXCHG16B", "LAHF/SAHF",
                                          "AVX", "AVX2", "FMA", "BMI1", "BMI2", "F16C", "LZCNT", "MOVBE",
                                          "the OS's saving of AVX registers"};
    static _Thread_local char message[512];
    unsigned missing = bp_cpu_missing_x86_64_v3();
    int avx512 = 1;
#if defined(BACKPROP_REQUIRES_AVX512)
    avx512 = bp_cpu_has_avx512();
#endif
    if (missing == 0 && avx512) return NULL;
    size_t used = (size_t)snprintf(message, sizeof message, "this CPU lacks ");
    for (int bit = 0; bit < 16 && used < sizeof message; bit++) {
        if (missing & (1u << bit))
            used += (size_t)snprintf(message + used, sizeof message - used, "%s, ", names[bit]);
    }
    if (!avx512 && used < sizeof message)
        used += (size_t)snprintf(message + used, sizeof message - used, "AVX-512 (F, CD, BW, DQ, VL), ");
    if (used < sizeof message)
        snprintf(message + used, sizeof message - used,
                 "which this build of libbackprop needs (it is built for %s); use a build for this CPU "
                 "(swift build -c release on it)",
#if defined(BACKPROP_REQUIRES_AVX512)
                 "x86-64-v4: AVX-512 CPUs such as Intel Skylake-SP and AMD Zen 4"
#else
                 "x86-64-v3: AVX2, FMA and BMI2, as in Intel Haswell and AMD Zen cores and later"
#endif
        );
    return message;
}
#else
static inline const char *bp_cpu_refusal(void) { return 0; }
#endif

#endif
