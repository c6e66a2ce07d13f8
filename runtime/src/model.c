/* SPDX-License-Identifier: MIT */
/*
 * model.c - the analytical model of the qmx accelerator (qmx_model.h).
 *
 * Counters are the RTL's own sums in closed form (qmx_core, "activity"):
 * MACs, operand reads per step, accumulator words at chunk boundaries,
 * vector reads per drained row, and DMA beats counted per row from the
 * row's byte offset within a bus word (periodic in the row index, so a sum
 * over one period).
 *
 * Cycles follow the engines' handshakes, chunk by chunk in the RTL's order
 * (m2, n2, k2):
 *  - loader: per chunk one L_WAIT cycle, then per row one L_ROW cycle and
 *    one L_ISSUE cycle per burst; at most RD_OUTSTANDING bursts in flight;
 *  - memory: a burst's first beat LAT + 1 cycles after its address, beats
 *    at one per cycle or the bandwidth (a token bucket of bw + 2 beats);
 *    the data channel is max-plus over bursts, evaluated at the ends of
 *    each run of equal rows (exact for a piecewise-uniform stream);
 *  - sequencer: a chunk starts when its half is full and the previous one
 *    released, steps P'.Q'.kt cycles, releases 4 cycles later;
 *  - drain and writer: in a block's last chunk each sub-tile's sums leave
 *    R+C+1 cycles after its last step, a row per writer period (AW, data
 *    beats, at most WR_OUTSTANDING bursts awaiting a response); the next
 *    sub-tile's last step waits until every row of the previous one has
 *    been taken (last_pending): the drain stalls;
 *  - a load overlapping the previous block's drain shares the bandwidth.
 * The job ends when the last write response is back.  Whatever repeats
 * (rows of a sub-tile, sub-tiles, rows of sub-tiles, middle chunks, the
 * drain of blocks alike, runs of alike blocks in a row of blocks, rows of
 * blocks) is computed until its period shows, then multiplied out: a
 * 4096^3 job evaluates 17 of its 64 blocks and 3-6 of each block's 16
 * chunks.  qmx_model_predict_unfolded evaluates every block (the tests'
 * reference).
 */
#include <math.h>
#include <string.h>

#include "qmx_backend.h"
#include "qmx_model.h"
#include "qmx_regs.h"

/* Fixed handshake latencies of the RTL and the simulator's memory port,
 * in cycles (each from the registers named). */
#define M_START 0          /* job_go -> loader's first L_ROW (L_WAIT) */
#define M_AR_TO_R 1        /* ar_valid_q -> AR accepted -> first R beat, beyond LAT */
#define M_FULL_TO_RUN 1    /* eoc -> hstate FULL -> S_WAIT -> first step */
#define M_SLOT 1           /* last beat in -> routing FIFO slot free -> next AR */
#define M_REL 4            /* S_REL countdown after the last step */
#define M_ARR_OUT 3        /* last step issued -> array's last PE -> d_fire_q -> D_ROW, beyond R+C-2 */
#define M_RQ 6             /* row emitted -> requant pipeline -> segment full -> W_IDLE */
#define M_W_ROW 3          /* W_IDLE, W_AWSET, W_AW per segment */
#define M_B_RESP 1         /* last W beat -> B response -> b_cnt down -> AW may go */
#define M_B_TAIL 1         /* last W beat -> B response -> writer idle -> busy low */

void qmx_model_config_default(struct qmx_model_config *cfg, uint32_t rows, uint32_t cols)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rows = rows;
	cfg->cols = cols;
	/* TILE_P = ceil(512 / rows): the block is TILE_P * rows. */
	cfg->block_m = rows ? (512 + rows - 1) / rows * rows : 512;
	cfg->block_n = cols ? (512 + cols - 1) / cols * cols : 512;
	cfg->tile_k = 256;
	cfg->axi_data_bits = 8 * cols > 64 ? 8 * cols : 64;
	/* The sim models' width is a power of two: round up. */
	uint32_t w = 32;
	while (w < cfg->axi_data_bits && w < 1024)
		w <<= 1;
	cfg->axi_data_bits = w;
	cfg->rd_outstanding = 32;
	cfg->wr_outstanding = 16;
	cfg->mem_latency_cycles = 40;
	cfg->mem_bytes_per_cycle = 0;
	cfg->clock_mhz = 250;
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int qmx_model_config_check(const struct qmx_model_config *c)
{
	if (!c)
		return qmx_fail(QMX_EINVAL, "model: config is NULL");
	if (!c->rows || c->rows > QMX_MODEL_MAX_ARRAY || !pow2(c->rows))
		return qmx_fail(QMX_EINVAL,
				"model: rows %u must be a power of two in [1, %u] (the A memories are banked by row bits)",
				c->rows, QMX_MODEL_MAX_ARRAY);
	if (!c->cols || c->cols > QMX_MODEL_MAX_ARRAY)
		return qmx_fail(QMX_EINVAL, "model: cols %u must be in [1, %u]", c->cols,
				QMX_MODEL_MAX_ARRAY);
	if (c->rows + c->cols < 3)
		return qmx_fail(QMX_EINVAL, "model: rows + cols must be >= 3 (array skew)");
	if (!c->block_m || c->block_m % c->rows || !c->block_n || c->block_n % c->cols)
		return qmx_fail(QMX_EINVAL,
				"model: block %ux%u must be a positive multiple of the array %ux%u",
				c->block_m, c->block_n, c->rows, c->cols);
	if (c->block_m > (1u << 20) || c->block_n > (1u << 20))
		return qmx_fail(QMX_EINVAL, "model: block_m/block_n must be <= %u", 1u << 20);
	if ((uint64_t)(c->block_m / c->rows) * (c->block_n / c->cols) < 2)
		return qmx_fail(QMX_EINVAL,
				"model: block must hold at least 2 sub-tiles (TILE_P * TILE_Q >= 2)");
	if (!c->tile_k || c->tile_k > 4096)
		return qmx_fail(QMX_EINVAL, "model: tile_k %u must be in [1, 4096]", c->tile_k);
	if (c->axi_data_bits < 32 || c->axi_data_bits > 1024 || !pow2(c->axi_data_bits))
		return qmx_fail(QMX_EINVAL,
				"model: axi_data_bits %u must be a power of two in [32, 1024]",
				c->axi_data_bits);
	if (c->rd_outstanding < 2 || !pow2(c->rd_outstanding) || c->rd_outstanding > 4096)
		return qmx_fail(QMX_EINVAL,
				"model: rd_outstanding %u must be a power of two in [2, 4096]",
				c->rd_outstanding);
	if (c->wr_outstanding < 2 || !pow2(c->wr_outstanding) || c->wr_outstanding > 4096)
		return qmx_fail(QMX_EINVAL,
				"model: wr_outstanding %u must be a power of two in [2, 4096]",
				c->wr_outstanding);
	if (c->mem_latency_cycles > 100000)
		return qmx_fail(QMX_EINVAL, "model: mem_latency_cycles %u must be <= 100000",
				c->mem_latency_cycles);
	if (c->mem_bytes_per_cycle > 4096)
		return qmx_fail(QMX_EINVAL, "model: mem_bytes_per_cycle %u must be <= 4096",
				c->mem_bytes_per_cycle);
	if (!c->clock_mhz || c->clock_mhz > 100000)
		return qmx_fail(QMX_EINVAL, "model: clock_mhz %u must be in [1, 100000]",
				c->clock_mhz);
	return 0;
}

void qmx_model_memory(const struct qmx_model_config *c, struct qmx_model_memory *o)
{
	uint64_t wb = c->axi_data_bits / 8;
	/* Words per buffered row: any byte offset plus the row (qmx_geom.vh). */
	uint64_t rwa = (wb - 1 + c->tile_k + wb - 1) / wb;
	uint64_t rwb = (wb - 1 + c->block_n + wb - 1) / wb;
	uint64_t rwp = (wb - 1 + 4ull * c->block_n + wb - 1) / wb;

	o->a_bytes = 2ull * c->block_m * rwa * wb;
	o->b_bytes = 2ull * c->tile_k * rwb * wb;
	o->vec_bytes = 3ull * 2 * rwp * wb;
	o->acc_bytes = 4ull * c->block_m * c->block_n;
	o->total_bytes = o->a_bytes + o->b_bytes + o->vec_bytes + o->acc_bytes;
}

/* ---------------------------------------------------------------- beats */

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Bus beats of n rows of len bytes, row i starting at byte off + i*stride:
 * ceil(((start mod wb) + len) / wb) each, summed over one period of the
 * offsets.  Bursts split only at beat boundaries, so splits add no beats. */
static uint64_t rows_beats(uint64_t n, uint64_t len, uint64_t off, uint64_t stride, uint64_t wb)
{
	if (!n)
		return 0;
	uint64_t s = stride % wb, o = off % wb;
	if (!s)
		return n * ((o + len + wb - 1) / wb);
	uint64_t period = wb / gcd64(s, wb), per = 0, tail = 0, rem = n % period;
	for (uint64_t i = 0; i < period; i++) {
		uint64_t b = ((o + i * s) % wb + len + wb - 1) / wb;
		per += b;
		if (i < rem)
			tail += b;
	}
	return n / period * per + tail;
}

/* Extra bursts of a run of n rows from 4 KiB crossings (one per crossing):
 * rows are laid out at stride, each len bytes; a row crosses
 * floor((start + len - 1) / 4096) - floor(start / 4096) boundaries. */
static double rows_splits(uint64_t n, uint64_t len, uint64_t stride, uint64_t wb)
{
	/* On average a row of len bytes crosses (len - wb) / 4096 boundaries
	 * beyond the ones between rows; bursts are also cut at 256 beats. */
	double cross = len > 1 ? (double)(len - 1) / 4096.0 : 0;
	double cut = (double)len / (256.0 * (double)wb);
	(void)stride;
	return (double)n * (cross > cut ? cross : cut);
}

/* ---------------------------------------------------------------- timing */

struct mem {
	double lat;     /* address -> first beat */
	double r;       /* cycles per beat */
	double fd;      /* bursts in flight */
	double credit;  /* cycles a full token bucket saves */
	double refill;  /* idle cycles that fill it */
};

/* The loader's stream: issue and data times. */
struct stream {
	double issue;   /* next issue cycle */
	double data;    /* data channel free from */
	double tp;      /* data cycles per burst of the last run */
	double nb;      /* bursts of the last run */
	double credit;  /* token-bucket credit left, cycles */
};

/* A run of n rows of `beats` beats (mean) and `bursts` bursts (mean)
 * each: the loader spends 1 + bursts cycles per row, the memory answers
 * each burst lat later, one beat every r cycles.  Max-plus over the run,
 * evaluated at its first and last row.  RD_OUTSTANDING bursts in flight:
 * burst j may issue only once burst j - FD's last beat is in, which holds
 * back a run queued behind a long data backlog (B rows behind A's). */
static void run_rows(struct stream *s, const struct mem *m, double n, double beats,
		     double bursts)
{
	if (n <= 0)
		return;
	double lat = m->lat + M_AR_TO_R;
	double nb = n * bursts;            /* bursts of the run */
	double gb = (1.0 + bursts) / bursts; /* issue cycles per burst */
	/* Data cycles per burst: a beat a cycle, or a whole beat's bytes at
	 * the bandwidth (bursts start on a beat: every beat is charged whole). */
	double tb = beats * m->r / bursts;
	double first = s->issue + 1;       /* L_ROW, then the first burst */
	/* Backlog: burst j waits for burst j - FD of the run before, which
	 * ends at s->data - (FD-1-j)*tp; the bursts from the first bound one
	 * on are held back (shift), the ones before go at once. */
	double shift = 0, jb = 0;
	double j0 = m->fd - s->nb > 0 ? m->fd - s->nb : 0;
	double jl = (nb < m->fd ? nb : m->fd) - 1;
	if (j0 <= jl) {
		double w0 = s->data - (m->fd - 1 - j0) * s->tp + M_SLOT - (first + j0 * gb);
		double w1 = s->data - (m->fd - 1 - jl) * s->tp + M_SLOT - (first + jl * gb);
		shift = w0 > w1 ? w0 : w1;
		jb = w0 > w1 ? j0 : jl;
		if (shift < 0)
			shift = 0;
	}
	/* Steady state within the run: FD bursts per round trip. */
	double hold = (lat + M_SLOT + tb) / m->fd;
	double g = gb;
	if (hold > gb && nb > m->fd)
		g = gb + (hold - gb) * (1.0 - m->fd / nb);
	double last = first + shift + (nb - 1) * g;
	/* Max-plus: data of burst j cannot start before I_j + lat, nor
	 * before the burst ahead of it ends. */
	double e = s->data + nb * tb;
	double e0 = first + lat + nb * tb;
	/* Token bucket: idle cycles refill it (one cycle of credit each, up
	 * to two beats); the run's beats spend it. */
	double gap = first + lat - s->data;
	if (gap > 0)
		s->credit = s->credit + gap < m->credit ? s->credit + gap : m->credit;
	double use = tb > 1 ? nb * (tb - 1) : 0;
	if (use > s->credit)
		use = s->credit;
	s->credit -= use;
	e -= use;
	e0 -= use;
	double eb = first + jb * gb + shift + lat + (nb - jb) * tb - use;
	/* The last burst alone: credit left over spares it the bandwidth. */
	double e1 = last + lat + tb - (use < tb - 1 ? use : tb - 1);
	if (e0 > e)
		e = e0;
	if (eb > e)
		e = eb;
	if (e1 > e)
		e = e1;
	s->data = e;
	s->tp = tb;
	s->nb = nb;
	s->issue = last + 1;
}


/* The writer: a segment per output row, periods in cycles. */
#define M_WD_RING 256 /* more write bursts in flight than this never wait */

struct writer {
	double free_at;    /* writer idle from */
	double slot[2];    /* when each segment slot is free again */
	unsigned next;     /* slot of the next row */
	double last_beat;  /* last W beat of the job so far */
	double resp_lat;   /* last W beat -> its B response counted */
	double r;          /* cycles per beat at the bandwidth */
	double refill;     /* idle cycles that fill the token bucket */
	double cap_cycles; /* cycles the full bucket saves */
	double credit;     /* of which left */
	double bucket_at;  /* credit counted up to this cycle */
	unsigned wd;       /* WR_OUTSTANDING (0: not limiting) */
	uint64_t rows;     /* rows written so far */
	double ring[M_WD_RING]; /* last beat of each of the last wd rows */
};

/* Drain one sub-tile whose last step issued at t: returns the cycle from
 * which the next sub-tile's last step may issue (last_pending clear).
 * A row's AW waits while WR_OUTSTANDING bursts await their response. */
static double drain_subtile(struct writer *w, double t, uint64_t rv, double x, double beats)
{
	double e = t + x, clear = e;
	/* A row costs its handshakes and beats, or its beats at the
	 * bandwidth: the AW cycles refill the token bucket. */
	double hs = M_W_ROW + beats, bwt = beats * w->r;
	double fh[4] = { 0 }, eh[4] = { 0 }; /* last rows' free_at and emit */
	for (uint64_t i = 0; i < rv; i++) {
		unsigned sl = w->next;
		if (w->slot[sl] > e)
			e = w->slot[sl];
		double ws = e + M_RQ;
		if (w->free_at > ws)
			ws = w->free_at;
		/* AW waits while WR_OUTSTANDING bursts await their response. */
		if (w->wd && w->rows >= w->wd) {
			double b = w->ring[w->rows % w->wd] + w->resp_lat;
			if (b > ws)
				ws = b;
		}
		/* A pause refills the bucket a cycle of credit per cycle: the
		 * next rows go at the handshake rate until it is spent. */
		double idle = ws - (w->free_at > w->bucket_at ? w->free_at : w->bucket_at);
		if (idle > 0)
			w->credit = w->credit + idle < w->cap_cycles ? w->credit + idle
								     : w->cap_cycles;
		double pw = hs;
		if (bwt > hs) {
			double use = bwt - hs < w->credit ? bwt - hs : w->credit;
			pw = bwt - use;
			w->credit -= use;
		}
		w->free_at = ws + pw;
		w->bucket_at = w->free_at;
		if (w->wd)
			w->ring[w->rows % w->wd] = w->free_at - 1;
		w->rows++;
		w->slot[sl] = w->free_at;
		w->next ^= 1;
		clear = e + 1;
		fh[i & 3] = w->free_at;
		eh[i & 3] = e;
		e += 1;
		/* Two rows (one per segment slot) repeat with period d2 once
		 * the slots and the writer settle: jump to the last row, unless
		 * credit is left or the responses could still hold AW back. */
		uint64_t k = rv - 1 - i;
		if (i >= 3 && k >= 2 && (bwt <= hs || w->credit <= 0)) {
			double d2 = fh[i & 3] - fh[(i - 2) & 3];
			double d2b = fh[(i - 1) & 3] - fh[(i - 3) & 3];
			double e2 = eh[i & 3] - eh[(i - 2) & 3];
			if (fabs(d2 - d2b) > 1e-9 || fabs(e2 - (eh[(i - 1) & 3] - eh[(i - 3) & 3])) > 1e-9 ||
			    (w->wd && w->wd * d2 / 2 < w->resp_lat + pw + d2))
				continue;
			/* Last row rv-1 and the one before it. */
			double h = (double)(k / 2);
			double f_last = (k & 1) ? fh[(i - 1) & 3] + (h + 1) * d2 : fh[i & 3] + h * d2;
			double f_prev = (k & 1) ? fh[i & 3] + h * d2 : fh[(i - 1) & 3] + h * d2;
			double e_last = (k & 1) ? eh[(i - 1) & 3] + (h + 1) * e2 : eh[i & 3] + h * e2;
			if (w->wd) {
				uint64_t n = k < w->wd ? k : w->wd;
				unsigned at = (unsigned)((w->rows + k - 1) % w->wd);
				for (uint64_t j = 0; j < n; j++) {
					/* Row rv-1-j ends d2/2 per row earlier, by parity. */
					uint64_t back = j;
					double f = (back & 1) ? f_prev - (double)(back / 2) * d2
							      : f_last - (double)(back / 2) * d2;
					w->ring[at] = f - 1;
					at = at ? at - 1 : w->wd - 1;
				}
			}
			w->rows += k;
			/* Slots: the last row's is free at f_last, the other's at f_prev. */
			unsigned last_sl = (unsigned)((w->next + k - 1) & 1);
			w->slot[last_sl] = f_last;
			w->slot[last_sl ^ 1] = f_prev;
			w->next = last_sl ^ 1;
			w->free_at = f_last;
			w->bucket_at = f_last;
			clear = e_last + 1;
			break;
		}
	}
	if (w->free_at - 1 > w->last_beat)
		w->last_beat = w->free_at - 1;
	return clear;
}

/* Move the writer's state by dt cycles (steady-state extrapolation). */
static void writer_shift(struct writer *w, double dt)
{
	w->free_at += dt;
	w->slot[0] += dt;
	w->slot[1] += dt;
	w->bucket_at += dt;
	for (unsigned i = 0; i < w->wd; i++)
		w->ring[i] += dt;
}

/*
 * Folding runs of alike blocks.  The state one block hands to the next is
 * a set of values that move linearly (times, exposed cycles) and a set
 * that must repeat (credits, the writer's slot, the drain cache).  Once
 * two consecutive blocks alike in their inputs moved every linear value
 * by the same amount and left the others as they were, each further
 * alike block does the same: the run is multiplied out.  Rows of blocks
 * fold the same way.
 */
#define M_LIN 14
#define M_REP 8

struct carry {
	double lin[M_LIN + 2];  /* values moving linearly, then fin (this, other) */
	double rep[M_REP];      /* values that must repeat */
	double ring[M_WD_RING]; /* the writer's ring, oldest row first */
	uint64_t rows;          /* rows written */
	unsigned flags;         /* the writer's next slot, the drain cache filled */
};

/* Pointers to the predictor's running state. */
struct carry_ref {
	double *lin[M_LIN];
	unsigned nlin;
	double *rep[M_REP];
	unsigned nrep;
	double *fin;            /* per-channel halves, by block parity */
	struct writer *w;
	const bool *valid[4];   /* drain cache entries filled */
};

/* Snapshot after the block of parity par: fin as (this, other). */
static void carry_take(const struct carry_ref *cr, unsigned par, struct carry *c)
{
	for (unsigned i = 0; i < cr->nlin; i++)
		c->lin[i] = *cr->lin[i];
	c->lin[cr->nlin] = cr->fin[par & 1];
	c->lin[cr->nlin + 1] = cr->fin[(par + 1) & 1];
	for (unsigned i = 0; i < cr->nrep; i++)
		c->rep[i] = *cr->rep[i];
	c->rows = cr->w->rows;
	c->flags = cr->w->next;
	for (unsigned i = 0; i < 4; i++)
		c->flags |= (unsigned)*cr->valid[i] << (i + 1);
	unsigned wd = cr->w->wd, at = wd ? (unsigned)(c->rows % wd) : 0;
	for (unsigned j = 0; j < wd; j++) {
		c->ring[j] = cr->w->ring[at];
		at = at + 1 < wd ? at + 1 : 0;
	}
}

/* Copy the part of a snapshot in use. */
static void carry_copy(const struct carry_ref *cr, struct carry *dst, const struct carry *src)
{
	memcpy(dst->lin, src->lin, sizeof(src->lin));
	memcpy(dst->rep, src->rep, sizeof(src->rep));
	memcpy(dst->ring, src->ring, cr->w->wd * sizeof(src->ring[0]));
	dst->rows = src->rows;
	dst->flags = src->flags;
}

/* d = b - a; false if a and b cannot be compared (the ring not yet full,
 * or the repeating values changed). */
static bool carry_delta(const struct carry_ref *cr, const struct carry *a, const struct carry *b,
			struct carry *d)
{
	if ((cr->w->wd && a->rows < cr->w->wd) || a->flags != b->flags)
		return false;
	for (unsigned i = 0; i < cr->nrep; i++)
		if (a->rep[i] != b->rep[i])
			return false;
	for (unsigned i = 0; i < cr->nlin + 2; i++)
		d->lin[i] = b->lin[i] - a->lin[i];
	for (unsigned j = 0; j < cr->w->wd; j++)
		d->ring[j] = b->ring[j] - a->ring[j];
	d->rows = b->rows - a->rows;
	d->flags = b->flags;
	memcpy(d->rep, b->rep, sizeof(d->rep));
	return true;
}

/* Equal steps, up to the rounding of the times they were taken from
 * (their last bits differ from step to step). */
static bool step_same(double a, double b)
{
	return fabs(a - b) <= 1e-9 + 1e-13 * fabs(a);
}

static bool carry_same(const struct carry_ref *cr, const struct carry *d1, const struct carry *d2)
{
	if (d1->rows != d2->rows)
		return false;
	for (unsigned i = 0; i < cr->nlin + 2; i++)
		if (!step_same(d1->lin[i], d2->lin[i]))
			return false;
	for (unsigned j = 0; j < cr->w->wd; j++)
		if (!step_same(d1->ring[j], d2->ring[j]))
			return false;
	return true;
}

/* Advance the state at c by n more steps of d; the last block now has
 * parity par.  c becomes the new snapshot. */
static void carry_apply(const struct carry_ref *cr, struct carry *c, const struct carry *d,
			uint64_t n, unsigned par)
{
	double m = (double)n;

	for (unsigned i = 0; i < cr->nlin + 2; i++)
		c->lin[i] += d->lin[i] * m;
	for (unsigned j = 0; j < cr->w->wd; j++)
		c->ring[j] += d->ring[j] * m;
	c->rows += d->rows * n;
	for (unsigned i = 0; i < cr->nlin; i++)
		*cr->lin[i] = c->lin[i];
	cr->fin[par & 1] = c->lin[cr->nlin];
	cr->fin[(par + 1) & 1] = c->lin[cr->nlin + 1];
	cr->w->rows = c->rows;
	unsigned wd = cr->w->wd, at = wd ? (unsigned)(c->rows % wd) : 0;
	for (unsigned j = 0; j < wd; j++) {
		cr->w->ring[at] = c->ring[j];
		at = at + 1 < wd ? at + 1 : 0;
	}
}

/* A run of alike steps (blocks, or rows of blocks): the last two
 * snapshots and the step between them. */
struct fold {
	unsigned have;  /* snapshots taken in this run: 0, 1, 2 */
	uint64_t key;
	struct carry s, d;
};

/* After a step with inputs key: true and *skip set if the next `avail`
 * steps alike (same key) can be multiplied out; the state then is past
 * them.  cur is scratch. */
static bool fold_step(const struct carry_ref *cr, struct fold *f, struct carry *cur, uint64_t key,
		      unsigned par, uint64_t avail, uint64_t *skip, unsigned par_after)
{
	carry_take(cr, par, cur);
	if (!f->have || f->key != key) {
		f->have = 1;
		f->key = key;
		carry_copy(cr, &f->s, cur);
		return false;
	}
	struct carry d;
	if (!carry_delta(cr, &f->s, cur, &d)) {
		f->have = 1;
		carry_copy(cr, &f->s, cur);
		return false;
	}
	bool same = f->have >= 2 && carry_same(cr, &f->d, &d);
	carry_copy(cr, &f->d, &d);
	f->have = 2;
	carry_copy(cr, &f->s, cur);
	if (!same || !avail)
		return false;
	carry_apply(cr, &f->s, &f->d, avail, par_after);
	*skip = avail;
	return true;
}

static int predict(const struct qmx_model_config *cfg, const struct qmx_model_gemm *g,
		   struct qmx_model_result *out, bool fold)
{
	int err = qmx_model_config_check(cfg);

	if (err)
		return err;
	if (!g || !out)
		return qmx_fail(QMX_EINVAL, "model: NULL shape or result");
	if (!g->m || !g->n || !g->k)
		return qmx_fail(QMX_EINVAL, "model: m, n, k must be >= 1 (got %u, %u, %u)", g->m,
				g->n, g->k);
	if (g->m > (1u << 20) || g->n > (1u << 20) || g->k > (1u << 20))
		return qmx_fail(QMX_EINVAL, "model: m, n, k must be <= %u (MAX_DIM)", 1u << 20);
	if (g->per_channel && !g->out_int8)
		return qmx_fail(QMX_EINVAL, "model: per_channel needs out_int8");
	uint64_t lda = g->lda ? g->lda : g->k, ldb = g->ldb ? g->ldb : g->n;
	uint64_t ldc = g->ldc ? g->ldc : g->n;
	if (lda < g->k || ldb < g->n || ldc < g->n)
		return qmx_fail(QMX_EINVAL, "model: lda >= k, ldb >= n, ldc >= n required");

	const uint64_t R = cfg->rows, C = cfg->cols, WB = cfg->axi_data_bits / 8;
	const uint64_t BM = cfg->block_m, BN = cfg->block_n, BK = cfg->tile_k;
	const uint64_t M = g->m, N = g->n, K = g->k;
	const uint64_t e = g->out_int8 ? 1 : 4;
	const uint64_t nvec = (g->bias ? 1 : 0) + (g->per_channel ? 2 : 0);
	const uint64_t nb_m = (M + BM - 1) / BM, nb_n = (N + BN - 1) / BN, nk = (K + BK - 1) / BK;

	memset(out, 0, sizeof(*out));

	/* ---- counters (exact) */
	uint64_t rd_beats = 0, wr_beats = 0, steps = 0;
	for (uint64_t bi = 0; bi < 2; bi++) {
		/* Block rows: nb_m - 1 full ones and a ragged last. */
		uint64_t cnt_m = bi ? 1 : nb_m - 1, mt = bi ? M - (nb_m - 1) * BM : BM;
		if (!cnt_m)
			continue;
		for (uint64_t bj = 0; bj < 2; bj++) {
			uint64_t cnt_n = bj ? 1 : nb_n - 1, nt = bj ? N - (nb_n - 1) * BN : BN;
			if (!cnt_n)
				continue;
			uint64_t pq = ((mt + R - 1) / R) * ((nt + C - 1) / C);
			steps += cnt_m * cnt_n * pq * K;
		}
	}
	/* A: every block column reads the block row's A; offsets depend on
	 * the row and the chunk's k0. */
	for (uint64_t kc = 0; kc < nk; kc++) {
		uint64_t k0 = kc * BK, kt = K - k0 < BK ? K - k0 : BK;
		rd_beats += nb_n * rows_beats(M, kt, g->a_off + k0, lda, WB);
	}
	/* B: every block row reads all of B; per block column and chunk. */
	for (uint64_t bj = 0; bj < nb_n; bj++) {
		uint64_t n0 = bj * BN, nt = N - n0 < BN ? N - n0 : BN;
		rd_beats += nb_m * rows_beats(K, nt, g->b_off + n0, ldb, WB);
		rd_beats += nb_m * nvec * rows_beats(1, 4 * nt, g->vec_off + 4 * n0, 0, WB);
	}
	/* C: a segment per output row per sub-tile column. */
	if ((C * e) % WB == 0 && (ldc * e) % WB == 0 && (g->c_off % WB) == 0) {
		uint64_t q_full = N / C, cl = N % C;
		wr_beats = M * (q_full * ((C * e + WB - 1) / WB) + (cl ? (cl * e + WB - 1) / WB : 0));
	} else {
		for (uint64_t n0 = 0; n0 < N; n0 += C) {
			uint64_t cv = N - n0 < C ? N - n0 : C;
			wr_beats += rows_beats(M, cv * e, g->c_off + n0 * e, ldc * e, WB);
		}
	}
	out->macs = M * N * K;
	out->steps = steps;
	out->ext_rd_bytes = rd_beats * WB + (g->queued ? QMX_CQ_ENTRY_BYTES : 0);
	out->ext_wr_bytes = wr_beats * WB + (g->queued ? QMX_CQ_ENTRY_BYTES : 0);
	/* Accumulators: loaded on a later chunk's first step (unless the block
	 * is one sub-tile), stored on a non-final chunk's last step. */
	uint64_t acc_wb = 4 * M * N * (nk - 1), acc_ld = acc_wb;
	if (nk > 1) {
		/* Blocks that are a single sub-tile never load. */
		for (uint64_t bi = 0; bi < nb_m; bi++) {
			uint64_t mt = M - bi * BM < BM ? M - bi * BM : BM;
			for (uint64_t bj = 0; bj < nb_n; bj++) {
				uint64_t nt = N - bj * BN < BN ? N - bj * BN : BN;
				if (mt <= R && nt <= C)
					acc_ld -= 4 * mt * nt * (nk - 1);
			}
		}
	}
	out->sram_rd_bytes = steps * (R + C) + acc_ld +
			     (4 * (g->bias ? 1 : 0) + 8 * (g->per_channel ? 1 : 0)) * M * N;
	out->sram_wr_bytes = rd_beats * WB + acc_wb;

	/* ---- cycles */
	struct mem mm = {
		.lat = cfg->mem_latency_cycles,
		.r = 1.0,
		.fd = cfg->rd_outstanding < 32 ? cfg->rd_outstanding : 32,
	};
	if (cfg->mem_bytes_per_cycle && cfg->mem_bytes_per_cycle < WB) {
		mm.r = (double)WB / cfg->mem_bytes_per_cycle;
		/* The simulator's token bucket holds bw + 2 beats: after a
		 * pause two beats go without waiting for it. */
		mm.credit = 2.0 * WB / cfg->mem_bytes_per_cycle;
		mm.refill = (cfg->mem_bytes_per_cycle + 2.0 * WB) / cfg->mem_bytes_per_cycle;
	}
	struct stream ls = { .issue = M_START, .data = 0 };
	struct writer wr;
	wr.free_at = wr.slot[0] = wr.slot[1] = wr.last_beat = 0;
	wr.next = 0;
	wr.rows = 0;
	wr.resp_lat = mm.lat + M_B_RESP;
	wr.r = mm.r;
	wr.refill = mm.refill;
	wr.cap_cycles = mm.credit;
	wr.credit = 0;
	wr.bucket_at = 0;
	wr.wd = cfg->wr_outstanding <= M_WD_RING ? cfg->wr_outstanding : 0;
	/* The drain folds count fewer rows than they write: a slot may be
	 * read before any row set it.  Unset, it holds back nothing. */
	memset(wr.ring, 0, sizeof(wr.ring));
	double x = (double)(R + C - 2) + M_ARR_OUT;
	double rel_prev = 0, rel_prev2 = 0; /* releases of the last two chunks */
	double seq_free = 0;                /* sequencer back in S_WAIT */
	double load_exposed = 0, drain_exposed = 0;
	double fin[2] = { 0, 0 };           /* per-channel halves free */
	unsigned blk = 0;
	/* Chunks alike only if each chunk's rows start where the previous
	 * one's did within a bus word (else their beats differ). */
	bool chunk_aligned = BK % WB == 0 && (BK * ldb) % WB == 0;
	double wc_t0 = 0, wc_t1 = 0, wc_bytes = 0; /* writes competing with loads */
	struct {
		bool valid;
		double t, pend, free_at, slot[2], exposed, credit, bucket_at;
		unsigned next;
		uint64_t rows;
		double ring[M_WD_RING];
	} cache[4];
	for (unsigned i = 0; i < 4; i++)
		cache[i].valid = false;

	struct carry_ref cr = {
		.lin = { &ls.issue, &ls.data, &rel_prev, &rel_prev2, &seq_free, &load_exposed,
			 &drain_exposed, &wc_t0, &wc_t1, &wr.free_at, &wr.slot[0], &wr.slot[1],
			 &wr.last_beat, &wr.bucket_at },
		.nlin = M_LIN,
		.rep = { &ls.tp, &ls.nb, &ls.credit, &wr.credit, &wc_bytes },
		.nrep = 5,
		.fin = fin,
		.w = &wr,
		.valid = { &cache[0].valid, &cache[1].valid, &cache[2].valid, &cache[3].valid },
	};
	struct fold fb, fr = { .have = 0 };
	struct carry cur;

	for (uint64_t bi = 0; bi < nb_m; bi++) {
		uint64_t m0 = bi * BM, mt = M - m0 < BM ? M - m0 : BM;
		fb.have = 0;
		uint64_t pp = (mt + R - 1) / R, rv_last = mt - (pp - 1) * R;
		for (uint64_t bj = 0; bj < nb_n; bj++, blk++) {
			uint64_t n0 = bj * BN, nt = N - n0 < BN ? N - n0 : BN;
			uint64_t qq = (nt + C - 1) / C, cv_last = nt - (qq - 1) * C;
			/* Mean beats of an output row segment: rows start where
			 * ldc puts them. */
			uint64_t c0 = g->c_off + (m0 * ldc + n0) * e;
			double wbeats = (double)rows_beats(mt, C * e, c0, ldc * e, WB) / mt;
			double wbeats_last = (double)rows_beats(mt, cv_last * e, c0 + (qq - 1) * C * e,
								ldc * e, WB) / mt;
			double cs[4] = { 0 }, cd[4] = { 0 }, cab = -1, cbb = -1, ccr = -1;
			for (uint64_t kc = 0; kc < nk; kc++) {
				uint64_t k0 = kc * BK, kt = K - k0 < BK ? K - k0 : BK;
				/* The half is free once the chunk two back released it;
				 * a block's first chunk also needs its per-channel half. */
				double start = ls.issue;
				if (rel_prev2 + 1 > start)
					start = rel_prev2 + 1;
				if (kc == 0 && fin[blk & 1] > start)
					start = fin[blk & 1];
				ls.issue = start + 1; /* L_WAIT */
				double ld0 = ls.issue + mm.lat; /* first data of the load */
				if (ld0 < ls.data)
					ld0 = ls.data;
				if (kc == 0 && nvec) {
					double vb = (double)rows_beats(1, 4 * nt, g->vec_off + 4 * n0, 0, WB);
					run_rows(&ls, &mm, (double)nvec, vb,
						 1.0 + rows_splits(1, 4 * nt, 0, WB));
				}
				double rd_chunk = kc == 0 && nvec ?
					(double)nvec * rows_beats(1, 4 * nt, g->vec_off + 4 * n0, 0, WB) : 0;
				double ab = (double)rows_beats(mt, kt, g->a_off + m0 * lda + k0, lda, WB) / mt;
				run_rows(&ls, &mm, (double)mt, ab, 1.0 + rows_splits(mt, kt, lda, WB) / mt);
				double bb = (double)rows_beats(kt, nt, g->b_off + k0 * ldb + n0, ldb, WB) / kt;
				run_rows(&ls, &mm, (double)kt, bb, 1.0 + rows_splits(kt, nt, ldb, WB) / kt);
				rd_chunk += ab * mt + bb * kt;
				/* Reads and writes share the memory's bandwidth: where
				 * this load overlaps the previous block's drain, the
				 * demand beyond the bandwidth delays whichever ends
				 * later (the drain: the compute waits for it). */
				if (mm.r > 1 && wc_bytes > 0 && ls.data > ld0) {
					double a0 = ld0 > wc_t0 ? ld0 : wc_t0;
					double a1 = ls.data < wc_t1 ? ls.data : wc_t1;
					if (a1 > a0) {
						double rb = rd_chunk * WB * (a1 - a0) / (ls.data - ld0);
						double wbb = wc_bytes * (a1 - a0) / (wc_t1 - wc_t0);
						double over = (rb + wbb) / cfg->mem_bytes_per_cycle - (a1 - a0);
						if (over > 0 && wc_t1 > ls.data) {
							writer_shift(&wr, over);
							wr.last_beat += over;
							seq_free += over;
							rel_prev += over;
							fin[(blk + 1) & 1] += over;
							wc_t1 += over;
						} else if (over > 0) {
							ls.data += over;
						}
						wc_bytes -= wbb;
						wc_t0 = a1;
					}
				}
				double full = ls.data; /* last beat in: eoc */

				double run = full + M_FULL_TO_RUN;
				if (seq_free + 1 > run)
					run = seq_free + 1;
				if (full + M_FULL_TO_RUN > seq_free + 1)
					load_exposed += full + M_FULL_TO_RUN - (seq_free + 1 > 0 ? seq_free + 1 : 0);
				double t = run; /* next step's cycle */
				if (kc + 1 < nk) {
					t += (double)(pp * qq * kt);
				} else {
					/* Last chunk: each sub-tile's last step waits for the
					 * drain of the one before (last_pending). */
					double pend = 0;
					uint64_t done = 0, total = pp * qq;
					double per = 0;
					/* Blocks alike (same ragged edges) that start with
					 * the writer idle drain alike: reuse the first. */
					unsigned ci = (bi + 1 == nb_m) * 2 + (bj + 1 == nb_n);
					bool idle = wr.free_at <= run && wr.slot[0] <= run &&
						    wr.slot[1] <= run && wr.last_beat + wr.resp_lat <= run;
					uint64_t rows0 = wr.rows;
					if (idle && cache[ci].valid) {
						t = run + cache[ci].t;
						pend = run + cache[ci].pend;
						wr.free_at = run + cache[ci].free_at;
						wr.slot[0] = run + cache[ci].slot[0];
						wr.slot[1] = run + cache[ci].slot[1];
						wr.next = cache[ci].next;
						wr.credit = cache[ci].credit;
						wr.bucket_at = run + cache[ci].bucket_at;
						for (unsigned j = 0; j < wr.wd; j++)
							wr.ring[(rows0 + j) % wr.wd] = run + cache[ci].ring[j];
						wr.rows += cache[ci].rows;
						drain_exposed += cache[ci].exposed;
						pp = 0; /* skip the walk */
					}
					double exp0 = drain_exposed, dprow = -1;
					for (uint64_t p = 0; p < pp; p++) {
						uint64_t rv = p + 1 < pp ? R : rv_last;
						double prow0 = t, pexp0 = drain_exposed;
						per = 0;
						for (uint64_t q = 0; q < qq; q++, done++) {
							double sexp0 = drain_exposed;
							double wb_q = q + 1 < qq ? wbeats : wbeats_last;
							double last = t + (double)kt - 1;
							if (pend > last) {
								drain_exposed += pend - last;
								last = pend;
							}
							double before = t;
							pend = drain_subtile(&wr, last, rv, x, wb_q);
							t = last + 1;
							/* Steady state: extrapolate the rest of
							 * this row of sub-tiles. */
							if (q >= 3 && q + 2 < qq && fabs((t - before) - per) < 1e-9) {
								uint64_t skip = qq - 2 - q;
								t += per * skip;
								pend += per * skip;
								writer_shift(&wr, per * skip);
								drain_exposed += (drain_exposed - sexp0) * skip;
								q += skip;
								done += skip;
							}
							per = t - before;
						}
						/* Rows of sub-tiles alike repeat too. */
						double d = t - prow0;
						if (p >= 2 && p + 2 < pp && fabs(d - dprow) < 1e-9) {
							uint64_t skip = pp - 2 - p;
							t += d * skip;
							pend += d * skip;
							writer_shift(&wr, d * skip);
							drain_exposed += (drain_exposed - pexp0) * skip;
							p += skip;
							done += skip * qq;
						}
						dprow = d;
					}
					(void)total;
					if (idle && !cache[ci].valid && pp) {
						cache[ci].valid = true;
						cache[ci].t = t - run;
						cache[ci].pend = pend - run;
						cache[ci].free_at = wr.free_at - run;
						cache[ci].slot[0] = wr.slot[0] - run;
						cache[ci].slot[1] = wr.slot[1] - run;
						cache[ci].next = wr.next;
						cache[ci].credit = wr.credit;
						cache[ci].bucket_at = wr.bucket_at - run;
						for (unsigned j = 0; j < wr.wd; j++)
							cache[ci].ring[j] = wr.ring[(rows0 + j) % wr.wd] - run;
						cache[ci].rows = wr.rows - rows0;
						cache[ci].exposed = drain_exposed - exp0;
					}
					pp = (mt + R - 1) / R;
					if (wr.free_at - 1 > wr.last_beat)
						wr.last_beat = wr.free_at - 1;
					fin[blk & 1] = pend + 1;
					/* This block's writes, spread over its drain. */
					wc_t0 = run + x;
					wc_t1 = wr.free_at;
					wc_bytes = (double)mt * ((double)(qq - 1) * wbeats + wbeats_last) * WB;
					if (wc_t1 <= wc_t0)
						wc_bytes = 0;
				}
				double rel = t - 1 + M_REL;
				seq_free = rel;
				rel_prev2 = rel_prev;
				rel_prev = rel;
				/* Middle chunks alike repeat with a fixed period once
				 * loads and compute settle: jump to the last one. */
				double d[4] = { ls.issue - cs[0], ls.data - cs[1], rel - cs[2],
						load_exposed - cs[3] };
				bool same = kc >= 2 && kc + 2 < nk && ab == cab && bb == cbb &&
					    ls.credit == ccr && chunk_aligned;
				for (int i = 0; i < 4 && same; i++)
					same = fabs(d[i] - cd[i]) < 1e-9;
				if (same) {
					double m = (double)(nk - 2 - kc);
					ls.issue += d[0] * m;
					ls.data += d[1] * m;
					rel_prev += d[2] * m;
					rel_prev2 += d[2] * m;
					seq_free += d[2] * m;
					load_exposed += d[3] * m;
					kc = nk - 2;
				}
				for (int i = 0; i < 4; i++)
					cd[i] = d[i];
				cs[0] = ls.issue;
				cs[1] = ls.data;
				cs[2] = seq_free;
				cs[3] = load_exposed;
				cab = ab;
				cbb = bb;
				ccr = ls.credit;
			}
			/* The full blocks of a row whose columns start alike
			 * within a bus word (B, vectors, C) are alike. */
			if (fold && bj + 2 < nb_n) {
				uint64_t avail = 0, skip = 0;
				if (BN % WB == 0)
					avail = nb_n - 2 - bj;
				else
					while (bj + 1 + avail < nb_n - 1 &&
					       (bj + 1 + avail) * BN % WB == n0 % WB)
						avail++;
				if (fold_step(&cr, &fb, &cur, n0 % WB, blk, avail, &skip,
					      (unsigned)(blk + avail))) {
					bj += skip;
					blk += (unsigned)skip;
				}
			}
		}
		/* Full rows of blocks whose A and C rows start alike. */
		if (fold && bi + 2 < nb_m) {
			uint64_t key = (m0 * lda % WB) << 32 | (m0 * ldc * e % WB), avail = 0, skip = 0;
			while (bi + 1 + avail < nb_m - 1 &&
			       (((bi + 1 + avail) * BM * lda % WB) << 32 |
				((bi + 1 + avail) * BM * ldc * e % WB)) == key)
				avail++;
			if (fold_step(&cr, &fr, &cur, key, blk - 1, avail, &skip,
				      (unsigned)(blk - 1 + avail * nb_n))) {
				bi += skip;
				blk += (unsigned)(skip * nb_n);
			}
		}
	}
	double end = seq_free + 1;
	double wend = wr.last_beat + mm.lat + M_B_TAIL;
	if (wend > end) {
		drain_exposed += wend - end;
		end = wend;
	}
	/* Reads and writes share the memory's bandwidth. */
	if (cfg->mem_bytes_per_cycle) {
		double bwb = (double)(out->ext_rd_bytes + out->ext_wr_bytes) /
			     cfg->mem_bytes_per_cycle;
		if (bwb > end)
			end = bwb;
	}
	out->cycles = (uint64_t)llround(end);
	if (out->cycles < steps)
		out->cycles = steps;
	out->stall_cycles = out->cycles - steps;
	out->load_exposed = (uint64_t)llround(load_exposed);
	out->drain_exposed = (uint64_t)llround(drain_exposed);
	out->seconds = (double)out->cycles / (cfg->clock_mhz * 1e6);
	return 0;
}

int qmx_model_predict(const struct qmx_model_config *cfg, const struct qmx_model_gemm *g,
		      struct qmx_model_result *out)
{
	return predict(cfg, g, out, true);
}

int qmx_model_predict_unfolded(const struct qmx_model_config *cfg, const struct qmx_model_gemm *g,
			       struct qmx_model_result *out)
{
	return predict(cfg, g, out, false);
}
