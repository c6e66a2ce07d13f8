/* SPDX-License-Identifier: MIT */
/*
 * tiled.c - qmx_gemm_tiled(): a GEMM of any size on a device with smaller
 * limits, as tiles each of which the device accepts, with a progress
 * callback.
 */
#include <stdlib.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"
#include "qmx_quant.h"

#define TILE_POLL_NS (250 * 1000000LL) /* progress while a long tile runs */

QMX_API void qmx_job_stats_add(qmx_job_stats *sum, const qmx_job_stats *st, int first)
{
	sum->wall_ns += st->wall_ns;
	sum->device_ns += st->device_ns;
	sum->cpu_ns += st->cpu_ns;
	sum->cycles += st->cycles;
	sum->stall_cycles += st->stall_cycles;
	sum->macs += st->macs;
	sum->ext_bytes_read += st->ext_bytes_read;
	sum->ext_bytes_written += st->ext_bytes_written;
	sum->sram_bytes_read += st->sram_bytes_read;
	sum->sram_bytes_written += st->sram_bytes_written;
	sum->energy_j += st->energy_j;
	sum->carbon_operational_g += st->carbon_operational_g;
	sum->carbon_embodied_g += st->carbon_embodied_g;
	sum->energy_mac_j += st->energy_mac_j;
	sum->energy_sram_j += st->energy_sram_j;
	sum->energy_dram_j += st->energy_dram_j;
	sum->energy_clock_j += st->energy_clock_j;
	sum->energy_leakage_j += st->energy_leakage_j;
	sum->energy_static_j += st->energy_static_j;
	sum->sim_wall_ns += st->sim_wall_ns;
	sum->sim_cpu_ns += st->sim_cpu_ns;
	sum->flags |= st->flags;
	if (st->threads > sum->threads)
		sum->threads = st->threads;
	/* Modelled (or none) as soon as one part is. */
	if (first || st->energy_source != QMX_ENERGY_MEASURED)
		sum->energy_source = st->energy_source;
}

static int stopped(void)
{
	return qmx_fail(QMX_EBUSY, "qmx_gemm_tiled: stopped by the progress callback");
}

/* Device buffers of the largest tile, reused by every tile. */
struct tile_bufs {
	qmx_buffer *buf[6]; /* a, b, c, bias, multipliers, shifts */
	void *host[6];
};

enum { TA, TB, TC, TBIAS, TMULT, TSHIFT };

static int tile_bufs_new(qmx_device *dev, const size_t len[6], struct tile_bufs *t)
{
	int err;
	for (int i = 0; i < 6; i++) {
		if (!len[i])
			continue;
		if ((err = qmx_buffer_new(dev, len[i], 0, &t->buf[i])) ||
		    (err = qmx_buffer_map(t->buf[i], &t->host[i])))
			return err;
	}
	return 0;
}

/* Run one tile (operands already in t) through submit/wait, calling
 * progress about every 250 ms while it runs. */
static int run_tile(qmx_device *dev, const qmx_gemm_params *q, struct tile_bufs *t,
		    qmx_job_stats *st, qmx_progress_fn progress, void *user, uint64_t done,
		    uint64_t total)
{
	qmx_gemm_desc d;
	qmx_job *job = NULL;
	int err;

	memset(&d, 0, sizeof(d));
	d.params = *q;
	d.a.buffer = t->buf[TA];
	d.b.buffer = t->buf[TB];
	d.c.buffer = t->buf[TC];
	if (q->has_bias)
		d.bias.buffer = t->buf[TBIAS];
	if (q->out_type == QMX_OUT_INT8 && q->quant_mode == QMX_QUANT_PER_CHANNEL) {
		d.multipliers.buffer = t->buf[TMULT];
		d.shifts.buffer = t->buf[TSHIFT];
	}
	if ((err = qmx_gemm_submit(dev, &d, &job)))
		return err;
	for (;;) {
		err = qmx_job_wait(job, progress ? TILE_POLL_NS : -1);
		if (err != QMX_ETIMEDOUT)
			break;
		if (progress(done, total, user)) {
			qmx_job_del(job);
			return stopped();
		}
	}
	if (!err)
		err = qmx_job_get_stats(job, st);
	qmx_job_del(job);
	return err;
}

static int sync_to(struct tile_bufs *t, int i, size_t len)
{
	return len ? qmx_buffer_sync(t->buf[i], QMX_SYNC_TO_DEVICE, 0, len) : 0;
}

QMX_API int qmx_gemm_tiled(qmx_device *dev, const qmx_gemm_params *p,
			   const qmx_gemm_host_operands *ops, qmx_job_stats *stats,
			   qmx_progress_fn progress, void *user)
{
	int err;

	if (!dev)
		return qmx_fail(QMX_EINVAL, "qmx_gemm_tiled: dev is NULL");
	if ((err = qmx_gemm_params_check(p)) ||
	    (err = qmx_gemm_host_operands_check("qmx_gemm_tiled", p, ops)))
		return err;
	/* Strides are limited like the dimensions: tiles are packed. */
	int64_t t = dev->info.max_dim ? (int64_t)dev->info.max_dim : INT64_MAX;
	int64_t tk = dev->info.max_k && (int64_t)dev->info.max_k < t ? (int64_t)dev->info.max_k : t;
	qmx_job_stats sum;
	memset(&sum, 0, sizeof(sum));
	bool fits = p->m <= t && p->n <= t && p->k <= tk && p->lda <= t && p->ldb <= t &&
		    p->ldc <= t;
	if (fits && (!progress || dev->ops->gemm_host)) {
		if ((err = qmx_gemm(dev, p, ops, &sum)))
			return err;
		if (stats)
			*stats = sum;
		if (progress && progress(1, 1, user))
			return stopped();
		return 0;
	}

	const bool i8 = p->out_type == QMX_OUT_INT8;
	const bool per_ch = i8 && p->quant_mode == QMX_QUANT_PER_CHANNEL;
	const int64_t mt0 = p->m < t ? p->m : t, nt0 = p->n < t ? p->n : t;
	const int64_t kt0 = p->k < tk ? p->k : tk;
	const bool ksplit = p->k > tk;
	const int64_t nm = (p->m + t - 1) / t, nn = (p->n + t - 1) / t, nk = (p->k + tk - 1) / tk;
	const uint64_t total = (uint64_t)(nm * nn * nk);
	/* Split K: the device computes int32 partial sums, the host adds
	 * them (wrapping, as the reference's accumulator), then the bias and
	 * the requantization with the reference's arithmetic. */
	const bool dev_i8 = i8 && !ksplit;
	size_t len[6] = {
		(size_t)(mt0 * kt0), (size_t)(kt0 * nt0), (size_t)(mt0 * nt0) * (dev_i8 ? 1 : 4),
		p->has_bias && !ksplit ? (size_t)nt0 * 4 : 0,
		per_ch && !ksplit ? (size_t)nt0 * 4 : 0, per_ch && !ksplit ? (size_t)nt0 * 4 : 0,
	};
	struct tile_bufs tb;
	memset(&tb, 0, sizeof(tb));
	int32_t *acc = ksplit ? malloc((size_t)(mt0 * nt0) * 4) : NULL;
	uint64_t done = 0;
	if (ksplit && !acc) {
		err = qmx_fail(QMX_ENOMEM, "qmx_gemm_tiled: out of memory");
		goto out;
	}
	if ((err = tile_bufs_new(dev, len, &tb)))
		goto out;
	for (int64_t i0 = 0; i0 < p->m && !err; i0 += t) {
		for (int64_t j0 = 0; j0 < p->n && !err; j0 += t) {
			int64_t mt = p->m - i0 < t ? p->m - i0 : t;
			int64_t nt = p->n - j0 < t ? p->n - j0 : t;
			for (int64_t k0 = 0; k0 < p->k; k0 += tk) {
				int64_t kt = p->k - k0 < tk ? p->k - k0 : tk;
				qmx_gemm_params q = *p;
				q.m = mt, q.n = nt, q.k = kt, q.lda = kt, q.ldb = nt, q.ldc = nt;
				if (ksplit) {
					q.out_type = QMX_OUT_INT32;
					q.quant_mode = QMX_QUANT_PER_TENSOR;
					q.has_bias = 0;
				}
				int8_t *a = tb.host[TA], *b = tb.host[TB];
				for (int64_t i = 0; i < mt; i++)
					memcpy(a + i * kt, ops->a + (i0 + i) * p->lda + k0, (size_t)kt);
				for (int64_t k = 0; k < kt; k++)
					memcpy(b + k * nt, ops->b + (k0 + k) * p->ldb + j0, (size_t)nt);
				if (q.has_bias)
					memcpy(tb.host[TBIAS], ops->bias + j0, (size_t)nt * 4);
				if (len[TMULT]) {
					memcpy(tb.host[TMULT], ops->multipliers + j0, (size_t)nt * 4);
					memcpy(tb.host[TSHIFT], ops->shifts + j0, (size_t)nt * 4);
				}
				size_t lc = (size_t)(mt * nt) * (dev_i8 ? 1 : 4);
				qmx_job_stats st;
				if ((err = sync_to(&tb, TA, (size_t)(mt * kt))) ||
				    (err = sync_to(&tb, TB, (size_t)(kt * nt))) ||
				    (q.has_bias && (err = sync_to(&tb, TBIAS, (size_t)nt * 4))) ||
				    (err = sync_to(&tb, TMULT, len[TMULT] ? (size_t)nt * 4 : 0)) ||
				    (err = sync_to(&tb, TSHIFT, len[TSHIFT] ? (size_t)nt * 4 : 0)) ||
				    (err = run_tile(dev, &q, &tb, &st, progress, user, done, total)) ||
				    (err = qmx_buffer_sync(tb.buf[TC], QMX_SYNC_FROM_DEVICE, 0, lc)))
					goto out;
				qmx_job_stats_add(&sum, &st, done == 0);
				const void *c = tb.host[TC];
				for (int64_t i = 0; i < mt && !ksplit; i++) {
					size_t el = dev_i8 ? 1 : 4;
					memcpy((char *)ops->c + (size_t)((i0 + i) * p->ldc + j0) * el,
					       (const char *)c + (size_t)(i * nt) * el, (size_t)nt * el);
				}
				for (int64_t x = 0; ksplit && x < mt * nt; x++)
					acc[x] = k0 ? qmx_q_wrap_add(acc[x], ((const int32_t *)c)[x])
						    : ((const int32_t *)c)[x];
				done++;
				if (progress && progress(done, total, user)) {
					err = stopped();
					goto out;
				}
			}
			for (int64_t i = 0; ksplit && i < mt; i++) {
				for (int64_t j = 0; j < nt; j++) {
					int32_t v = acc[i * nt + j];
					int64_t jj = j0 + j, at = (i0 + i) * p->ldc + jj;
					if (p->has_bias)
						v = qmx_q_wrap_add(v, ops->bias[jj]);
					if (!i8) {
						((int32_t *)ops->c)[at] = v;
						continue;
					}
					((int8_t *)ops->c)[at] = qmx_q_requant(
						v, per_ch ? ops->multipliers[jj] : p->multiplier,
						per_ch ? ops->shifts[jj] : p->shift, p->c_zero_point,
						p->qmin, p->qmax);
				}
			}
		}
	}
	if (stats)
		*stats = sum;
out:
	for (int i = 0; i < 6; i++)
		qmx_buffer_del(tb.buf[i]);
	free(acc);
	return err;
}
