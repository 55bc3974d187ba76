/*
 * model_crc.h — the CRC-32 and little-endian field helpers of the model format
 * (docs/format.md), shared by the C tests (through harness.h) and fuzz/fuzz_load.c.
 *
 * Header-only, C99; every function is static (and marked unused, so that a program may
 * use only some of them under -Wall -Werror).
 */
#ifndef BACKPROP_TESTS_MODEL_CRC_H
#define BACKPROP_TESTS_MODEL_CRC_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define MODEL_CRC_UNUSED __attribute__((unused))
#else
#define MODEL_CRC_UNUSED
#endif

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), as zlib's crc32(). */
MODEL_CRC_UNUSED static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1u) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

MODEL_CRC_UNUSED static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

MODEL_CRC_UNUSED static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

MODEL_CRC_UNUSED static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Rewrites a model's trailing CRC-32 so that it matches the bytes before it. */
MODEL_CRC_UNUSED static void fix_crc(unsigned char *model, size_t size)
{
    put_u32(model + size - 4, crc32_of(model, size - 4));
}

#endif /* BACKPROP_TESTS_MODEL_CRC_H */
