/* SPDX-License-Identifier: MIT */
/*
 * weights.c - pre-packed weights: pack B once, reuse it across GEMMs, repack
 * after an explicit invalidation.  Backends that pack (the ops table's
 * weights_pack / gemm_weights) keep the packed form; for the others the
 * handle is B itself and GEMMs go through qmx_gemm().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"

static bool weights_packs(const qmx_weights *w)
{
	return w->dev->ops->weights_pack && w->dev->ops->gemm_weights;
}

QMX_API int qmx_weights_new(qmx_device *dev, const int8_t *b, int64_t k, int64_t n,
			    int64_t ldb, qmx_weights **out)
{
	int err;

	if (!out)
		return qmx_fail(QMX_EINVAL, "qmx_weights_new: out is NULL");
	*out = NULL;
	if (!dev || !b)
		return qmx_fail(QMX_EINVAL, "qmx_weights_new: %s is NULL", !dev ? "dev" : "b");
	/* The shape checks of a GEMM with these weights (M = 1 stands in). */
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, 1, n, k);
	p.ldb = ldb;
	if ((err = qmx_gemm_params_check(&p))) {
		char why[200];
		snprintf(why, sizeof(why), "%s", qmx_last_error());
		return qmx_fail(err, "qmx_weights_new: %s", why);
	}
	if ((uint64_t)k > dev->info.max_dim || (uint64_t)n > dev->info.max_dim ||
	    (uint64_t)ldb > dev->info.max_dim)
		return qmx_fail(QMX_EINVAL,
				"qmx_weights_new: k (%lld), n (%lld) and ldb (%lld) must be <= the device's max_dim (%llu)",
				(long long)k, (long long)n, (long long)ldb,
				(unsigned long long)dev->info.max_dim);
	qmx_weights *w = calloc(1, sizeof(*w));
	if (!w)
		return qmx_fail(QMX_ENOMEM, "qmx_weights_new: out of memory");
	w->dev = qmx_device_ref(dev);
	w->b = b;
	w->k = k;
	w->n = n;
	w->ldb = ldb;
	pthread_mutex_init(&w->lock, NULL);
	if (weights_packs(w) && (err = dev->ops->weights_pack(dev, w))) {
		qmx_weights_del(w);
		return err;
	}
	*out = w;
	qmx_clear_error();
	return 0;
}

QMX_API int qmx_weights_invalidate(qmx_weights *w)
{
	if (!w)
		return qmx_fail(QMX_EINVAL, "qmx_weights_invalidate: w is NULL");
	pthread_mutex_lock(&w->lock);
	w->stale = true;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

QMX_API void qmx_weights_del(qmx_weights *w)
{
	if (!w)
		return;
	if (w->priv && w->dev->ops->weights_free)
		w->dev->ops->weights_free(w->dev, w);
	pthread_mutex_destroy(&w->lock);
	qmx_device_del(w->dev);
	free(w);
}

QMX_API int qmx_weights_gemm(qmx_weights *w, const qmx_gemm_params *p,
			     const qmx_gemm_host_operands *ops, qmx_job_stats *stats)
{
	int err;

	if (!w || !p || !ops)
		return qmx_fail(QMX_EINVAL, "qmx_weights_gemm: %s is NULL",
				!w ? "w" : !p ? "p" : "ops");
	if (p->k != w->k || p->n != w->n)
		return qmx_fail(QMX_EINVAL,
				"qmx_weights_gemm: p->%s (%lld) != the weights' %s (%lld)",
				p->k != w->k ? "k" : "n", (long long)(p->k != w->k ? p->k : p->n),
				p->k != w->k ? "k" : "n", (long long)(p->k != w->k ? w->k : w->n));
	qmx_gemm_params q = *p;
	qmx_gemm_host_operands o = *ops;
	q.ldb = w->ldb;
	o.b = w->b;
	if (!weights_packs(w))
		return qmx_gemm(w->dev, &q, &o, stats);
	if ((err = qmx_gemm_params_check(&q)) ||
	    (err = qmx_gemm_host_operands_check("qmx_weights_gemm", &q, &o)))
		return err;
	pthread_mutex_lock(&w->lock);
	if (w->stale) {
		err = w->dev->ops->weights_pack(w->dev, w);
		w->stale = err != 0;
	}
	pthread_mutex_unlock(&w->lock);
	if (err)
		return err;
	qmx_job_stats local;
	memset(&local, 0, sizeof(local));
	err = w->dev->ops->gemm_weights(w->dev, &q, &o, w, &local);
	if (!err && stats)
		*stats = local;
	if (!err)
		qmx_clear_error();
	return err;
}
