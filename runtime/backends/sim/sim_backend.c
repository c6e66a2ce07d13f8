/* SPDX-License-Identifier: MIT */
/*
 * sim_backend.c - the "sim" backend: the accelerator RTL as an in-process
 * Verilator model (sim/ libqmxsim).
 *
 * Buffers are host memory registered with the model's memory at device
 * addresses this file hands out (above 4 GiB, a guard page between buffers
 * so an overrun is a DECERR, not silent corruption).  A job is programmed
 * through hw/include/qmx_jobprog.h exactly as the driver programs the card,
 * and the model is clocked on the waiter's thread (job_wait op) in slices,
 * so qmx_job_wait()'s timeout is honoured.  Jobs run one at a time in
 * submission order; whoever waits drives the queue.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"
#include "qmx_jobprog_params.h"
#include "qmx_jobprog.h"
#include "qmxsim.h"

#define SIM_BASE_ADDR 0x100000000ull /* exercise the upper address bits */
#define SIM_PAGE 4096ull
#define SIM_SLICE_CYCLES 16384u       /* deadline checked between slices */
#define SIM_PROGRESS_AFTER_NS 1000000000ull /* only jobs longer than 1 s */
#define SIM_PROGRESS_EVERY_NS 200000000ull

struct sim_job {
	struct sim_job *next;
	qmx_job *job;
	bool started;
	uint64_t start_cycle;
	struct qmx_jobprog_counters before;
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
	sim_fill_info(&dev->info, &sd->id, &sd->cfg, &sd->profile);
	dev->priv = sd;
	return 0;
}

static void sim_close(qmx_device *dev)
{
	struct sim_device *sd = dev->priv;

	qmxsim_del(sd->sim);
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

static void sim_start(struct sim_device *sd, struct sim_job *sj)
{
	struct qmx_jobprog_gemm g;

	desc_to_prog(&sj->job->desc, &g);
	qmx_jobprog_read_counters(sim_rd, sd->sim, &sj->before);
	qmx_jobprog_write_gemm(&g, sim_wr, sd->sim);
	if (sd->fault != QMXSIM_FAULT_NONE) { /* one-shot: the next job recovers */
		qmxsim_inject(sd->sim, sd->fault);
		sd->fault = QMXSIM_FAULT_NONE;
	}
	sj->start_cycle = qmxsim_cycle(sd->sim);
	qmx_jobprog_start(sim_rd, sim_wr, sd->sim, 1);
	sj->started = true;
}

static void progress_line(struct sim_device *sd, struct sim_job *sj, bool done)
{
	const qmx_gemm_params *p = &sj->job->desc.params;
	uint64_t total = (uint64_t)p->m * (uint64_t)p->n * (uint64_t)p->k;
	uint64_t now = qmx_jobprog_read64(sim_rd, sd->sim, QMX_REG_CNT_MACS_LO);
	double pct = done ? 100.0 : 100.0 * (double)(now - sj->before.macs) / (double)total;

	if (pct > 100.0)
		pct = 100.0;
	fprintf(stderr, "\r\033[Kqmx sim %ux%u: %lldx%lldx%lld %5.1f%% (%.1f M cycles)%s",
		sd->id.array_rows, sd->id.array_cols, (long long)p->m, (long long)p->n,
		(long long)p->k, pct, (double)(qmxsim_cycle(sd->sim) - sj->start_cycle) / 1e6,
		done ? "\n" : "");
	fflush(stderr);
	sd->progress_shown = !done;
}

/* Pop the head job and complete it with `status` (its detail is already
 * this thread's error message). */
static int sim_finish(struct sim_device *sd, int status)
{
	struct sim_job *sj = sd->head;
	qmx_job *job = sj->job;

	if (sd->progress_shown)
		progress_line(sd, sj, true);
	sd->head = sj->next;
	if (!sd->head)
		sd->tail = NULL;
	job->priv = NULL;
	free(sj);
	qmx_job_complete(job, status);
	return status;
}

/* The head job raised its interrupt: read the outcome. */
static int sim_collect(struct sim_device *sd)
{
	struct sim_job *sj = sd->head;
	qmx_job *job = sj->job;
	struct qmx_jobprog_counters after, d;
	uint32_t hwerr = qmxsim_read32(sd->sim, QMX_REG_ERROR);

	qmx_jobprog_read_counters(sim_rd, sd->sim, &after);
	(void)qmxsim_read32(sd->sim, QMX_REG_CTRL); /* consume AP_DONE */
	qmx_jobprog_ack(sim_rd, sim_wr, sd->sim);
	qmx_jobprog_counters_delta(&sj->before, &after, &d);
	job->stats.threads = 1;
	uint64_t addr = hwerr ? qmx_jobprog_read64(sim_rd, sd->sim, QMX_REG_ERROR_ADDR_LO) : 0;
	/* Device time at the target profile's clock, not the RTL's CLOCK_KHZ. */
	return sim_finish(sd, qmx_job_device_result(job, &d, sd->profile.clock_mhz * 1000u, hwerr,
							 addr));
}

/* Drive the head job by at most one slice.  Returns 1 when it finished
 * (status in *status, message on this thread), 0 when it still runs. */
static int sim_drive(qmx_device *dev, struct sim_device *sd, int *status)
{
	struct sim_job *sj = sd->head;
	uint64_t ran = 0;

	if (sd->dead) {
		*status = sim_finish(sd, qmx_fail(QMX_EIO, "%s", sd->dead_msg));
		return 1;
	}
	if (!sj->started)
		sim_start(sd, sj);
	int r = qmxsim_run(sd->sim, SIM_SLICE_CYCLES, &ran);
	if (r < 0) {
		sd->dead = true;
		snprintf(sd->dead_msg, sizeof(sd->dead_msg), "%s: model stopped: %s", dev->info.uri,
			 qmxsim_last_error());
		*status = sim_finish(sd, qmx_fail(QMX_EIO, "%s", sd->dead_msg));
		return 1;
	}
	if (r == QMXSIM_RUN_IRQ || r == QMXSIM_RUN_IDLE) {
		*status = sim_collect(sd);
		return 1;
	}
	uint64_t spent = qmxsim_cycle(sd->sim) - sj->start_cycle;
	uint64_t limit = sim_watchdog(sd, &sj->job->desc.params);
	if (spent >= limit) {
		/* a hang: abort the job so the next one can run */
		qmx_jobprog_soft_reset(sim_wr, sd->sim);
		qmx_jobprog_ack(sim_rd, sim_wr, sd->sim);
		*status = sim_finish(sd, qmx_fail(QMX_EIO,
						  "%s: job did not finish within %" PRIu64
						  " cycles (watchdog); the accelerator was soft-reset",
						  dev->info.uri, limit));
		return 1;
	}
	uint64_t now = qmx_now_ns();
	if (now - sj->job->submit_ns > SIM_PROGRESS_AFTER_NS &&
	    now - sd->progress_ns > SIM_PROGRESS_EVERY_NS && isatty(2)) {
		sd->progress_ns = now;
		progress_line(sd, sj, false);
	}
	return 0;
}

static int sim_gemm_submit(qmx_device *dev, qmx_job *job)
{
	struct sim_device *sd = dev->priv;
	const qmx_gemm_params *p = &job->desc.params;

	/* K beyond max_k is accepted: the int32 accumulator wraps exactly as
	 * the reference's does (two's complement). */
	if (p->out_type == QMX_OUT_INT8 && !(dev->info.features & QMX_FEATURE_INT8_OUT))
		return qmx_fail(QMX_ENOTSUP, "qmx_gemm_submit: out_type int8 not supported by %s",
				dev->info.uri);
	struct sim_job *sj = calloc(1, sizeof(*sj));
	if (!sj)
		return qmx_fail(QMX_ENOMEM, "qmx_gemm_submit: out of memory");
	sj->job = job;
	job->priv = sj;
	pthread_mutex_lock(&dev->lock);
	if (sd->tail)
		sd->tail->next = sj;
	else
		sd->head = sj;
	sd->tail = sj;
	pthread_mutex_unlock(&dev->lock);
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
	int status = 0;

	for (;;) {
		pthread_mutex_lock(&dev->lock);
		if (job_done(job)) {
			pthread_mutex_unlock(&dev->lock);
			return 0; /* the core reports its status */
		}
		bool mine = false;
		if (!sd->head) { /* cannot happen: a job not done is queued */
			pthread_mutex_unlock(&dev->lock);
			return qmx_fail(QMX_EIO, "%s: job lost from the queue", dev->info.uri);
		}
		if (sim_drive(dev, sd, &status))
			mine = job_done(job);
		pthread_mutex_unlock(&dev->lock);
		if (mine)
			return status; /* keeps this thread's detailed message */
		if (deadline_ns >= 0 && (int64_t)qmx_now_ns() >= deadline_ns)
			return QMX_ETIMEDOUT;
	}
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
};
