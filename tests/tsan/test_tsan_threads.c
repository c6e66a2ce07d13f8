/* SPDX-License-Identifier: MIT */
/*
 * test_tsan_threads.c - many threads, shared devices, async jobs, under
 * ThreadSanitizer (tests/tsan/CMakeLists.txt).
 *
 *   test_tsan_threads [--devices sim,cpu] [--threads 8] [--rounds R]
 *
 * Each thread, with its own seeded generator (QMX_TEST_SEED), submits
 * batches of three jobs of random shape and quantization, alternating
 * between the shared devices, with buffers made and freed on the fly; then
 * waits for them in turn and checks every output bit for bit against the
 * shared cpu-ref device.  TSan halts on the first race it sees.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_util.h"

#define MAX_DEVICES 4
#define MAX_THREADS 64
#define BATCH 3

static qmx_device *devs[MAX_DEVICES], *ref;
static int ndevs, rounds = 12;
static uint64_t seed;
static atomic_int failures, jobs_done;

#define FAIL(...)                                          \
	do {                                               \
		fprintf(stderr, "FAIL: " __VA_ARGS__);     \
		fputc('\n', stderr);                       \
		atomic_fetch_add(&failures, 1);            \
	} while (0)

struct slot {
	qmx_problem pb;
	qmx_device *dev;
	qmx_buffer *buf[6];
	qmx_job *job;
};

/* Stage one problem in buffers of `s->dev` and submit it. */
static int submit(struct slot *s)
{
	const qmx_gemm_params *p = &s->pb.p;
	qmx_gemm_host_operands ops;
	bool pc = p->out_type == QMX_OUT_INT8 && p->quant_mode == QMX_QUANT_PER_CHANNEL;
	qmx_problem_operands(&s->pb, &ops, false);
	/* C too: its gaps between rows hold the sentinel that must survive. */
	const void *src[6] = { ops.a, ops.b, ops.c, p->has_bias ? ops.bias : NULL,
			       pc ? ops.multipliers : NULL, pc ? ops.shifts : NULL };
	size_t len[6] = { (size_t)((p->m - 1) * p->lda + p->k),
			  (size_t)((p->k - 1) * p->ldb + p->n), s->pb.c_bytes,
			  (size_t)p->n * 4, (size_t)p->n * 4, (size_t)p->n * 4 };
	qmx_gemm_desc d;
	memset(&d, 0, sizeof(d));
	d.params = *p;
	qmx_ref *refs[6] = { &d.a, &d.b, &d.c, &d.bias, &d.multipliers, &d.shifts };
	for (int i = 0; i < 6; i++) {
		void *h;
		if (!src[i])
			continue;
		if (qmx_buffer_new(s->dev, len[i], 0, &s->buf[i]) ||
		    qmx_buffer_map(s->buf[i], &h))
			return -1;
		memcpy(h, src[i], len[i]);
		if (qmx_buffer_sync(s->buf[i], QMX_SYNC_TO_DEVICE, 0, len[i]))
			return -1;
		*refs[i] = (qmx_ref){ s->buf[i], 0 };
	}
	return qmx_gemm_submit(s->dev, &d, &s->job);
}

static void finish(struct slot *s, int thread)
{
	const qmx_gemm_params *p = &s->pb.p;
	qmx_job_stats st;
	qmx_gemm_host_operands ops;
	qmx_device_info info;
	void *h;
	char msg[200];

	qmx_device_query(s->dev, &info);
	if (qmx_job_wait(s->job, 300LL * 1000000000LL) || qmx_job_get_stats(s->job, &st) ||
	    qmx_buffer_sync(s->buf[2], QMX_SYNC_FROM_DEVICE, 0, s->pb.c_bytes) ||
	    qmx_buffer_map(s->buf[2], &h)) {
		FAIL("thread %d on %s: %s", thread, info.uri, qmx_last_error());
		return;
	}
	memcpy(s->pb.c, h, s->pb.c_bytes);
	if (st.macs != (uint64_t)p->m * (uint64_t)p->n * (uint64_t)p->k)
		FAIL("thread %d on %s: macs %" PRIu64, thread, info.uri, st.macs);
	/* The reference: the shared cpu-ref device. */
	qmx_problem_operands(&s->pb, &ops, true);
	if (qmx_gemm(ref, p, &ops, NULL))
		FAIL("thread %d: cpu-ref: %s", thread, qmx_last_error());
	else if (!qmx_problem_matches(&s->pb, msg, sizeof(msg)))
		FAIL("thread %d on %s: %lldx%lldx%lld out %s: %s", thread, info.uri,
		     (long long)p->m, (long long)p->n, (long long)p->k,
		     p->out_type == QMX_OUT_INT8 ? "int8" : "int32", msg);
	atomic_fetch_add(&jobs_done, 1);
}

static void release(struct slot *s)
{
	qmx_job_del(s->job);
	for (int i = 0; i < 6; i++)
		qmx_buffer_del(s->buf[i]);
	qmx_problem_free(&s->pb);
	memset(s, 0, sizeof(*s));
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	qmx_rng rng = { seed + (uint64_t)t * 0x9E3779B97F4A7C15ull };
	struct slot slots[BATCH];

	memset(slots, 0, sizeof(slots));
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < BATCH; i++) {
			struct slot *s = &slots[i];
			qmx_gemm_params p;
			qmx_gemm_params_init(&p, qmx_rng_range(&rng, 1, 20),
					     qmx_rng_range(&rng, 1, 20), qmx_rng_range(&rng, 1, 40));
			p.lda = p.k + qmx_rng_range(&rng, 0, 3);
			p.ldb = p.n + qmx_rng_range(&rng, 0, 3);
			p.ldc = p.n + qmx_rng_range(&rng, 0, 3);
			qmx_problem_random_quant(&p, &rng);
			s->dev = devs[(t + r + i) % ndevs];
			if (qmx_problem_init(&s->pb, &p, &rng, QMX_FILL_RANDOM) || submit(s)) {
				FAIL("thread %d: submit: %s", t, qmx_last_error());
				s->job = NULL;
			}
		}
		for (int i = 0; i < BATCH; i++) {
			if (slots[i].job)
				finish(&slots[i], t);
			release(&slots[i]);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char list[256] = "sim,cpu";
	int threads = 8;

	const char *group = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--devices") && i + 1 < argc)
			snprintf(list, sizeof(list), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--group") && i + 1 < argc)
			group = argv[++i];
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--devices URI,URI | --group GROUP-URI] [--threads N] [--rounds R]\n",
				argv[0]);
			return 2;
		}
	}
	if (threads < 1 || threads > MAX_THREADS || rounds < 1) {
		fprintf(stderr, "--threads must be in [1, %d], --rounds >= 1\n", MAX_THREADS);
		return 2;
	}
	seed = qmx_util_seed(20261127);
	printf("test_tsan_threads: %s %s, %d threads x %d rounds x %d jobs, seed %" PRIu64
	       " (QMX_TEST_SEED)\n", group ? "device group" : "devices", group ? group : list,
	       threads, rounds, BATCH, seed);
	if (group)
		snprintf(list, sizeof(list), "%s", group); /* one device, commas and all */
	for (char *save = NULL, *tok = strtok_r(list, group ? "" : ",", &save);
	     tok && ndevs < MAX_DEVICES; tok = strtok_r(NULL, group ? "" : ",", &save)) {
		if (qmx_device_open(tok, &devs[ndevs])) {
			fprintf(stderr, "FAIL: open %s: %s\n", tok, qmx_last_error());
			return 1;
		}
		ndevs++;
	}
	if (!ndevs || qmx_device_open("cpu-ref", &ref)) {
		fprintf(stderr, "FAIL: no device, or cpu-ref: %s\n", qmx_last_error());
		return 1;
	}
	pthread_t th[MAX_THREADS];
	for (int t = 0; t < threads; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t)) {
			fprintf(stderr, "FAIL: pthread_create\n");
			return 1;
		}
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < ndevs; i++)
		qmx_device_del(devs[i]);
	qmx_device_del(ref);
	int want = threads * rounds * BATCH;
	printf("test_tsan_threads: %d of %d jobs bit-exact, %d failure(s)\n",
	       atomic_load(&jobs_done), want, atomic_load(&failures));
	return atomic_load(&failures) || atomic_load(&jobs_done) != want;
}
