/* SPDX-License-Identifier: MIT */
/*
 * cpu_avx2.c - AVX2 micro-kernel, B packing and output stage.  Compiled with
 * per-function target attributes so the library still loads and runs on CPUs
 * without AVX2; cpu_fast.c calls these only when cpuid reports AVX2.
 *
 * Exact by construction: operands are int16 (sign-extended int8) and
 * vpmaddwd adds two int16 products into an int32 lane with no saturation
 * (|sum| <= 2^15).  The saturating vpmaddubsw shortcut is not used.
 */
#include <string.h>

#include "cpu_kernels.h"

#ifdef QMX_CPU_HAVE_X86
#include <immintrin.h>

#define QMX_AVX2 __attribute__((target("avx2")))
#define AVX2_MR 6
#define AVX2_NR 16

static inline QMX_AVX2 __m256i bcast_pair(const int16_t *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return _mm256_set1_epi32(v);
}

static inline QMX_AVX2 void store_row(int32_t *c, __m256i lo, __m256i hi, int accumulate)
{
	if (accumulate) {
		lo = _mm256_add_epi32(lo, _mm256_loadu_si256((const __m256i *)c));
		hi = _mm256_add_epi32(hi, _mm256_loadu_si256((const __m256i *)(c + 8)));
	}
	_mm256_storeu_si256((__m256i *)c, lo);
	_mm256_storeu_si256((__m256i *)(c + 8), hi);
}

/* 6 × 16 tile: 12 accumulators, 2 B vectors and one A broadcast in 15 of the
 * 16 ymm registers. */
static QMX_AVX2 void avx2_kernel(size_t kcg, const void *av, const void *bv, int32_t *c,
				 size_t ldc, int accumulate)
{
	const int16_t *a = av, *b = bv;
	__m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
	__m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
	__m256i c40 = c00, c41 = c00, c50 = c00, c51 = c00;

	for (size_t g = 0; g < kcg; g++) {
		const __m256i b0 = _mm256_loadu_si256((const __m256i *)b);
		const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 16));
		__m256i av;

		av = bcast_pair(a + 0);
		c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(av, b0));
		c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(av, b1));
		av = bcast_pair(a + 2);
		c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(av, b0));
		c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(av, b1));
		av = bcast_pair(a + 4);
		c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(av, b0));
		c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(av, b1));
		av = bcast_pair(a + 6);
		c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(av, b0));
		c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(av, b1));
		av = bcast_pair(a + 8);
		c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(av, b0));
		c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(av, b1));
		av = bcast_pair(a + 10);
		c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(av, b0));
		c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(av, b1));
		a += AVX2_MR * 2;
		b += AVX2_NR * 2;
	}
	store_row(c + 0 * ldc, c00, c01, accumulate);
	store_row(c + 1 * ldc, c10, c11, accumulate);
	store_row(c + 2 * ldc, c20, c21, accumulate);
	store_row(c + 3 * ldc, c30, c31, accumulate);
	store_row(c + 4 * ldc, c40, c41, accumulate);
	store_row(c + 5 * ldc, c50, c51, accumulate);
}

static QMX_AVX2 void avx2_pack_b(const int8_t *b, size_t ldb, size_t k, size_t n,
				 size_t j0, size_t kgs, void *dst_v, uint32_t *colsum)
{
	int16_t *dst = dst_v;

	if (n - j0 < AVX2_NR) { /* ragged last panel */
		qmx_cpu_pack_b_pairs(b, ldb, k, n, j0, kgs, dst, colsum, AVX2_NR);
		return;
	}
	__m256i sum_lo = _mm256_setzero_si256(), sum_hi = sum_lo;
	for (size_t kp = 0; kp < kgs; kp++) {
		size_t k0 = 2 * kp;
		__m256i x0 = _mm256_setzero_si256(), x1 = x0;
		if (k0 < k)
			x0 = _mm256_cvtepi8_epi16(
				_mm_loadu_si128((const __m128i *)(b + k0 * ldb + j0)));
		if (k0 + 1 < k)
			x1 = _mm256_cvtepi8_epi16(
				_mm_loadu_si128((const __m128i *)(b + (k0 + 1) * ldb + j0)));
		/* Interleave the two rows into (k0, k0+1) pairs per column; the
		 * unpacks work per 128-bit lane, the permutes restore column order. */
		__m256i lo = _mm256_unpacklo_epi16(x0, x1); /* cols 0-3 | 8-11 */
		__m256i hi = _mm256_unpackhi_epi16(x0, x1); /* cols 4-7 | 12-15 */
		_mm256_storeu_si256((__m256i *)(dst + kp * 32),
				    _mm256_permute2x128_si256(lo, hi, 0x20));
		_mm256_storeu_si256((__m256i *)(dst + kp * 32 + 16),
				    _mm256_permute2x128_si256(lo, hi, 0x31));
		__m256i s = _mm256_add_epi16(x0, x1); /* |s| <= 256 */
		sum_lo = _mm256_add_epi32(sum_lo, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(s)));
		sum_hi = _mm256_add_epi32(sum_hi,
					  _mm256_cvtepi16_epi32(_mm256_extracti128_si256(s, 1)));
	}
	uint32_t s[AVX2_NR];
	_mm256_storeu_si256((__m256i *)s, sum_lo);
	_mm256_storeu_si256((__m256i *)(s + 8), sum_hi);
	for (int j = 0; j < AVX2_NR; j++)
		colsum[j] += s[j];
}

static void avx2_pack_a(const int8_t *a, size_t lda, size_t k, size_t i0, size_t rows,
			size_t g0, size_t kcg, void *dst)
{
	qmx_cpu_pack_a_pairs(a, lda, k, i0, rows, g0, kcg, dst, AVX2_MR);
}

/*
 * The output stage, 8 columns at a time: qmx_quant.h's arithmetic lane by
 * lane.  SRDHM takes 64-bit products of even and odd lanes; AVX2 has no
 * 64-bit arithmetic shift, so the truncating division by 2^31 is done on
 * the magnitude.  Multipliers are >= 0 (validated), so SRDHM's
 * INT32_MIN·INT32_MIN case cannot occur.
 */
static inline QMX_AVX2 __m256i avx2_requant(__m256i x, __m256i mult, __m256i shift,
					    const struct qmx_cpu_out *o)
{
	const __m256i zero = _mm256_setzero_si256();
	__m256i left = _mm256_max_epi32(shift, zero);
	__m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);

	/* x · 2^left, saturated to int32. */
	__m256i hi = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MAX), left);
	__m256i lo = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MIN), left);
	__m256i over = _mm256_cmpgt_epi32(x, hi), under = _mm256_cmpgt_epi32(lo, x);
	x = _mm256_sllv_epi32(x, left);
	x = _mm256_blendv_epi8(x, _mm256_set1_epi32(INT32_MAX), over);
	x = _mm256_blendv_epi8(x, _mm256_set1_epi32(INT32_MIN), under);

	/* SRDHM: (x·mult + nudge) / 2^31, truncating. */
	const __m256i pos = _mm256_set1_epi64x(INT64_C(1) << 30);
	const __m256i neg = _mm256_set1_epi64x(1 - (INT64_C(1) << 30));
	__m256i q[2];
	for (int odd = 0; odd < 2; odd++) {
		__m256i xa = odd ? _mm256_srli_epi64(x, 32) : x;
		__m256i ma = odd ? _mm256_srli_epi64(mult, 32) : mult;
		__m256i ab = _mm256_mul_epi32(xa, ma);
		__m256i nudge = _mm256_blendv_epi8(pos, neg, _mm256_cmpgt_epi64(zero, ab));
		ab = _mm256_add_epi64(ab, nudge);
		__m256i n = _mm256_cmpgt_epi64(zero, ab);
		__m256i mag = _mm256_sub_epi64(_mm256_xor_si256(ab, n), n);
		mag = _mm256_srli_epi64(mag, 31);
		q[odd] = _mm256_sub_epi64(_mm256_xor_si256(mag, n), n);
	}
	x = _mm256_blend_epi32(q[0], _mm256_slli_epi64(q[1], 32), 0xAA);

	/* RDBPOT(x, right). */
	__m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right),
					_mm256_set1_epi32(1));
	__m256i thr = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_srai_epi32(x, 31));
	__m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(x, mask), thr);
	x = _mm256_sub_epi32(_mm256_srav_epi32(x, right), up);

	/* Zero point and clamp; pre-clamping keeps x + zc from overflowing and
	 * changes nothing, as qmin, qmax and zc are int8. */
	x = _mm256_min_epi32(_mm256_max_epi32(x, _mm256_set1_epi32(-512)),
			     _mm256_set1_epi32(512));
	x = _mm256_add_epi32(x, _mm256_set1_epi32(o->zc));
	return _mm256_min_epi32(_mm256_max_epi32(x, _mm256_set1_epi32(o->qmin)),
				_mm256_set1_epi32(o->qmax));
}

static QMX_AVX2 void avx2_out_row(const struct qmx_cpu_out *o)
{
	const __m256i row = _mm256_set1_epi32((int32_t)o->row_term);
	size_t j = 0;

	for (; j + 8 <= o->n; j += 8) {
		__m256i v = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(o->s + j)), row);
		v = _mm256_sub_epi32(v, _mm256_loadu_si256((const __m256i *)(o->colterm + j)));
		if (o->bias)
			v = _mm256_add_epi32(v, _mm256_loadu_si256((const __m256i *)(o->bias + j)));
		if (!o->int8_out) {
			_mm256_storeu_si256((__m256i *)((int32_t *)o->c + j), v);
			continue;
		}
		__m256i m = o->mult ? _mm256_loadu_si256((const __m256i *)(o->mult + j))
				    : _mm256_set1_epi32(o->mult1);
		__m256i sh = o->shift ? _mm256_loadu_si256((const __m256i *)(o->shift + j))
				      : _mm256_set1_epi32(o->shift1);
		__m256i r = avx2_requant(v, m, sh, o);
		__m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(r),
					      _mm256_extracti128_si256(r, 1));
		_mm_storel_epi64((__m128i *)((int8_t *)o->c + j), _mm_packs_epi16(p16, p16));
	}
	qmx_cpu_out_row_scalar(o, j);
}

const struct qmx_cpu_isa qmx_cpu_isa_avx2 = {
	.name = "avx2", .mr = AVX2_MR, .nr = AVX2_NR, .kg = 2, .esize = 2,
	.a_offset = 0, .kernel = avx2_kernel, .pack_a = avx2_pack_a,
	.pack_b = avx2_pack_b, .out_row = avx2_out_row,
};
#endif /* QMX_CPU_HAVE_X86 */
