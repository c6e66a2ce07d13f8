/* SPDX-License-Identifier: MIT */
/*
 * model_backend.c - the "model" backend: the accelerator as its analytical
 * model.  "model:RxC[,profile=NAME][,lat=N][,bw=N]" computes each GEMM with
 * the CPU kernels (bit-exact by construction) and reports the cycles and
 * activity counters the RTL would have for it (qmx_model_predict), so the
 * unified energy model prices them at the target profile as it does for
 * sim.  Full-size workloads run at CPU speed; every figure is modelled
 * (analytical), never measured or simulated.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "energy_internal.h"
#include "qmx_backend.h"
#include "qmx_model.h"

struct model_device {
	struct qmx_model_config cfg;
	qmx_profile_info profile;
};

#define MODEL_KEYS "profile, lat, bw"

static int model_u32(const char *key, const char *val, uint32_t max, uint32_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(val, &end, 10);
	if (!*val || *end || errno || val[0] == '-' || v > max)
		return qmx_fail(QMX_EINVAL, "model device: %s '%s' must be an integer in [0, %u]",
				key, val, max);
	*out = (uint32_t)v;
	return 0;
}

/* "RxC[,profile=NAME][,lat=N][,bw=N]"; lat/bw default to the profile's
 * DRAM at its clock, as on sim. */
static int model_parse(const char *arg, struct model_device *md)
{
	char buf[256], profile[64] = QMX_PROFILE_ASIC_DEFAULT, *save = NULL;
	uint32_t rows = 0, cols = 0, lat = 0, bw = 0;
	bool lat_set = false, bw_set = false, first = true;
	int err;

	if (strlen(arg) >= sizeof(buf))
		return qmx_fail(QMX_EINVAL, "model device: arguments longer than %zu characters",
				sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (first && !eq) {
			char *x = strchr(tok, 'x'), *er, *ec = NULL;
			unsigned long r = strtoul(tok, &er, 10), c = 0;
			if (x)
				c = strtoul(x + 1, &ec, 10);
			if (!x || tok[0] < '0' || tok[0] > '9' || er != x || x[1] < '0' ||
			    x[1] > '9' || *ec || !r || !c || r > QMX_MODEL_MAX_ARRAY ||
			    c > QMX_MODEL_MAX_ARRAY || (r & (r - 1)))
				return qmx_fail(QMX_EINVAL,
						"model device: '%s' is not an array size RxC: rows a power of two in [1, %d], columns in [1, %d]",
						tok, QMX_MODEL_MAX_ARRAY, QMX_MODEL_MAX_ARRAY);
			rows = (uint32_t)r;
			cols = (uint32_t)c;
			first = false;
			continue;
		}
		first = false;
		if (!eq)
			return qmx_fail(QMX_EINVAL,
					"model device: argument '%s' is not key=value (keys: " MODEL_KEYS ")",
					tok);
		*eq = '\0';
		const char *key = tok, *val = eq + 1;
		if (!strcmp(key, "profile")) {
			if (!*val || strlen(val) >= sizeof(profile))
				return qmx_fail(QMX_EINVAL, "model device: profile needs a name");
			snprintf(profile, sizeof(profile), "%s", val);
		} else if (!strcmp(key, "lat")) {
			if ((err = model_u32("lat (memory latency, cycles)", val, 100000, &lat)))
				return err;
			lat_set = true;
		} else if (!strcmp(key, "bw")) {
			if ((err = model_u32("bw (memory bytes per cycle, 0 = bus rate)", val, 4096,
					     &bw)))
				return err;
			bw_set = true;
		} else {
			return qmx_fail(QMX_EINVAL,
					"model device: unknown argument '%s' (keys: " MODEL_KEYS ")",
					key);
		}
	}
	if (!rows)
		rows = cols = 8;
	if ((err = qmx_profile_get(profile, &md->profile))) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", qmx_last_error());
		return qmx_fail(err, "model device: profile: %s", msg);
	}
	const qmx_profile_info *p = &md->profile;
	qmx_model_config_default(&md->cfg, rows, cols);
	md->cfg.clock_mhz = p->clock_mhz;
	/* The profile's DRAM at its clock, exactly as sim derives it. */
	unsigned plat, pbw;
	qmx_profile_mem_cycles(p, &plat, &pbw);
	md->cfg.mem_latency_cycles = lat_set ? lat : plat;
	md->cfg.mem_bytes_per_cycle = bw_set ? bw : pbw;
	if ((err = qmx_model_config_check(&md->cfg))) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", qmx_last_error());
		return qmx_fail(err, "model device: %s", msg);
	}
	return 0;
}

static void model_fill_info(qmx_device_info *info, const struct model_device *md)
{
	const struct qmx_model_config *c = &md->cfg;

	snprintf(info->name, sizeof(info->name),
		 "qmx accelerator %ux%u (modelled (analytical), %s)", c->rows, c->cols,
		 md->profile.name);
	snprintf(info->detail, sizeof(info->detail),
		 "analytical model, AXI %u-bit, %s: memory latency %u cycles, %u B/cycle; results from the CPU kernels",
		 c->axi_data_bits, md->profile.name, c->mem_latency_cycles,
		 c->mem_bytes_per_cycle);
	snprintf(info->profile, sizeof(info->profile), "%s", md->profile.name);
	info->array_rows = c->rows;
	info->array_cols = c->cols;
	info->clock_mhz = c->clock_mhz;
	info->compute_units = 1;
	info->features = QMX_FEATURE_INT32_OUT | QMX_FEATURE_INT8_OUT | QMX_FEATURE_PER_CHANNEL |
			 QMX_FEATURE_BIAS | QMX_FEATURE_SIMULATED | QMX_FEATURE_COUNTERS;
	info->max_dim = 1u << 20;
	info->max_k = 32768;
}

static int model_open(qmx_device *dev, const char *arg)
{
	struct model_device *md = calloc(1, sizeof(*md));
	int err;

	if (!md)
		return qmx_fail(QMX_ENOMEM, "model device: out of memory");
	if ((err = model_parse(arg, md))) {
		free(md);
		return err;
	}
	model_fill_info(&dev->info, md);
	dev->priv = md;
	return 0;
}

static void model_close(qmx_device *dev)
{
	free(dev->priv);
}

/* The result from the CPU kernels, the stats from the model. */
static int model_run(qmx_device *dev, const qmx_gemm_params *p,
		     const qmx_gemm_host_operands *ops, const void *arg, qmx_job_stats *st)
{
	struct model_device *md = dev->priv;
	struct qmx_cpu_run run = { .threads = 0 };
	struct qmx_model_result r;
	uint64_t t0 = qmx_now_ns();
	int err;

	(void)arg;
	if (p->m > (1 << 20) || p->n > (1 << 20) || p->k > (1 << 20))
		return qmx_fail(QMX_EINVAL, "model device: m, n, k must be <= %u (MAX_DIM)",
				1u << 20);
	struct qmx_model_gemm g = {
		.m = (uint32_t)p->m, .n = (uint32_t)p->n, .k = (uint32_t)p->k,
		.out_int8 = p->out_type == QMX_OUT_INT8,
		.bias = p->has_bias != 0,
		.per_channel = p->out_type == QMX_OUT_INT8 && p->quant_mode == QMX_QUANT_PER_CHANNEL,
		.lda = (uint32_t)p->lda, .ldb = (uint32_t)p->ldb, .ldc = (uint32_t)p->ldc,
		.queued = true, /* as the sim backend starts every job */
	};
	if ((err = qmx_model_predict(&md->cfg, &g, &r)))
		return err;
	if ((err = qmx_cpu_gemm_fast(p, ops, NULL, &run)))
		return err;
	st->cpu_ns = run.cpu_ns;
	st->threads = run.threads;
	st->sim_wall_ns = qmx_now_ns() - t0;
	st->sim_cpu_ns = run.cpu_ns;
	st->cycles = r.cycles;
	st->stall_cycles = r.stall_cycles;
	st->macs = r.macs;
	st->ext_bytes_read = r.ext_rd_bytes;
	st->ext_bytes_written = r.ext_wr_bytes;
	st->sram_bytes_read = r.sram_rd_bytes;
	st->sram_bytes_written = r.sram_wr_bytes;
	st->device_ns = (uint64_t)llround(r.seconds * 1e9);
	return 0;
}

static int model_gemm_host(qmx_device *dev, const qmx_gemm_params *p,
			   const qmx_gemm_host_operands *ops, qmx_job_stats *stats)
{
	return qmx_host_gemm_sync(dev, p, ops, model_run, NULL, stats);
}

static int model_gemm_submit(qmx_device *dev, qmx_job *job)
{
	return qmx_host_gemm_submit(dev, job, model_run);
}

const struct qmx_backend_ops qmx_backend_model_ops = {
	.name = "model",
	.open = model_open,
	.close = model_close,
	.gemm_host = model_gemm_host,
	.gemm_submit = model_gemm_submit,
};
