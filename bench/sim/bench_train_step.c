/* SPDX-License-Identifier: MIT */
/*
 * bench_train_step.c - qmx-bench-train-step: the host time a training step
 * spends outside the device's busy time, per GEMM against as one batch.
 *
 *   qmx-bench-train-step [--device URI] [--workload NAME] [--steps N]
 *
 * The step is a `qmx compare` workload (default mlp-train-step: the forward
 * of a 784-128-10 MLP at batch 64, the hidden layer's input gradient and
 * both weight gradients).  It runs three ways in one process, each `steps`
 * times after one warm-up step, all results checked bit for bit against
 * qmx_gemm_reference():
 *
 *   per GEMM, staged   qmx_gemm() on host arrays per GEMM (copies in and out,
 *                      as `qmx compare` runs a layer)
 *   per GEMM, resident operands in device buffers, qmx_gemm_submit + wait
 *   one batch          the same GEMMs as one qmx_batch, each waiting for the
 *                      one before (the forward chain feeds layer 2 from
 *                      layer 1's int8 output)
 *
 * How measured: step wall time on CLOCK_MONOTONIC; the device's busy time
 * is the jobs' device_ns (cycles at the device's clock); on a simulated
 * device the host time spent simulating (the jobs' sim_wall_ns) stands for
 * the device and is not the host's, so
 *
 *   host outside device = wall - sim_wall        (the runtime's own time)
 *   step (system)       = host outside + device busy
 *   share               = host outside / step    (target: <= 20 %)
 *
 * and the same from CPU time (process CPU time - the simulator's CPU time),
 * which other load on the machine does not inflate.
 * Medians over the steps.  No time is asserted; exit 1 only on a wrong result.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compare.h"
#include "qmx/qmx.h"
#include "qmx_util.h"

#define MAX_STEPS 1000

struct gemm_io {
	qmx_problem pb;
	qmx_buffer *a, *b, *c, *bias;
};

struct sample {
	double wall_ns, sim_ns, dev_ns, cpu_ns, sim_cpu_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static qmx_buffer *upload(qmx_device *dev, const void *src, size_t len)
{
	qmx_buffer *b;
	void *host;
	if (qmx_buffer_new(dev, len, 0, &b) || qmx_buffer_map(b, &host))
		return NULL;
	if (src) {
		memcpy(host, src, len);
		qmx_buffer_sync(b, QMX_SYNC_TO_DEVICE, 0, len);
	}
	return b;
}

static void add_stats(struct sample *s, const qmx_job_stats *st)
{
	s->sim_ns += (double)st->sim_wall_ns;
	s->sim_cpu_ns += (double)st->sim_cpu_ns;
	s->dev_ns += (double)st->device_ns;
}

static bool check(struct gemm_io *g, const void *got, const char *mode, int l)
{
	char msg[160];
	if (got != g->pb.c)
		memcpy(g->pb.c, got, g->pb.c_bytes);
	if (qmx_problem_matches(&g->pb, msg, sizeof(msg)))
		return true;
	fprintf(stderr, "%s, GEMM %d: not bit-exact: %s\n", mode, l, msg);
	return false;
}

enum mode { STAGED, RESIDENT, BATCH, N_MODES };
static const char *const mode_name[N_MODES] = { "per GEMM, staged (qmx_gemm)",
						"per GEMM, resident (submit + wait)",
						"one batch (qmx_batch)" };

/* One step in `mode`; fills *s.  Returns false on a wrong result or error. */
static bool run_step(qmx_device *dev, enum mode mode, struct gemm_io *g, int n, qmx_batch *batch,
		     bool verify, struct sample *s)
{
	qmx_job_stats st;
	memset(s, 0, sizeof(*s));
	uint64_t t0 = now_ns(), c0 = cpu_now_ns();
	if (mode == STAGED) {
		for (int l = 0; l < n; l++) {
			qmx_gemm_host_operands ops;
			qmx_problem_operands(&g[l].pb, &ops, false);
			if (qmx_gemm(dev, &g[l].pb.p, &ops, &st))
				goto fail;
			add_stats(s, &st);
		}
	} else if (mode == RESIDENT) {
		for (int l = 0; l < n; l++) {
			qmx_job *job;
			qmx_gemm_desc d = { .params = g[l].pb.p, .a = { g[l].a, 0 },
					    .b = { g[l].b, 0 }, .c = { g[l].c, 0 },
					    .bias = { g[l].bias, 0 } };
			if (qmx_gemm_submit(dev, &d, &job))
				goto fail;
			int err = qmx_job_wait(job, 600LL * 1000000000LL);
			if (!err)
				err = qmx_job_get_stats(job, &st);
			qmx_job_del(job);
			if (err)
				goto fail;
			add_stats(s, &st);
		}
	} else {
		if (qmx_batch_submit(batch) || qmx_batch_wait(batch, 600LL * 1000))
			goto fail;
		for (int l = 0; l < n; l++) {
			int status;
			if (qmx_batch_entry_status(batch, (uint32_t)l, &status, &st) || status)
				goto fail;
			add_stats(s, &st);
		}
	}
	s->wall_ns = (double)(now_ns() - t0);
	s->cpu_ns = (double)(cpu_now_ns() - c0);
	bool ok = true;
	for (int l = 0; verify && l < n; l++) {
		void *host = g[l].pb.c; /* staged: qmx_gemm wrote it there */
		if (mode != STAGED) {
			qmx_buffer_sync(g[l].c, QMX_SYNC_FROM_DEVICE, 0, g[l].pb.c_bytes);
			qmx_buffer_map(g[l].c, &host);
		}
		ok = check(&g[l], host, mode_name[mode], l) && ok;
	}
	return ok;
fail:
	fprintf(stderr, "%s: %s\n", mode_name[mode], qmx_last_error());
	return false;
}

int main(int argc, char **argv)
{
	const char *uri = "sim", *wname = "mlp-train-step";
	int steps = 5;
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "workload", required_argument, NULL, 'w' },
		{ "steps", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd') {
			uri = optarg;
		} else if (c == 'w') {
			wname = optarg;
		} else if (c == 's') {
			steps = atoi(optarg);
		} else {
			fprintf(c == 'h' ? stdout : stderr,
				"usage: %s [--device URI] [--workload NAME] [--steps 1..%d]\n",
				argv[0], MAX_STEPS);
			return c == 'h' ? 0 : 2;
		}
	}
	if (steps < 1 || steps > MAX_STEPS) {
		fprintf(stderr, "--steps (%d) must be in [1, %d]\n", steps, MAX_STEPS);
		return 2;
	}
	struct cmp_workload w;
	if (cmp_workloads_parse("qmx-bench-train-step", wname, &w, 1) != 1)
		return 2;
	qmx_device *dev;
	qmx_device_info info;
	if (qmx_device_open(uri, &dev)) {
		fprintf(stderr, "cannot open %s: %s\n", uri, qmx_last_error());
		return 2;
	}
	qmx_device_query(dev, &info);

	/* int8 layers with bias where the device has them (as qmx compare);
	 * the forward chain: GEMM 1 reads GEMM 0's output as its A. */
	const int n = w.n_layers;
	struct gemm_io g[CMP_MAX_LAYERS];
	qmx_rng rng = { 20261203 };
	bool i8 = (info.features & QMX_FEATURE_INT8_OUT) != 0;
	for (int l = 0; l < n; l++) {
		qmx_gemm_params p;
		qmx_gemm_params_init(&p, w.layers[l].m, w.layers[l].n, w.layers[l].k);
		p.out_type = i8 ? QMX_OUT_INT8 : QMX_OUT_INT32;
		p.has_bias = (info.features & QMX_FEATURE_BIAS) != 0;
		p.a_zero_point = 3;
		qmx_quantize_multiplier(1.0 / (16.0 * (double)p.k), &p.multiplier, &p.shift);
		if (qmx_problem_init(&g[l].pb, &p, &rng, QMX_FILL_RANDOM))
			return 2;
	}
	bool chain = n > 1 && i8 && g[1].pb.p.k == g[0].pb.p.n && g[1].pb.p.m == g[0].pb.p.m;
	for (int l = 0; l < n; l++) {
		const qmx_gemm_params *p = &g[l].pb.p;
		g[l].a = chain && l == 1 ? NULL : upload(dev, g[l].pb.a, (size_t)(p->m * p->k));
		g[l].b = upload(dev, g[l].pb.b, (size_t)(p->k * p->n));
		g[l].c = upload(dev, NULL, g[l].pb.c_bytes);
		g[l].bias = p->has_bias ? upload(dev, g[l].pb.bias, (size_t)p->n * 4) : NULL;
	}
	if (chain) { /* the reference of layer 2 reads layer 1's reference output */
		g[1].a = g[0].c;
		qmx_problem_compute_reference(&g[0].pb);
		memcpy(g[1].pb.a, g[0].pb.c_ref, g[0].pb.c_bytes);
	}
	for (int l = 0; l < n; l++)
		qmx_problem_compute_reference(&g[l].pb);
	qmx_batch *batch;
	if (qmx_batch_create(dev, &batch))
		return 2;
	for (int l = 0; l < n; l++) {
		qmx_gemm_desc d = { .params = g[l].pb.p, .a = { g[l].a, 0 }, .b = { g[l].b, 0 },
				    .c = { g[l].c, 0 }, .bias = { g[l].bias, 0 } };
		if (qmx_batch_add_gemm(batch, &d, l - 1, NULL)) {
			fprintf(stderr, "batch: %s\n", qmx_last_error());
			return 2;
		}
	}

	char cpu[128] = "unknown";
	qmx_util_cpu_model(cpu, sizeof(cpu));
	printf("qmx-bench-train-step: %s (%s) on %s (%s), CPU %s, %d steps after 1 warm-up\n",
	       w.name, w.what, info.uri, info.name, cpu, steps);
	printf("host outside device = wall - simulator's wall; step = host outside + device busy\n\n");
	printf("| mode | jobs/step | wall ms | simulating ms | device busy ms | host outside ms | host share of step | host outside, CPU time ms | host share, CPU time |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	bool ok = true;
	double host_med[N_MODES];
	for (int m = 0; m < N_MODES; m++) {
		static double wall[MAX_STEPS], sim[MAX_STEPS], devt[MAX_STEPS], host[MAX_STEPS];
		static double hcpu[MAX_STEPS];
		struct sample s;
		ok = run_step(dev, (enum mode)m, g, n, batch, true, &s) && ok; /* warm-up, checked */
		for (int i = 0; i < steps; i++) {
			ok = run_step(dev, (enum mode)m, g, n, batch, i == steps - 1, &s) && ok;
			wall[i] = s.wall_ns;
			sim[i] = s.sim_ns;
			devt[i] = s.dev_ns;
			host[i] = s.wall_ns - s.sim_ns;
			hcpu[i] = s.cpu_ns - s.sim_cpu_ns;
		}
		double hm = median(host, steps), dm = median(devt, steps), cm = median(hcpu, steps);
		host_med[m] = hm;
		printf("| %s | %d | %.3f | %.3f | %.3f | %.3f | %.1f %% | %.3f | %.1f %% |\n",
		       mode_name[m], m == BATCH ? 1 : n, median(wall, steps) * 1e-6,
		       median(sim, steps) * 1e-6, dm * 1e-6, hm * 1e-6, 100.0 * hm / (hm + dm),
		       cm * 1e-6, 100.0 * cm / (cm + dm));
	}
	printf("\nhost time outside the device, per GEMM staged / one batch: %.2fx\n",
	       host_med[BATCH] > 0 ? host_med[STAGED] / host_med[BATCH] : 0.0);
	qmx_batch_destroy(batch);
	for (int l = 0; l < n; l++) {
		if (!(chain && l == 1))
			qmx_buffer_del(g[l].a);
		qmx_buffer_del(g[l].b);
		qmx_buffer_del(g[l].c);
		qmx_buffer_del(g[l].bias);
		qmx_problem_free(&g[l].pb);
	}
	qmx_device_del(dev);
	return ok ? 0 : 1;
}
