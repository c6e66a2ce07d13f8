/* SPDX-License-Identifier: MIT */
/*
 * cpu_fast.c - the fast CPU int8 GEMM: packing, cache blocking, threads and
 * the output stage, around a micro-kernel picked at run time (AVX-512 VNNI or
 * AVX2 by cpuid, portable C elsewhere, or $QMX_CPU_ISA).
 *
 * The kernels compute S = Σ_k A'·B on the packed values (A' = A + offset, see
 * cpu_kernels.h); zero points are applied afterwards through the row/column
 * sum decomposition
 *   Σ (a' − za')(b − zb) = S − zb·Σa' − za'·Σb + K·za'·zb,   za' = za + offset,
 * every term in uint32.  Both sides are the same integer modulo 2^32, and the
 * reference's int32 accumulator is exactly that residue, so the result is
 * bit-exact for every K, including past the K <= 32768 no-wrap limit.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_kernels.h"
#include "qmx_backend.h"
#include "qmx_quant.h"

/* Blocking: a B micro-panel (KC values × nr columns, 16-24 KiB) stays in L1
 * while the A block (MC rows × KC, 72-144 KiB) streams from L2; C is produced
 * MC rows × NC columns at a time into an L2-resident int32 block. */
#define CPU_KC 512     /* K values per block, a multiple of every kg */
#define CPU_MC 144     /* most rows per block, a multiple of every mr */
#define CPU_NC 512     /* columns per block (rounded down to a multiple of nr) */
/* Below this many MACs a second thread costs more than it saves. */
#define CPU_MT_MIN_MACS (48 * 48 * 48)

/* ------------------------------------------------------------ ISA choice */

const struct qmx_cpu_isa *qmx_cpu_isa_find(const char *name)
{
#ifdef QMX_CPU_HAVE_X86
	__builtin_cpu_init();
	if (!strcmp(name, "avx512vnni") && __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512vnni"))
		return &qmx_cpu_isa_avx512vnni;
	if (!strcmp(name, "avx2") && __builtin_cpu_supports("avx2"))
		return &qmx_cpu_isa_avx2;
#endif
	if (!strcmp(name, "portable"))
		return &qmx_cpu_isa_portable;
	return NULL;
}

static const struct qmx_cpu_isa *cpu_best_isa(void)
{
	static const char *const order[] = { "avx512vnni", "avx2", "portable" };
	const struct qmx_cpu_isa *isa = NULL;

	for (size_t i = 0; !isa; i++)
		isa = qmx_cpu_isa_find(order[i]);
	return isa;
}

static int cpu_select_isa(const struct qmx_cpu_isa **out)
{
	const char *env = getenv("QMX_CPU_ISA");

	if (!env || !*env) {
		*out = cpu_best_isa();
		return 0;
	}
	if (strcmp(env, "portable") && strcmp(env, "avx2") && strcmp(env, "avx512vnni"))
		return qmx_fail(QMX_EINVAL,
				"QMX_CPU_ISA ('%s') must be 'portable', 'avx2' or 'avx512vnni' (unset: best available)",
				env);
	*out = qmx_cpu_isa_find(env);
	if (!*out)
		return qmx_fail(QMX_ENOTSUP, "QMX_CPU_ISA (%s): this CPU does not support it",
				env);
	return 0;
}

const char *qmx_cpu_isa(void)
{
	const char *env = getenv("QMX_CPU_ISA");
	const struct qmx_cpu_isa *isa = env && *env ? qmx_cpu_isa_find(env) : NULL;

	/* An unusable $QMX_CPU_ISA is reported when a GEMM runs. */
	return (isa ? isa : cpu_best_isa())->name;
}

unsigned qmx_cpu_online_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* ------------------------------------------------------------ int16 pairs */

#define PORT_MR 6
#define PORT_NR 16

void qmx_cpu_pack_a_pairs(const int8_t *a, size_t lda, size_t k, size_t i0,
			  size_t rows, size_t g0, size_t kcg, void *dst, unsigned mr)
{
	size_t k0 = 2 * g0;
	size_t kend = k0 + 2 * kcg < k ? k0 + 2 * kcg : k;
	size_t full = (kend - k0) / 2;
	bool odd = (kend - k0) & 1;
	const size_t step = 2 * (size_t)mr;

	for (size_t r0 = 0; r0 < rows; r0 += mr) {
		int16_t *panel = (int16_t *)dst + (r0 / mr) * kcg * step;
		for (size_t r = 0; r < mr; r++) {
			int16_t *d = panel + 2 * r;
			size_t g = 0;
			if (r0 + r < rows) {
				const int8_t *src = a + (i0 + r0 + r) * lda + k0;
				for (; g < full; g++) {
					d[g * step] = src[2 * g];
					d[g * step + 1] = src[2 * g + 1];
				}
				if (odd) {
					d[g * step] = src[2 * g];
					d[g * step + 1] = 0;
					g++;
				}
			}
			for (; g < kcg; g++)
				d[g * step] = d[g * step + 1] = 0;
		}
	}
}

void qmx_cpu_pack_b_pairs(const int8_t *b, size_t ldb, size_t k, size_t n,
			  size_t j0, size_t kgs, void *dst, uint32_t *colsum,
			  unsigned nr)
{
	size_t cols = n - j0 < nr ? n - j0 : nr;
	int16_t *d16 = dst;

	memset(d16, 0, kgs * nr * 2 * sizeof(*d16));
	for (size_t kk = 0; kk < k; kk++) {
		const int8_t *row = b + kk * ldb + j0;
		int16_t *d = d16 + (kk / 2) * nr * 2 + (kk & 1);
		for (size_t j = 0; j < cols; j++) {
			d[2 * j] = row[j];
			colsum[j] += (uint32_t)(int32_t)row[j];
		}
	}
}

static void port_kernel(size_t kcg, const void *av, const void *bv, int32_t *c,
			size_t ldc, int accumulate)
{
	const int16_t *a = av, *b = bv;
	/* uint32: the accumulation wraps modulo 2^32 without undefined behaviour. */
	uint32_t acc[PORT_MR][PORT_NR];

	memset(acc, 0, sizeof(acc));
	for (size_t g = 0; g < kcg; g++) {
		const int16_t *ak = a + g * PORT_MR * 2;
		const int16_t *bk = b + g * PORT_NR * 2;
		for (int r = 0; r < PORT_MR; r++) {
			int32_t a0 = ak[2 * r], a1 = ak[2 * r + 1];
			for (int j = 0; j < PORT_NR; j++)
				acc[r][j] += (uint32_t)(a0 * bk[2 * j] + a1 * bk[2 * j + 1]);
		}
	}
	for (int r = 0; r < PORT_MR; r++) {
		int32_t *cr = c + (size_t)r * ldc;
		for (int j = 0; j < PORT_NR; j++)
			cr[j] = (int32_t)((accumulate ? (uint32_t)cr[j] : 0) + acc[r][j]);
	}
}

static void port_pack_a(const int8_t *a, size_t lda, size_t k, size_t i0, size_t rows,
			size_t g0, size_t kcg, void *dst)
{
	qmx_cpu_pack_a_pairs(a, lda, k, i0, rows, g0, kcg, dst, PORT_MR);
}

static void port_pack_b(const int8_t *b, size_t ldb, size_t k, size_t n, size_t j0,
			size_t kgs, void *dst, uint32_t *colsum)
{
	qmx_cpu_pack_b_pairs(b, ldb, k, n, j0, kgs, dst, colsum, PORT_NR);
}

static void port_out_row(const struct qmx_cpu_out *o);

const struct qmx_cpu_isa qmx_cpu_isa_portable = {
	.name = "portable", .mr = PORT_MR, .nr = PORT_NR, .kg = 2, .esize = 2,
	.a_offset = 0, .kernel = port_kernel, .pack_a = port_pack_a,
	.pack_b = port_pack_b, .out_row = port_out_row,
};

/* ------------------------------------------------------------ thread pool */

/*
 * Helper threads live across calls: creating threads per GEMM costs more
 * than a small GEMM.  One GEMM uses the pool at a time; a concurrent one
 * starts its own threads.  Work is claimed from shared counters, so the
 * result never depends on how many helpers show up.  Idle helpers sleep on
 * a condition variable: none spins, so an idle pool takes no CPU time from
 * the machine (or from the energy a job is charged).
 */
#define CPU_POOL_MAX 255

static struct {
	pthread_mutex_t use;  /* held by the GEMM using the pool */
	pthread_mutex_t lock; /* the fields below */
	pthread_cond_t wake, done;
	unsigned helpers, want, started, finished;
	bool closed; /* the caller is done; late helpers skip this job */
	unsigned long generation;
	void *(*fn)(void *);
	void *arg;
	bool atfork;
} pool = {
	.use = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};

struct pool_start {
	unsigned index;
	unsigned long generation;
};

static void *pool_helper(void *arg)
{
	struct pool_start st = *(struct pool_start *)arg;
	unsigned long seen = st.generation;

	free(arg);
	for (;;) {
		pthread_mutex_lock(&pool.lock);
		while (pool.generation == seen)
			pthread_cond_wait(&pool.wake, &pool.lock);
		seen = pool.generation;
		/* A helper that wakes after the caller finished the work alone
		 * must not touch it: the caller's stack holds it. */
		if (st.index >= pool.want || pool.closed) {
			pthread_mutex_unlock(&pool.lock);
			continue;
		}
		pool.started++;
		void *(*fn)(void *) = pool.fn;
		void *fn_arg = pool.arg;
		pthread_mutex_unlock(&pool.lock);
		fn(fn_arg);
		pthread_mutex_lock(&pool.lock);
		if (++pool.finished == pool.started)
			pthread_cond_signal(&pool.done);
		pthread_mutex_unlock(&pool.lock);
	}
	return NULL;
}

/* A forked child has none of the parent's helpers. */
static void pool_atfork_child(void)
{
	pthread_mutex_init(&pool.use, NULL);
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.wake, NULL);
	pthread_cond_init(&pool.done, NULL);
	pool.helpers = 0;
}

/* Run fn(arg) on this thread and on up to `extra` helpers that join in time;
 * returns how many helpers ran it.  Falls back to short-lived threads when
 * the pool is busy. */
static unsigned pool_run(unsigned extra, void *(*fn)(void *), void *arg)
{
	if (extra > CPU_POOL_MAX)
		extra = CPU_POOL_MAX;
	if (!extra) {
		fn(arg);
		return 0;
	}
	if (pthread_mutex_trylock(&pool.use)) {
		pthread_t tids[CPU_POOL_MAX];
		unsigned started = 0;
		while (started < extra && !pthread_create(&tids[started], NULL, fn, arg))
			started++;
		fn(arg);
		for (unsigned t = 0; t < started; t++)
			pthread_join(tids[t], NULL);
		return started;
	}
	pthread_mutex_lock(&pool.lock);
	if (!pool.atfork)
		pool.atfork = !pthread_atfork(NULL, NULL, pool_atfork_child);
	while (pool.helpers < extra) {
		struct pool_start *st = malloc(sizeof(*st));
		pthread_t tid;
		if (!st)
			break;
		st->index = pool.helpers;
		st->generation = pool.generation;
		if (pthread_create(&tid, NULL, pool_helper, st)) {
			free(st);
			break;
		}
		pthread_detach(tid);
		pool.helpers++;
	}
	unsigned want = extra < pool.helpers ? extra : pool.helpers;
	pool.want = want;
	pool.started = 0;
	pool.finished = 0;
	pool.closed = false;
	pool.fn = fn;
	pool.arg = arg;
	pool.generation++;
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);

	fn(arg);

	/* Wait only for helpers that joined: work is claimed from counters,
	 * so when fn returns here, nothing is left for late ones. */
	pthread_mutex_lock(&pool.lock);
	pool.closed = true;
	while (pool.finished < pool.started)
		pthread_cond_wait(&pool.done, &pool.lock);
	unsigned joined = pool.started;
	pthread_mutex_unlock(&pool.lock);
	pthread_mutex_unlock(&pool.use);
	return joined;
}

/* ------------------------------------------------------------ driver */

/* C is split statically into one equal 2-D share (rows × columns) per
 * thread; shares are claimed from a counter, so a helper the scheduler has
 * not woken yet costs time, never correctness: the others take its share. */
#define CPU_SLOTS_PER_THREAD 1
#define CPU_SLOTS_MAX 256
/* Row shares of at least this many micro-panels keep B reused from L1. */
#define CPU_SLOT_MIN_MPANELS 8

struct cpu_slot {
	size_t r0, r1;   /* rows */
	size_t p0, p1;   /* B micro-panels */
	size_t mc;       /* rows per block: equal blocks of at most CPU_MC */
};

struct cpu_gemm {
	const qmx_gemm_params *p;
	const qmx_gemm_host_operands *ops;
	const struct qmx_cpu_isa *isa;
	size_t m, n, k;
	size_t kgs;        /* K groups */
	size_t kcg;        /* K groups per block */
	size_t npanels;
	size_t panel_bytes;
	unsigned char *bpack; /* npanels × panel_bytes */
	unsigned char *apack; /* ceil(m / mr) × apanel_bytes */
	size_t apanel_bytes;
	bool need_rowsum;
	uint32_t za;       /* za' = za + a_offset */
	uint32_t *colsum;  /* npanels × nr: Σ_k B, then za'·Σ_k B once packed */
	uint32_t *rowsum;  /* m, Σ_k A (used when zb != 0) */

	bool b_packed;     /* B came packed (qmx_weights): no B packing tasks */
	bool b_lazy;       /* each B panel has one user, who packs it right
			    * before using it (it stays in cache) */
	atomic_size_t next_task; /* packing work, claimed one task at a time */
	size_t ntasks;
	atomic_size_t next_slot;
	size_t packed;     /* tasks done, under lock */
	pthread_mutex_t lock;
	pthread_cond_t all_packed;

	unsigned nslots;
	struct cpu_slot *slots;
	int32_t **acc;     /* per worker: accumulator block, acc_rows × acc_cols */
	size_t acc_cols;
	atomic_uint next_worker;
	_Atomic uint64_t cpu_ns;
	atomic_uint workers; /* threads that did some of the work */
};

void qmx_cpu_out_row_scalar(const struct qmx_cpu_out *o, size_t j0)
{
	for (size_t j = j0; j < o->n; j++) {
		uint32_t v = (uint32_t)o->s[j] + o->row_term - o->colterm[j];
		if (o->bias)
			v += (uint32_t)o->bias[j];
		if (!o->int8_out) {
			((int32_t *)o->c)[j] = (int32_t)v;
			continue;
		}
		((int8_t *)o->c)[j] = qmx_q_requant((int32_t)v,
						    o->mult ? o->mult[j] : o->mult1,
						    o->shift ? o->shift[j] : o->shift1,
						    o->zc, o->qmin, o->qmax);
	}
}

static void port_out_row(const struct qmx_cpu_out *o)
{
	qmx_cpu_out_row_scalar(o, 0);
}

/* The output stage's fields for columns [j0, j1) (rows filled per row). */
static void cpu_out_setup(const struct cpu_gemm *g, size_t j0, size_t j1,
			  struct qmx_cpu_out *o)
{
	const qmx_gemm_params *p = g->p;
	const qmx_gemm_host_operands *ops = g->ops;
	const bool int8_out = p->out_type == QMX_OUT_INT8;
	const bool per_channel = int8_out && p->quant_mode == QMX_QUANT_PER_CHANNEL;

	*o = (struct qmx_cpu_out){
		.colterm = g->colsum + j0,
		.bias = p->has_bias ? ops->bias + j0 : NULL,
		.mult = per_channel ? ops->multipliers + j0 : NULL,
		.shift = per_channel ? ops->shifts + j0 : NULL,
		.mult1 = p->multiplier,
		.shift1 = p->shift,
		.zc = p->c_zero_point,
		.qmin = p->qmin,
		.qmax = p->qmax,
		.int8_out = int8_out,
		.n = j1 - j0,
	};
}

/* The zero-point term of row i: K·za'·zb − zb·Σa'. */
static inline uint32_t cpu_row_term(const struct cpu_gemm *g, size_t i)
{
	const uint32_t zb = (uint32_t)g->p->b_zero_point;
	uint32_t t = (uint32_t)g->k * g->za * zb;
	if (zb) /* Σa' = Σa + K·offset */
		t -= zb * (g->rowsum[i] + (uint32_t)g->k * (uint32_t)g->isa->a_offset);
	return t;
}

static inline void *cpu_c_at(const struct cpu_gemm *g, size_t i, size_t j)
{
	const size_t esize = g->p->out_type == QMX_OUT_INT8 ? 1 : 4;
	return (char *)g->ops->c + (i * (size_t)g->p->ldc + j) * esize;
}

/* C rows [i0, i1) × columns [j0, j1) from the raw sums in acc. */
static void cpu_output(const struct cpu_gemm *g, size_t i0, size_t i1, size_t j0,
		       size_t j1, const int32_t *acc, size_t ldacc)
{
	struct qmx_cpu_out o;

	cpu_out_setup(g, j0, j1, &o);
	for (size_t i = i0; i < i1; i++) {
		o.s = acc + (i - i0) * ldacc;
		o.row_term = cpu_row_term(g, i);
		o.c = cpu_c_at(g, i, j0);
		g->isa->out_row(&o);
	}
}

/* Packing tasks: each B micro-panel, then A in chunks of micro-panels (with
 * the row sums of those rows). */
#define CPU_A_CHUNK 4

static void cpu_pack_a_chunk(struct cpu_gemm *g, size_t chunk)
{
	const size_t mr = g->isa->mr;
	size_t i0 = chunk * CPU_A_CHUNK * mr;
	size_t i1 = i0 + CPU_A_CHUNK * mr < g->m ? i0 + CPU_A_CHUNK * mr : g->m;
	const size_t lda = (size_t)g->p->lda;

	g->isa->pack_a(g->ops->a, lda, g->k, i0, i1 - i0, 0, g->kgs,
		       g->apack + i0 / mr * g->apanel_bytes);
	if (!g->need_rowsum)
		return;
	for (size_t i = i0; i < i1; i++) {
		const int8_t *row = g->ops->a + i * lda;
		uint32_t sum = 0;
		for (size_t kk = 0; kk < g->k; kk++)
			sum += (uint32_t)(int32_t)row[kk];
		g->rowsum[i] = sum;
	}
}

/* B micro-panels [t0, t1) with their column terms. */
static void cpu_pack_b_panels(const struct cpu_gemm *g, size_t t0, size_t t1)
{
	const struct qmx_cpu_isa *isa = g->isa;
	const unsigned nr = isa->nr;
	const size_t ldb = (size_t)g->p->ldb;

	if (isa->pack_b_panels && t1 - t0 > 1)
		isa->pack_b_panels(g->ops->b, ldb, g->k, g->n, t0 * nr, t1 - t0, g->kgs,
				   g->bpack + t0 * g->panel_bytes, g->panel_bytes,
				   g->colsum + t0 * nr);
	else
		for (size_t t = t0; t < t1; t++)
			isa->pack_b(g->ops->b, ldb, g->k, g->n, t * nr, g->kgs,
				    g->bpack + t * g->panel_bytes, g->colsum + t * nr);
	/* The column term of the output stage, once per GEMM. */
	for (size_t j = t0 * nr; j < t1 * nr; j++)
		g->colsum[j] *= g->za;
}

/* Returns whether this thread packed anything. */
static bool cpu_pack_phase(struct cpu_gemm *g)
{
	size_t done = 0;

	for (;;) {
		size_t t = atomic_fetch_add(&g->next_task, 1);
		if (t >= g->ntasks)
			break;
		if (t < g->npanels)
			cpu_pack_b_panels(g, t, t + 1);
		else
			cpu_pack_a_chunk(g, t - g->npanels);
		done++;
	}
	pthread_mutex_lock(&g->lock);
	g->packed += done;
	if (g->packed == g->ntasks)
		pthread_cond_broadcast(&g->all_packed);
	else
		while (g->packed < g->ntasks)
			pthread_cond_wait(&g->all_packed, &g->lock);
	pthread_mutex_unlock(&g->lock);
	return done > 0;
}

static void cpu_compute_slot(const struct cpu_gemm *g, const struct cpu_slot *s,
			     int32_t *acc)
{
	const struct qmx_cpu_isa *isa = g->isa;
	const size_t ncp = CPU_NC / isa->nr;
	const size_t group_bytes = (size_t)isa->kg * isa->esize;
	const size_t ldacc = g->acc_cols;
	struct qmx_cpu_epilogue ep;

	ep.ldc = (size_t)g->p->ldc;

	for (size_t pc0 = s->p0; pc0 < s->p1; pc0 += ncp) {
		size_t pc1 = pc0 + ncp < s->p1 ? pc0 + ncp : s->p1;
		size_t j1 = pc1 * isa->nr < g->n ? pc1 * isa->nr : g->n;
		for (size_t i0 = s->r0; i0 < s->r1; i0 += s->mc) {
			size_t rows = s->r1 - i0 < s->mc ? s->r1 - i0 : s->mc;
			const unsigned char *ap = g->apack + i0 / isa->mr * g->apanel_bytes;
			for (size_t g0 = 0; g0 < g->kgs; g0 += g->kcg) {
				size_t kcg = g->kgs - g0 < g->kcg ? g->kgs - g0 : g->kcg;
				const bool last = g0 + kcg == g->kgs;
				for (size_t pj = pc0; pj < pc1; pj++) {
					/* This share's panels of the chunk, packed in one
					 * sweep over B's rows right before first use. */
					if (g->b_lazy && i0 == s->r0 && g0 == 0 && pj == pc0)
						cpu_pack_b_panels(g, pc0, pc1);
					const unsigned char *bp = g->bpack + pj * g->panel_bytes +
								  g0 * isa->nr * group_bytes;
					int32_t *cp = acc + (pj - pc0) * isa->nr;
					size_t j0 = pj * isa->nr;
					size_t je = j0 + isa->nr < j1 ? j0 + isa->nr : j1;
					/* Full tiles of the last K block go through the
					 * output stage from the kernel's registers. */
					bool fuse = last && isa->kernel_out && je - j0 == isa->nr;
					if (fuse)
						cpu_out_setup(g, j0, je, &ep.o);
					for (size_t r = 0; r < rows; r += isa->mr) {
						const unsigned char *a = ap + r / isa->mr * g->apanel_bytes +
									 g0 * isa->mr * group_bytes;
						if (fuse && r + isa->mr <= rows) {
							for (unsigned t = 0; t < isa->mr; t++)
								ep.row_term[t] = cpu_row_term(g, i0 + r + t);
							ep.o.c = cpu_c_at(g, i0 + r, j0);
							isa->kernel_out(kcg, a, bp, cp + r * ldacc, ldacc,
									g0 > 0, &ep);
							continue;
						}
						isa->kernel(kcg, a, bp, cp + r * ldacc, ldacc, g0 > 0);
						/* The output stage on the tile just made,
						 * while it is in L1. */
						if (last)
							cpu_output(g, i0 + r,
								   r + isa->mr < rows ? i0 + r + isa->mr
										      : i0 + rows,
								   j0, je, cp + r * ldacc, ldacc);
					}
				}
			}
		}
	}
}

static void *cpu_worker(void *arg)
{
	struct cpu_gemm *g = arg;
	uint64_t t0 = qmx_thread_cpu_ns();
	/* At most as many threads run this as there are accumulator blocks. */
	int32_t *acc = g->acc[atomic_fetch_add(&g->next_worker, 1)];
	bool worked = cpu_pack_phase(g);

	for (;;) {
		size_t si = atomic_fetch_add(&g->next_slot, 1);
		if (si >= g->nslots)
			break;
		cpu_compute_slot(g, &g->slots[si], acc);
		worked = true;
	}
	if (worked)
		atomic_fetch_add(&g->workers, 1);
	atomic_fetch_add(&g->cpu_ns, qmx_thread_cpu_ns() - t0);
	return NULL;
}

static size_t div_up(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

static size_t round_up(size_t a, size_t b)
{
	return div_up(a, b) * b;
}

/* Split C into threads equal shares, a tm × tn grid.  The wider operand is
 * split: columns when N > M (each thread then packs only its part of B),
 * else rows.  tm is the largest divisor of the thread count that leaves
 * every row share CPU_SLOT_MIN_MPANELS micro-panels of rows (so B is reused
 * from L1), tn likewise with at least 2 micro-panels of columns; the other
 * direction takes the rest.  One share with one thread. */
static unsigned cpu_plan(struct cpu_gemm *g, unsigned threads, struct cpu_slot *slots)
{
	const unsigned mr = g->isa->mr;
	size_t want = threads > CPU_SLOTS_MAX ? CPU_SLOTS_MAX : threads;
	size_t gm = div_up(g->m, mr), gn = g->npanels;
	size_t rows_max = gm / CPU_SLOT_MIN_MPANELS ? gm / CPU_SLOT_MIN_MPANELS : 1;
	size_t cols_max = gn / 2 ? gn / 2 : 1;
	bool cols_first = g->n > g->m;
	size_t first_max = cols_first ? cols_max : rows_max, d1 = 1;

	for (size_t d = 1; d <= want; d++)
		if (want % d == 0 && d <= first_max)
			d1 = d;
	size_t d2 = want / d1, other = cols_first ? gm : gn;
	if (d2 > other)
		d2 = other;
	size_t tm = cols_first ? d2 : d1, tn = cols_first ? d1 : d2;
	for (size_t t = 0; t < tm * tn; t++) {
		struct cpu_slot *s = &slots[t];
		size_t im = t % tm, in = t / tm;
		s->r0 = gm * im / tm * mr;
		s->r1 = im + 1 == tm ? g->m : gm * (im + 1) / tm * mr;
		s->p0 = gn * in / tn;
		s->p1 = gn * (in + 1) / tn;
		/* Equal row blocks: a short last block would reuse each B
		 * micro-panel for few rows. */
		size_t rows = s->r1 - s->r0;
		s->mc = round_up(div_up(rows, div_up(rows, CPU_MC)), mr);
	}
	return (unsigned)(tm * tn);
}

/*
 * One workspace holds packed B, the sums and every slot's buffers.  It is
 * kept between calls (up to CPU_WS_KEEP bytes): fresh large allocations are
 * fresh pages, and faulting them in costs as much as packing.  A call that
 * finds it in use allocates its own.
 */
#define CPU_WS_KEEP (64u << 20)

static struct {
	pthread_mutex_t lock; /* held while a GEMM uses buf */
	void *buf;
	size_t size;
} ws = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *ws_get(size_t size, bool *cached)
{
	*cached = !pthread_mutex_trylock(&ws.lock);
	if (!*cached)
		return aligned_alloc(64, size);
	if (ws.size < size) {
		free(ws.buf);
		ws.size = 0;
		ws.buf = aligned_alloc(64, size);
		if (!ws.buf) {
			pthread_mutex_unlock(&ws.lock);
			*cached = false;
			return NULL;
		}
		ws.size = size;
	}
	return ws.buf;
}

static void ws_put(void *buf, bool cached)
{
	if (!cached) {
		free(buf);
		return;
	}
	if (ws.size > CPU_WS_KEEP) {
		free(ws.buf);
		ws.buf = NULL;
		ws.size = 0;
	}
	pthread_mutex_unlock(&ws.lock);
}

int qmx_cpu_pack_b(const int8_t *b, size_t ldb, size_t k, size_t n,
		   struct qmx_cpu_packed_b **out)
{
	const struct qmx_cpu_isa *isa;
	int err;

	*out = NULL;
	if ((err = cpu_select_isa(&isa)))
		return err;
	const size_t kgs = div_up(k, isa->kg);
	const size_t npanels = div_up(n, isa->nr);
	const size_t panel_bytes = kgs * isa->nr * isa->kg * isa->esize;
	if ((double)npanels * (double)panel_bytes > (double)(SIZE_MAX / 4))
		return qmx_fail(QMX_ENOMEM, "cpu weights: packed K=%zu N=%zu does not fit memory",
				k, n);
	struct qmx_cpu_packed_b *pb = calloc(1, sizeof(*pb));
	if (!pb)
		return qmx_fail(QMX_ENOMEM, "cpu weights: out of memory");
	pb->isa = isa;
	pb->k = k;
	pb->n = n;
	pb->npanels = npanels;
	pb->panel_bytes = panel_bytes;
	pb->panels = aligned_alloc(64, round_up(npanels * panel_bytes, 64));
	pb->colsum = calloc(npanels * isa->nr, sizeof(uint32_t));
	if (!pb->panels || !pb->colsum) {
		qmx_cpu_packed_b_free(pb);
		return qmx_fail(QMX_ENOMEM, "cpu weights: cannot allocate %zu bytes of packed B",
				npanels * panel_bytes);
	}
	for (size_t t = 0; t < npanels; t++)
		isa->pack_b(b, ldb, k, n, t * isa->nr, kgs, pb->panels + t * panel_bytes,
			    pb->colsum + t * isa->nr);
	*out = pb;
	return 0;
}

void qmx_cpu_packed_b_free(struct qmx_cpu_packed_b *pb)
{
	if (!pb)
		return;
	free(pb->panels);
	free(pb->colsum);
	free(pb);
}

int qmx_cpu_gemm_fast(const qmx_gemm_params *p, const qmx_gemm_host_operands *ops,
		      const struct qmx_cpu_packed_b *packed_b, struct qmx_cpu_run *run)
{
	struct cpu_gemm g;
	unsigned threads = run->threads ? run->threads : qmx_cpu_online_threads();
	int err;

	memset(&g, 0, sizeof(g));
	if ((err = cpu_select_isa(&g.isa)))
		return err;
	const struct qmx_cpu_isa *isa = g.isa;
	const size_t group_bytes = (size_t)isa->kg * isa->esize;
	g.p = p;
	g.ops = ops;
	g.m = (size_t)p->m;
	g.n = (size_t)p->n;
	g.k = (size_t)p->k;
	g.kgs = div_up(g.k, isa->kg);
	/* Equal K blocks, so the last one is not a sliver. */
	g.kcg = div_up(g.kgs, div_up(g.kgs, CPU_KC / isa->kg));
	g.npanels = div_up(g.n, isa->nr);
	g.panel_bytes = g.kgs * isa->nr * group_bytes;
	g.b_packed = packed_b && packed_b->isa == isa && packed_b->k == g.k &&
		     packed_b->n == g.n;
	if ((double)g.m * (double)g.n * (double)g.k < CPU_MT_MIN_MACS)
		threads = 1;
	if (threads > CPU_POOL_MAX + 1)
		threads = CPU_POOL_MAX + 1;

	struct cpu_slot slots[CPU_SLOTS_MAX];
	g.slots = slots;
	g.nslots = cpu_plan(&g, threads, slots);
	/* One row share (tm = 1): every B panel has one user, who packs it. */
	g.b_lazy = !g.b_packed && slots[0].r0 == 0 && slots[0].r1 == g.m;
	unsigned workers = threads < g.nslots ? threads : g.nslots;
	int32_t *acc[CPU_POOL_MAX + 1];
	g.acc = acc;

	size_t mpanels = div_up(g.m, isa->mr);
	g.apanel_bytes = g.kgs * isa->mr * group_bytes;
	g.ntasks = g.npanels + div_up(mpanels, CPU_A_CHUNK);
	g.need_rowsum = p->b_zero_point != 0;
	g.za = (uint32_t)p->a_zero_point + (uint32_t)isa->a_offset;

	/* Packed copies are at most twice the operands, which fit size_t, but
	 * say so rather than let a product wrap. */
	if ((double)g.npanels * (double)g.panel_bytes +
		    (double)mpanels * (double)g.apanel_bytes > (double)(SIZE_MAX / 4))
		return qmx_fail(QMX_ENOMEM, "cpu gemm: packed operands of M=%zu N=%zu K=%zu do not fit memory",
				g.m, g.n, g.k);

	/* Carve the workspace: packed B and A, column and row sums, each
	 * worker's accumulator block (sized for the largest share). */
	size_t bp_bytes = g.b_packed ? 0 : round_up(g.npanels * g.panel_bytes, 64);
	size_t ap_bytes = round_up(mpanels * g.apanel_bytes, 64);
	size_t cs_bytes = round_up(g.npanels * isa->nr * sizeof(uint32_t), 64);
	size_t rs_bytes = round_up(g.m * sizeof(uint32_t), 64);
	size_t total = bp_bytes + ap_bytes + cs_bytes + rs_bytes;
	size_t acc_rows = 0, nc = CPU_NC / isa->nr * isa->nr;
	for (unsigned t = 0; t < g.nslots; t++) {
		size_t cols = (slots[t].p1 - slots[t].p0) * isa->nr;
		cols = cols < nc ? cols : nc;
		acc_rows = slots[t].mc > acc_rows ? slots[t].mc : acc_rows;
		g.acc_cols = cols > g.acc_cols ? cols : g.acc_cols;
	}
	size_t acc_bytes = round_up(acc_rows * g.acc_cols * sizeof(int32_t), 64);
	total += workers * acc_bytes;
	bool cached;
	unsigned char *buf = ws_get(total, &cached), *at = buf;
	if (!buf)
		return qmx_fail(QMX_ENOMEM, "cpu gemm: cannot allocate a %zu-byte workspace",
				total);
	g.bpack = g.b_packed ? packed_b->panels : at;
	g.apack = (at += bp_bytes);
	g.colsum = (uint32_t *)(at += ap_bytes);
	g.rowsum = (uint32_t *)(at += cs_bytes);
	at += rs_bytes;
	if (g.b_packed) {
		/* Only A is left to pack; the column term from the kept sums. */
		for (size_t j = 0; j < g.npanels * isa->nr; j++)
			g.colsum[j] = packed_b->colsum[j] * g.za;
	} else {
		memset(g.colsum, 0, cs_bytes);
	}
	if (g.b_packed || g.b_lazy) { /* no B tasks in the packing phase */
		atomic_store(&g.next_task, g.npanels);
		g.packed = g.npanels;
	}
	for (unsigned t = 0; t < workers; t++, at += acc_bytes)
		acc[t] = (int32_t *)at;
	pthread_mutex_init(&g.lock, NULL);
	pthread_cond_init(&g.all_packed, NULL);

	pool_run(workers - 1, cpu_worker, &g);

	run->threads = atomic_load(&g.workers);
	run->cpu_ns = atomic_load(&g.cpu_ns);
	run->isa = isa->name;
	pthread_cond_destroy(&g.all_packed);
	pthread_mutex_destroy(&g.lock);
	ws_put(buf, cached);
	return 0;
}
