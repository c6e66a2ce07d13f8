/* SPDX-License-Identifier: MIT */
/*
 * cpu_kernels.h - the CPU GEMM kernels behind the "cpu" backend: a fast path
 * (AVX-512 VNNI or AVX2 when cpuid says so, portable C otherwise),
 * multithreaded, bit-exact with qmx_gemm_reference() on every input.
 */
#ifndef QMX_CPU_KERNELS_H
#define QMX_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "qmx/qmx.h"

struct qmx_cpu_run {
	unsigned threads; /* in: threads to use (0 = all online CPUs); out: used */
	uint64_t cpu_ns;  /* out: CPU time consumed by all threads */
	const char *isa;  /* out: kernel that ran ("avx512vnni", "avx2", "portable") */
};

/* B packed once for many GEMMs (qmx_weights): the micro-panels of the kernel
 * family that packed it, with each column's sum Σ_k B[k][j]. */
struct qmx_cpu_packed_b {
	const struct qmx_cpu_isa *isa;
	size_t k, n;
	size_t npanels, panel_bytes;
	unsigned char *panels; /* npanels × panel_bytes, 64-byte aligned */
	uint32_t *colsum;      /* npanels × nr */
};

/* Pack B (k × n, ldb) with the kernel a GEMM would select now. */
int qmx_cpu_pack_b(const int8_t *b, size_t ldb, size_t k, size_t n,
		   struct qmx_cpu_packed_b **out);
void qmx_cpu_packed_b_free(struct qmx_cpu_packed_b *pb);

/* Params and operands are already validated.  $QMX_CPU_ISA
 * (portable|avx2|avx512vnni) forces a kernel; any other value, or one this
 * CPU lacks, fails with QMX_EINVAL / QMX_ENOTSUP.  packed_b (may be NULL):
 * B already packed, used when its kernel family is the one selected (else
 * B is packed from ops->b as usual). */
int qmx_cpu_gemm_fast(const qmx_gemm_params *p, const qmx_gemm_host_operands *ops,
		      const struct qmx_cpu_packed_b *packed_b, struct qmx_cpu_run *run);

/* Kernel the fast path selects on this machine ("avx512vnni", "avx2" or
 * "portable"), honouring a valid $QMX_CPU_ISA. */
const char *qmx_cpu_isa(void);
unsigned qmx_cpu_online_threads(void);

/*
 * Internals shared by cpu_fast.c (driver, portable kernel) and the ISA files.
 *
 * Each kernel family packs K in groups of `kg` values so that one 32-bit
 * lane holds a group of one row (A) or one column (B):
 *   - int16 pairs (portable, avx2): int8 sign-extended to int16, kg = 2; a
 *     multiply-add of pairs (vpmaddwd) is exact, |a·b + a'·b'| <= 2^15.
 *   - uint8/int8 quads (avx512vnni): A stored as a + 128 in uint8, B as int8,
 *     kg = 4; vpdpbusd adds the four products (|sum| <= 4·255·128) into the
 *     lane without saturation.  The +128 comes back out with the column sums.
 * Accumulators wrap modulo 2^32, as the reference's do.
 *
 * Packed A: micro-panels of `mr` rows; for each k group, the mr groups.
 * Packed B: micro-panels of `nr` columns; for each k group, the nr groups.
 * Short panels and K past its end are padded with zeros (A's padding is the
 * packed value of 0, so padded K adds nothing).
 */
/* The output stage of one row of C, columns [0, n): with the raw sum s,
 *   v = s + row_term − colterm + bias   (uint32, wrapping)
 * (row_term and colterm[j] hold the zero-point terms of row i, column j)
 * then stored as int32, or requantized to int8 exactly as qmx_q_requant(). */
struct qmx_cpu_out {
	const int32_t *s;
	const uint32_t *colterm;
	const int32_t *bias;   /* NULL: no bias */
	const int32_t *mult;   /* per-channel multipliers, NULL: mult1 */
	const int32_t *shift;  /* per-channel shifts, NULL: shift1 */
	int32_t mult1, shift1; /* per-tensor */
	uint32_t row_term;
	int32_t zc, qmin, qmax;
	int int8_out;
	size_t n;
	void *c;               /* int32_t[n] or int8_t[n] */
};

/* Columns [j0, n) of `o`, in plain C (the vector versions' tails). */
void qmx_cpu_out_row_scalar(const struct qmx_cpu_out *o, size_t j0);

/* The output stage fused into a micro-kernel, for one full mr × nr tile:
 * `o` as for out_row with s unused, colterm/bias/mult/shift at the tile's
 * first column and c at its first row and column; C rows are ldc apart
 * (elements); row_term[r] for each tile row. */
struct qmx_cpu_epilogue {
	struct qmx_cpu_out o;
	size_t ldc;
	uint32_t row_term[16];
};

struct qmx_cpu_isa {
	const char *name;
	unsigned mr, nr;  /* micro-tile rows, columns */
	unsigned kg;      /* K values per group */
	unsigned esize;   /* bytes per packed value */
	int32_t a_offset; /* added to A when packed (0 or 128) */
	/* c[mr][ldc] (=|+=) A micro-panel · B micro-panel over kcg groups. */
	void (*kernel)(size_t kcg, const void *a, const void *b, int32_t *c,
		       size_t ldc, int accumulate);
	/* Optional (NULL: kernel, then out_row): the last K block of a full
	 * tile, c (if accumulate) holding the earlier blocks' sums, written
	 * through the output stage straight from registers into C. */
	void (*kernel_out)(size_t kcg, const void *a, const void *b, int32_t *c,
			   size_t ldc, int accumulate, const struct qmx_cpu_epilogue *ep);
	/* Pack rows [i0, i0+rows) × groups [g0, g0+kcg) of A, rows padded to mr. */
	void (*pack_a)(const int8_t *a, size_t lda, size_t k, size_t i0, size_t rows,
		       size_t g0, size_t kcg, void *dst);
	/* Pack all of B's columns [j0, j0+nr) over kgs groups; add each
	 * column's int8 sum into colsum[0 .. nr). */
	void (*pack_b)(const int8_t *b, size_t ldb, size_t k, size_t n, size_t j0,
		       size_t kgs, void *dst, uint32_t *colsum);
	/* Optional (NULL: pack_b per panel): npan panels from column j0, panel
	 * p at dst + p·panel_bytes, its sums at colsum + p·nr. */
	void (*pack_b_panels)(const int8_t *b, size_t ldb, size_t k, size_t n, size_t j0,
			      size_t npan, size_t kgs, void *dst, size_t panel_bytes,
			      uint32_t *colsum);
	void (*out_row)(const struct qmx_cpu_out *o);
};

/* The kernel family `name` ("portable", "avx2", "avx512vnni") when this CPU
 * runs it, else NULL. */
const struct qmx_cpu_isa *qmx_cpu_isa_find(const char *name);

extern const struct qmx_cpu_isa qmx_cpu_isa_portable;
#if defined(__x86_64__)
#define QMX_CPU_HAVE_X86 1
extern const struct qmx_cpu_isa qmx_cpu_isa_avx2;
extern const struct qmx_cpu_isa qmx_cpu_isa_avx512vnni;
#endif

/* Shared packing of the int16-pair layout (portable and avx2). */
void qmx_cpu_pack_a_pairs(const int8_t *a, size_t lda, size_t k, size_t i0,
			  size_t rows, size_t g0, size_t kcg, void *dst,
			  unsigned mr);
void qmx_cpu_pack_b_pairs(const int8_t *b, size_t ldb, size_t k, size_t n,
			  size_t j0, size_t kgs, void *dst, uint32_t *colsum,
			  unsigned nr);

#endif /* QMX_CPU_KERNELS_H */
