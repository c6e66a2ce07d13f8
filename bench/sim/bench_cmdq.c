/* SPDX-License-Identifier: MIT */
/*
 * bench_cmdq.c - qmx-bench-cmdq: register (AXI-Lite) accesses and host time
 * per GEMM on the in-process Verilator model, register path (AP_START, the
 * argument registers, ERROR and counters read back) against the command
 * queue (descriptors in memory, CQ_TAIL doorbell, ISR.CQ acknowledge,
 * records read from memory), for one job and for a batch of 64.  All in one
 * run, side by side; every C is checked against the CPU reference (exit 1 if
 * one differs).  Figures only, nothing asserts a time.
 *
 *   qmx-bench-cmdq [--size S] [--batch N] [--reps R]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cmdq_test_util.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t accesses(qmxsim *sim)
{
	struct qmxsim_reg_stats st;
	qmxsim_reg_stats(sim, &st);
	return st.reads + st.writes;
}

static int check(struct cqt_job *j, struct cqt_arena *a, const char *what)
{
	char msg[200];
	cqt_job_collect(j, a);
	if (qmx_problem_matches(&j->pb, msg, sizeof(msg)))
		return 0;
	fprintf(stderr, "qmx-bench-cmdq: %s: %s\n", what, msg);
	return 1;
}

struct figure {
	uint64_t regs, cycles, jobs, model; /* model: cycles clocked, all in */
	double wall;
};

static void print_row(const char *name, const struct figure *f)
{
	printf("%-28s %6" PRIu64 " %10.2f %12.1f %12.1f %12.1f\n", name, f->jobs,
	       (double)f->regs / (double)f->jobs, (double)f->cycles / (double)f->jobs,
	       (double)f->model / (double)f->jobs, 1e6 * f->wall / (double)f->jobs);
}

int main(int argc, char **argv)
{
	int64_t size = 8;
	int batch = 64, reps = 4, bad = 0;
	static const struct option opts[] = { { "size", required_argument, NULL, 's' },
					      { "batch", required_argument, NULL, 'b' },
					      { "reps", required_argument, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c == 's')
			size = atoll(optarg);
		else if (c == 'b')
			batch = atoi(optarg);
		else if (c == 'r')
			reps = atoi(optarg);
		else
			return 2;
	}
	if (size < 1 || size > 256 || batch < 1 || batch > 255 || reps < 1) {
		fprintf(stderr, "qmx-bench-cmdq: --size 1..256, --batch 1..255, --reps >= 1\n");
		return 2;
	}
	uint64_t seed = qmx_util_seed(0xBE11C0DEu);
	struct qmxsim_config cfg;
	qmxsim *sim;
	struct cqt_arena arena;
	struct cqt_ring ring;
	qmx_rng rng = { seed };

	qmxsim_config_default(&cfg);
	if (qmxsim_new(&cfg, &sim) || cqt_arena_init(&arena, sim, 256ull << 20) ||
	    cqt_ring_init(&ring, sim, &arena, 256, (uint32_t)(reps * (batch + 1)))) {
		fprintf(stderr, "qmx-bench-cmdq: %s\n", qmxsim_last_error());
		return 1;
	}
	struct cqt_job *j = calloc((size_t)batch, sizeof(*j));
	for (int i = 0; i < batch; i++) {
		qmx_gemm_params p;
		qmx_gemm_params_init(&p, size, size, size);
		qmx_problem_random_quant(&p, &rng);
		if (qmx_problem_init(&j[i].pb, &p, &rng, QMX_FILL_RANDOM) ||
		    qmx_problem_compute_reference(&j[i].pb) || cqt_job_place(&j[i], &arena))
			return 1;
	}

	struct figure reg = { 0 }, one = { 0 }, many = { 0 };
	/* register path, as the sim backend and the driver did per job */
	for (int r = 0; r < reps; r++) {
		struct qmx_jobprog_counters c0, c1, d;
		uint64_t a0 = accesses(sim);
		uint64_t m0 = qmxsim_cycle(sim);
		double t0 = now_s();
		qmx_jobprog_read_counters(simt_rd, sim, &c0);
		qmx_jobprog_write_gemm(&j[0].g, simt_wr, sim);
		qmx_jobprog_start(simt_rd, simt_wr, sim, 1);
		if (qmxsim_run(sim, 100000000ull, NULL) != QMXSIM_RUN_IRQ)
			return 1;
		(void)qmxsim_read32(sim, QMX_REG_ERROR);
		qmx_jobprog_read_counters(simt_rd, sim, &c1);
		(void)qmxsim_read32(sim, QMX_REG_CTRL);
		qmx_jobprog_ack(simt_rd, simt_wr, sim);
		reg.wall += now_s() - t0;
		reg.model += qmxsim_cycle(sim) - m0;
		reg.regs += accesses(sim) - a0;
		qmx_jobprog_counters_delta(&c0, &c1, &d);
		reg.cycles += d.busy_cycles;
		reg.jobs++;
		bad |= check(&j[0], &arena, "register path");
	}
	if (qmxsim_read32(sim, QMX_REG_ERROR) ||
	    (cqt_ring_enable(&ring, 255) & QMX_CQ_STATUS_BAD_CONFIG))
		return 1;
	uint32_t seq = 0;
	/* one queued job per doorbell */
	for (int r = 0; r < reps; r++) {
		struct qmx_cq_desc d;
		uint64_t a0 = accesses(sim);
		uint64_t m0 = qmxsim_cycle(sim);
		double t0 = now_s();
		qmx_jobprog_cq_desc(&j[0].g, ++seq, 0, &d);
		cqt_ring_push(&ring, &d);
		cqt_ring_doorbell(&ring);
		if (cqt_ring_wait(&ring, ring.tail, 100000000ull))
			return 1;
		one.wall += now_s() - t0;
		one.model += qmxsim_cycle(sim) - m0;
		one.regs += accesses(sim) - a0;
		one.cycles += ring.log[ring.head - 1].busy_cycles;
		one.jobs++;
		bad |= check(&j[0], &arena, "queued job");
	}
	/* a batch per doorbell */
	for (int r = 0; r < reps; r++) {
		uint64_t a0 = accesses(sim);
		uint32_t first = ring.head;
		uint64_t m0 = qmxsim_cycle(sim);
		double t0 = now_s();
		for (int i = 0; i < batch; i++) {
			struct qmx_cq_desc d;
			qmx_jobprog_cq_desc(&j[i].g, ++seq, 0, &d);
			cqt_ring_push(&ring, &d);
		}
		cqt_ring_doorbell(&ring);
		if (cqt_ring_wait(&ring, ring.tail, 1000000000ull))
			return 1;
		many.wall += now_s() - t0;
		many.model += qmxsim_cycle(sim) - m0;
		many.regs += accesses(sim) - a0;
		for (uint32_t i = first; i < ring.head; i++)
			many.cycles += ring.log[i].busy_cycles;
		many.jobs += (uint64_t)batch;
		for (int i = 0; i < batch; i++)
			bad |= check(&j[i], &arena, "batch");
	}
	printf("qmx-bench-cmdq: %" PRId64 "x%" PRId64 "x%" PRId64 " int GEMMs on the 8x8 model, "
	       "in-process (libqmxsim), seed %" PRIu64 "\n", size, size, size, seed);
	printf("%-28s %6s %10s %12s %12s %12s\n", "path", "jobs", "regs/job", "busy cyc/job",
	       "model cyc/job", "host us/job");
	print_row("register path (AP_START)", &reg);
	print_row("queue, 1 job per doorbell", &one);
	char name[40];
	snprintf(name, sizeof(name), "queue, batch of %d", batch);
	print_row(name, &many);
	printf("register accesses: %.1fx fewer for one job, %.1fx fewer per GEMM in a batch "
	       "(targets: <= 4 per job, <= 0.5 per GEMM in a batch of 64)\n",
	       (double)reg.regs / (double)one.regs,
	       ((double)reg.regs / (double)reg.jobs) / ((double)many.regs / (double)many.jobs));
	for (int i = 0; i < batch; i++)
		qmx_problem_free(&j[i].pb);
	free(j);
	free(ring.log);
	cqt_arena_free(&arena, sim);
	qmxsim_del(sim);
	return bad;
}
