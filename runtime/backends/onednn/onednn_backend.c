/* SPDX-License-Identifier: MIT */
/*
 * onednn_backend.c - the "onednn" backend: the int8 product through oneDNN's
 * dnnl_gemm_s8s8s32, the zero points and the output stage (bias,
 * requantization, clamp) by our own exact code, so the result is bit-exact
 * with qmx_gemm_reference().
 *
 * oneDNN is asked for S = A·B only (offsets ao = bo = 0).  The zero points are
 * applied afterwards exactly as the cpu backend does (cpu_fast.c):
 *   Σ (a − za)(b − zb) = S − zb·Σa − za·Σb + K·za·zb   (mod 2^32),
 * with the row and column sums computed by oneDNN too (a GEMM with a vector
 * of ones), then our output stage (cpu_kernels.h) writes C.
 *
 * Exactness: oneDNN's s8s8s32 GEMM is exact where it multiplies with VNNI
 * (vpdpbusd: four u8·s8 products added into an int32 lane).  Without VNNI it
 * uses vpmaddubsw, which adds two u8·s8 products into a saturating int16
 * (255·127·2 > 32767), so large operands give wrong sums.  Opening refuses
 * those ISAs, saying why, and also checks a probe problem against the
 * reference before accepting the device.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "cpu_kernels.h"
#include "onednn_backend.h"
#include "qmx_backend.h"

struct onednn_device {
	unsigned threads;
	const struct qmx_cpu_isa *out_isa; /* our output stage's kernel family */
	/* Workspace kept between calls (fresh pages cost as much as the work);
	 * a call that finds it in use allocates its own. */
	pthread_mutex_t ws_lock;
	void *ws;
	size_t ws_size;
};

const char *qmx_onednn_isa_name(dnnl_cpu_isa_t isa)
{
	switch ((int)isa) {
	case dnnl_cpu_isa_sse41: return "sse41";
	case dnnl_cpu_isa_avx: return "avx";
	case dnnl_cpu_isa_avx2: return "avx2";
	case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
	case dnnl_cpu_isa_avx512_core: return "avx512_core";
	case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
	case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
	case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
	default: return "other";
	}
}

/* The ISAs on which dnnl_gemm_s8s8s32 multiplies with VNNI (exact). */
static bool onednn_isa_exact(dnnl_cpu_isa_t isa)
{
	return isa == dnnl_cpu_isa_avx2_vnni || isa == dnnl_cpu_isa_avx512_core_vnni ||
	       isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx;
}

static int onednn_gemm(const char *what, int64_t m, int64_t n, int64_t k, const int8_t *a,
		       int64_t lda, const int8_t *b, int64_t ldb, int32_t *c, int64_t ldc)
{
	static const int32_t co = 0;
	dnnl_status_t st = dnnl_gemm_s8s8s32('N', 'N', 'F', m, n, k, 1.0f, a, lda, 0, b, ldb,
					     0, 0.0f, c, ldc, &co);
	if (st != dnnl_success)
		return qmx_fail(QMX_EDEVICE, "onednn: dnnl_gemm_s8s8s32 (%s, M=%lld N=%lld K=%lld) failed with status %d",
				what, (long long)m, (long long)n, (long long)k, (int)st);
	return 0;
}

static void *onednn_ws_get(struct onednn_device *od, size_t size, bool *cached)
{
	*cached = !pthread_mutex_trylock(&od->ws_lock);
	if (!*cached)
		return aligned_alloc(64, (size + 63) / 64 * 64);
	if (od->ws_size < size) {
		free(od->ws);
		od->ws_size = 0;
		od->ws = aligned_alloc(64, (size + 63) / 64 * 64);
		if (!od->ws) {
			pthread_mutex_unlock(&od->ws_lock);
			*cached = false;
			return NULL;
		}
		od->ws_size = size;
	}
	return od->ws;
}

static void onednn_ws_put(struct onednn_device *od, void *ws, bool cached)
{
	if (cached)
		pthread_mutex_unlock(&od->ws_lock);
	else
		free(ws);
}

static int onednn_run(struct onednn_device *od, const qmx_gemm_params *p,
		      const qmx_gemm_host_operands *ops, qmx_job_stats *st)
{
	const int64_t m = p->m, n = p->n, k = p->k;
	const bool int8_out = p->out_type == QMX_OUT_INT8;
	const bool per_channel = int8_out && p->quant_mode == QMX_QUANT_PER_CHANNEL;
	const uint32_t za = (uint32_t)p->a_zero_point, zb = (uint32_t)p->b_zero_point;
	const int threads = (int)od->threads;
	const uint64_t t0 = qmx_now_ns(), c0 = qmx_process_cpu_ns();
	int err;

	/* int32 output: oneDNN writes S straight into C; the output stage then
	 * runs in place (it reads each element before writing it). */
	const size_t s_bytes = int8_out ? (size_t)m * (size_t)n * 4 : 0;
	const size_t ones_bytes = (size_t)(k + 63) / 64 * 64;
	size_t total = s_bytes + (size_t)n * 4 + (size_t)m * 4 + ones_bytes;
	bool cached;
	unsigned char *ws = onednn_ws_get(od, total, &cached);
	if (!ws)
		return qmx_fail(QMX_ENOMEM, "onednn: cannot allocate a %zu-byte workspace", total);
	int32_t *s = int8_out ? (int32_t *)ws : (int32_t *)ops->c;
	const int64_t lds = int8_out ? n : p->ldc;
	int32_t *colsum = (int32_t *)(ws + s_bytes);
	int32_t *rowsum = colsum + n;
	int8_t *ones = (int8_t *)(rowsum + m);
	memset(ones, 1, (size_t)k);

	omp_set_num_threads(threads);
	err = onednn_gemm("A·B", m, n, k, ops->a, p->lda, ops->b, p->ldb, s, lds);
	/* Σ_k B[k][j] = 1ᵀ·B, Σ_k A[i][k] = A·1: exact (|sum| <= 128·K). */
	if (!err && za)
		err = onednn_gemm("column sums", 1, n, k, ones, k, ops->b, p->ldb, colsum, n);
	if (!err && zb)
		err = onednn_gemm("row sums", m, 1, k, ops->a, p->lda, ones, 1, rowsum, 1);
	bool stage = int8_out || za || zb || p->has_bias;
	if (!err && stage) {
		/* colterm = za·Σb, as the cpu backend's output stage takes it. */
		uint32_t *colterm = (uint32_t *)colsum;
		for (int64_t j = 0; j < n; j++)
			colterm[j] = za ? za * (uint32_t)colsum[j] : 0;
		const size_t esize = int8_out ? 1 : 4;
#pragma omp parallel for num_threads(threads) schedule(static)
		for (int64_t i = 0; i < m; i++) {
			struct qmx_cpu_out o = {
				.s = s + i * lds,
				.colterm = colterm,
				.bias = p->has_bias ? ops->bias : NULL,
				.mult = per_channel ? ops->multipliers : NULL,
				.shift = per_channel ? ops->shifts : NULL,
				.mult1 = p->multiplier,
				.shift1 = p->shift,
				.row_term = (uint32_t)k * za * zb -
					    (zb ? zb * (uint32_t)rowsum[i] : 0),
				.zc = p->c_zero_point,
				.qmin = p->qmin,
				.qmax = p->qmax,
				.int8_out = int8_out,
				.n = (size_t)n,
				.c = (char *)ops->c + (size_t)(i * p->ldc) * esize,
			};
			od->out_isa->out_row(&o);
		}
	}
	onednn_ws_put(od, ws, cached);
	st->device_ns = qmx_now_ns() - t0;
	/* oneDNN's OpenMP threads: the process's CPU time over the call. */
	st->cpu_ns = qmx_process_cpu_ns() - c0;
	st->threads = od->threads;
	st->macs = (uint64_t)m * (uint64_t)n * (uint64_t)k;
	return err;
}

/*
 * A probe with every operand −128 or 127, the inputs on which a saturating
 * int16 pair sum goes wrong, checked against the reference.
 */
static int onednn_probe(struct onednn_device *od)
{
	enum { PM = 16, PN = 48, PK = 256 };
	int8_t *a = malloc(PM * PK), *b = malloc(PK * PN);
	int32_t *c = malloc(PM * PN * 4), *ref = malloc(PM * PN * 4);
	qmx_gemm_params p;
	qmx_job_stats st;
	int err = QMX_ENOMEM;

	if (!a || !b || !c || !ref) {
		qmx_fail(err, "onednn: out of memory for the exactness probe");
		goto out;
	}
	for (int i = 0; i < PM * PK; i++)
		a[i] = (i * 7 + i / 5) % 3 ? 127 : -128;
	for (int i = 0; i < PK * PN; i++)
		b[i] = (i * 5 + i / 3) % 4 ? 127 : -128;
	qmx_gemm_params_init(&p, PM, PN, PK);
	qmx_gemm_host_operands ops = { .a = a, .b = b, .c = ref };
	if ((err = qmx_gemm_reference(&p, &ops)))
		goto out;
	ops.c = c;
	if ((err = onednn_run(od, &p, &ops, &st)))
		goto out;
	for (int i = 0; i < PM * PN; i++) {
		if (c[i] != ref[i]) {
			err = qmx_fail(QMX_ENOTSUP,
				       "onednn: dnnl_gemm_s8s8s32 is not exact on this machine (ISA %s): "
				       "a -128/127 probe gives C[%d][%d] = %d, the reference %d; refused",
				       qmx_onednn_isa_name(dnnl_get_effective_cpu_isa()), i / PN, i % PN,
				       c[i], ref[i]);
			goto out;
		}
	}
	err = 0;
out:
	free(a);
	free(b);
	free(c);
	free(ref);
	return err;
}

static int onednn_parse_threads(const char *arg, unsigned *threads)
{
	char *end;
	long n;

	*threads = qmx_cpu_online_threads();
	if (!*arg)
		return 0;
	n = strtol(arg, &end, 10);
	if (*end || n < 1 || n > 1024)
		return qmx_fail(QMX_EINVAL,
				"onednn device: threads '%s' must be a number in [1, 1024] (URI onednn:N)",
				arg);
	*threads = (unsigned)n;
	return 0;
}

static void onednn_fill_info(qmx_device_info *info, unsigned threads)
{
	const dnnl_version_t *v = dnnl_version();
	snprintf(info->name, sizeof(info->name), "oneDNN %d.%d.%d int8 GEMM (s8s8s32)", v->major,
		 v->minor, v->patch);
	snprintf(info->detail, sizeof(info->detail), "isa=%s threads=%u output stage=qmx %s",
		 qmx_onednn_isa_name(dnnl_get_effective_cpu_isa()), threads, qmx_cpu_isa());
	info->compute_units = threads;
	info->features = QMX_FEATURE_INT32_OUT | QMX_FEATURE_INT8_OUT | QMX_FEATURE_PER_CHANNEL |
			 QMX_FEATURE_BIAS;
	info->max_dim = 0x7FFFFFFF;
	info->max_k = 32768;
}

static int onednn_open(qmx_device *dev, const char *arg)
{
	dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
	struct onednn_device *od;
	int err;

	if (!onednn_isa_exact(isa))
		return qmx_fail(QMX_ENOTSUP,
				"onednn: refused: oneDNN's int8 GEMM on ISA %s multiplies with vpmaddubsw, "
				"whose int16 pair sums saturate (255*127*2 > 32767), so it is not exact; "
				"it is exact only with VNNI (avx2_vnni, avx512_core_vnni and up)%s",
				qmx_onednn_isa_name(isa),
				getenv("ONEDNN_MAX_CPU_ISA") || getenv("DNNL_MAX_CPU_ISA")
					? " (ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA caps the ISA)"
					: "");
	od = calloc(1, sizeof(*od));
	if (!od)
		return qmx_fail(QMX_ENOMEM, "onednn device: out of memory");
	if ((err = onednn_parse_threads(arg, &od->threads))) {
		free(od);
		return err;
	}
	od->out_isa = qmx_cpu_isa_find(qmx_cpu_isa());
	pthread_mutex_init(&od->ws_lock, NULL);
	dev->priv = od;
	if ((err = onednn_probe(od))) {
		pthread_mutex_destroy(&od->ws_lock);
		free(od->ws);
		free(od);
		dev->priv = NULL;
		return err;
	}
	onednn_fill_info(&dev->info, od->threads);
	return 0;
}

static void onednn_close(qmx_device *dev)
{
	struct onednn_device *od = dev->priv;
	if (!od)
		return;
	pthread_mutex_destroy(&od->ws_lock);
	free(od->ws);
	free(od);
}

static int onednn_host_run(qmx_device *dev, const qmx_gemm_params *p,
			   const qmx_gemm_host_operands *ops, const void *arg, qmx_job_stats *st)
{
	(void)arg;
	return onednn_run(dev->priv, p, ops, st);
}

static int onednn_gemm_submit(qmx_device *dev, qmx_job *job)
{
	return qmx_host_gemm_submit(dev, job, onednn_host_run);
}

static int onednn_gemm_host(qmx_device *dev, const qmx_gemm_params *p,
			    const qmx_gemm_host_operands *ops, qmx_job_stats *stats)
{
	return qmx_host_gemm_sync(dev, p, ops, onednn_host_run, NULL, stats);
}

/* Listed only where it is exact (an inexact ISA is refused at open). */
static int onednn_enumerate(qmx_device_info *infos, size_t cap, size_t *count)
{
	*count = 0;
	if (!onednn_isa_exact(dnnl_get_effective_cpu_isa()))
		return 0;
	if (cap >= 1) {
		memset(&infos[0], 0, sizeof(infos[0]));
		snprintf(infos[0].uri, sizeof(infos[0].uri), "onednn");
		snprintf(infos[0].backend, sizeof(infos[0].backend), "onednn");
		onednn_fill_info(&infos[0], qmx_cpu_online_threads());
	}
	*count = 1;
	return 0;
}

const struct qmx_backend_ops qmx_backend_onednn_ops = {
	.name = "onednn",
	.enumerate = onednn_enumerate,
	.open = onednn_open,
	.close = onednn_close,
	.gemm_submit = onednn_gemm_submit,
	.gemm_host = onednn_gemm_host,
};
