/* SPDX-License-Identifier: MIT */
/*
 * qmx_gemm.cl - the quantized GEMM of the qmx contract in OpenCL C 1.2,
 * bit-exact to qmx_gemm_reference() (runtime/src/gemm.c, qmx_quant.h).
 *
 * One work-item per C element, QMX_TILE x QMX_TILE work-groups; A and B tiles
 * go through local memory with their zero points already subtracted, and
 * out-of-range elements loaded as 0 so ragged edges need no special case.
 * Accumulation is uint so it wraps modulo 2^32 exactly as the reference.
 * Operands are (buffer, byte offset) pairs: the offsets of qmx_ref.  int32
 * operands are read bytewise because an offset need not be 4-aligned.
 */
#ifndef QMX_TILE
#define QMX_TILE 16
#endif

#define QMX_FLAG_OUT_INT8 1u
#define QMX_FLAG_PER_CHANNEL 2u
#define QMX_FLAG_HAS_BIAS 4u
#define QMX_FLAG_C_ALIGNED 8u /* C's offset is 4-aligned: store int32 whole */

static int qmx_load_i32(__global const uchar *p)
{
	return (int)((uint)p[0] | ((uint)p[1] << 8) | ((uint)p[2] << 16) |
		     ((uint)p[3] << 24));
}

/* Arithmetic right shift, defined for negative x too. */
static int qmx_asr(int x, int e)
{
	return x >= 0 ? x >> e : ~(~x >> e);
}

static int qmx_srdhm(int a, int b)
{
	if (a == INT_MIN && b == INT_MIN)
		return INT_MAX;
	long ab = (long)a * (long)b;
	long nudge = ab >= 0 ? (1L << 30) : (1L - (1L << 30));
	return (int)((ab + nudge) / (1L << 31)); /* truncates toward zero */
}

static int qmx_rdbpot(int x, int e)
{
	int mask = (int)((1u << e) - 1u);
	int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
	return qmx_asr(x, e) + (((x & mask) > threshold) ? 1 : 0);
}

static int qmx_sat_shl(int x, int left)
{
	long w = (long)x * (1L << left);
	if (w > (long)INT_MAX)
		return INT_MAX;
	if (w < (long)INT_MIN)
		return INT_MIN;
	return (int)w;
}

static char qmx_requant(int acc, int mult, int shift, int zc, int qmin, int qmax)
{
	int left = shift > 0 ? shift : 0;
	int right = shift > 0 ? 0 : -shift;
	long v = (long)qmx_rdbpot(qmx_srdhm(qmx_sat_shl(acc, left), mult), right) + zc;
	if (v < qmin)
		v = qmin;
	if (v > qmax)
		v = qmax;
	return (char)v;
}

__kernel __attribute__((reqd_work_group_size(QMX_TILE, QMX_TILE, 1)))
void qmx_gemm(__global const uchar *a_mem, ulong a_off,
	      __global const uchar *b_mem, ulong b_off,
	      __global uchar *c_mem, ulong c_off,
	      __global const uchar *bias_mem, ulong bias_off,
	      __global const uchar *mult_mem, ulong mult_off,
	      __global const uchar *shift_mem, ulong shift_off,
	      uint m, uint n, uint k, uint lda, uint ldb, uint ldc,
	      int za, int zb, int zc, int qmin, int qmax,
	      int multiplier, int shift, uint flags)
{
	__local short as[QMX_TILE][QMX_TILE];
	__local short bs[QMX_TILE][QMX_TILE + 1];
	const uint tj = get_local_id(0), ti = get_local_id(1);
	const uint j = get_global_id(0), i = get_global_id(1);
	__global const char *a = (__global const char *)(a_mem + a_off);
	__global const char *b = (__global const char *)(b_mem + b_off);
	uint acc = 0;

	for (uint k0 = 0; k0 < k; k0 += QMX_TILE) {
		/* this work-item loads A[i][k0 + tj] and B[k0 + ti][j] */
		uint ka = k0 + tj, kb = k0 + ti;
		as[ti][tj] = (i < m && ka < k) ?
			(short)(a[(ulong)i * lda + ka] - za) : (short)0;
		bs[ti][tj] = (kb < k && j < n) ?
			(short)(b[(ulong)kb * ldb + j] - zb) : (short)0;
		barrier(CLK_LOCAL_MEM_FENCE);
		for (uint kk = 0; kk < QMX_TILE; kk++)
			acc += (uint)((int)as[ti][kk] * (int)bs[kk][tj]);
		barrier(CLK_LOCAL_MEM_FENCE);
	}
	if (i >= m || j >= n)
		return;

	int v = (int)acc;
	if (flags & QMX_FLAG_HAS_BIAS)
		v = (int)((uint)v + (uint)qmx_load_i32(bias_mem + bias_off + 4 * (ulong)j));
	ulong at = (ulong)i * ldc + j;
	if (!(flags & QMX_FLAG_OUT_INT8)) {
		__global uchar *p = c_mem + c_off + 4 * at;
		if (flags & QMX_FLAG_C_ALIGNED) {
			*(__global int *)p = v;
		} else {
			p[0] = (uchar)v;
			p[1] = (uchar)((uint)v >> 8);
			p[2] = (uchar)((uint)v >> 16);
			p[3] = (uchar)((uint)v >> 24);
		}
		return;
	}
	int mult = multiplier, sh = shift;
	if (flags & QMX_FLAG_PER_CHANNEL) {
		mult = qmx_load_i32(mult_mem + mult_off + 4 * (ulong)j);
		sh = qmx_load_i32(shift_mem + shift_off + 4 * (ulong)j);
	}
	((__global char *)(c_mem + c_off))[at] = qmx_requant(v, mult, sh, zc, qmin, qmax);
}
