/* SPDX-License-Identifier: MIT */
/*
 * bench_kmod.c - round trip (submit -> done) of a tiny job, and jobs/s,
 * on one device: run it on "kmod" in the QEMU guest and on "sim" on the
 * host (tests/kernel/run_kernel_test.sh --mode bench prints both side by
 * side).  Results are checked bit-exact against the reference once, then
 * timed; nothing is asserted about time.
 *
 *   qmx_bench_kmod [--device URI] [--shape MxNxK] [--iters N] [--depth Q]
 *                  [--batch B] [--mmio-tty TTY]
 *
 * Also runs batches of B (default 64) GEMMs through qmx_batch_* (the
 * command queue on kmod and sim).  With --mmio-tty (the guest's line to
 * qmx-simd's control socket) it asks qmx-simd for its register-access
 * count ("stats") around the single jobs and around the batches, and prints
 * the register accesses per single job and per GEMM of a batch.
 *
 * Prints one line: "bench <uri> shape ... rt_median_us ... jobs_per_s ...
 * batch_gemm_us ... [mmio_per_job ... mmio_per_gemm_batch ...]".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qmx/qmx.h"
#include "qmx_util.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * qmx-simd's count of register accesses (the mailbox's reads and writes),
 * asked over its control line; -1 when it cannot be read.  The reply is
 * "ok ops N ... [reg_ops N]": "reg_ops" counts register reads and writes only,
 * "ops" every mailbox operation (TLB flushes of the cosim page table too).
 */
static int64_t simd_regs(const char *tty, const char **key)
{
	char buf[256];
	const char *at;

	if (!tty || qmx_util_simd_command(tty, "stats", buf, sizeof(buf)))
		return -1;
	if ((at = strstr(buf, " reg_ops ")))
		*key = "reg_ops";
	else if ((at = strstr(buf, " ops ")))
		*key = "ops";
	else
		return -1;
	return strtoll(strchr(at + 1, ' ') + 1, NULL, 10);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *uri = "kmod";
	int64_t m = 8, n = 8, k = 8;
	int iters = 200, depth = 8, batch = 64;
	const char *tty = NULL, *key = "reg_ops";
	int64_t regs0, regs1, regs2, single = -1, batched = -1;
	double batch_gemm_us = 0;
	int rounds;
	qmx_device *dev;
	qmx_buffer *ba, *bb, *bc[16];
	void *pa, *pb, *pc;
	qmx_gemm_desc d;
	qmx_problem prob;
	qmx_rng rng = { 20261127 };
	uint64_t *rt, t0, cycles = 0;
	char msg[160];
	int err;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--device"))
			uri = argv[i + 1];
		else if (!strcmp(argv[i], "--shape") &&
			 !qmx_parse_shape(argv[i + 1], &m, &n, &k))
			;
		else if (!strcmp(argv[i], "--iters"))
			iters = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--depth"))
			depth = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--batch"))
			batch = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--mmio-tty"))
			tty = argv[i + 1];
		else {
			fprintf(stderr, "usage: %s [--device URI] [--shape MxNxK] [--iters N] "
					"[--depth Q] [--batch B] [--mmio-tty TTY]\n", argv[0]);
			return 2;
		}
	}
	if (iters < 1 || depth < 1 || depth > 16 || batch < 1 || batch > 4096) {
		fprintf(stderr, "bench: --iters >= 1, --depth in [1, 16], --batch in [1, 4096]\n");
		return 2;
	}
	if ((err = qmx_device_open(uri, &dev))) {
		fprintf(stderr, "bench: open %s: %s\n", uri, qmx_last_error());
		return 1;
	}

	memset(&d, 0, sizeof(d));
	qmx_gemm_params_init(&d.params, m, n, k);
	if (qmx_problem_init(&prob, &d.params, &rng, QMX_FILL_RANDOM) ||
	    qmx_problem_compute_reference(&prob))
		return 1;
	err = qmx_buffer_new(dev, (size_t)(m * k), 0, &ba) ||
	      qmx_buffer_new(dev, (size_t)(k * n), 0, &bb) ||
	      qmx_buffer_map(ba, &pa) || qmx_buffer_map(bb, &pb);
	for (int q = 0; q < depth && !err; q++)
		err = qmx_buffer_new(dev, (size_t)(m * n) * 4, 0, &bc[q]);
	if (err) {
		fprintf(stderr, "bench: buffers: %s\n", qmx_last_error());
		return 1;
	}
	memcpy(pa, prob.a, (size_t)(m * k));
	memcpy(pb, prob.b, (size_t)(k * n));
	qmx_buffer_sync(ba, QMX_SYNC_TO_DEVICE, 0, (size_t)(m * k));
	qmx_buffer_sync(bb, QMX_SYNC_TO_DEVICE, 0, (size_t)(k * n));
	d.a = (qmx_ref){ ba, 0 };
	d.b = (qmx_ref){ bb, 0 };

	/* Round trip, one job at a time; the first result is checked. */
	rt = calloc((size_t)iters, sizeof(*rt));
	regs0 = simd_regs(tty, &key);
	for (int i = 0; i < iters; i++) {
		qmx_job *job;
		qmx_job_stats st;

		d.c = (qmx_ref){ bc[0], 0 };
		t0 = now_ns();
		if ((err = qmx_gemm_submit(dev, &d, &job)) || (err = qmx_job_wait(job, 60000000000ll))) {
			fprintf(stderr, "bench: job %d: %s\n", i, qmx_last_error());
			return 1;
		}
		rt[i] = now_ns() - t0;
		if (qmx_job_get_stats(job, &st) == 0)
			cycles = st.cycles;
		qmx_job_del(job);
		if (i == 0) {
			qmx_buffer_map(bc[0], &pc);
			qmx_buffer_sync(bc[0], QMX_SYNC_FROM_DEVICE, 0, prob.c_bytes);
			memcpy(prob.c, pc, prob.c_bytes);
			if (!qmx_problem_matches(&prob, msg, sizeof(msg))) {
				fprintf(stderr, "bench: %s not bit-exact: %s\n", uri, msg);
				return 1;
			}
		}
	}
	regs1 = simd_regs(tty, &key);
	rounds = iters / batch > 4 ? iters / batch : 4;
	qsort(rt, (size_t)iters, sizeof(*rt), cmp_u64);

	/* Batches of `batch` GEMMs (C of each at its own offset), checked
	 * once, then timed: wall time per GEMM and register accesses. */
	{
		qmx_buffer *cb;
		qmx_batch *b;
		uint64_t t;

		if (qmx_buffer_new(dev, prob.c_bytes * (size_t)batch, 0, &cb) ||
		    qmx_batch_create(dev, &b)) {
			fprintf(stderr, "bench: batch: %s\n", qmx_last_error());
			return 1;
		}
		for (int j = 0; j < batch; j++) {
			d.c = (qmx_ref){ cb, (uint64_t)j * prob.c_bytes };
			if (qmx_batch_add_gemm(b, &d, -1, NULL)) {
				fprintf(stderr, "bench: batch add: %s\n", qmx_last_error());
				return 1;
			}
		}
		if (regs0 >= 0 && regs1 >= 0)
			single = regs1 - regs0;
		regs1 = simd_regs(tty, &key);
		t = now_ns();
		for (int r = 0; r < rounds; r++) {
			if (qmx_batch_submit(b) || qmx_batch_wait(b, 600000)) {
				fprintf(stderr, "bench: batch of %d: %s\n", batch, qmx_last_error());
				return 1;
			}
			if (r == 0) {
				uint8_t *c;

				qmx_buffer_map(cb, (void **)&c);
				qmx_buffer_sync(cb, QMX_SYNC_FROM_DEVICE, 0, prob.c_bytes * (size_t)batch);
				for (int j = 0; j < batch; j++) {
					memcpy(prob.c, c + (size_t)j * prob.c_bytes, prob.c_bytes);
					if (!qmx_problem_matches(&prob, msg, sizeof(msg))) {
						fprintf(stderr, "bench: %s batch entry %d not bit-exact: %s\n",
							uri, j, msg);
						return 1;
					}
				}
			}
		}
		t = now_ns() - t;
		regs2 = simd_regs(tty, &key);
		batch_gemm_us = t / 1e3 / ((double)rounds * batch);
		if (regs1 >= 0 && regs2 >= 0)
			batched = regs2 - regs1;
		if (single >= 0 && batched >= 0)
			printf("mmio (%s counted by qmx-simd): %" PRId64 " over %d single jobs, %" PRId64
			       " over %d batches of %d\n", key, single, iters, batched, rounds,
			       batch);
		qmx_batch_destroy(b);
		qmx_buffer_del(cb);
	}

	/* Throughput with `depth` jobs in flight. */
	{
		qmx_job *jobs[16];
		int done = 0;
		uint64_t t = now_ns();

		while (done < iters) {
			int q = depth < iters - done ? depth : iters - done;

			for (int j = 0; j < q; j++) {
				d.c = (qmx_ref){ bc[j], 0 };
				if (qmx_gemm_submit(dev, &d, &jobs[j])) {
					fprintf(stderr, "bench: submit: %s\n", qmx_last_error());
					return 1;
				}
			}
			for (int j = 0; j < q; j++) {
				if (qmx_job_wait(jobs[j], 60000000000ll)) {
					fprintf(stderr, "bench: wait: %s\n", qmx_last_error());
					return 1;
				}
				qmx_job_del(jobs[j]);
			}
			done += q;
		}
		t = now_ns() - t;
		printf("bench %-6s shape %lldx%lldx%lld iters %d rt_median_us %.1f rt_p90_us %.1f "
		       "rt_min_us %.1f jobs_per_s_serial %.0f jobs_per_s_depth%d %.0f "
		       "device_cycles %llu batch %d batch_gemm_us %.1f",
		       uri, (long long)m, (long long)n, (long long)k, iters,
		       rt[iters / 2] / 1e3, rt[iters * 9 / 10] / 1e3, rt[0] / 1e3,
		       1e9 / (double)rt[iters / 2], depth,
		       1e9 * iters / (double)t, (unsigned long long)cycles, batch,
		       batch_gemm_us);
		if (single >= 0 && batched >= 0)
			printf(" mmio_per_job %.3f mmio_per_gemm_batch %.3f",
			       (double)single / iters, (double)batched / ((double)rounds * batch));
		printf("\n");
	}
	free(rt);
	for (int q = 0; q < depth; q++)
		qmx_buffer_del(bc[q]);
	qmx_buffer_del(ba);
	qmx_buffer_del(bb);
	qmx_problem_free(&prob);
	qmx_device_del(dev);
	return 0;
}
