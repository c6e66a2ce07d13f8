/* SPDX-License-Identifier: MIT */
/*
 * sim_backend.c - the "sim" backend: the accelerator RTL as an in-process
 * Verilator model (sim/ libqmxsim).
 *
 * Buffers are host memory registered with the model's memory at device
 * addresses this file hands out (above 4 GiB, a guard page between buffers
 * so an overrun is a DECERR, not silent corruption).  A job is programmed
 * through hw/include/qmx_jobprog.h exactly as the driver programs the card:
 * as descriptors on the device's command queue (hw/rtl/qmx_cmdq.v), a single
 * GEMM and every entry of a batch alike (2 register accesses per doorbell:
 * CQ_TAIL and the ISR.CQ acknowledge; completion is read from the records
 * in memory).  The model is clocked on the waiter's thread (job_wait and
 * batch_wait ops) in slices, so timeouts are honoured.  Jobs run one at a
 * time in submission order; whoever waits drives the queue.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"
#include "qmx_batch.h"
#include "qmx_jobprog_params.h"
#include "qmx_jobprog.h"
#include "qmxsim.h"

#define SIM_BASE_ADDR 0x100000000ull /* exercise the upper address bits */
#define SIM_PAGE 4096ull
#define SIM_SLICE_CYCLES 16384u       /* deadline checked between slices */
#define SIM_PROGRESS_AFTER_NS 1000000000ull /* only jobs longer than 1 s */
#define SIM_PROGRESS_EVERY_NS 200000000ull
#define SIM_CQ_ENTRIES 256u  /* ring entries (a batch may be longer: pushed as room frees) */
#define SIM_CQ_COALESCE 255u /* ISR.CQ when the queue drains (or every 255 records) */

struct sim_job {
	struct sim_job *next;
	qmx_job *job;
	qmx_batch *batch;      /* NULL: a single job */
	uint32_t index;        /* entry of the batch */
	uint32_t seq, wait_seq; /* descriptor fields */
	qmx_job *wait_job;     /* the job wait_seq names */
	bool pushed;           /* written into the ring */
};

struct sim_device {
	qmxsim *sim;
	struct qmxsim_config cfg;
	struct qmx_jobprog_ident id;
	qmx_profile_info profile; /* the chip the model stands for */
	uint64_t next_addr;
	uint64_t max_cycles; /* per-job watchdog; 0 = derived from the shape */
	enum qmxsim_fault fault; /* injected into the next job only */
	bool dead;           /* the model broke a rule: no more jobs */
	char dead_msg[256];
	struct sim_job *head, *tail; /* jobs not yet completed, in order */
	struct sim_job *next_push;   /* first job not yet in the ring */
	/* command queue: rings in host memory mapped as device memory */
	void *cq_host;
	struct qmx_cq_desc *cq_ring;
	struct qmx_cq_cpl *cq_cpl;
	uint64_t cq_ring_dev, cq_cpl_dev;
	uint32_t cq_tail, cq_head; /* descriptors written / records reaped */
	uint32_t next_seq;
	bool cq_failed;            /* a record with an error since the engine forgot */
	uint64_t head_since;       /* cycle the head job became the oldest in the ring */
	/* progress line */
	bool progress_shown;
	uint64_t progress_ns; /* when it was last drawn */
};

struct sim_args {
	struct qmxsim_config cfg;
	uint64_t max_cycles;
	enum qmxsim_fault fault;
	char trace[256];
	qmx_profile_info profile;
	bool lat_set, bw_set; /* explicit lat=/bw= win over the profile */
};

/* ---------------------------------------------------------------- register access */

static uint32_t sim_rd(void *ctx, uint32_t off)
{
	return qmxsim_read32(ctx, off);
}

static void sim_wr(void *ctx, uint32_t off, uint32_t v)
{
	qmxsim_write32(ctx, off, v);
}

static int sim_cq_init(struct sim_device *sd);

/* ---------------------------------------------------------------- URI arguments */

static int parse_u64(const char *key, const char *val, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(val, &end, 0);
	if (!*val || *end || errno || val[0] == '-' || v > max)
		return qmx_fail(QMX_EINVAL,
				"sim device: %s '%s' must be an integer in [0, %" PRIu64 "]", key,
				val, max);
	*out = v;
	return 0;
}

static int sim_size_built(unsigned rows, unsigned cols)
{
	for (unsigned i = 0; i < qmxsim_model_count(); i++) {
		unsigned r, c;
		if (!qmxsim_model_size(i, &r, &c) && r == rows && c == cols)
			return 1;
	}
	return 0;
}

#define SIM_KEYS "profile, lat, bw, trace, fault, maxcycles"

/* The memory model of a profile: its DRAM latency and bandwidth at its
 * clock, unless lat=/bw= were given. */
static void sim_apply_profile(struct sim_args *a)
{
	unsigned lat, bw;

	qmx_profile_mem_cycles(&a->profile, &lat, &bw);
	if (!a->lat_set)
		a->cfg.mem_latency_cycles = lat;
	if (!a->bw_set)
		a->cfg.mem_bytes_per_cycle = bw;
}

/* "[RxC][,profile=NAME][,lat=N][,bw=N][,trace=FILE][,fault=axi|hang][,maxcycles=N]":
 * the target profile (hw/energy/profiles.ini: clock, DRAM latency and
 * bandwidth; default QMX_PROFILE_ASIC_DEFAULT), memory latency (cycles) and
 * bandwidth (bytes/cycle, 0 = bus rate) overriding the profile's, an FST
 * waveform, a fault injected into the first job (to test error paths), a
 * per-job cycle watchdog (default: generous, from the shape). */
static int sim_parse_args(const char *arg, struct sim_args *a)
{
	char buf[512];
	char *save = NULL, profile[64] = QMX_PROFILE_ASIC_DEFAULT;
	bool first = true;
	int err;

	memset(a, 0, sizeof(*a));
	qmxsim_config_default(&a->cfg);
	if (strlen(arg) >= sizeof(buf))
		return qmx_fail(QMX_EINVAL, "sim device: arguments longer than %zu characters",
				sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		uint64_t v;

		if (first && !eq) {
			/* Digits only: %u would take "-8" as 4294967288. */
			char *x = strchr(tok, 'x'), *end_r, *end_c;
			unsigned long r = strtoul(tok, &end_r, 10), c = 0;
			if (x)
				c = strtoul(x + 1, &end_c, 10);
			if (!x || tok[0] < '0' || tok[0] > '9' || end_r != x || x[1] < '0' ||
			    x[1] > '9' || *end_c || !r || !c || r > 1024 || c > 1024)
				return qmx_fail(QMX_EINVAL,
						"sim device: '%s' is not an array size RxC, rows and columns integers in [1, 1024] (built: %s)",
						tok, qmxsim_built_arrays());
			if (!sim_size_built((unsigned)r, (unsigned)c))
				return qmx_fail(QMX_ENODEV,
						"sim device: array %lux%lu not built (built: %s; CMake QMX_SIM_ARRAYS)",
						r, c, qmxsim_built_arrays());
			a->cfg.array_rows = (unsigned)r;
			a->cfg.array_cols = (unsigned)c;
			first = false;
			continue;
		}
		first = false;
		if (!eq)
			return qmx_fail(QMX_EINVAL,
					"sim device: argument '%s' is not key=value (keys: " SIM_KEYS ")",
					tok);
		*eq = '\0';
		const char *key = tok, *val = eq + 1;
		if (!strcmp(key, "profile")) {
			if (!*val || strlen(val) >= sizeof(profile)) {
				char known[256];
				qmx_profile_names(known, sizeof(known));
				return qmx_fail(QMX_EINVAL,
						"sim device: profile needs a name (profiles: %s)", known);
			}
			snprintf(profile, sizeof(profile), "%s", val);
		} else if (!strcmp(key, "lat")) {
			if ((err = parse_u64("lat (memory latency, cycles)", val, 100000, &v)))
				return err;
			a->cfg.mem_latency_cycles = (unsigned)v;
			a->lat_set = true;
		} else if (!strcmp(key, "bw")) {
			if ((err = parse_u64("bw (memory bytes per cycle, 0 = bus rate)", val, 4096, &v)))
				return err;
			a->cfg.mem_bytes_per_cycle = (unsigned)v;
			a->bw_set = true;
		} else if (!strcmp(key, "maxcycles")) {
			if ((err = parse_u64("maxcycles", val, UINT64_MAX / 2, &v)))
				return err;
			if (!v)
				return qmx_fail(QMX_EINVAL, "sim device: maxcycles must be > 0");
			a->max_cycles = v;
		} else if (!strcmp(key, "trace")) {
			if (!*val || strlen(val) >= sizeof(a->trace))
				return qmx_fail(QMX_EINVAL,
						"sim device: trace needs a file name (< %zu characters)",
						sizeof(a->trace));
			snprintf(a->trace, sizeof(a->trace), "%s", val);
			a->cfg.trace_path = a->trace;
		} else if (!strcmp(key, "fault")) {
			if (!strcmp(val, "axi"))
				a->fault = QMXSIM_FAULT_AXI_ERROR;
			else if (!strcmp(val, "hang"))
				a->fault = QMXSIM_FAULT_HANG;
			else
				return qmx_fail(QMX_EINVAL,
						"sim device: fault '%s' must be 'axi' or 'hang'", val);
		} else {
			return qmx_fail(QMX_EINVAL,
					"sim device: unknown argument '%s' (keys: " SIM_KEYS ")", key);
		}
	}
	if ((err = qmx_profile_get(profile, &a->profile))) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", qmx_last_error());
		return qmx_fail(err, "sim device: profile: %s", msg);
	}
	sim_apply_profile(a);
	return 0;
}

/* ---------------------------------------------------------------- device */

static uint32_t sim_features(uint32_t hw)
{
	uint32_t f = QMX_FEATURE_SIMULATED;

	if (hw & QMX_FEATURES_INT32_OUT)
		f |= QMX_FEATURE_INT32_OUT;
	if (hw & QMX_FEATURES_INT8_OUT)
		f |= QMX_FEATURE_INT8_OUT;
	if (hw & QMX_FEATURES_PER_CHANNEL)
		f |= QMX_FEATURE_PER_CHANNEL;
	if (hw & QMX_FEATURES_BIAS)
		f |= QMX_FEATURE_BIAS;
	if (hw & QMX_FEATURES_COUNTERS)
		f |= QMX_FEATURE_COUNTERS;
	return f;
}

static void sim_fill_info(qmx_device_info *info, const struct qmx_jobprog_ident *id,
			  const struct qmxsim_config *cfg, const qmx_profile_info *p)
{
	snprintf(info->name, sizeof(info->name), "qmx accelerator %ux%u (Verilator model, %s)",
		 id->array_rows, id->array_cols, p->name);
	if (cfg->mem_bytes_per_cycle)
		snprintf(info->detail, sizeof(info->detail),
			 "Vqmx_top_%ux%u, AXI %u-bit, %s: memory latency %u cycles, %u B/cycle",
			 cfg->array_rows, cfg->array_cols, id->bus_data_bits, p->name,
			 cfg->mem_latency_cycles, cfg->mem_bytes_per_cycle);
	else
		snprintf(info->detail, sizeof(info->detail),
			 "Vqmx_top_%ux%u, AXI %u-bit, %s: memory latency %u cycles, bus-rate bandwidth",
			 cfg->array_rows, cfg->array_cols, id->bus_data_bits, p->name,
			 cfg->mem_latency_cycles);
	snprintf(info->profile, sizeof(info->profile), "%s", p->name);
	info->array_rows = id->array_rows;
	info->array_cols = id->array_cols;
	/* Device time is counted at the profile's clock: the chip it stands
	 * for, not the RTL's CLOCK_KHZ default. */
	info->clock_mhz = p->clock_mhz;
	info->compute_units = 1;
	info->hw_version = id->version;
	info->features = sim_features(id->features);
	info->max_dim = id->max_dim;
	info->max_k = id->max_dim < 32768 ? id->max_dim : 32768;
}

/* Build a model and read who it is; QMX_EVERSION when it is not ours. */
static int sim_create(const struct qmxsim_config *cfg, qmxsim **out,
		      struct qmx_jobprog_ident *id)
{
	qmxsim *sim;
	int err = qmxsim_new(cfg, &sim);

	if (err)
		return qmx_fail(err == -EINVAL ? QMX_EINVAL : QMX_EIO, "sim device: %s",
				qmxsim_last_error());
	switch (qmx_jobprog_identify(sim_rd, sim, id)) {
	case QMX_JOBPROG_IDENT_BAD_MAGIC:
		qmxsim_del(sim);
		return qmx_fail(QMX_EVERSION,
				"sim device: MAGIC reads 0x%08" PRIx32 ", expected 0x%08x: not a qmx accelerator",
				id->magic, QMX_MAP_MAGIC);
	case QMX_JOBPROG_IDENT_BAD_VERSION:
		qmxsim_del(sim);
		return qmx_fail(QMX_EVERSION,
				"sim device: register map version %u.%u, this runtime speaks %u.x",
				id->version >> 16, id->version & 0xFFFF, QMX_MAP_VERSION_MAJOR);
	}
	if (id->array_rows != cfg->array_rows || id->array_cols != cfg->array_cols) {
		qmxsim_del(sim);
		return qmx_fail(QMX_EVERSION,
				"sim device: model built for %ux%u reports an %" PRIu32 "x%" PRIu32 " array",
				cfg->array_rows, cfg->array_cols, id->array_rows, id->array_cols);
	}
	if (!id->clock_khz || !id->max_dim) {
		qmxsim_del(sim);
		return qmx_fail(QMX_EVERSION, "sim device: CLOCK_KHZ (%" PRIu32 ") or MAX_DIM (%" PRIu32
				") reads 0", id->clock_khz, id->max_dim);
	}
	*out = sim;
	return 0;
}

static int sim_open(qmx_device *dev, const char *arg)
{
	struct sim_args a;
	int err = sim_parse_args(arg, &a);

	if (err)
		return err;
	struct sim_device *sd = calloc(1, sizeof(*sd));
	if (!sd)
		return qmx_fail(QMX_ENOMEM, "sim device: out of memory");
	sd->cfg = a.cfg;
	sd->cfg.trace_path = NULL; /* only needed while creating */
	sd->max_cycles = a.max_cycles;
	sd->fault = a.fault;
	sd->next_addr = SIM_BASE_ADDR;
	sd->profile = a.profile;
	if ((err = sim_create(&a.cfg, &sd->sim, &sd->id))) {
		free(sd);
		return err;
	}
	if ((err = sim_cq_init(sd))) {
		qmxsim_del(sd->sim);
		free(sd->cq_host);
		free(sd);
		return err;
	}
	sim_fill_info(&dev->info, &sd->id, &sd->cfg, &sd->profile);
	dev->priv = sd;
	return 0;
}

static void sim_close(qmx_device *dev)
{
	struct sim_device *sd = dev->priv;

	qmxsim_del(sd->sim);
	free(sd->cq_host);
	free(sd);
}

static int sim_enumerate(qmx_device_info *infos, size_t cap, size_t *count)
{
	size_t n = 0;

	struct sim_args a;
	if (sim_parse_args("", &a))
		return QMX_EINVAL; /* no default profile: nothing to list */
	for (unsigned i = 0; i < qmxsim_model_count(); i++) {
		struct qmxsim_config cfg = a.cfg;
		struct qmx_jobprog_ident id;
		qmxsim *sim;

		qmxsim_model_size(i, &cfg.array_rows, &cfg.array_cols);
		if (n < cap) {
			if (sim_create(&cfg, &sim, &id))
				continue;
			qmxsim_del(sim);
			qmx_device_info *info = &infos[n];
			memset(info, 0, sizeof(*info));
			if (cfg.array_rows == 8 && cfg.array_cols == 8)
				snprintf(info->uri, sizeof(info->uri), "sim");
			else
				snprintf(info->uri, sizeof(info->uri), "sim:%ux%u", cfg.array_rows,
					 cfg.array_cols);
			snprintf(info->backend, sizeof(info->backend), "sim");
			sim_fill_info(info, &id, &cfg, &a.profile);
		}
		n++;
	}
	*count = n;
	return 0;
}

/* ---------------------------------------------------------------- buffers */

static int sim_buffer_alloc(qmx_device *dev, qmx_buffer *buf)
{
	struct sim_device *sd = dev->priv;
	uint64_t span = (buf->size + SIM_PAGE - 1) & ~(SIM_PAGE - 1);
	void *host = NULL;

	if (buf->size > (1ull << 40))
		return qmx_fail(QMX_EINVAL, "sim device: buffer size (%zu) > 1 TiB", buf->size);
	if (posix_memalign(&host, SIM_PAGE, span))
		return qmx_fail(QMX_ENOMEM, "sim device: cannot allocate %zu bytes", buf->size);
	pthread_mutex_lock(&dev->lock);
	uint64_t addr = sd->next_addr;
	/* Whole pages, as a driver maps them: the accelerator reads whole bus
	 * beats, so the last beat of an operand may reach past its end. */
	memset((char *)host + buf->size, 0, span - buf->size);
	int err = qmxsim_map(sd->sim, addr, host, span, QMXSIM_MAP_READ | QMXSIM_MAP_WRITE);
	if (!err)
		sd->next_addr += span + SIM_PAGE; /* guard page */
	pthread_mutex_unlock(&dev->lock);
	if (err) {
		free(host);
		return qmx_fail(QMX_EIO, "sim device: %s", qmxsim_last_error());
	}
	buf->host = host;
	buf->dev_addr = addr;
	return 0;
}

static void sim_buffer_free(qmx_device *dev, qmx_buffer *buf)
{
	struct sim_device *sd = dev->priv;

	pthread_mutex_lock(&dev->lock);
	qmxsim_unmap(sd->sim, buf->dev_addr);
	pthread_mutex_unlock(&dev->lock);
	free(buf->host);
	buf->host = NULL;
}

static int sim_buffer_sync(qmx_buffer *buf, enum qmx_sync_dir dir, size_t offset, size_t size)
{
	/* The model reads and writes the host pages directly. */
	(void)buf, (void)dir, (void)offset, (void)size;
	return 0;
}

/* ---------------------------------------------------------------- jobs */

static uint64_t ref_addr(const qmx_ref *r)
{
	return r->buffer ? r->buffer->dev_addr + r->offset : 0;
}

static void desc_to_prog(const qmx_gemm_desc *d, struct qmx_jobprog_gemm *g)
{
	qmx_jobprog_from_params(&d->params, g);
	g->a_addr = ref_addr(&d->a);
	g->b_addr = ref_addr(&d->b);
	g->c_addr = ref_addr(&d->c);
	if (g->has_bias)
		g->bias_addr = ref_addr(&d->bias);
	if (g->per_channel) {
		g->mult_addr = ref_addr(&d->multipliers);
		g->shift_addr = ref_addr(&d->shifts);
	}
}

/* Generous watchdog: 64x the ideal array time plus every operand byte at a
 * byte per cycle, plus a million cycles. */
static uint64_t sim_watchdog(const struct sim_device *sd, const qmx_gemm_params *p)
{
	if (sd->max_cycles)
		return sd->max_cycles;
	uint64_t m = (uint64_t)p->m, n = (uint64_t)p->n, k = (uint64_t)p->k;
	uint64_t ideal = m * n * k / ((uint64_t)sd->id.array_rows * sd->id.array_cols);
	uint64_t bytes = m * k * ((n + sd->id.array_cols - 1) / sd->id.array_cols) +
			 k * n * ((m + sd->id.array_rows - 1) / sd->id.array_rows) + 4 * m * n;
	return 64 * ideal + bytes + 1000000;
}

/* ---------------------------------------------------------------- command queue */

/* Program the rings and enable the queue (after open or a soft reset:
 * HEAD = TAIL = 0). */
static int sim_cq_enable(struct sim_device *sd)
{
	sd->cq_tail = sd->cq_head = 0;
	sd->cq_failed = false;
	memset(sd->cq_cpl, 0, (size_t)SIM_CQ_ENTRIES * sizeof(*sd->cq_cpl));
	uint32_t st = qmx_jobprog_cq_enable(sim_rd, sim_wr, sd->sim, sd->cq_ring_dev,
					    sd->cq_cpl_dev, SIM_CQ_ENTRIES, SIM_CQ_COALESCE, 1);
	if (st & QMX_CQ_STATUS_BAD_CONFIG)
		return qmx_fail(QMX_EIO, "sim device: the command queue refused its configuration "
				"(CQ_STATUS 0x%x)", st);
	return 0;
}

/* The rings: host memory mapped as device memory, like any buffer. */
static int sim_cq_init(struct sim_device *sd)
{
	size_t bytes = 2 * (size_t)SIM_CQ_ENTRIES * QMX_CQ_ENTRY_BYTES;
	void *host = NULL;

	if (posix_memalign(&host, SIM_PAGE, bytes))
		return qmx_fail(QMX_ENOMEM, "sim device: cannot allocate the command rings");
	memset(host, 0, bytes);
	if (qmxsim_map(sd->sim, sd->next_addr, host, bytes, QMXSIM_MAP_READ | QMXSIM_MAP_WRITE)) {
		free(host);
		return qmx_fail(QMX_EIO, "sim device: %s", qmxsim_last_error());
	}
	sd->cq_host = host;
	sd->cq_ring = host;
	sd->cq_cpl = (struct qmx_cq_cpl *)((char *)host + bytes / 2);
	sd->cq_ring_dev = sd->next_addr;
	sd->cq_cpl_dev = sd->next_addr + bytes / 2;
	sd->next_addr += bytes + SIM_PAGE;
	return sim_cq_enable(sd);
}

static void sim_finish(struct sim_device *sd, const struct qmx_cq_cpl *rec, int status);

static bool job_failed(qmx_job *job)
{
	pthread_mutex_lock(&job->lock);
	bool failed = job->done && job->status;
	pthread_mutex_unlock(&job->lock);
	return failed;
}

/* Write the jobs not yet in the ring while there is room, one doorbell. */
static void sim_cq_push(struct sim_device *sd)
{
	bool was_empty = sd->cq_tail == sd->cq_head, any = false;

	while (sd->next_push && sd->cq_tail - sd->cq_head < SIM_CQ_ENTRIES) {
		struct sim_job *sj = sd->next_push;
		struct qmx_jobprog_gemm g;
		uint32_t slot = sd->cq_tail & (SIM_CQ_ENTRIES - 1);

		/* The job it waits for failed where the engine may not know it
		 * (a watchdog reset, or a failure it has forgotten): skipped
		 * here, in order, once everything before it is done. */
		if (sj->wait_job && job_failed(sj->wait_job)) {
			if (sj != sd->head)
				break;
			sim_finish(sd, NULL, QMX_EDEPENDENCY);
			continue;
		}

		desc_to_prog(&sj->job->desc, &g);
		qmx_jobprog_cq_desc(&g, sj->seq, sj->wait_seq, &sd->cq_ring[slot]);
		sd->cq_cpl[slot].status = 0;
		if (sd->fault != QMXSIM_FAULT_NONE) { /* one-shot: the next job recovers */
			qmxsim_inject(sd->sim, sd->fault);
			sd->fault = QMXSIM_FAULT_NONE;
		}
		sd->cq_tail++;
		sj->pushed = true;
		sd->next_push = sj->next;
		any = true;
	}
	if (!any)
		return;
	if (was_empty) {
		sd->head_since = qmxsim_cycle(sd->sim);
		/* The engine remembers failed seqs for wait_seq; an idle queue
		 * forgets them (CQ_CTRL written with ENABLE). */
		if (sd->cq_failed) {
			qmxsim_write32(sd->sim, QMX_REG_CQ_CTRL,
				       qmx_jobprog_cq_ctrl(SIM_CQ_COALESCE));
			sd->cq_failed = false;
		}
	}
	qmxsim_write32(sd->sim, QMX_REG_CQ_TAIL, sd->cq_tail);
}

static void progress_line(struct sim_device *sd, struct sim_job *sj, bool done)
{
	const qmx_gemm_params *p = &sj->job->desc.params;

	fprintf(stderr, "\r\033[Kqmx sim %ux%u: %lldx%lldx%lld (%.1f M cycles)%s",
		sd->id.array_rows, sd->id.array_cols, (long long)p->m, (long long)p->n,
		(long long)p->k, (double)(qmxsim_cycle(sd->sim) - sd->head_since) / 1e6,
		done ? "\n" : "");
	fflush(stderr);
	sd->progress_shown = !done;
}

/* Pop the head job and complete it: a record's outcome (rec), or `status`
 * with this thread's message already set (QMX_EDEPENDENCY for a batch entry:
 * skipped, the core names the entry it waits for). */
static void sim_finish(struct sim_device *sd, const struct qmx_cq_cpl *rec, int status)
{
	struct sim_job *sj = sd->head;
	qmx_job *job = sj->job;

	if (sd->progress_shown)
		progress_line(sd, sj, true);
	sd->head = sj->next;
	if (!sd->head)
		sd->tail = NULL;
	if (sd->next_push == sj)
		sd->next_push = sj->next;
	job->priv = NULL;
	sd->head_since = qmxsim_cycle(sd->sim);
	if (rec) {
		uint32_t hwerr = qmx_jobprog_cq_error(rec);
		struct qmx_jobprog_counters d;

		if (hwerr)
			sd->cq_failed = true;
		qmx_jobprog_cq_counters(rec, &d);
		job->stats.threads = 1;
		/* Device time at the target profile's clock, not the RTL's CLOCK_KHZ. */
		status = hwerr == QMX_ERROR_DEP_FAILED && sj->batch ?
				 QMX_EDEPENDENCY :
				 qmx_job_device_result(job, &d, sd->profile.clock_mhz * 1000u, hwerr,
						       hwerr ? rec->error_addr : 0);
	}
	if (status == QMX_EDEPENDENCY && sj->batch) {
		qmx_batch *b = sj->batch;
		uint32_t i = sj->index;
		free(sj);
		qmx_batch_entry_skip(b, i);
		return;
	}
	free(sj);
	qmx_job_complete(job, status);
}

/* Complete every job whose record is in. */
static void sim_cq_reap(struct sim_device *sd)
{
	while (sd->head && sd->head->pushed) {
		const struct qmx_cq_cpl *rec = &sd->cq_cpl[sd->cq_head & (SIM_CQ_ENTRIES - 1)];
		if (!(rec->status & QMX_CQC_STATUS_VALID))
			break;
		struct qmx_cq_cpl r = *rec;
		sd->cq_head++;
		sim_finish(sd, &r, 0);
	}
}

/* A hang: soft-reset, fail the hung job with a stated error, re-enable the
 * queue for the jobs behind it. */
static void sim_cq_recover(qmx_device *dev, struct sim_device *sd, uint64_t limit)
{
	qmx_jobprog_soft_reset(sim_wr, sd->sim);
	qmxsim_write32(sd->sim, QMX_REG_ISR, qmxsim_read32(sd->sim, QMX_REG_ISR));
	sim_finish(sd, NULL, qmx_fail(QMX_EIO, "%s: job did not finish within %" PRIu64
				      " cycles (watchdog); the accelerator was soft-reset",
				      dev->info.uri, limit));
	/* The engine runs descriptors one at a time, in order: the ones behind
	 * the hung one were never fetched, so they go into the new ring (those
	 * waiting for it are skipped there). */
	for (struct sim_job *sj = sd->head; sj; sj = sj->next)
		sj->pushed = false;
	sd->next_push = sd->head;
	int err = sim_cq_enable(sd);
	if (err) {
		sd->dead = true;
		snprintf(sd->dead_msg, sizeof(sd->dead_msg), "%s", qmx_last_error());
	}
}

/* Drive the queue by at most one slice: push, clock until the interrupt (or
 * the slice ends), reap the records. */
static void sim_drive(qmx_device *dev, struct sim_device *sd)
{
	uint64_t ran = 0;

	if (sd->dead) {
		while (sd->head)
			sim_finish(sd, NULL, qmx_fail(QMX_EIO, "%s", sd->dead_msg));
		return;
	}
	sim_cq_push(sd);
	/* A slice never runs past the head job's watchdog, so the limit holds
	 * to the cycle (a job shorter than a slice can still hit it). */
	uint64_t slice = SIM_SLICE_CYCLES;
	if (sd->head && sd->head->pushed) {
		uint64_t limit = sim_watchdog(sd, &sd->head->job->desc.params);
		uint64_t used = qmxsim_cycle(sd->sim) - sd->head_since;
		if (used < limit && limit - used < slice)
			slice = limit - used;
	}
	int r = qmxsim_run_irq(sd->sim, slice, &ran);
	if (r < 0) {
		sd->dead = true;
		snprintf(sd->dead_msg, sizeof(sd->dead_msg), "%s: model stopped: %s", dev->info.uri,
			 qmxsim_last_error());
		while (sd->head)
			sim_finish(sd, NULL, qmx_fail(QMX_EIO, "%s", sd->dead_msg));
		return;
	}
	if (r == QMXSIM_RUN_IRQ)
		qmxsim_write32(sd->sim, QMX_REG_ISR, QMX_ISR_CQ); /* toggles the set bit off */
	sim_cq_reap(sd);
	if (!sd->head || !sd->head->pushed)
		return;
	uint64_t limit = sim_watchdog(sd, &sd->head->job->desc.params);
	if (qmxsim_cycle(sd->sim) - sd->head_since >= limit) {
		sim_cq_recover(dev, sd, limit);
		return;
	}
	uint64_t now = qmx_now_ns();
	if (now - sd->head->job->submit_ns > SIM_PROGRESS_AFTER_NS &&
	    now - sd->progress_ns > SIM_PROGRESS_EVERY_NS && isatty(2)) {
		sd->progress_ns = now;
		progress_line(sd, sd->head, false);
	}
}

static int check_out_type(qmx_device *dev, const qmx_job *job, const char *who)
{
	/* K beyond max_k is accepted: the int32 accumulator wraps exactly as
	 * the reference's does (two's complement). */
	if (job->desc.params.out_type == QMX_OUT_INT8 &&
	    !(dev->info.features & QMX_FEATURE_INT8_OUT))
		return qmx_fail(QMX_ENOTSUP, "%s: out_type int8 not supported by %s", who,
				dev->info.uri);
	return 0;
}

/* Append a job to the device's queue (dev->lock held). */
static void sim_enqueue(struct sim_device *sd, struct sim_job *sj)
{
	if (!++sd->next_seq) /* seq 0 means "no wait" */
		sd->next_seq = 1;
	sj->seq = sd->next_seq;
	if (sd->tail)
		sd->tail->next = sj;
	else
		sd->head = sj;
	sd->tail = sj;
	if (!sd->next_push)
		sd->next_push = sj;
}

static int sim_gemm_submit(qmx_device *dev, qmx_job *job)
{
	struct sim_device *sd = dev->priv;
	int err = check_out_type(dev, job, "qmx_gemm_submit");

	if (err)
		return err;
	struct sim_job *sj = calloc(1, sizeof(*sj));
	if (!sj)
		return qmx_fail(QMX_ENOMEM, "qmx_gemm_submit: out of memory");
	sj->job = job;
	job->priv = sj;
	pthread_mutex_lock(&dev->lock);
	sim_enqueue(sd, sj);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/* A batch: its entries become descriptors, wait_for a wait_seq. */
static int sim_batch_submit(qmx_device *dev, qmx_batch *b)
{
	struct sim_device *sd = dev->priv;
	struct sim_job **sj = calloc(b->count, sizeof(*sj));
	int err = 0;

	if (!sj)
		return qmx_fail(QMX_ENOMEM, "qmx_batch_submit: out of memory");
	for (uint32_t i = 0; i < b->count && !err; i++) {
		char who[48];
		snprintf(who, sizeof(who), "qmx_batch_submit: entry %u", i);
		err = check_out_type(dev, &b->entries[i].job, who);
		if (!err && !(sj[i] = calloc(1, sizeof(**sj))))
			err = qmx_fail(QMX_ENOMEM, "qmx_batch_submit: out of memory");
	}
	if (err) {
		for (uint32_t i = 0; i < b->count; i++)
			free(sj[i]);
		free(sj);
		return err;
	}
	pthread_mutex_lock(&dev->lock);
	for (uint32_t i = 0; i < b->count; i++) {
		struct qmx_batch_entry *e = &b->entries[i];
		sj[i]->job = &e->job;
		sj[i]->batch = b;
		sj[i]->index = i;
		sim_enqueue(sd, sj[i]);
		if (e->wait_for >= 0) {
			sj[i]->wait_seq = sj[e->wait_for]->seq;
			sj[i]->wait_job = &b->entries[e->wait_for].job;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	free(sj);
	return 0;
}

static bool job_done(qmx_job *job)
{
	pthread_mutex_lock(&job->lock);
	bool done = job->done;
	pthread_mutex_unlock(&job->lock);
	return done;
}

/* Drive the queue until `job` is done or the deadline passes.  At least one
 * slice runs per call, so polling with a zero timeout makes progress. */
static int sim_job_wait(qmx_device *dev, qmx_job *job, int64_t deadline_ns)
{
	struct sim_device *sd = dev->priv;

	for (;;) {
		pthread_mutex_lock(&dev->lock);
		if (job_done(job)) {
			pthread_mutex_unlock(&dev->lock);
			return 0; /* the core reports its status */
		}
		if (!sd->head) { /* cannot happen: a job not done is queued */
			pthread_mutex_unlock(&dev->lock);
			return qmx_fail(QMX_EIO, "%s: job lost from the queue", dev->info.uri);
		}
		sim_drive(dev, sd);
		bool done = job_done(job);
		pthread_mutex_unlock(&dev->lock);
		if (done) /* this thread's message: the job's own */
			return job->status ? qmx_fail(job->status, "%s", job->status_msg) : 0;
		if (deadline_ns >= 0 && (int64_t)qmx_now_ns() >= deadline_ns)
			return QMX_ETIMEDOUT;
	}
}

static int sim_batch_wait(qmx_device *dev, qmx_batch *b, int64_t deadline_ns)
{
	for (uint32_t i = 0; i < b->count; i++) {
		int err = sim_job_wait(dev, &b->entries[i].job, deadline_ns);
		if (err == QMX_ETIMEDOUT)
			return err;
	}
	return 0;
}

const struct qmx_backend_ops qmx_backend_sim_ops = {
	.name = "sim",
	.enumerate = sim_enumerate,
	.open = sim_open,
	.close = sim_close,
	.buffer_alloc = sim_buffer_alloc,
	.buffer_free = sim_buffer_free,
	.buffer_sync = sim_buffer_sync,
	.gemm_submit = sim_gemm_submit,
	.job_wait = sim_job_wait,
	.batch_submit = sim_batch_submit,
	.batch_wait = sim_batch_wait,
};
