/*
 * crc32c.h: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of WAL records.
 *
 * crc32c(0, p, n) is the standard CRC-32C of p[0..n) (init and final xor
 * 0xFFFFFFFF are applied inside), so "123456789" gives 0xE3069283, and
 * calls chain: crc32c(crc32c(0, a, na), b, nb) == CRC-32C of a||b.
 * Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
 * run time), otherwise a slicing-by-8 table.  Thread-safe.
 */
#ifndef TSFS_CRC32C_H
#define TSFS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *p, size_t n);

/* The table-driven version, whatever the CPU (for tests and benchmarks). */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);

/* True when crc32c() uses the CPU instruction. */
int crc32c_is_hw(void);

#endif
