/* SPDX-License-Identifier: MIT */
/*
 * cpu_avx512.c - AVX-512 VNNI micro-kernel, packing and output stage.
 * Compiled with per-function target attributes; cpu_fast.c calls these only
 * when cpuid reports AVX512F, AVX512BW, AVX512VL and AVX512_VNNI.
 *
 * vpdpbusd multiplies unsigned by signed bytes, so A is packed as a + 128
 * (uint8) and B as int8: each product (a + 128)·b fits, the four of a lane
 * add up to at most 4·255·128 in magnitude and are accumulated without
 * saturation (vpdpbusd, not vpdpbusds).  The driver removes the 128·Σb
 * through its column sums (a_offset = 128), exactly, modulo 2^32.
 */
#include <string.h>

#include "cpu_kernels.h"

#ifdef QMX_CPU_HAVE_X86
#include <immintrin.h>

#define QMX_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,prfchw")))
#define VNNI_MR 8
#define VNNI_NR 48
#define VNNI_PF_GROUPS 32

static inline QMX_AVX512 __m512i bcast_quad(const unsigned char *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return _mm512_set1_epi32(v);
}

static inline QMX_AVX512 __m512i vnni_requant(__m512i x, __m512i mult, __m512i shift,
					      const struct qmx_cpu_out *o);

/* The output stage of tile row r (48 columns in v0..v2) into C. */
static inline QMX_AVX512 __attribute__((always_inline)) void
vnni_epilogue_row(const struct qmx_cpu_epilogue *ep, int r, __m512i v0, __m512i v1, __m512i v2)
{
	const struct qmx_cpu_out *o = &ep->o;
	const __m512i row = _mm512_set1_epi32((int32_t)ep->row_term[r]);
	__m512i v[3] = { v0, v1, v2 };
	for (int q = 0; q < 3; q++) {
		__m512i x = _mm512_add_epi32(v[q], row);
		x = _mm512_sub_epi32(x, _mm512_loadu_si512(o->colterm + 16 * q));
		if (o->bias)
			x = _mm512_add_epi32(x, _mm512_loadu_si512(o->bias + 16 * q));
		if (!o->int8_out) {
			_mm512_storeu_si512((int32_t *)o->c + r * ep->ldc + 16 * q, x);
			continue;
		}
		__m512i m = o->mult ? _mm512_loadu_si512(o->mult + 16 * q)
				    : _mm512_set1_epi32(o->mult1);
		__m512i sh = o->shift ? _mm512_loadu_si512(o->shift + 16 * q)
				      : _mm512_set1_epi32(o->shift1);
		_mm_storeu_si128((__m128i *)((int8_t *)o->c + r * ep->ldc + 16 * q),
				 _mm512_cvtepi32_epi8(vnni_requant(x, m, sh, o)));
	}
}

/* 8 × 48 tile: 24 accumulators, 3 B vectors and one A broadcast in 28 of
 * the 32 zmm registers; 8 broadcasts feed 24 vpdpbusd.  With ep, the tile
 * goes through the output stage into C instead of into c. */
static inline QMX_AVX512 __attribute__((always_inline)) void
vnni_tile(size_t kcg, const void *av, const void *bv, int32_t *c, size_t ldc, int accumulate,
	  const struct qmx_cpu_epilogue *ep)
{
	const unsigned char *a = av, *b = bv;
	/* With ep, C's lines are taken (prefetchw) VNNI_PF_GROUPS groups before
	 * the end, so the stores at the end do not wait for them: about 400
	 * cycles, a line from DRAM; earlier, the tile's streaming A and B
	 * could evict them again. */
	size_t pf_at = ep ? (kcg > VNNI_PF_GROUPS ? kcg - VNNI_PF_GROUPS : 0) : (size_t)-1;
#define VNNI_ROW_DECL(r) \
	__m512i c##r##0 = _mm512_setzero_si512(), c##r##1 = c##r##0, c##r##2 = c##r##0
	VNNI_ROW_DECL(0); VNNI_ROW_DECL(1); VNNI_ROW_DECL(2); VNNI_ROW_DECL(3);
	VNNI_ROW_DECL(4); VNNI_ROW_DECL(5); VNNI_ROW_DECL(6); VNNI_ROW_DECL(7);
#undef VNNI_ROW_DECL

	for (size_t g = 0; g < kcg; g++) {
		if (g == pf_at) {
			const size_t esize = ep->o.int8_out ? 1 : 4, row_bytes = VNNI_NR * esize;
			for (int r = 0; r < VNNI_MR; r++)
				for (size_t off = 0; off < row_bytes; off += 64)
					__builtin_prefetch((char *)ep->o.c + r * ep->ldc * esize + off, 1, 3);
		}
		const __m512i b0 = _mm512_loadu_si512(b);
		const __m512i b1 = _mm512_loadu_si512(b + 64);
		const __m512i b2 = _mm512_loadu_si512(b + 128);
		__m512i x;
#define VNNI_ROW(r)                                                    \
	x = bcast_quad(a + 4 * (r));                                   \
	c##r##0 = _mm512_dpbusd_epi32(c##r##0, x, b0);                 \
	c##r##1 = _mm512_dpbusd_epi32(c##r##1, x, b1);                 \
	c##r##2 = _mm512_dpbusd_epi32(c##r##2, x, b2)
		VNNI_ROW(0); VNNI_ROW(1); VNNI_ROW(2); VNNI_ROW(3);
		VNNI_ROW(4); VNNI_ROW(5); VNNI_ROW(6); VNNI_ROW(7);
#undef VNNI_ROW
		a += VNNI_MR * 4;
		b += VNNI_NR * 4;
	}
#define VNNI_STORE(r)                                                               \
	do {                                                                        \
		int32_t *cr = c + (r) * ldc;                                        \
		__m512i v0 = c##r##0, v1 = c##r##1, v2 = c##r##2;                   \
		if (accumulate) {                                                   \
			v0 = _mm512_add_epi32(v0, _mm512_loadu_si512(cr));         \
			v1 = _mm512_add_epi32(v1, _mm512_loadu_si512(cr + 16));    \
			v2 = _mm512_add_epi32(v2, _mm512_loadu_si512(cr + 32));    \
		}                                                                   \
		if (ep) {                                                           \
			vnni_epilogue_row(ep, r, v0, v1, v2);                       \
			break;                                                      \
		}                                                                   \
		_mm512_storeu_si512(cr, v0);                                        \
		_mm512_storeu_si512(cr + 16, v1);                                   \
		_mm512_storeu_si512(cr + 32, v2);                                   \
	} while (0)
	VNNI_STORE(0); VNNI_STORE(1); VNNI_STORE(2); VNNI_STORE(3);
	VNNI_STORE(4); VNNI_STORE(5); VNNI_STORE(6); VNNI_STORE(7);
#undef VNNI_STORE
}

static QMX_AVX512 void vnni_kernel(size_t kcg, const void *a, const void *b, int32_t *c,
				   size_t ldc, int accumulate)
{
	vnni_tile(kcg, a, b, c, ldc, accumulate, NULL);
}

static QMX_AVX512 void vnni_kernel_out(size_t kcg, const void *a, const void *b, int32_t *c,
				       size_t ldc, int accumulate,
				       const struct qmx_cpu_epilogue *ep)
{
	vnni_tile(kcg, a, b, c, ldc, accumulate, ep);
}

/* Groups [g, 8) of one micro-panel from 8 row pointers: an 8 × 8 transpose
 * of 32-bit groups per step (rows in, groups out), flipping the sign bit. */
static inline QMX_AVX512 size_t vnni_pack_a8(const unsigned char *const src[VNNI_MR],
					     size_t full, unsigned char *d)
{
	const __m256i flip = _mm256_set1_epi8((char)0x80);
	size_t g = 0;

	for (; g + 8 <= full; g += 8) {
		__m256i r[8], t[8], u[8];
		for (int i = 0; i < 8; i++)
			r[i] = _mm256_xor_si256(
				_mm256_loadu_si256((const __m256i *)(src[i] + 4 * g)), flip);
		for (int i = 0; i < 8; i += 2) {
			t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
			t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
		}
		for (int i = 0; i < 8; i += 4) {
			u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
			u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
			u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
			u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
		}
		__m256i *out = (__m256i *)(d + g * VNNI_MR * 4);
		for (int j = 0; j < 4; j++) {
			_mm256_storeu_si256(out + j,
					    _mm256_permute2x128_si256(u[j], u[j + 4], 0x20));
			_mm256_storeu_si256(out + j + 4,
					    _mm256_permute2x128_si256(u[j], u[j + 4], 0x31));
		}
	}
	return g;
}

/* A rows as uint8 (a + 128 = a ^ 0x80), four K values per lane.  K past its
 * end and rows past the last are packed as 0x80; B is zero past K, and
 * missing rows are never stored, so neither adds anything. */
static QMX_AVX512 void vnni_pack_a(const int8_t *a, size_t lda, size_t k, size_t i0,
				   size_t rows, size_t g0, size_t kcg, void *dst)
{
	const size_t k0 = 4 * g0;
	const size_t kend = k0 + 4 * kcg < k ? k0 + 4 * kcg : k;
	const size_t full = (kend - k0) / 4;
	const size_t step = VNNI_MR * 4;

	for (size_t r0 = 0; r0 < rows; r0 += VNNI_MR) {
		unsigned char *panel = (unsigned char *)dst + (r0 / VNNI_MR) * kcg * step;
		const unsigned char *src[VNNI_MR];
		size_t g_vec = 0;
		for (size_t r = 0; r < VNNI_MR; r++)
			src[r] = r0 + r < rows ? (const unsigned char *)a + (i0 + r0 + r) * lda + k0
					       : NULL;
		if (rows - r0 >= VNNI_MR)
			g_vec = vnni_pack_a8(src, full, panel);
		for (size_t r = 0; r < VNNI_MR; r++) {
			unsigned char *d = panel + 4 * r;
			size_t g = g_vec;
			if (src[r]) {
				for (; g < full; g++) {
					uint32_t v;
					memcpy(&v, src[r] + 4 * g, 4);
					v ^= 0x80808080u;
					memcpy(d + g * step, &v, 4);
				}
				if (k0 + 4 * g < kend) {
					unsigned char q[4] = { 0x80, 0x80, 0x80, 0x80 };
					for (size_t e = 0; k0 + 4 * g + e < kend; e++)
						q[e] = src[r][4 * g + e] ^ 0x80;
					memcpy(d + g * step, q, 4);
					g++;
				}
			}
			for (; g < kcg; g++)
				memset(d + g * step, 0x80, 4);
		}
	}
}

/* One group (4 rows of K) of one panel: src at the panel's first column,
 * the 4 rows transposed into quads at d, their sums added into s. */
static inline QMX_AVX512 __attribute__((always_inline)) void
vnni_pack_b_group(const int8_t *src, size_t ldb, size_t k, size_t g, size_t cols, int8_t *d,
		  __m512i s[3])
{
	const __mmask64 m = ((__mmask64)1 << cols) - 1;
	const __m512i ones = _mm512_set1_epi8(1);
	__m512i x[4];

	if (4 * g + 3 < k && cols == VNNI_NR) {
		/* Exactly the 48 bytes (32 + 16): a masked 64-byte load
		 * straddling a line is slow on some cores. */
		for (size_t e = 0; e < 4; e++) {
			const int8_t *r = src + (4 * g + e) * ldb;
			x[e] = _mm512_inserti32x4(
				_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)r)),
				_mm_loadu_si128((const __m128i *)(r + 32)), 2);
		}
	} else {
		for (size_t e = 0; e < 4; e++)
			x[e] = 4 * g + e < k ? _mm512_maskz_loadu_epi8(m, src + (4 * g + e) * ldb)
					     : _mm512_setzero_si512();
	}
	__m512i t0 = _mm512_unpacklo_epi8(x[0], x[1]);
	__m512i t1 = _mm512_unpackhi_epi8(x[0], x[1]);
	__m512i t2 = _mm512_unpacklo_epi8(x[2], x[3]);
	__m512i t3 = _mm512_unpackhi_epi8(x[2], x[3]);
	/* Lane L of q0..q3: quads of columns 16L+0..3, +4..7, +8..11, +12..15. */
	__m512i q0 = _mm512_unpacklo_epi16(t0, t2), q1 = _mm512_unpackhi_epi16(t0, t2);
	__m512i q2 = _mm512_unpacklo_epi16(t1, t3), q3 = _mm512_unpackhi_epi16(t1, t3);
	__m512i lo01 = _mm512_shuffle_i32x4(q0, q1, 0x44);
	__m512i lo23 = _mm512_shuffle_i32x4(q2, q3, 0x44);
	__m512i hi01 = _mm512_shuffle_i32x4(q0, q1, 0xEE);
	__m512i hi23 = _mm512_shuffle_i32x4(q2, q3, 0xEE);
	__m512i v0 = _mm512_shuffle_i32x4(lo01, lo23, 0x88); /* columns 0-15 */
	__m512i v1 = _mm512_shuffle_i32x4(lo01, lo23, 0xDD); /* columns 16-31 */
	__m512i v2 = _mm512_shuffle_i32x4(hi01, hi23, 0x88); /* columns 32-47 */
	_mm512_storeu_si512(d, v0);
	_mm512_storeu_si512(d + 64, v1);
	_mm512_storeu_si512(d + 128, v2);
	/* Column sums: a lane is one column's quad; 1·b is exact. */
	s[0] = _mm512_dpbusd_epi32(s[0], ones, v0);
	s[1] = _mm512_dpbusd_epi32(s[1], ones, v1);
	s[2] = _mm512_dpbusd_epi32(s[2], ones, v2);
}

static inline QMX_AVX512 void vnni_colsum_add(uint32_t *colsum, const __m512i s[3])
{
	uint32_t v[VNNI_NR];
	_mm512_storeu_si512(v, s[0]);
	_mm512_storeu_si512(v + 16, s[1]);
	_mm512_storeu_si512(v + 32, s[2]);
	for (size_t j = 0; j < VNNI_NR; j++)
		colsum[j] += v[j];
}

/* B as int8 quads.  Four rows of the panel's 48 columns are loaded whole
 * (masked: columns past n and rows past k read as zeros and never touch
 * memory outside B), interleaved per 128-bit lane into quads, and the lanes
 * transposed back into column order. */
static QMX_AVX512 void vnni_pack_b(const int8_t *b, size_t ldb, size_t k, size_t n,
				   size_t j0, size_t kgs, void *dst, uint32_t *colsum)
{
	const size_t cols = n - j0 < VNNI_NR ? n - j0 : VNNI_NR;
	__m512i s[3] = { _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512() };
	const int8_t *src = b + j0;
	int8_t *d = dst;

	for (size_t g = 0; g < kgs; g++, d += VNNI_NR * 4) {
		/* The rows are ldb apart: fetch the ones 16 groups ahead now. */
		if (4 * g + 64 < k)
			for (size_t e = 0; e < 4; e++) {
				_mm_prefetch((const char *)(src + (4 * g + 64 + e) * ldb), _MM_HINT_T0);
				_mm_prefetch((const char *)(src + (4 * g + 64 + e) * ldb + 47),
					     _MM_HINT_T0);
			}
		vnni_pack_b_group(src, ldb, k, g, cols, d, s);
	}
	vnni_colsum_add(colsum, s);
}

/* Panels [j0/48, j0/48 + npan) at once, row group by row group: each row's
 * columns are read in one sweep (whole cache lines, in order) rather than
 * 48 bytes per panel pass. */
#define VNNI_PANELS_MAX 16
static QMX_AVX512 void vnni_pack_b_panels(const int8_t *b, size_t ldb, size_t k, size_t n,
					  size_t j0, size_t npan, size_t kgs, void *dst,
					  size_t panel_bytes, uint32_t *colsum)
{
	__m512i s[VNNI_PANELS_MAX][3];

	if (npan > VNNI_PANELS_MAX) {
		for (size_t p = 0; p < npan; p += VNNI_PANELS_MAX)
			vnni_pack_b_panels(b, ldb, k, n, j0 + p * VNNI_NR,
					   npan - p < VNNI_PANELS_MAX ? npan - p : VNNI_PANELS_MAX,
					   kgs, (char *)dst + p * panel_bytes, panel_bytes,
					   colsum + p * VNNI_NR);
		return;
	}
	for (size_t p = 0; p < npan; p++)
		s[p][0] = s[p][1] = s[p][2] = _mm512_setzero_si512();
	const size_t span = (n - j0 < npan * VNNI_NR ? n - j0 : npan * VNNI_NR);
	for (size_t g = 0; g < kgs; g++) {
		if (4 * g + 32 < k)
			for (size_t e = 0; e < 4; e++)
				for (size_t off = 0; off < span; off += 64)
					_mm_prefetch((const char *)(b + (4 * g + 32 + e) * ldb + j0 + off),
						     _MM_HINT_T0);
		for (size_t p = 0; p < npan; p++) {
			size_t jp = j0 + p * VNNI_NR;
			size_t cols = n - jp < VNNI_NR ? n - jp : VNNI_NR;
			vnni_pack_b_group(b + jp, ldb, k, g, cols,
					  (int8_t *)dst + p * panel_bytes + g * VNNI_NR * 4, s[p]);
		}
	}
	for (size_t p = 0; p < npan; p++)
		vnni_colsum_add(colsum + p * VNNI_NR, s[p]);
}

/*
 * The output stage, 16 columns at a time: qmx_quant.h's arithmetic lane by
 * lane (saturating left shift, SRDHM on 64-bit products with truncating
 * division, RDBPOT, zero point, clamp).  Multipliers are >= 0 (validated),
 * so SRDHM's INT32_MIN·INT32_MIN case cannot occur.
 */
static inline QMX_AVX512 __m512i vnni_requant(__m512i x, __m512i mult, __m512i shift,
					      const struct qmx_cpu_out *o)
{
	const __m512i zero = _mm512_setzero_si512();
	__m512i left = _mm512_max_epi32(shift, zero);
	__m512i right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);

	/* x · 2^left, saturated to int32. */
	__m512i hi = _mm512_srav_epi32(_mm512_set1_epi32(INT32_MAX), left);
	__m512i lo = _mm512_srav_epi32(_mm512_set1_epi32(INT32_MIN), left);
	__mmask16 over = _mm512_cmpgt_epi32_mask(x, hi);
	__mmask16 under = _mm512_cmplt_epi32_mask(x, lo);
	x = _mm512_sllv_epi32(x, left);
	x = _mm512_mask_mov_epi32(x, over, _mm512_set1_epi32(INT32_MAX));
	x = _mm512_mask_mov_epi32(x, under, _mm512_set1_epi32(INT32_MIN));

	/* SRDHM: (x·mult + nudge) / 2^31, truncating, on even and odd lanes. */
	const __m512i pos = _mm512_set1_epi64(INT64_C(1) << 30);
	const __m512i neg = _mm512_set1_epi64(1 - (INT64_C(1) << 30));
	const __m512i round = _mm512_set1_epi64((INT64_C(1) << 31) - 1);
	__m512i q[2];
	for (int odd = 0; odd < 2; odd++) {
		__m512i xa = odd ? _mm512_srli_epi64(x, 32) : x;
		__m512i ma = odd ? _mm512_srli_epi64(mult, 32) : mult;
		__m512i ab = _mm512_mul_epi32(xa, ma);
		__mmask8 n = _mm512_cmplt_epi64_mask(ab, zero);
		ab = _mm512_add_epi64(ab, _mm512_mask_mov_epi64(pos, n, neg));
		n = _mm512_cmplt_epi64_mask(ab, zero);
		ab = _mm512_mask_add_epi64(ab, n, ab, round);
		q[odd] = _mm512_srai_epi64(ab, 31);
	}
	x = _mm512_mask_mov_epi32(q[0], 0xAAAA, _mm512_slli_epi64(q[1], 32));

	/* RDBPOT(x, right). */
	__m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), right),
					_mm512_set1_epi32(1));
	__m512i thr = _mm512_sub_epi32(_mm512_srai_epi32(mask, 1), _mm512_srai_epi32(x, 31));
	__mmask16 up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(x, mask), thr);
	x = _mm512_srav_epi32(x, right);
	x = _mm512_mask_add_epi32(x, up, x, _mm512_set1_epi32(1));

	/* Zero point and clamp; pre-clamping keeps x + zc from overflowing and
	 * changes nothing, as qmin, qmax and zc are int8. */
	x = _mm512_min_epi32(_mm512_max_epi32(x, _mm512_set1_epi32(-512)),
			     _mm512_set1_epi32(512));
	x = _mm512_add_epi32(x, _mm512_set1_epi32(o->zc));
	return _mm512_min_epi32(_mm512_max_epi32(x, _mm512_set1_epi32(o->qmin)),
				_mm512_set1_epi32(o->qmax));
}

static QMX_AVX512 void vnni_out_row(const struct qmx_cpu_out *o)
{
	const __m512i row = _mm512_set1_epi32((int32_t)o->row_term);
	size_t j = 0;

	for (; j + 16 <= o->n; j += 16) {
		__m512i v = _mm512_add_epi32(_mm512_loadu_si512(o->s + j), row);
		v = _mm512_sub_epi32(v, _mm512_loadu_si512(o->colterm + j));
		if (o->bias)
			v = _mm512_add_epi32(v, _mm512_loadu_si512(o->bias + j));
		if (!o->int8_out) {
			_mm512_storeu_si512((int32_t *)o->c + j, v);
			continue;
		}
		__m512i m = o->mult ? _mm512_loadu_si512(o->mult + j) : _mm512_set1_epi32(o->mult1);
		__m512i sh = o->shift ? _mm512_loadu_si512(o->shift + j)
				      : _mm512_set1_epi32(o->shift1);
		_mm_storeu_si128((__m128i *)((int8_t *)o->c + j),
				 _mm512_cvtepi32_epi8(vnni_requant(v, m, sh, o)));
	}
	qmx_cpu_out_row_scalar(o, j);
}

const struct qmx_cpu_isa qmx_cpu_isa_avx512vnni = {
	.name = "avx512vnni", .mr = VNNI_MR, .nr = VNNI_NR, .kg = 4, .esize = 1,
	.a_offset = 128, .kernel = vnni_kernel, .kernel_out = vnni_kernel_out,
	.pack_a = vnni_pack_a,
	.pack_b = vnni_pack_b, .pack_b_panels = vnni_pack_b_panels, .out_row = vnni_out_row,
};
#endif /* QMX_CPU_HAVE_X86 */
