/* SPDX-License-Identifier: MIT */
/*
 * cpu_backend.c - the "cpu" (fast kernels) and "cpu-ref" (plain reference)
 * backends.  Buffers are host memory; a submitted job runs on its own worker
 * thread so qmx_gemm_submit() returns at once, as on an accelerator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "qmx_backend.h"

struct cpu_device {
	bool reference; /* cpu-ref: the plain reference kernel */
	unsigned threads;
	uint64_t max_dim; /* 0: the default; else jobs stand for a small device */
};

/* "cpu:N,max_dim=D" (both optional): split off ",max_dim=D" (or a lone
 * "max_dim=D"), leaving the thread count in `arg`. */
static int cpu_parse_max_dim(char *arg, uint64_t *max_dim)
{
	char *opt = strstr(arg, "max_dim=");
	char *end;

	*max_dim = 0;
	if (!opt)
		return 0;
	if (opt != arg && opt[-1] != ',')
		return qmx_fail(QMX_EINVAL, "cpu device: unknown argument '%s' (URI cpu[:N][,max_dim=D])",
				arg);
	unsigned long long d = strtoull(opt + 8, &end, 10);
	if (*end || d < 1 || d > 0x7FFFFFFF)
		return qmx_fail(QMX_EINVAL,
				"cpu device: max_dim '%s' must be a number in [1, 2147483647]",
				opt + 8);
	*max_dim = d;
	opt[opt == arg ? 0 : -1] = '\0';
	return 0;
}

static int cpu_parse_threads(const char *arg, unsigned *threads)
{
	char *end;
	long n;

	*threads = 0;
	if (!*arg) {
		const char *env = getenv("QMX_CPU_THREADS");
		if (!env || !*env)
			return 0;
		arg = env;
	}
	n = strtol(arg, &end, 10);
	if (*end || n < 1 || n > 1024)
		return qmx_fail(QMX_EINVAL,
				"cpu device: threads '%s' must be a number in [1, 1024] (URI cpu:N or QMX_CPU_THREADS)",
				arg);
	*threads = (unsigned)n;
	return 0;
}

static void cpu_fill_info(qmx_device_info *info, bool reference, unsigned threads)
{
	snprintf(info->name, sizeof(info->name), "%s",
		 reference ? "CPU reference (plain C, the definition)"
			   : "CPU int8 GEMM (fast kernels)");
	snprintf(info->detail, sizeof(info->detail), "isa=%s threads=%u",
		 reference ? "c" : qmx_cpu_isa(), threads);
	info->compute_units = threads;
	info->features = QMX_FEATURE_INT32_OUT | QMX_FEATURE_INT8_OUT |
			 QMX_FEATURE_PER_CHANNEL | QMX_FEATURE_BIAS;
	info->max_dim = 0x7FFFFFFF;
	info->max_k = 32768;
}

static int cpu_open_common(qmx_device *dev, const char *arg, bool reference)
{
	struct cpu_device *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return qmx_fail(QMX_ENOMEM, "cpu device: out of memory");
	char args[64];
	if (snprintf(args, sizeof(args), "%s", arg) >= (int)sizeof(args)) {
		free(cd);
		return qmx_fail(QMX_EINVAL, "cpu device: arguments '%.80s' longer than %zu characters",
				arg, sizeof(args) - 1);
	}
	int err = cpu_parse_max_dim(args, &cd->max_dim);
	if (!err)
		err = cpu_parse_threads(args, &cd->threads);
	if (err) {
		free(cd);
		return err;
	}
	cd->reference = reference;
	if (reference)
		cd->threads = 1;
	else if (!cd->threads)
		cd->threads = qmx_cpu_online_threads();
	cpu_fill_info(&dev->info, reference, cd->threads);
	if (cd->max_dim) {
		dev->info.max_dim = cd->max_dim;
		if (dev->info.max_k > cd->max_dim)
			dev->info.max_k = cd->max_dim;
	}
	dev->priv = cd;
	return 0;
}

static int cpu_open(qmx_device *dev, const char *arg)
{
	return cpu_open_common(dev, arg, false);
}

static int cpu_ref_open(qmx_device *dev, const char *arg)
{
	if (*arg)
		return qmx_fail(QMX_EINVAL, "cpu-ref device takes no argument (got '%s')", arg);
	return cpu_open_common(dev, arg, true);
}

static void cpu_close(qmx_device *dev)
{
	free(dev->priv);
}

/* arg: B packed by qmx_weights, or NULL. */
static int cpu_run(qmx_device *dev, const qmx_gemm_params *p,
		   const qmx_gemm_host_operands *ops, const void *arg, qmx_job_stats *st)
{
	struct cpu_device *cd = dev->priv;
	uint64_t t0 = qmx_now_ns();
	int err;

	if (cd->reference) {
		uint64_t c0 = qmx_thread_cpu_ns();
		err = qmx_gemm_reference(p, ops);
		st->cpu_ns = qmx_thread_cpu_ns() - c0;
		st->threads = 1;
	} else {
		struct qmx_cpu_run run = { .threads = cd->threads };
		err = qmx_cpu_gemm_fast(p, ops, arg, &run);
		st->cpu_ns = run.cpu_ns;
		st->threads = run.threads;
	}
	st->device_ns = qmx_now_ns() - t0;
	st->macs = (uint64_t)p->m * (uint64_t)p->n * (uint64_t)p->k;
	return err;
}

static int cpu_gemm_submit(qmx_device *dev, qmx_job *job)
{
	return qmx_host_gemm_submit(dev, job, cpu_run);
}

static int cpu_gemm_host(qmx_device *dev, const qmx_gemm_params *p,
			 const qmx_gemm_host_operands *ops, qmx_job_stats *stats)
{
	return qmx_host_gemm_sync(dev, p, ops, cpu_run, NULL, stats);
}

/* Pre-packed weights: B's micro-panels and column sums, packed once. */
static int cpu_weights_pack(qmx_device *dev, qmx_weights *w)
{
	struct qmx_cpu_packed_b *pb;
	(void)dev;
	int err = qmx_cpu_pack_b(w->b, (size_t)w->ldb, (size_t)w->k, (size_t)w->n, &pb);
	if (err)
		return err;
	qmx_cpu_packed_b_free(w->priv);
	w->priv = pb;
	return 0;
}

static void cpu_weights_free(qmx_device *dev, qmx_weights *w)
{
	(void)dev;
	qmx_cpu_packed_b_free(w->priv);
	w->priv = NULL;
}

static int cpu_gemm_weights(qmx_device *dev, const qmx_gemm_params *p,
			    const qmx_gemm_host_operands *ops, qmx_weights *w,
			    qmx_job_stats *stats)
{
	return qmx_host_gemm_sync(dev, p, ops, cpu_run, w->priv, stats);
}

static int cpu_enumerate(qmx_device_info *infos, size_t cap, size_t *count)
{
	if (cap >= 1) {
		memset(&infos[0], 0, sizeof(infos[0]));
		snprintf(infos[0].uri, sizeof(infos[0].uri), "cpu");
		snprintf(infos[0].backend, sizeof(infos[0].backend), "cpu");
		cpu_fill_info(&infos[0], false, qmx_cpu_online_threads());
	}
	if (cap >= 2) {
		memset(&infos[1], 0, sizeof(infos[1]));
		snprintf(infos[1].uri, sizeof(infos[1].uri), "cpu-ref");
		snprintf(infos[1].backend, sizeof(infos[1].backend), "cpu-ref");
		cpu_fill_info(&infos[1], true, 1);
	}
	*count = 2;
	return 0;
}

const struct qmx_backend_ops qmx_backend_cpu_ops = {
	.name = "cpu",
	.enumerate = cpu_enumerate,
	.open = cpu_open,
	.close = cpu_close,
	.gemm_submit = cpu_gemm_submit,
	.gemm_host = cpu_gemm_host,
	.weights_pack = cpu_weights_pack,
	.weights_free = cpu_weights_free,
	.gemm_weights = cpu_gemm_weights,
};

const struct qmx_backend_ops qmx_backend_cpu_ref_ops = {
	.name = "cpu-ref",
	.open = cpu_ref_open,
	.close = cpu_close,
	.gemm_submit = cpu_gemm_submit,
	.gemm_host = cpu_gemm_host,
};
