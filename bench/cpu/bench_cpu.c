/* SPDX-License-Identifier: MIT */
/*
 * bench_cpu.c - qmx-bench-cpu: our int8 GEMM (int32 output) against oneDNN's
 * dnnl_gemm_s8s8s32 and OpenBLAS cblas_sgemm on the same shapes, 1 and 2
 * threads, median of repeated runs, ratios side by side from one run.
 *
 * Ours runs with its best kernel and forced to AVX2; oneDNN with its best ISA
 * and capped at AVX2 (in a child process, as dnnl_set_max_cpu_isa() holds
 * once per process), so one column pair compares like with like.  Runs are
 * interleaved.  Exactness of each on extreme inputs (−128/127) is checked
 * against qmx_gemm_reference() and printed, not assumed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu_kernels.h"
#include "qmx_util.h"

#ifdef QMX_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include "onednn_backend.h"
#endif
#ifdef QMX_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

#define MAX_ROWS 64
#define MAX_SHAPES 16
#define CHILD_TIMEOUT_MS (5 * 60 * 1000) /* per reply of the oneDNN-avx2 child */

struct shape {
	int64_t m, n, k;
};

static const struct shape full_shapes[] = {
	{ 256, 256, 256 },    { 512, 512, 512 },   { 1024, 1024, 1024 },
	{ 2048, 2048, 2048 }, { 128, 768, 3072 },  { 128, 3072, 768 },
};
static const struct shape quick_shapes[] = { { 64, 64, 64 }, { 96, 80, 200 } };

/* One measured row; 0 GOP/s = peer not built or failed. */
struct row {
	struct shape s;
	int threads;
	double ours, ours_avx2, dnnl, dnnl_avx2, sgemm; /* GOP/s (sgemm: GFLOP/s) */
	double ours_packed;   /* ours with B pre-packed (qmx_weights' path) */
	double lo[3], hi[3];  /* range over repetitions: ours, oneDNN, packed */
};

struct opts {
	bool quick, json, cpu_time;
	int reps;
	int threads[8], nthreads;
	struct shape shapes[MAX_SHAPES];
	int nshapes;
};

/* Exactness verdicts on extreme inputs: 1 exact, 0 not, -1 not run. */
struct exactness {
	int ours, dnnl, dnnl_avx2;
	char ours_detail[160], dnnl_detail[160], dnnl_avx2_detail[160];
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Seconds of CPU time of the calling thread (--cpu-time, 1-thread rows). */
static double thread_cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef int (*run_fn)(void *ctx);

struct operands {
	struct shape s;
	int threads;
	int8_t *a, *b;
	int32_t *c;
	float *fa, *fb, *fc;
	struct qmx_cpu_packed_b *packed; /* B packed once, for run_ours_packed */
};

static int operands_init(struct operands *o, const struct shape *s, qmx_rng *rng, bool floats)
{
	size_t na = (size_t)(s->m * s->k), nb = (size_t)(s->k * s->n), nc = (size_t)(s->m * s->n);

	memset(o, 0, sizeof(*o));
	o->s = *s;
	o->a = malloc(na);
	o->b = malloc(nb);
	o->c = malloc(nc * 4);
	if (floats) {
		o->fa = malloc(na * 4);
		o->fb = malloc(nb * 4);
		o->fc = malloc(nc * 4);
	}
	if (!o->a || !o->b || !o->c || (floats && (!o->fa || !o->fb || !o->fc)))
		return -1;
	for (size_t i = 0; i < na; i++)
		o->a[i] = (int8_t)qmx_rng_range(rng, -128, 127);
	for (size_t i = 0; i < nb; i++)
		o->b[i] = (int8_t)qmx_rng_range(rng, -128, 127);
	for (size_t i = 0; floats && i < na; i++)
		o->fa[i] = o->a[i];
	for (size_t i = 0; floats && i < nb; i++)
		o->fb[i] = o->b[i];
	return 0;
}

static void operands_free(struct operands *o)
{
	free(o->a);
	free(o->b);
	free(o->c);
	free(o->fa);
	free(o->fb);
	free(o->fc);
	qmx_cpu_packed_b_free(o->packed);
}

static int run_ours(void *ctx)
{
	struct operands *o = ctx;
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, o->s.m, o->s.n, o->s.k);
	qmx_gemm_host_operands ops = { .a = o->a, .b = o->b, .c = o->c };
	struct qmx_cpu_run run = { .threads = (unsigned)o->threads };
	return qmx_cpu_gemm_fast(&p, &ops, NULL, &run);
}

/* The same call with B packed beforehand, as a loop over one layer's weights
 * runs it (qmx_weights_gemm on the cpu device). */
static int run_ours_packed(void *ctx)
{
	struct operands *o = ctx;
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, o->s.m, o->s.n, o->s.k);
	qmx_gemm_host_operands ops = { .a = o->a, .b = o->b, .c = o->c };
	struct qmx_cpu_run run = { .threads = (unsigned)o->threads };
	if (!o->packed && qmx_cpu_pack_b(o->b, (size_t)o->s.n, (size_t)o->s.k, (size_t)o->s.n,
					  &o->packed))
		return -1;
	return qmx_cpu_gemm_fast(&p, &ops, o->packed, &run);
}

#ifdef QMX_BENCH_HAVE_DNNL
static int run_dnnl(void *ctx)
{
	struct operands *o = ctx;
	const int32_t co = 0;
	dnnl_status_t st = dnnl_gemm_s8s8s32('N', 'N', 'F', o->s.m, o->s.n, o->s.k, 1.0f,
					     o->a, o->s.k, 0, o->b, o->s.n, 0, 0.0f, o->c,
					     o->s.n, &co);
	return st == dnnl_success ? 0 : -1;
}

#endif

#ifdef QMX_BENCH_HAVE_OPENBLAS
static int run_sgemm(void *ctx)
{
	struct operands *o = ctx;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)o->s.m, (int)o->s.n,
		    (int)o->s.k, 1.0f, o->fa, (int)o->s.k, o->fb, (int)o->s.n, 0.0f, o->fc,
		    (int)o->s.n);
	return 0;
}
#endif

/*
 * Run `fn` on a problem whose operands are all −128 or 127 and compare its
 * int32 C with the reference.  Returns 1 exact, 0 not (detail filled).
 */
static int check_extreme(run_fn fn, int threads, char *detail, size_t len)
{
	struct shape s = { 64, 48, 1024 };
	qmx_rng rng = { 42 };
	struct operands o;
	int verdict = 0;

	if (operands_init(&o, &s, &rng, false)) {
		snprintf(detail, len, "out of memory");
		goto out;
	}
	for (int64_t i = 0; i < s.m * s.k; i++)
		o.a[i] = (qmx_rng_next(&rng) & 1) ? 127 : -128;
	for (int64_t i = 0; i < s.k * s.n; i++)
		o.b[i] = (qmx_rng_next(&rng) & 1) ? 127 : -128;
	int32_t *ref = malloc((size_t)(s.m * s.n) * 4);
	if (!ref) {
		snprintf(detail, len, "out of memory");
		goto out;
	}
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, s.m, s.n, s.k);
	qmx_gemm_host_operands ops = { .a = o.a, .b = o.b, .c = ref };
	o.threads = threads;
	if (qmx_gemm_reference(&p, &ops) || fn(&o)) {
		snprintf(detail, len, "run failed");
		free(ref);
		goto out;
	}
	int64_t bad = 0, first = -1;
	for (int64_t i = 0; i < s.m * s.n; i++) {
		if (o.c[i] != ref[i]) {
			if (first < 0)
				first = i;
			bad++;
		}
	}
	if (!bad) {
		snprintf(detail, len, "exact on %lldx%lldx%lld with -128/127 operands",
			 (long long)s.m, (long long)s.n, (long long)s.k);
		verdict = 1;
	} else {
		snprintf(detail, len,
			 "NOT exact: %lld of %lld elements differ on -128/127 operands, "
			 "e.g. C[%lld][%lld] = %d, reference %d",
			 (long long)bad, (long long)(s.m * s.n), (long long)(first / s.n),
			 (long long)(first % s.n), o.c[first], ref[first]);
	}
	free(ref);
out:
	operands_free(&o);
	return verdict;
}

/* ------------------------------------------------- AVX2-capped oneDNN child */

/*
 * dnnl_set_max_cpu_isa() holds once per process, so oneDNN capped at AVX2
 * lives in a child forked before this process starts any thread.  It takes
 * commands over a pipe, so its runs interleave with the others' like every
 * other column.  Every reply is awaited with a deadline.
 */
enum { OP_QUIT, OP_PREPARE, OP_RUN, OP_EXACT };

struct child_cmd {
	int op;
	struct shape s;
	int threads, batch;
	int cpu_time; /* time with the thread CPU clock */
};

struct child_reply {
	double secs; /* per call; < 0: failed */
	int exact;
	char detail[160];
};

struct child {
	pid_t pid;
	int to, from;
	bool alive;
};

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* timeout_ms < 0: wait as long as it takes (the child's side). */
static int read_all(int fd, void *buf, size_t n, int timeout_ms)
{
	char *p = buf;
	double deadline = now_s() + timeout_ms / 1000.0;
	while (n) {
		if (timeout_ms >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int left = (int)((deadline - now_s()) * 1000);
			if (left <= 0 || poll(&pfd, 1, left) <= 0)
				return -1;
		}
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

#ifdef QMX_BENCH_HAVE_DNNL
static void child_main(int in, int out)
{
	bool isa_ok = dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx2) == dnnl_success;
	struct operands o;
	bool have = false;

	memset(&o, 0, sizeof(o));
	for (;;) {
		struct child_cmd c;
		struct child_reply r;
		if (read_all(in, &c, sizeof(c), -1))
			_exit(0);
		memset(&r, 0, sizeof(r));
		switch (c.op) {
		case OP_PREPARE: {
			qmx_rng rng = { 7 };
			operands_free(&o);
			have = !operands_init(&o, &c.s, &rng, false);
			r.secs = have ? 0 : -1;
			break;
		}
		case OP_RUN:
			r.secs = -1;
			if (!isa_ok || !have)
				break;
			omp_set_num_threads(c.threads);
			double (*clk)(void) = c.cpu_time ? thread_cpu_s : now_s;
			double t0 = clk();
			int i = 0;
			while (i < c.batch && !run_dnnl(&o))
				i++;
			if (i == c.batch)
				r.secs = (clk() - t0) / c.batch;
			break;
		case OP_EXACT:
			omp_set_num_threads(1);
			if (isa_ok) {
				r.exact = check_extreme(run_dnnl, 1, r.detail, sizeof(r.detail));
			} else {
				r.exact = -1;
				snprintf(r.detail, sizeof(r.detail), "dnnl_set_max_cpu_isa(avx2) failed");
			}
			break;
		default:
			_exit(0);
		}
		if (write_all(out, &r, sizeof(r)))
			_exit(0);
	}
}

static void child_start(struct child *ch)
{
	int down[2], up[2];

	memset(ch, 0, sizeof(*ch));
	if (pipe(down))
		return;
	if (pipe(up)) {
		close(down[0]);
		close(down[1]);
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		child_main(down[0], up[1]);
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	if (pid < 0) {
		close(down[1]);
		close(up[0]);
		return;
	}
	signal(SIGPIPE, SIG_IGN); /* a dead child shows as a failed write */
	ch->pid = pid;
	ch->to = down[1];
	ch->from = up[0];
	ch->alive = true;
}
#endif

static void child_stop(struct child *ch)
{
	if (!ch->pid)
		return;
	if (ch->alive) {
		struct child_cmd c = { .op = OP_QUIT };
		if (write_all(ch->to, &c, sizeof(c)))
			kill(ch->pid, SIGKILL);
	}
	close(ch->to);
	close(ch->from);
	/* Bounded: a child that has not gone within 5 s is killed. */
	for (int i = 0; i < 50 && waitpid(ch->pid, NULL, WNOHANG) == 0; i++)
		usleep(100 * 1000);
	if (waitpid(ch->pid, NULL, WNOHANG) == 0) {
		kill(ch->pid, SIGKILL);
		waitpid(ch->pid, NULL, 0);
	}
	ch->pid = 0;
	ch->alive = false;
}

static int child_call(struct child *ch, const struct child_cmd *c, struct child_reply *r)
{
	if (!ch->alive)
		return -1;
	if (write_all(ch->to, c, sizeof(*c)) ||
	    read_all(ch->from, r, sizeof(*r), CHILD_TIMEOUT_MS)) {
		fprintf(stderr, "qmx-bench-cpu: the AVX2-capped oneDNN child stopped answering\n");
		kill(ch->pid, SIGKILL);
		ch->alive = false;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- measuring */

enum impl { IM_OURS, IM_OURS_AVX2, IM_DNNL, IM_DNNL_AVX2, IM_SGEMM, IM_OURS_PACKED, IM_N };

struct bench {
	const struct opts *opt;
	struct child child;
	bool have[IM_N];
	char env_isa[32]; /* $QMX_CPU_ISA at start ("" = unset) */
};

static void set_isa_env(const struct bench *b, const char *isa)
{
	if (isa)
		setenv("QMX_CPU_ISA", isa, 1);
	else if (b->env_isa[0])
		setenv("QMX_CPU_ISA", b->env_isa, 1);
	else
		unsetenv("QMX_CPU_ISA");
}

/* `batch` back-to-back calls of one implementation; seconds per call, < 0
 * on failure. */
static double impl_batch(struct bench *b, enum impl im, struct operands *o, int batch)
{
	run_fn fn = run_ours;
	double t0;
	int i = 0;

	switch (im) {
	case IM_OURS:
	case IM_OURS_AVX2:
		set_isa_env(b, im == IM_OURS_AVX2 ? "avx2" : NULL);
		break;
	case IM_OURS_PACKED:
		fn = run_ours_packed;
		break;
	case IM_DNNL:
#ifdef QMX_BENCH_HAVE_DNNL
		omp_set_num_threads(o->threads);
		fn = run_dnnl;
#endif
		break;
	case IM_DNNL_AVX2: {
		struct child_cmd c = { .op = OP_RUN, .s = o->s, .threads = o->threads,
				       .batch = batch, .cpu_time = b->opt->cpu_time };
		struct child_reply r;
		return child_call(&b->child, &c, &r) ? -1 : r.secs;
	}
	case IM_SGEMM:
#ifdef QMX_BENCH_HAVE_OPENBLAS
		openblas_set_num_threads(o->threads);
		fn = run_sgemm;
#endif
		break;
	default:
		return -1;
	}
	double (*clk)(void) = b->opt->cpu_time ? thread_cpu_s : now_s;
	t0 = clk();
	while (i < batch && !fn(o))
		i++;
	double secs = (clk() - t0) / batch;
	set_isa_env(b, NULL);
	return i == batch ? secs : -1;
}

/* Let a peer's idle threads stop spinning before the next one runs: OpenBLAS
 * workers busy-wait about 2^28 cycles after a call, OpenMP's far less. */
static void settle(const struct bench *b, enum impl im)
{
	(void)b;
	if (im == IM_SGEMM)
		usleep(150 * 1000);
	else if (im == IM_DNNL || im == IM_DNNL_AVX2)
		usleep(10 * 1000);
}

/*
 * One row: every implementation on the same operands, interleaved
 * repetition by repetition so a change of load on the machine hits all
 * columns alike; each repetition is a batch of calls lasting about 20 ms
 * (2 ms with --quick); the median per implementation.
 */
static void measure_row(struct bench *b, struct row *w)
{
	qmx_rng rng = { 7 };
	struct operands o;
	double t[IM_N][200];
	int batch[IM_N];
	bool ok[IM_N];
	const double target = b->opt->quick ? 0.002 : 0.02;

	if (operands_init(&o, &w->s, &rng, b->have[IM_SGEMM])) {
		operands_free(&o);
		return;
	}
	o.threads = w->threads;
	if (b->have[IM_DNNL_AVX2]) {
		struct child_cmd c = { .op = OP_PREPARE, .s = w->s };
		struct child_reply r;
		if (child_call(&b->child, &c, &r) || r.secs < 0)
			b->have[IM_DNNL_AVX2] = false;
	}
	for (int im = 0; im < IM_N; im++) { /* warm up, size the batches */
		ok[im] = b->have[im];
		double one = -1;
		for (int wu = 0; wu < 2 && ok[im]; wu++) {
			one = impl_batch(b, im, &o, 1);
			ok[im] = one >= 0;
			settle(b, im);
		}
		batch[im] = one > 0 ? (int)(target / one) : 1;
		batch[im] = batch[im] < 1 ? 1 : batch[im] > 1000 ? 1000 : batch[im];
	}
	for (int rep = 0; rep < b->opt->reps; rep++) {
		for (int im = 0; im < IM_N; im++) {
			if (!ok[im])
				continue;
			t[im][rep] = impl_batch(b, im, &o, batch[im]);
			ok[im] = t[im][rep] >= 0;
			settle(b, im);
		}
	}
	double *out[IM_N] = { &w->ours, &w->ours_avx2, &w->dnnl, &w->dnnl_avx2, &w->sgemm,
			      &w->ours_packed };
	for (int im = 0; im < IM_N; im++) {
		int n = b->opt->reps;
		if (!ok[im])
			continue;
		qsort(t[im], (size_t)n, sizeof(double), cmp_double);
		double med = n & 1 ? t[im][n / 2] : (t[im][n / 2 - 1] + t[im][n / 2]) / 2;
		double ops = 2.0 * (double)w->s.m * (double)w->s.n * (double)w->s.k * 1e-9;
		*out[im] = ops / med;
		int r = im == IM_OURS ? 0 : im == IM_DNNL ? 1 : im == IM_OURS_PACKED ? 2 : -1;
		if (r >= 0) {
			w->lo[r] = ops / t[im][n - 1];
			w->hi[r] = ops / t[im][0];
		}
	}
	operands_free(&o);
}

/* ---------------------------------------------------------------- the limit */

/*
 * Peak int8 MAC rate of one core = instructions per cycle × MACs per
 * instruction × clock.  The instruction rate is measured: independent
 * accumulator chains (more than latency × throughput of any core we know),
 * timed by the thread CPU clock, the best of PEAK_RUNS (least disturbed).
 */
struct peak {
	const char *insn;   /* the kernel's multiply-add instruction */
	int macs_per_insn;  /* int8 MACs one instruction does */
	const char *lanes_src;
	double insn_per_s;  /* measured */
	double mhz;         /* /proc/cpuinfo "cpu MHz", 0 unknown */
	double gmacs;       /* per thread */
	bool smt_shared;    /* two threads per core: peak does not double */
};

/* Independent accumulator chains in named registers (an array would be
 * kept in memory, bounding the loop by store forwarding, not the unit). */
#define PEAK_CHAINS 16
#define PEAK_RUNS 31
#define PEAK_X16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) \
	X(12) X(13) X(14) X(15)
#ifdef QMX_CPU_HAVE_X86
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double peak_vnni(long iters)
{
	const __m512i x = _mm512_set1_epi32(0x01010101), y = _mm512_set1_epi32(0x02020202);
#define DECL(i) __m512i a##i = _mm512_set1_epi32(i);
	PEAK_X16(DECL)
#undef DECL
	double t0 = thread_cpu_s();
	for (long it = 0; it < iters; it++) {
#define STEP(i) a##i = _mm512_dpbusd_epi32(a##i, x, y);
		PEAK_X16(STEP)
#undef STEP
	}
	double t = thread_cpu_s() - t0;
	__m512i sum = _mm512_setzero_si512();
#define SUM(i) sum = _mm512_add_epi32(sum, a##i);
	PEAK_X16(SUM)
#undef SUM
	volatile int sink = _mm512_reduce_add_epi32(sum);
	(void)sink;
	return (double)iters * PEAK_CHAINS / t;
}

/* vpmaddwd into vpaddd, the AVX2 kernel's pair; counted: vpmaddwd (16 MACs). */
__attribute__((target("avx2"))) static double peak_avx2(long iters)
{
	__m256i x = _mm256_set1_epi16(3), y = _mm256_set1_epi16(5);
#define DECL(i) __m256i a##i = _mm256_set1_epi32(i);
	PEAK_X16(DECL)
#undef DECL
	double t0 = thread_cpu_s();
	for (long it = 0; it < iters; it++) {
#define STEP(i) a##i = _mm256_add_epi32(a##i, _mm256_madd_epi16(x, y));
		PEAK_X16(STEP)
#undef STEP
		/* Keep the products in the loop. */
		__asm__ volatile("" : "+x"(x), "+x"(y));
	}
	double t = thread_cpu_s() - t0;
	__m256i sum = _mm256_setzero_si256();
#define SUM(i) sum = _mm256_add_epi32(sum, a##i);
	PEAK_X16(SUM)
#undef SUM
	volatile int sink = _mm256_extract_epi32(sum, 0);
	(void)sink;
	return (double)iters * PEAK_CHAINS / t;
}
#endif

static double cpuinfo_number(const char *key)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double v = 0;
	size_t len = strlen(key);
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (!strncmp(line, key, len) && (line[len] == ' ' || line[len] == '\t') && c) {
			v = atof(c + 1);
			break;
		}
	}
	if (f)
		fclose(f);
	return v;
}

static void peak_measure(struct peak *pk, const char *isa, bool quick)
{
	memset(pk, 0, sizeof(*pk));
	pk->mhz = cpuinfo_number("cpu MHz");
	double sib = cpuinfo_number("siblings"), cores = cpuinfo_number("cpu cores");
	pk->smt_shared = sib > 0 && cores > 0 && sib > cores;
	double (*fn)(long) = NULL;
#ifdef QMX_CPU_HAVE_X86
	if (!strcmp(isa, "avx512vnni")) {
		fn = peak_vnni;
		pk->insn = "vpdpbusd zmm";
		pk->macs_per_insn = 64;
		pk->lanes_src = "16 int32 lanes x 4 u8*s8 products (the instruction's definition)";
	} else if (!strcmp(isa, "avx2")) {
		fn = peak_avx2;
		pk->insn = "vpmaddwd ymm";
		pk->macs_per_insn = 16;
		pk->lanes_src = "8 int32 lanes x 2 int16 products (the instruction's definition)";
	}
#endif
	if (!fn)
		return;
	/* Many short runs, the fastest kept: on a shared machine some run
	 * undisturbed. */
	long iters = quick ? 20000 : 100000;
	for (int r = 0; r < PEAK_RUNS; r++) {
		double v = fn(iters);
		pk->insn_per_s = v > pk->insn_per_s ? v : pk->insn_per_s;
	}
	pk->gmacs = pk->insn_per_s * pk->macs_per_insn * 1e-9;
}

/* GOP/s of `threads` threads at the peak. */
static double peak_gops(const struct peak *pk, int threads)
{
	unsigned cpus = qmx_cpu_online_threads();
	int t = threads < (int)cpus ? threads : (int)cpus;
	return 2.0 * pk->gmacs * (pk->smt_shared ? 1 : t);
}

static void print_peak(const struct peak *pk, const char *isa)
{
	if (!pk->gmacs) {
		printf("peak: not measured for kernel %s\n", isa);
		return;
	}
	double ipc = pk->mhz > 0 ? pk->insn_per_s / (pk->mhz * 1e6) : 0;
	printf("peak int8 MAC rate per core (kernel %s) = instructions/cycle x MACs/instruction x clock:\n", isa);
	if (ipc > 0)
		printf("  %.2f %s per cycle of the clock below   measured here: %d independent chains, thread CPU time, best of %d\n"
		       "  x %d MACs per instruction   %s\n"
		       "  x %.0f MHz   /proc/cpuinfo \"cpu MHz\" (a VM shows the host's nominal clock, not boost)\n",
		       ipc, pk->insn, PEAK_CHAINS, PEAK_RUNS, pk->macs_per_insn, pk->lanes_src, pk->mhz);
	else
		printf("  %.3g %s per second measured (no clock in /proc/cpuinfo)\n"
		       "  x %d MACs per instruction   %s\n", pk->insn_per_s, pk->insn,
		       pk->macs_per_insn, pk->lanes_src);
	printf("  = %.1f GMAC/s = %.1f GOP/s per core; N threads: x N cores (%s)\n\n", pk->gmacs,
	       2 * pk->gmacs,
	       pk->smt_shared ? "here SMT siblings share a core: x 1"
			      : "one thread per core: /proc/cpuinfo siblings == cpu cores");
}

/* ---------------------------------------------------------------- output */

/* The 1-minute load average: other work on the machine skews every column. */
static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static void fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1)
		snprintf(buf, len, "%.1f", v);
	else if (v > 0)
		snprintf(buf, len, "%.3f", v);
	else
		snprintf(buf, len, "-");
}

static void fmt_ratio(char *buf, size_t len, double ours, double peer)
{
	if (ours > 0 && peer > 0)
		snprintf(buf, len, "%.2fx", ours / peer);
	else
		snprintf(buf, len, "-");
}

static void json_ratio(double ours, double peer)
{
	if (ours > 0 && peer > 0)
		printf("%.4f", ours / peer);
	else
		printf("null");
}

static void json_rate(double v)
{
	if (v > 0)
		printf("%.3f", v);
	else
		printf("null");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
	putchar('"');
}

static void fmt_share(char *buf, size_t len, double v, double peak)
{
	if (v > 0 && peak > 0)
		snprintf(buf, len, "%.0f%%", 100 * v / peak);
	else
		snprintf(buf, len, "-");
}

static void print_text(const struct row *rows, int nrows, const struct exactness *ex,
		       const char *isa, const char *model, const char *dnnl_info,
		       const char *blas_info, const double load[2], bool cpu_time,
		       const struct peak *pk)
{
	printf("qmx-bench-cpu: %s, %u online CPUs, load average %.2f before, %.2f after\n",
	       model, qmx_cpu_online_threads(), load[0], load[1]);
	printf("  qmx      int8 GEMM, int32 output, kernel %s (qmx-avx2: forced to avx2;\n"
	       "           packed: B pre-packed once, as qmx_weights_gemm runs it)\n", isa);
	printf("  oneDNN   %s\n", dnnl_info);
	printf("  OpenBLAS %s\n", blas_info);
	printf("  GOP/s = 2*M*N*K / median %s time per call; ratio = qmx / peer (ISA-matched in the middle);\n"
	       "  %%pk = share of the peak below (x threads)\n\n",
	       cpu_time ? "thread CPU" : "wall");
	print_peak(pk, isa);
	printf("%-15s %3s %7s %7s %6s %5s %5s | %7s %6s | %8s %11s %6s | %11s %6s\n", "MxNxK", "thr",
	       "qmx", "oneDNN", "ratio", "%pk", "%pk", "packed", "/qmx", "qmx-avx2", "oneDNN-avx2",
	       "ratio", "sgemm GFLOP", "ratio");
	for (int r = 0; r < nrows; r++) {
		const struct row *w = &rows[r];
		char shape[32], a[16], a2[16], b[16], c[16], d[16], rb[16], rc[16], rd[16];
		char sa[16], sb[16], pa[16], rp[16];
		double peak = peak_gops(pk, w->threads);
		snprintf(shape, sizeof(shape), "%lldx%lldx%lld", (long long)w->s.m,
			 (long long)w->s.n, (long long)w->s.k);
		fmt_rate(a, sizeof(a), w->ours);
		fmt_rate(a2, sizeof(a2), w->ours_avx2);
		fmt_rate(b, sizeof(b), w->dnnl);
		fmt_rate(c, sizeof(c), w->dnnl_avx2);
		fmt_rate(d, sizeof(d), w->sgemm);
		fmt_rate(pa, sizeof(pa), w->ours_packed);
		fmt_ratio(rb, sizeof(rb), w->ours, w->dnnl);
		fmt_ratio(rc, sizeof(rc), w->ours_avx2, w->dnnl_avx2);
		fmt_ratio(rd, sizeof(rd), w->ours, w->sgemm);
		fmt_ratio(rp, sizeof(rp), w->ours_packed, w->ours);
		fmt_share(sa, sizeof(sa), w->ours, peak);
		fmt_share(sb, sizeof(sb), w->dnnl, peak);
		printf("%-15s %3d %7s %7s %6s %5s %5s | %7s %6s | %8s %11s %6s | %11s %6s\n", shape,
		       w->threads, a, b, rb, sa, sb, pa, rp, a2, c, rc, d, rd);
	}
	printf("\nrange over the repetitions (GOP/s, slowest-fastest):\n");
	for (int r = 0; r < nrows; r++) {
		const struct row *w = &rows[r];
		printf("  %lldx%lldx%lld %d thr: qmx %.1f-%.1f, oneDNN %.1f-%.1f, packed %.1f-%.1f\n",
		       (long long)w->s.m, (long long)w->s.n, (long long)w->s.k, w->threads, w->lo[0],
		       w->hi[0], w->lo[1], w->hi[1], w->lo[2], w->hi[2]);
	}
	printf("\nexactness on -128/127 operands vs qmx_gemm_reference:\n");
	printf("  qmx          %s\n", ex->ours_detail);
	printf("  oneDNN       %s\n", ex->dnnl < 0 ? "not run" : ex->dnnl_detail);
	printf("  oneDNN-avx2  %s\n", ex->dnnl_avx2 < 0 ? "not run" : ex->dnnl_avx2_detail);
}

static void print_json(const struct row *rows, int nrows, const struct exactness *ex,
		       const char *isa, const char *model, const char *dnnl_info,
		       const char *blas_info, const double load[2], bool cpu_time,
		       const struct peak *pk)
{
	printf("{\"cpu\": ");
	json_str(model);
	printf(", \"online_cpus\": %u, \"loadavg_before\": %.2f, \"loadavg_after\": %.2f",
	       qmx_cpu_online_threads(), load[0], load[1]);
	printf(", \"clock\": \"%s\", \"qmx_isa\": ", cpu_time ? "thread_cpu" : "wall");
	json_str(isa);
	printf(", \"onednn\": ");
	json_str(dnnl_info);
	printf(", \"openblas\": ");
	json_str(blas_info);
	printf(", \"exact\": {\"qmx\": %s, \"onednn\": %s, \"onednn_avx2\": %s}",
	       ex->ours == 1 ? "true" : "false",
	       ex->dnnl < 0 ? "null" : ex->dnnl ? "true" : "false",
	       ex->dnnl_avx2 < 0 ? "null" : ex->dnnl_avx2 ? "true" : "false");
	printf(", \"peak\": {\"instruction\": ");
	json_str(pk->insn ? pk->insn : "");
	printf(", \"insn_per_s\": %.4g, \"macs_per_insn\": %d, \"mhz\": %.1f, \"gmacs_per_core\": %.3f}",
	       pk->insn_per_s, pk->macs_per_insn, pk->mhz, pk->gmacs);
	printf(", \"rows\": [");
	for (int r = 0; r < nrows; r++) {
		const struct row *w = &rows[r];
		printf("%s\n  {\"m\": %lld, \"n\": %lld, \"k\": %lld, \"threads\": %d, "
		       "\"qmx_gops\": ", r ? "," : "", (long long)w->s.m, (long long)w->s.n,
		       (long long)w->s.k, w->threads);
		json_rate(w->ours);
		printf(", \"qmx_avx2_gops\": ");
		json_rate(w->ours_avx2);
		printf(", \"onednn_gops\": ");
		json_rate(w->dnnl);
		printf(", \"onednn_avx2_gops\": ");
		json_rate(w->dnnl_avx2);
		printf(", \"sgemm_gflops\": ");
		json_rate(w->sgemm);
		printf(", \"ratio_onednn\": ");
		json_ratio(w->ours, w->dnnl);
		printf(", \"ratio_avx2_onednn_avx2\": ");
		json_ratio(w->ours_avx2, w->dnnl_avx2);
		printf(", \"ratio_sgemm\": ");
		json_ratio(w->ours, w->sgemm);
		printf(", \"qmx_packed_gops\": ");
		json_rate(w->ours_packed);
		printf(", \"ratio_packed\": ");
		json_ratio(w->ours_packed, w->ours);
		printf(", \"qmx_peak_share\": ");
		json_ratio(w->ours, peak_gops(pk, w->threads));
		printf(", \"onednn_peak_share\": ");
		json_ratio(w->dnnl, peak_gops(pk, w->threads));
		printf("}");
	}
	printf("\n]}\n");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qmx-bench-cpu [--quick] [--json] [--cpu-time] [--threads LIST] [--reps R]\n"
		"                     [--shape MxNxK]...\n\n"
		"Our int8 GEMM (int32 output) against oneDNN dnnl_gemm_s8s8s32 (best ISA, and\n"
		"capped at AVX2) and OpenBLAS cblas_sgemm, on the same shapes; median of\n"
		"interleaved repetitions; GOP/s and the ratio ours/peer per row, from one\n"
		"run; exactness of each on -128/127 operands.  Exit 1 if ours is not exact.\n\n"
		"  --quick          small shapes, few repetitions (CI)\n"
		"  --json           machine-readable output\n"
		"  --cpu-time       time by the thread CPU clock instead of the wall clock:\n"
		"                   less sensitive to other load; implies --threads 1\n"
		"  --threads LIST   comma-separated thread counts (default 1,2)\n"
		"  --reps R         timed repetitions per measurement (default 7; quick 3)\n"
		"  --shape MxNxK    a shape to run (repeatable; replaces the default set)\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->reps = -1;
	bool threads_given = false;
	o->threads[0] = 1;
	o->threads[1] = 2;
	o->nthreads = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--quick")) {
			o->quick = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--cpu-time")) {
			o->cpu_time = true;
		} else if (!strcmp(a, "--reps") && v) {
			char *end;
			long r = strtol(v, &end, 10);
			if (*end || r < 1 || r > 200) {
				fprintf(stderr, "qmx-bench-cpu: --reps '%s' must be in [1, 200]\n", v);
				return -1;
			}
			o->reps = (int)r;
			i++;
		} else if (!strcmp(a, "--threads") && v) {
			char buf[64], *save = NULL;
			snprintf(buf, sizeof(buf), "%s", v);
			o->nthreads = 0;
			threads_given = true;
			for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				char *end;
				long n = strtol(t, &end, 10);
				if (*end || n < 1 || n > 256 || o->nthreads == 8) {
					fprintf(stderr, "qmx-bench-cpu: --threads '%s' must be up to 8 "
						"comma-separated counts in [1, 256]\n", v);
					return -1;
				}
				o->threads[o->nthreads++] = (int)n;
			}
			if (!o->nthreads) {
				fprintf(stderr, "qmx-bench-cpu: --threads is empty\n");
				return -1;
			}
			i++;
		} else if (!strcmp(a, "--shape") && v) {
			struct shape s;
			if (qmx_parse_shape(v, &s.m, &s.n, &s.k) || s.m < 1 || s.n < 1 || s.k < 1 ||
			    s.m > 16384 || s.n > 16384 || s.k > 16384) {
				fprintf(stderr, "qmx-bench-cpu: --shape '%s' must be MxNxK, each in [1, 16384]\n", v);
				return -1;
			}
			if (o->nshapes == MAX_SHAPES) {
				fprintf(stderr, "qmx-bench-cpu: at most %d --shape options\n", MAX_SHAPES);
				return -1;
			}
			o->shapes[o->nshapes++] = s;
			i++;
		} else {
			fprintf(stderr, "qmx-bench-cpu: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return -1;
		}
	}
	if (!o->nshapes) {
		const struct shape *src = o->quick ? quick_shapes : full_shapes;
		int n = o->quick ? (int)(sizeof(quick_shapes) / sizeof(quick_shapes[0]))
				 : (int)(sizeof(full_shapes) / sizeof(full_shapes[0]));
		memcpy(o->shapes, src, (size_t)n * sizeof(*src));
		o->nshapes = n;
	}
	if (o->reps < 0)
		o->reps = o->quick ? 3 : 7;
	if (o->cpu_time) { /* one thread's clock sees one thread's work */
		if (!threads_given)
			o->nthreads = 1;
		for (int t = 0; t < o->nthreads; t++) {
			if (o->threads[t] != 1) {
				fprintf(stderr, "qmx-bench-cpu: --cpu-time measures 1 thread only; "
					"drop --threads or give --threads 1\n");
				return -1;
			}
		}
	}
	if (o->nshapes * o->nthreads > MAX_ROWS) {
		fprintf(stderr, "qmx-bench-cpu: at most %d shape x thread rows\n", MAX_ROWS);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct bench b;
	struct row rows[MAX_ROWS];
	struct exactness ex = { .ours = -1, .dnnl = -1, .dnnl_avx2 = -1 };
	char model[128], dnnl_info[160] = "not built (libdnnl-dev not found)",
			 blas_info[160] = "not built (libopenblas-dev not found)";
	int nrows = 0;

	if (parse_args(argc, argv, &o))
		return 2;
	memset(&b, 0, sizeof(b));
	b.opt = &o;
	const char *env_isa = getenv("QMX_CPU_ISA");
	if (env_isa && *env_isa) {
		if (strcmp(env_isa, "portable") && strcmp(env_isa, "avx2") &&
		    strcmp(env_isa, "avx512vnni")) {
			fprintf(stderr, "qmx-bench-cpu: QMX_CPU_ISA ('%s') must be portable, avx2 or avx512vnni\n",
				env_isa);
			return 2;
		}
		snprintf(b.env_isa, sizeof(b.env_isa), "%s", env_isa);
	}
	for (int s = 0; s < o.nshapes; s++)
		for (int t = 0; t < o.nthreads; t++)
			rows[nrows++] = (struct row){ .s = o.shapes[s], .threads = o.threads[t] };
	qmx_util_cpu_model(model, sizeof(model));
	double load[2] = { loadavg(), 0 };

	b.have[IM_OURS] = true;
	b.have[IM_OURS_PACKED] = true;
	b.have[IM_OURS_AVX2] = qmx_cpu_isa_find("avx2") != NULL;
#ifdef QMX_BENCH_HAVE_DNNL
	child_start(&b.child); /* first: before any thread exists */
	b.have[IM_DNNL] = true;
	b.have[IM_DNNL_AVX2] = b.child.alive;
	const dnnl_version_t *dv = dnnl_version();
	snprintf(dnnl_info, sizeof(dnnl_info), "%d.%d.%d dnnl_gemm_s8s8s32, best ISA %s",
		 dv->major, dv->minor, dv->patch, qmx_onednn_isa_name(dnnl_get_effective_cpu_isa()));
#endif
#ifdef QMX_BENCH_HAVE_OPENBLAS
	b.have[IM_SGEMM] = true;
	snprintf(blas_info, sizeof(blas_info), "cblas_sgemm (fp32), %s", openblas_get_config());
#endif
	for (int r = 0; r < nrows; r++) {
		measure_row(&b, &rows[r]);
		if (!o.json) {
			fprintf(stderr, "\r  measured %d/%d rows", r + 1, nrows);
			if (r + 1 == nrows)
				fprintf(stderr, "\n");
		}
	}

	/* Every kernel of ours this CPU runs, each checked on its own. */
	static const char *const isas[] = { "portable", "avx2", "avx512vnni" };
	char detail[160] = "";
	size_t len = 0;
	ex.ours = 1;
	for (int i = 0; i < 3; i++) {
		if (!qmx_cpu_isa_find(isas[i]))
			continue;
		set_isa_env(&b, isas[i]);
		int ok = check_extreme(run_ours, o.threads[o.nthreads - 1], detail, sizeof(detail));
		len += (size_t)snprintf(ex.ours_detail + len, sizeof(ex.ours_detail) - len,
					"%s%s %s", len ? ", " : "", isas[i],
					ok ? "exact" : "NOT exact");
		if (!ok) {
			ex.ours = 0;
			fprintf(stderr, "qmx-bench-cpu: kernel %s: %s\n", isas[i], detail);
		}
	}
	set_isa_env(&b, NULL);
	if (!check_extreme(run_ours_packed, o.threads[o.nthreads - 1], detail, sizeof(detail))) {
		ex.ours = 0;
		fprintf(stderr, "qmx-bench-cpu: pre-packed B: %s\n", detail);
	}
	snprintf(ex.ours_detail + len, sizeof(ex.ours_detail) - len, ", packed B %s",
		 ex.ours ? "exact" : "NOT exact");
#ifdef QMX_BENCH_HAVE_DNNL
	omp_set_num_threads(1);
	ex.dnnl = check_extreme(run_dnnl, 1, ex.dnnl_detail, sizeof(ex.dnnl_detail));
	struct child_cmd c = { .op = OP_EXACT };
	struct child_reply r;
	if (!child_call(&b.child, &c, &r)) {
		ex.dnnl_avx2 = r.exact;
		snprintf(ex.dnnl_avx2_detail, sizeof(ex.dnnl_avx2_detail), "%s", r.detail);
	}
#endif
	child_stop(&b.child);
	const char *isa = qmx_cpu_isa();
	load[1] = loadavg();
	struct peak pk;
	peak_measure(&pk, isa, o.quick);
	if (o.json)
		print_json(rows, nrows, &ex, isa, model, dnnl_info, blas_info, load, o.cpu_time, &pk);
	else
		print_text(rows, nrows, &ex, isa, model, dnnl_info, blas_info, load, o.cpu_time, &pk);

	int failed = ex.ours != 1;
	for (int r = 0; r < nrows; r++)
		failed |= rows[r].ours <= 0;
	if (failed)
		fprintf(stderr, "qmx-bench-cpu: our kernel failed or was not exact\n");
	return failed;
}
