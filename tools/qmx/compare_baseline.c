/* SPDX-License-Identifier: MIT */
/*
 * compare_baseline.c - `qmx compare` without --baseline: every CPU device this
 * build has (cpu, onednn) is checked for exactness and timed side by side on
 * the same problem; the fastest exact one becomes the baseline, so no
 * accelerator is compared against a slower CPU than the user already has.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "compare.h"
#include "qmx_util.h"

#define BASE_MAX 8
#define BASE_REPS 5

struct base_cand {
	qmx_device_info info;
	qmx_device *dev;
	bool exact;
	double secs; /* median wall time per call on the probe */
	char why[300];
};

static bool is_cpu_baseline(const qmx_device_info *info)
{
	return !strcmp(info->backend, "cpu") || !strcmp(info->backend, "onednn");
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Exact on a small problem with every quantization feature, vs the reference. */
static bool base_exact(struct base_cand *c)
{
	qmx_rng rng = { 0xBA5E };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_host_operands ops;

	qmx_gemm_params_init(&p, 61, 75, 301);
	p.out_type = QMX_OUT_INT8;
	p.quant_mode = QMX_QUANT_PER_CHANNEL;
	p.has_bias = 1;
	p.a_zero_point = -7;
	p.b_zero_point = 3;
	p.c_zero_point = 5;
	if (qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM) || qmx_problem_compute_reference(&pb)) {
		snprintf(c->why, sizeof(c->why), "out of memory");
		return false;
	}
	qmx_problem_operands(&pb, &ops, false);
	bool ok = !qmx_gemm(c->dev, &p, &ops, NULL);
	if (!ok)
		snprintf(c->why, sizeof(c->why), "%s", qmx_last_error());
	else if (!qmx_problem_matches(&pb, c->why, sizeof(c->why)))
		ok = false;
	qmx_problem_free(&pb);
	return ok;
}

int cmp_pick_baseline(const qmx_gemm_params *probe, char *out, size_t len, FILE *log)
{
	qmx_device_info infos[64];
	struct base_cand cand[BASE_MAX];
	size_t found = 0;
	int n = 0, err;

	if ((err = qmx_device_list(infos, 64, &found)))
		return err;
	for (size_t i = 0; i < found && i < 64 && n < BASE_MAX; i++) {
		if (!is_cpu_baseline(&infos[i]))
			continue;
		struct base_cand *c = &cand[n++];
		memset(c, 0, sizeof(*c));
		c->info = infos[i];
		if (qmx_device_open(infos[i].uri, &c->dev))
			snprintf(c->why, sizeof(c->why), "%s", qmx_last_error());
		else
			c->exact = base_exact(c);
	}

	/* Time the exact ones on the probe, repetitions interleaved so a change
	 * of load hits every device alike; each result checked against the
	 * first device's, bit for bit. */
	qmx_rng rng = { 0xBA5E1 };
	qmx_problem pb;
	if (qmx_problem_init(&pb, probe, &rng, QMX_FILL_RANDOM)) {
		err = QMX_ENOMEM;
		goto out;
	}
	qmx_gemm_host_operands ops;
	double t[BASE_MAX][BASE_REPS];
	int first = -1;
	for (int rep = -1; rep < BASE_REPS; rep++) { /* rep -1: warm-up */
		for (int i = 0; i < n; i++) {
			struct base_cand *c = &cand[i];
			if (!c->exact)
				continue;
			bool ref = first < 0 || first == i;
			qmx_problem_operands(&pb, &ops, ref);
			double t0 = now_s();
			if (qmx_gemm(c->dev, probe, &ops, NULL)) {
				c->exact = false;
				snprintf(c->why, sizeof(c->why), "%s", qmx_last_error());
				continue;
			}
			if (rep >= 0)
				t[i][rep] = now_s() - t0;
			if (first < 0)
				first = i;
			else if (!ref && rep < 0 && !qmx_problem_matches(&pb, c->why, sizeof(c->why)))
				c->exact = false;
		}
	}
	qmx_problem_free(&pb);

	int best = -1, second = -1;
	for (int i = 0; i < n; i++) {
		if (!cand[i].exact)
			continue;
		qsort(t[i], BASE_REPS, sizeof(double), cmp_double);
		cand[i].secs = t[i][BASE_REPS / 2];
		if (best < 0 || cand[i].secs < cand[best].secs) {
			second = best;
			best = i;
		} else if (second < 0 || cand[i].secs < cand[second].secs) {
			second = i;
		}
	}
	double ops_n = 2.0 * (double)probe->m * (double)probe->n * (double)probe->k;
	fprintf(log, "CPU baseline: the fastest exact CPU device on %lldx%lldx%lld int8 (median of %d, wall):\n",
	       (long long)probe->m, (long long)probe->n, (long long)probe->k, BASE_REPS);
	for (int i = 0; i < n; i++) {
		const struct base_cand *c = &cand[i];
		if (c->exact)
			fprintf(log, "  %-10s %8.1f GOP/s  %s\n", c->info.uri, ops_n / c->secs * 1e-9,
			       i == best ? "<- baseline" : i == second ? "runner-up" : "");
		else
			fprintf(log, "  %-10s not used: %s\n", c->info.uri, c->why);
	}
	if (best < 0) {
		fprintf(stderr, "qmx: no exact CPU device to use as the baseline\n");
		err = QMX_ENODEV;
		goto out;
	}
	if (second >= 0)
		fprintf(log, "baseline %s, %.2fx the runner-up %s\n", cand[best].info.uri,
		       cand[second].secs / cand[best].secs, cand[second].info.uri);
	else
		fprintf(log, "baseline %s (no runner-up: the only exact CPU device)\n", cand[best].info.uri);
	snprintf(out, len, "%s", cand[best].info.uri);
	err = 0;
out:
	for (int i = 0; i < n; i++)
		qmx_device_del(cand[i].dev);
	return err;
}
