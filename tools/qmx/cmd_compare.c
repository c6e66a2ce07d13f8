/* SPDX-License-Identifier: MIT */
/*
 * cmd_compare.c - `qmx compare`: run a workload set on the CPU baseline and on
 * the accelerator, check the results match bit for bit, and report time,
 * energy (measured or modelled), operational and embodied carbon, SCI per
 * functional unit, speed-up, energy ratio and the break-even utilisation;
 * writes report.json, report.csv, emissions.csv and report.svg.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "compare.h"
#include "qmx/qmx.h"
#include "qmx_util.h"

#define CMP_MAX_WORKLOADS 32

/* The accelerator `qmx compare` (and so `tools/dev.sh demo`) runs on when
 * neither --device nor $QMX_DEVICE says: the largest simulated array that
 * keeps the demo's default workload set within about 3 minutes on a 2-core
 * machine (figures in docs/performance.md).  One place to change it. */
#define CMP_DEFAULT_DEVICE "sim:32x32"
/* Used instead when CMP_DEFAULT_DEVICE's array was not built
 * (CMake QMX_SIM_ARRAYS), so the demo still runs. */
#define CMP_FALLBACK_DEVICE "sim"

const char *const cmp_action_names[6] = { "MAC", "SRAM", "DRAM", "clock", "leakage", "static" };

static void compare_usage(FILE *f)
{
	fprintf(f,
		"usage: qmx compare [options]\n\n"
		"Run a workload set on the CPU baseline (device \"cpu\") and on an accelerator,\n"
		"verify both give the same bits, and print per workload: time, energy (J,\n"
		"measured or modelled), operational and embodied gCO2e, SCI per functional\n"
		"unit, speed-up, energy ratio, and the utilisation above which the\n"
		"accelerator's embodied carbon is repaid.  Writes report.json, report.csv,\n"
		"emissions.csv (CodeCarbon's columns) and report.svg into --out.\n\n"
		"  --device URI         accelerator (default $QMX_DEVICE, else %s); a sim URI\n"
		"                       takes a target profile: sim:16x16,profile=asic-7nm\n"
		"                       (`qmx devices` lists the profiles); a comma list\n"
		"                       (sim,cpu) is a device group (docs/distributed.md)\n"
		"  --baseline URI       CPU baseline (default: the fastest exact CPU device,\n"
		"                       cpu or onednn, timed on the largest layer)\n"
		"  --workloads SET      default, small, a set of real models (bert-base, ...),\n"
		"                       a workload file (a path: contains '/' or ends .ini),\n"
		"                       or a comma list of names / MxNxK\n"
		"  --out DIR            where the reports go (default: current directory)\n"
		"  --grid G             grid intensity, gCO2e/kWh (else $QMX_GRID_INTENSITY,\n"
		"                       $QMX_REGION, or the world average)\n"
		"  --region NAME        region of hw/energy/grid.ini (world, europe, usa, ...)\n"
		"  --pue P              datacenter PUE applied to operational energy on both\n"
		"                       sides, [1, 3] (else $QMX_PUE, else 1.0: the IT\n"
		"                       equipment alone; a typical datacenter: 1.58)\n"
		"  --grid-trace PATH    grid-intensity trace (file or directory, see\n"
		"                       docs/carbon-aware.md): the intensity at --start\n"
		"  --start ISO8601      when the jobs run, UTC (default: now)\n"
		"  --seed S             operand seed (default 1)\n"
		"  --no-files           print only, write no report files\n"
		"  --list               list the workloads\n\n"
		"workloads:\n",
		CMP_DEFAULT_DEVICE);
	cmp_workloads_list(f);
}

const char *cmp_source_name(int32_t source)
{
	return source == QMX_ENERGY_MEASURED ? "measured"
	       : source == QMX_ENERGY_MODELLED ? "modelled"
					       : "none";
}

/* ---------------------------------------------------------------- progress */

static bool tty;

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (tty)
		fputs("\r\033[K", stderr);
	vfprintf(stderr, fmt, ap);
	if (!tty)
		fputc('\n', stderr);
	va_end(ap);
	fflush(stderr);
}

static void progress_done(void)
{
	if (tty)
		fputs("\r\033[K", stderr);
}

/* ---------------------------------------------------------------- one GEMM */

/* int8 output with bias (a quantized layer) where the accelerator has them,
 * else what it has. */
void cmp_layer_params(qmx_gemm_params *p, const struct cmp_gemm *g, uint32_t features,
			 uint64_t max_k)
{
	bool bias = (features & QMX_FEATURE_BIAS) != 0;
	qmx_gemm_params_init(p, g->m, g->n, g->k);
	/* Requantization needs the whole sum: when K has to be split across
	 * jobs, both sides compute the int32 GEMM instead. */
	p->out_type = (features & QMX_FEATURE_INT8_OUT) && (uint64_t)g->k <= max_k
			      ? QMX_OUT_INT8
			      : QMX_OUT_INT32;
	p->has_bias = bias;
	p->a_zero_point = 3;
	qmx_quantize_multiplier(1.0 / (16.0 * (double)g->k), &p->multiplier, &p->shift);
}

/* Progress of one accelerator GEMM (qmx_gemm_tiled's callback): on a
 * terminal a live line, on a pipe a line every 5 s, while a simulated device
 * runs. */
struct cmp_progress {
	const char *label;
	double expect_cycles; /* if the array were always busy */
	uint64_t t0;
	int shown;
};

static int cmp_progress_cb(uint64_t done, uint64_t total, void *user)
{
	struct cmp_progress *pr = user;
	uint64_t el = (uint64_t)time(NULL) - pr->t0;

	if (done == total || !(tty || (int)(el / 5) > pr->shown))
		return 0;
	pr->shown = (int)(el / 5);
	if (total > 1)
		progress("  %s tile %llu/%llu: running %llu s", pr->label,
			 (unsigned long long)done + 1, (unsigned long long)total,
			 (unsigned long long)el);
	else
		progress("  %s: running %llu s (%.2f M cycles if the array were always busy)",
			 pr->label, (unsigned long long)el, pr->expect_cycles / 1e6);
	return 0;
}

struct report_writer {
	const struct cmp_report *rep;
	int (*write)(const struct cmp_report *, const char *);
};

static int write_report(void *ctx, const char *tmp)
{
	const struct report_writer *w = ctx;
	return w->write(w->rep, tmp);
}

/* One report, written whole or not at all (cli_write_atomic). */
static int write_atomic(const struct cmp_report *rep, const char *path,
			int (*write)(const struct cmp_report *, const char *))
{
	struct report_writer w = { rep, write };
	return cli_write_atomic(path, write_report, &w);
}

/* ---------------------------------------------------------------- one workload */

struct cmp_ctx {
	qmx_device *cpu, *acc;
	qmx_device_info cpu_info, acc_info;
	qmx_carbon_config cfg;
	qmx_embodied acc_emb;
	qmx_meter *sensor; /* the accelerator's hwmon power sensor, when it has one */
	uint64_t tile, tile_k; /* largest M/N (and strides) and K one job accepts */
	uint64_t seed;
};

const char *const cmp_boundary =
	"both sides: chips + their DRAM (energy and ACT embodied, one DRAM factor) + the host "
	"server's share (CPU time x W/thread; embodied time-share of the threads held); "
	"PUE x energy for operational carbon. CPU baseline = host CPU package + DRAM. "
	"Accelerator chip only (incremental) = device + its DRAM at device time; system = chip + "
	"host CPU time outside any simulator + one host thread held for the device time. "
	"A simulator's own host time is shown, never counted.";

int cmp_finish_side(struct cmp_side *s, const struct cmp_workload *w,
		       const qmx_carbon_config *cfg)
{
	double k = cfg->pue * cfg->grid_g_per_kwh / 3.6e6; /* g per J */
	s->energy_j = s->chip_j + s->host_j;
	s->chip_op_g = s->chip_j * k;
	s->op_g = s->energy_j * k;
	return qmx_sci(s->energy_j * cfg->pue / 3.6e6, cfg->grid_g_per_kwh, s->emb_g, w->units,
		       &s->sci_g);
}

static void acct_add(struct cmp_acct *c, const qmx_job_stats *st, const qmx_energy_breakdown *b)
{
	qmx_job_stats_add(&c->counters, st, 0);
	if (!b)
		return;
	c->have_actions = true;
	for (int i = 0; i < b->n; i++) {
		const qmx_energy_action *a = &b->action[i];
		int j = 0;
		while (j < c->actions.n && strcmp(c->actions.action[j].name, a->name))
			j++;
		if (j == c->actions.n) {
			if (j == QMX_ENERGY_MAX_ACTIONS)
				continue;
			c->actions.action[c->actions.n++] = (qmx_energy_action){ .j_each = a->j_each };
			snprintf(c->actions.action[j].name, sizeof(c->actions.action[j].name), "%s",
				 a->name);
		}
		c->actions.action[j].count += a->count;
		c->actions.action[j].joules += a->joules;
		c->actions.joules += a->joules;
	}
}

/* Add GEMM l's counters and energy by action to a side. */
static void side_add(struct cmp_side *s, int l, const qmx_job_stats *st,
		     const qmx_energy_breakdown *b)
{
	acct_add(&s->total, st, b);
	acct_add(&s->gemm[l], st, b);
}

/* The baseline's idle threads spin a while before they sleep (cpu_fast.c's
 * pool: 200 us; oneDNN's OpenMP runtime, libgomp: 300,000 spins, about 20 ms
 * here): wait until the process uses no CPU, so their spinning is not billed
 * to the accelerator's host share.  The kernel adds another running thread's
 * time to the process clock at its next tick (4 ms at HZ=250), so a quiet
 * spell counts only when two 5 ms windows in a row are.  Bounded at 500 ms. */
static void host_settle(void)
{
	int quiet = 0;
	for (int i = 0; i < 100 && quiet < 2; i++) {
		struct timespec c0, c1;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
		long long used = (c1.tv_sec - c0.tv_sec) * 1000000000ll + (c1.tv_nsec - c0.tv_nsec);
		quiet = used < 250000 ? quiet + 1 : 0; /* under 5 % of the window */
	}
}

int cmp_cpu_gemm(qmx_device *cpu, const qmx_device_info *cpu_info, qmx_meter *meter,
		 const qmx_gemm_params *p, qmx_problem *pb, int l, struct cmp_side *s)
{
	qmx_gemm_host_operands ops;
	qmx_energy_reading rd;
	qmx_job_stats st;
	qmx_energy_breakdown bd;
	int err;

	qmx_problem_operands(pb, &ops, true);
	if ((err = qmx_meter_start(meter)) || (err = qmx_gemm(cpu, p, &ops, &st)) ||
	    (err = qmx_meter_add_job(meter, &st)) || /* its DRAM: not in the package */
	    (err = qmx_meter_stop(meter, &rd)))
		return err;
	s->wall_s += st.wall_ns * 1e-9;
	s->time_s += st.wall_ns * 1e-9;
	s->chip_time_s += st.wall_ns * 1e-9;
	s->emb_g += st.carbon_embodied_g;
	s->chip_emb_g += st.carbon_embodied_g;
	bool cpu_model = qmx_accel_energy_breakdown(cpu_info, &st, &bd) == 0;
	side_add(s, l, &st, cpu_model ? &bd : NULL);
	for (int i = 0; cpu_model && i < bd.n; i++)
		if (!strcmp(bd.action[i].name, "dram_byte"))
			s->dram_j += bd.action[i].joules;
	if (rd.source == QMX_ENERGY_MEASURED) {
		s->chip_j += rd.joules;
		s->source = QMX_ENERGY_MEASURED;
		snprintf(s->method, sizeof(s->method), "%s", rd.method);
		snprintf(s->detail, sizeof(s->detail), "%s", rd.detail);
	} else {
		/* The per-job model (CPU time x W/thread + DRAM traffic) is
		 * attributed to the job alone, so it is preferred. */
		const char *why = strstr(rd.detail, "no counter:");
		s->chip_j += st.energy_j;
		s->source = st.energy_source;
		snprintf(s->method, sizeof(s->method), "model:tdp");
		snprintf(s->detail, sizeof(s->detail),
			 "modelled per job: CPU time x W/thread + compulsory DRAM bytes x J/byte (hw/energy); %.400s",
			 why ? why : rd.detail);
	}
	return 0;
}

/* Energy and CPU time so far of a group's members that compute on the
 * host's CPU (their jobs are not QMX_JOB_DEVICE): the host meter around a
 * group job already holds that work, so the host share leaves it out. */
static void group_host_members(qmx_device *dev, const qmx_device_info *info, double *joules,
			       double *cpu_s)
{
	qmx_group_member_stats ms[QMX_GROUP_MAX_MEMBERS];
	size_t n = 0;

	*joules = *cpu_s = 0;
	if (strcmp(info->backend, "group") ||
	    qmx_device_group_stats(dev, ms, QMX_GROUP_MAX_MEMBERS, &n))
		return;
	for (size_t i = 0; i < n; i++)
		if (ms[i].jobs && !(ms[i].total.flags & QMX_JOB_DEVICE)) {
			*joules += ms[i].total.energy_j;
			*cpu_s += ms[i].total.cpu_ns * 1e-9;
		}
}

/* The accelerator's embodied carbon; a device group's is its members'
 * summed (a CPU member counts its whole server, as the baseline does),
 * amortised at their combined rate: lifetime = total / sum(total_i / lifetime_i). */
static int acc_embodied(qmx_device *dev, const qmx_device_info *info, qmx_embodied *out)
{
	qmx_group_member_stats ms[QMX_GROUP_MAX_MEMBERS];
	size_t n;
	int err;
	if (strcmp(info->backend, "group"))
		return qmx_device_embodied(info, out);
	if ((err = qmx_device_group_stats(dev, ms, QMX_GROUP_MAX_MEMBERS, &n)))
		return err;
	memset(out, 0, sizeof(*out));
	double rate = 0;
	size_t used = (size_t)snprintf(out->detail, sizeof(out->detail), "sum of %zu members:", n);
	for (size_t i = 0; i < n; i++) {
		qmx_embodied e;
		if ((err = qmx_device_embodied(&ms[i].info, &e)))
			return err;
		out->total_g += e.total_g;
		out->area_mm2 += e.area_mm2;
		rate += e.lifetime_s > 0 ? e.total_g / e.lifetime_s : 0;
		if (used < sizeof(out->detail))
			used += (size_t)snprintf(out->detail + used, sizeof(out->detail) - used,
						 " %s %.4g kg", ms[i].info.uri, e.total_g / 1000);
	}
	out->lifetime_s = rate > 0 ? out->total_g / rate : 0;
	out->resources = 1;
	return 0;
}

static int run_workload(struct cmp_ctx *cx, const struct cmp_workload *w, int idx, int total,
			struct cmp_result *r)
{
	qmx_meter *meter = NULL;
	int err = 0;
	double lanes = cx->acc_info.array_rows * (double)cx->acc_info.array_cols;

	memset(r, 0, sizeof(*r));
	r->w = w;
	r->exact = true;
	snprintf(r->cpu.method, sizeof(r->cpu.method), "jobs");
	if ((err = qmx_meter_new("cpu", &meter)))
		return err;
	for (int l = 0; l < w->n_layers && !err; l++) {
		qmx_gemm_params p;
		qmx_problem pb;
		qmx_gemm_host_operands ops;
		qmx_job_stats st;
		qmx_energy_breakdown bd;
		qmx_rng rng = { cx->seed + (uint64_t)idx * 131 + (uint64_t)l };
		char label[320];
		const struct cmp_gemm *g = &w->layers[l];

		cmp_layer_params(&p, g, cx->acc_info.features, cx->tile_k);
		if ((err = qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM)))
			break;
		/* CPU baseline into c_ref, metered (RAPL when readable). */
		snprintf(label, sizeof(label), "[%d/%d] %.47s layer %d/%d %lldx%lldx%lld on %s",
			 idx + 1, total, w->name, l + 1, w->n_layers, (long long)g->m,
			 (long long)g->n, (long long)g->k, cx->cpu_info.uri);
		if (tty)
			progress("  %s", label);
		if ((err = cmp_cpu_gemm(cx->cpu, &cx->cpu_info, meter, &p, &pb, l, &r->cpu))) {
			qmx_problem_free(&pb);
			break;
		}

		/* Accelerator into c, with a host meter around it for the host's
		 * share: its CPU time outside any simulator, the thread it holds. */
		snprintf(label, sizeof(label), "[%d/%d] %.47s layer %d/%d %lldx%lldx%lld on %s",
			 idx + 1, total, w->name, l + 1, w->n_layers, (long long)g->m,
			 (long long)g->n, (long long)g->k, cx->acc_info.uri);
		if (tty)
			progress("  %s", label);
		qmx_problem_operands(&pb, &ops, false);
		host_settle();
		qmx_energy_reading hw, host;
		memset(&hw, 0, sizeof(hw));
		double grp_j0, grp_cpu0, grp_j1, grp_cpu1;
		group_host_members(cx->acc, &cx->acc_info, &grp_j0, &grp_cpu0);
		if ((cx->sensor && (err = qmx_meter_start(cx->sensor))) ||
		    (err = qmx_meter_start(meter))) {
			qmx_problem_free(&pb);
			break;
		}
		struct cmp_progress pr = { label, lanes > 0 ? (double)g->m * g->n * g->k / lanes : 0,
					   (uint64_t)time(NULL), 0 };
		err = qmx_gemm_tiled(cx->acc, &p, &ops, &st, cmp_progress_cb, &pr);
		if (!err && cx->sensor)
			err = qmx_meter_stop(cx->sensor, &hw);
		if (!err && !(err = qmx_meter_add_job(meter, &st)))
			err = qmx_meter_stop(meter, &host);
		if (err) {
			qmx_problem_free(&pb);
			break;
		}
		bool sim = (cx->acc_info.features & QMX_FEATURE_SIMULATED) != 0;
		r->acc.wall_s += st.wall_ns * 1e-9;
		/* A simulated device's time is its cycles at its clock, not how
		 * long the host took to simulate them. */
		r->acc.chip_time_s += (sim && st.device_ns ? st.device_ns : st.wall_ns) * 1e-9;
		if (st.flags & QMX_JOB_DEVICE) {
			/* A group's CPU members: in the chip figures (the group's
			 * job), not again in the host share. */
			group_host_members(cx->acc, &cx->acc_info, &grp_j1, &grp_cpu1);
			host.joules = fmax(0, host.joules - (grp_j1 - grp_j0));
			host.cpu_seconds = fmax(0, host.cpu_seconds - (grp_cpu1 - grp_cpu0));
			r->acc.time_s += host.seconds;
			r->acc.sim_wall_s += host.sim_seconds;
			r->acc.sim_cpu_s += host.sim_cpu_seconds;
			r->acc.host_cpu_s += host.cpu_seconds;
			r->acc.held_s += host.held_seconds;
			r->acc.host_j += host.joules;
			if (l == 0 || host.source != QMX_ENERGY_MEASURED)
				r->acc.host_source = host.source;
		} else {
			/* A CPU standing in for the accelerator (cpu-ref, OpenCL on
			 * PoCL) is the host: its jobs' figures hold it all, as the
			 * baseline's do. */
			r->acc.time_s += st.wall_ns * 1e-9;
			host.carbon_embodied_g = 0;
			r->acc.host_source = st.energy_source;
		}
		bool acc_model = false;
		if (cx->sensor) {
			/* The card's own sensor over the job (its label says
			 * whether the driver measures or models it). */
			r->acc.chip_j += hw.joules;
			st.energy_source = hw.source;
			snprintf(r->acc.detail, sizeof(r->acc.detail), "%s", hw.detail);
		} else {
			r->acc.chip_j += st.energy_j;
			if (st.energy_source == QMX_ENERGY_MEASURED)
				snprintf(r->acc.detail, sizeof(r->acc.detail),
					 "measured by the %s backend from the device's power sensors",
					 cx->acc_info.backend);
			else if (!strcmp(cx->acc_info.backend, "group"))
				snprintf(r->acc.detail, sizeof(r->acc.detail),
					 "summed over the group's members, each by its own model or meter");
			else if (!(acc_model = qmx_accel_energy_breakdown(&cx->acc_info, &st, &bd) == 0))
				snprintf(r->acc.detail, sizeof(r->acc.detail), "%s", qmx_last_error());
			else
				snprintf(r->acc.detail, sizeof(r->acc.detail), "%s", bd.detail);
		}
		side_add(&r->acc, l, &st, acc_model ? &bd : NULL);
		for (int i = 0; acc_model && !(st.flags & QMX_JOB_DEVICE) && i < bd.n; i++)
			if (!strcmp(bd.action[i].name, "dram_byte"))
				r->acc.dram_j += bd.action[i].joules; /* a CPU's DRAM, as the baseline's */
		r->acc.chip_emb_g += st.carbon_embodied_g;
		r->acc.emb_g += st.carbon_embodied_g + host.carbon_embodied_g;
		r->acc.cycles += st.cycles;
		if (!cx->sensor) {
			const double by[6] = { st.energy_mac_j,   st.energy_sram_j,
					       st.energy_dram_j,  st.energy_clock_j,
					       st.energy_leakage_j, st.energy_static_j };
			for (int a = 0; a < 6; a++)
				r->acc.by_action[a] += by[a];
		}
		if (l == 0 || st.energy_source != QMX_ENERGY_MEASURED)
			r->acc.source = st.energy_source;
		if (r->exact && !qmx_problem_matches(&pb, r->mismatch, sizeof(r->mismatch)))
			r->exact = false;
		qmx_problem_free(&pb);
	}
	qmx_meter_del(meter);
	progress_done();
	if (err)
		return err;
	if (cx->sensor)
		snprintf(r->acc.method, sizeof(r->acc.method), "%s", qmx_meter_method(cx->sensor));
	else if (r->acc.source == QMX_ENERGY_NONE)
		snprintf(r->acc.method, sizeof(r->acc.method), "none");
	else if (r->acc.source == QMX_ENERGY_MEASURED)
		snprintf(r->acc.method, sizeof(r->acc.method), "device sensor");
	else
		snprintf(r->acc.method, sizeof(r->acc.method), "%s",
			 qmx_energy_model_name(&cx->acc_info));
	r->cpu.host_source = r->cpu.source;
	if ((err = cmp_finish_side(&r->cpu, w, &cx->cfg)) || (err = cmp_finish_side(&r->acc, w, &cx->cfg)))
		return err;
	/* Both ways, as Jouppi et al. report TPU v1: the chip alone
	 * ("incremental") and the system with its host's share. */
	r->speedup = r->acc.time_s > 0 ? r->cpu.time_s / r->acc.time_s : 0;
	r->speedup_chip = r->acc.chip_time_s > 0 ? r->cpu.time_s / r->acc.chip_time_s : 0;
	r->energy_ratio = r->cpu.energy_j > 0 ? r->acc.energy_j / r->cpu.energy_j : 0;
	r->energy_ratio_chip = r->cpu.energy_j > 0 ? r->acc.chip_j / r->cpu.energy_j : 0;
	/* Break-even: N jobs/day over the accelerator's life save
	 * N x days x (op_cpu - op_acc); they repay its embodied TE when
	 * N >= TE / (days x saving).  The saving is the system's (host share
	 * included); the accelerator's own embodied share is not counted as
	 * a saving: TE is what has to be repaid. */
	double days = cx->acc_emb.lifetime_s / 86400.0;
	double saving = r->cpu.op_g - r->acc.op_g;
	r->breakeven = saving > 0 && days > 0 ? cx->acc_emb.total_g / (days * saving) : -1;
	r->capacity = r->acc.time_s > 0 ? 86400.0 / r->acc.time_s : 0;
	return 0;
}

/* ---------------------------------------------------------------- printing */

static const char *si(double v, const char *unit, char *buf, size_t len)
{
	static const char *pre[] = { "p", "n", "u", "m", "", "k", "M", "G" };
	int i = 4;
	double a = fabs(v);
	if (v == 0) {
		snprintf(buf, len, "0 %s", unit);
		return buf;
	}
	while (a >= 1000 && i < 7) {
		a /= 1000;
		v /= 1000;
		i++;
	}
	while (a < 1 && i > 0) {
		a *= 1000;
		v *= 1000;
		i--;
	}
	snprintf(buf, len, "%.3g %s%s", v, pre[i], unit);
	return buf;
}

static void print_row(const char *who, double t, double e, int32_t source, double op, double em,
		      double sci, const char *unit)
{
	char ts[32], es[32], ops[32], ems[32], scis[32];
	printf("  %-50.50s %10s %10s %-9s %11s %11s %11s/%s\n", who, si(t, "s", ts, sizeof(ts)),
	       si(e, "J", es, sizeof(es)), cmp_source_name(source), si(op, "g", ops, sizeof(ops)),
	       si(em, "g", ems, sizeof(ems)), si(sci, "g", scis, sizeof(scis)), unit);
}

static void print_result(const struct cmp_report *rep, const struct cmp_result *r)
{
	const struct cmp_workload *w = r->w;
	const struct cmp_side *a = &r->acc;
	char buf[64], who[256], sw[32], sc[32];
	printf("\n== %s: %s (%s MAC) — results %s\n", w->name, w->what,
	       si(cmp_workload_macs(w), "", buf, sizeof(buf)),
	       r->exact ? "bit-exact" : "DIFFER");
	if (!r->exact)
		printf("   mismatch: %s\n", r->mismatch);
	printf("  %-50s %10s %10s %-9s %11s %11s %13s\n", "device", "time", "energy", "source",
	       "op. CO2e", "emb. CO2e", "SCI");
	snprintf(who, sizeof(who), "%s (%s)", rep->cpu_dev.uri, r->cpu.method);
	print_row(who, r->cpu.time_s, r->cpu.energy_j, r->cpu.source, r->cpu.op_g, r->cpu.emb_g,
		  r->cpu.sci_g, w->unit);
	/* The accelerator rows name the profile, unless its URI already does;
	 * the model device's rows say their figures come from no run of the
	 * RTL (the header names its profile). */
	char acc[168];
	bool analytical = !strcmp(rep->acc_dev.backend, "model");
	if (analytical)
		snprintf(acc, sizeof(acc), "%s modelled (analytical)", rep->acc_dev.uri);
	else if (rep->acc_profile.name[0] && !strstr(rep->acc_dev.uri, "profile="))
		snprintf(acc, sizeof(acc), "%s [%s]", rep->acc_dev.uri, rep->acc_profile.name);
	else
		snprintf(acc, sizeof(acc), "%s", rep->acc_dev.uri);
	double chip_sci = (a->chip_op_g + a->chip_emb_g) / w->units;
	if (analytical)
		snprintf(who, sizeof(who), "%s chip only", acc);
	else
		snprintf(who, sizeof(who), "%s (%s) chip only", acc, a->method);
	print_row(who, a->chip_time_s, a->chip_j, a->source, a->chip_op_g, a->chip_emb_g, chip_sci,
		  w->unit);
	snprintf(who, sizeof(who), "%s + host share", acc);
	print_row(who, a->time_s, a->energy_j,
		  a->source == QMX_ENERGY_MEASURED && a->host_source == QMX_ENERGY_MEASURED
			  ? QMX_ENERGY_MEASURED
			  : QMX_ENERGY_MODELLED,
		  a->op_g, a->emb_g, a->sci_g, w->unit);
	double modelled = 0;
	for (int i = 0; i < 6; i++)
		modelled += a->by_action[i];
	if (modelled > 0) {
		double ops = 2.0 * cmp_workload_macs(w);
		printf("  chip energy by action (modelled, %.3g pJ/op):", modelled / ops * 1e12);
		for (int i = 0; i < 6; i++)
			printf(" %s %.1f%%", cmp_action_names[i], 100.0 * a->by_action[i] / modelled);
		printf("\n");
	}
	if (a->sim_wall_s > 0)
		printf("  (%s wall time %s, %s host CPU: the %s, not counted)\n",
		       analytical ? "CPU kernels' and model's" : "simulation",
		       si(a->sim_wall_s, "s", sw, sizeof(sw)), si(a->sim_cpu_s, "s", sc, sizeof(sc)),
		       analytical ? "stand-in's" : "simulator's");
	printf("  speed-up %.3gx chip only, %.3gx system; energy ratio (accelerator / CPU) %.3g "
	       "chip only (incremental), %.3g system\n",
	       r->speedup_chip, r->speedup, r->energy_ratio_chip, r->energy_ratio);
	if (r->breakeven < 0)
		printf("  break-even: never (no operational saving, system figures)\n");
	else
		printf("  break-even: %.3g jobs/day over %.0f y (system figures; %s; capacity %.3g/day)\n",
		       r->breakeven, rep->acc_emb.lifetime_s / (365.0 * 86400),
		       r->breakeven <= r->capacity ? "reachable" : "NOT reachable", r->capacity);
}

/* ---------------------------------------------------------------- main */

static void make_run_id(char *out, size_t len, uint64_t seed)
{
	qmx_rng rng = { (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20) ^ seed };
	uint64_t a = qmx_rng_next(&rng), b = qmx_rng_next(&rng);
	snprintf(out, len, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
		 (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
		 (unsigned long long)(b & 0xffffffffffffULL));
}

static void host_facts(struct cmp_report *rep)
{
	struct utsname u;
	qmx_util_cpu_model(rep->cpu_model, sizeof(rep->cpu_model));
	if (uname(&u) == 0)
		snprintf(rep->os, sizeof(rep->os), "%.20s-%.50s-%.20s", u.sysname, u.release, u.machine);
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	rep->ram_gb = pages > 0 && psz > 0 ? (double)pages * (double)psz / (1024.0 * 1024 * 1024) : 0;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	rep->cpu_count = n > 0 ? (int)n : 1;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(rep->timestamp, sizeof(rep->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An option that sets a number the library reads from the environment
 * (so the figures and the reports use it alike); checked here to name the
 * option in the message. */
int cmp_env_option(const char *cmd, const char *opt, const char *arg, double lo, double hi,
		   const char *unit, const char *env)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || *end || end == arg || !(v >= lo) || v > hi) {
		fprintf(stderr, "qmx %s: %s '%s' must be %s in [%g, %g]\n", cmd, opt, arg, unit, lo,
			hi);
		return -1;
	}
	setenv(env, arg, 1);
	return 0;
}

int cmd_compare(int argc, char **argv)
{
	enum { O_DEVICE = 256, O_BASE, O_WL, O_OUT, O_GRID, O_REGION, O_PUE, O_SEED, O_NOFILES, O_LIST,
	       O_TRACE, O_START };
	static const struct option opts[] = {
		{ "device", required_argument, 0, O_DEVICE },
		{ "baseline", required_argument, 0, O_BASE },
		{ "workloads", required_argument, 0, O_WL },
		{ "out", required_argument, 0, O_OUT },
		{ "grid", required_argument, 0, O_GRID },
		{ "region", required_argument, 0, O_REGION },
		{ "pue", required_argument, 0, O_PUE },
		{ "seed", required_argument, 0, O_SEED },
		{ "no-files", no_argument, 0, O_NOFILES },
		{ "list", no_argument, 0, O_LIST },
		{ "grid-trace", required_argument, 0, O_TRACE },
		{ "start", required_argument, 0, O_START },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *acc_uri = NULL, *cpu_uri = NULL, *spec = "default", *out_dir = ".";
	const char *trace_path = NULL, *start_iso = NULL;
	qmx_grid_used grid_used;
	long long seed = 1;
	int files = 1, c, status = 0, err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_DEVICE:
			if (cli_device_arg("compare", "device", optarg))
				return 2;
			acc_uri = optarg;
			break;
		case O_BASE:
			if (cli_device_arg("compare", "baseline", optarg))
				return 2;
			cpu_uri = optarg;
			break;
		case O_WL: spec = optarg; break;
		case O_OUT: out_dir = optarg; break;
		case O_GRID:
			if (cmp_env_option("compare", "--grid", optarg, 0, 2000, "gCO2e/kWh", "QMX_GRID_INTENSITY"))
				return 2;
			break;
		case O_REGION: setenv("QMX_REGION", optarg, 1); break;
		case O_PUE:
			if (cmp_env_option("compare", "--pue", optarg, 1, 3, "a ratio", "QMX_PUE"))
				return 2;
			break;
		case O_SEED:
			if (cli_parse_i64("compare", "seed", optarg, 0, INT64_MAX, &seed))
				return 2;
			break;
		case O_NOFILES: files = 0; break;
		case O_LIST: cmp_workloads_list(stdout); return 0;
		case O_TRACE: trace_path = optarg; break;
		case O_START: start_iso = optarg; break;
		case 'h': compare_usage(stdout); return 0;
		default: return cli_bad_option("compare", argv, c);
		}
	}
	if (cli_no_operands("compare", argc, argv))
		return 2;
	tty = isatty(STDERR_FILENO);
	if (start_iso && !trace_path) {
		fprintf(stderr, "qmx compare: --start needs --grid-trace\n");
		return 2;
	}
	if (trace_path) {
		/* Time-resolved: the intensity of the trace's window at --start
		 * (the workloads run for seconds, inside one window). */
		qmx_grid_trace *gt;
		char grid_env[64];
		int64_t at = (int64_t)time(NULL);
		if (start_iso && (err = qmx_time_parse(start_iso, &at)))
			return cli_error("compare", "--start", err);
		if ((err = qmx_grid_trace_load(trace_path, &gt)))
			return cli_error("compare", "--grid-trace", err);
		err = qmx_grid_trace_carbon(gt, at, 0, 0, &grid_used);
		qmx_grid_trace_del(gt);
		if (err)
			return cli_error("compare",
					 start_iso ? "--start" : "--grid-trace (now; pass --start)", err);
		snprintf(grid_env, sizeof(grid_env), "%.6g", grid_used.g_per_kwh);
		setenv("QMX_GRID_INTENSITY", grid_env, 1);
	}

	static struct cmp_workload wl[CMP_MAX_WORKLOADS];
	int n = cmp_workloads_parse("compare", spec, wl, CMP_MAX_WORKLOADS);
	if (n < 0)
		return 2;

	struct cmp_ctx cx;
	memset(&cx, 0, sizeof(cx));
	cx.seed = (uint64_t)seed;
	if ((err = qmx_carbon_config_get(&cx.cfg)))
		return cli_error("compare", "carbon settings", err);
	if (trace_path) {
		snprintf(cx.cfg.region, sizeof(cx.cfg.region), "trace");
		snprintf(cx.cfg.grid_source, sizeof(cx.cfg.grid_source), "%.191s", grid_used.source);
	}
	char picked[128];
	if (!cpu_uri) {
		qmx_gemm_params probe;
		struct cmp_gemm big = { 64, 64, 64 };
		for (int i = 0; i < n; i++) /* the largest layer, at most 1024^3 */
			for (int l = 0; l < wl[i].n_layers; l++) {
				const struct cmp_gemm *g = &wl[i].layers[l];
				double macs = (double)g->m * (double)g->n * (double)g->k;
				if (macs > (double)big.m * big.n * big.k && macs <= 1024.0 * 1024 * 1024)
					big = *g;
			}
		cmp_layer_params(&probe, &big, QMX_FEATURE_INT8_OUT | QMX_FEATURE_BIAS, (uint64_t)big.k);
		if ((err = cmp_pick_baseline(&probe, picked, sizeof(picked), stdout)))
			return cli_error("compare", "choosing the CPU baseline", err);
		cpu_uri = picked;
	}
	if ((err = qmx_device_open(cpu_uri, &cx.cpu)))
		return cli_error("compare", "opening the CPU baseline", err);
	if (!acc_uri && getenv("QMX_DEVICE") && *getenv("QMX_DEVICE"))
		acc_uri = getenv("QMX_DEVICE");
	if (!acc_uri) {
		acc_uri = CMP_DEFAULT_DEVICE;
		if (qmx_device_open(acc_uri, &cx.acc) == QMX_ENODEV) {
			printf("qmx compare: default accelerator %s not built (%s); using %s\n", acc_uri,
			       qmx_last_error(), CMP_FALLBACK_DEVICE);
			acc_uri = CMP_FALLBACK_DEVICE;
		}
	}
	if (!cx.acc && (err = qmx_device_open(acc_uri, &cx.acc))) {
		qmx_device_del(cx.cpu);
		return cli_error("compare", "opening the accelerator", err);
	}
	qmx_device_query(cx.cpu, &cx.cpu_info);
	qmx_device_query(cx.acc, &cx.acc_info);
	cx.tile = cx.acc_info.max_dim ? cx.acc_info.max_dim : 0x7FFFFFFF;
	cx.tile_k = cx.acc_info.max_k && cx.acc_info.max_k < cx.tile ? cx.acc_info.max_k : cx.tile;

	struct cmp_report rep;
	memset(&rep, 0, sizeof(rep));
	host_facts(&rep);
	make_run_id(rep.run_id, sizeof(rep.run_id), (uint64_t)seed);
	snprintf(rep.set, sizeof(rep.set), "%s", spec);
	snprintf(rep.region, sizeof(rep.region), "%s", cx.cfg.region);
	snprintf(rep.grid_source, sizeof(rep.grid_source), "%s", cx.cfg.grid_source);
	rep.grid = cx.cfg.grid_g_per_kwh;
	rep.pue = cx.cfg.pue;
	snprintf(rep.pue_source, sizeof(rep.pue_source), "%s", cx.cfg.pue_source);
	rep.pue_typical = 1.58; /* hw/energy/grid.ini [pue] typical (Uptime Institute 2023) */
	{
		/* The CPU power model's choice, as every CPU figure uses it. */
		qmx_job_stats one;
		qmx_energy_breakdown b;
		memset(&one, 0, sizeof(one));
		one.cpu_ns = 1000000000;
		if (qmx_accel_energy_breakdown(&cx.cpu_info, &one, &b) == 0) {
			/* "modelled: ... W/thread (<the model's choice>)" */
			const char *paren = strchr(b.detail, '(');
			snprintf(rep.cpu_power, sizeof(rep.cpu_power), "%.380s",
				 paren ? paren + 1 : b.detail);
			char *close = strrchr(rep.cpu_power, ')');
			if (paren && close)
				*close = '\0';
		}
	}
	snprintf(rep.cpu_dev.uri, sizeof(rep.cpu_dev.uri), "%s", cx.cpu_info.uri);
	snprintf(rep.cpu_dev.name, sizeof(rep.cpu_dev.name), "%s", cx.cpu_info.name);
	snprintf(rep.cpu_dev.backend, sizeof(rep.cpu_dev.backend), "%s", cx.cpu_info.backend);
	snprintf(rep.acc_dev.uri, sizeof(rep.acc_dev.uri), "%s", cx.acc_info.uri);
	snprintf(rep.acc_dev.name, sizeof(rep.acc_dev.name), "%s", cx.acc_info.name);
	snprintf(rep.acc_dev.backend, sizeof(rep.acc_dev.backend), "%s", cx.acc_info.backend);
	rep.acc_dev.simulated = (cx.acc_info.features & QMX_FEATURE_SIMULATED) != 0;
	if (cx.acc_info.profile[0] &&
	    (err = qmx_profile_get(cx.acc_info.profile, &rep.acc_profile))) {
		status = cli_error("compare", "target profile", err);
		goto out;
	}
	if ((err = acc_embodied(cx.acc, &cx.acc_info, &rep.acc_emb)) ||
	    (err = qmx_device_embodied(&cx.cpu_info, &rep.cpu_emb))) {
		status = cli_error("compare", "embodied carbon", err);
		goto out;
	}
	cx.acc_emb = rep.acc_emb;
	/* A card (or our driver) with an hwmon sensor is measured, not modelled:
	 * $QMX_ACCEL_HWMON names the chip; the kmod backend's driver registers "qmx". */
	{
		const char *chip = getenv("QMX_ACCEL_HWMON");
		char what[96];
		if ((!chip || !*chip) && !strcmp(cx.acc_info.backend, "kmod"))
			chip = "qmx";
		if (chip && *chip) {
			snprintf(what, sizeof(what), "hwmon:%.80s", chip);
			if (qmx_meter_new(what, &cx.sensor))
				printf("accelerator sensor %s not usable (%s): energy modelled\n", what,
				       qmx_last_error());
		}
	}
	rep.r = calloc((size_t)n, sizeof(*rep.r));
	if (!rep.r) {
		status = cli_error("compare", "allocating results", QMX_ENOMEM);
		goto out;
	}

	printf("qmx compare: %d workload(s) (%s), baseline %s [%s], accelerator %s [%s]\n", n, spec,
	       cx.cpu_info.uri, cx.cpu_info.name, cx.acc_info.uri, cx.acc_info.name);
	if (rep.acc_profile.name[0])
		printf("target profile %s: %s at %d nm, %u MHz, DRAM %s (%.3g pJ/bit, %.4g GB/s) — hw/energy/profiles.ini\n",
		       rep.acc_profile.name, rep.acc_profile.kind, rep.acc_profile.node_nm,
		       rep.acc_profile.clock_mhz, rep.acc_profile.dram,
		       rep.acc_profile.dram_pj_per_bit, rep.acc_profile.dram_gb_s);
	printf("grid intensity %.0f gCO2e/kWh, region %s (source: %s)\n", rep.grid, rep.region,
	       rep.grid_source);
	printf("PUE %.3g (%s; a typical datacenter: %.2f, Uptime Institute 2023), applied to both sides\n",
	       rep.pue, rep.pue_source, rep.pue_typical);
	printf("CPU power model: %s\n", rep.cpu_power[0] ? rep.cpu_power : "none");
	printf("boundary: %s\n", cmp_boundary);
	printf("embodied: accelerator %.4g kgCO2e — %s\n", rep.acc_emb.total_g / 1000,
	       rep.acc_emb.detail);
	printf("          CPU baseline %.4g kgCO2e — %s\n", rep.cpu_emb.total_g / 1000,
	       rep.cpu_emb.detail);
	if (!strcmp(rep.acc_dev.backend, "model"))
		printf("modelled (analytical) accelerator: results from the CPU kernels, chip time = "
		       "modelled cycles / %u MHz clock, activity from the analytical model of the RTL "
		       "(docs/explore.md)\n", cx.acc_info.clock_mhz);
	else if (!strcmp(rep.acc_dev.backend, "group"))
		printf("device group: chip time = the slowest member's time per GEMM (a simulated "
		       "member's: its cycles at its clock); energy and embodied carbon summed over the "
		       "members\n");
	else if (rep.acc_dev.simulated)
		printf("simulated accelerator: chip time = cycles / %u MHz clock; system time = that + "
		       "host time outside the simulator; the simulator's own time is shown apart\n",
		       cx.acc_info.clock_mhz);

	/* Warm the CPU baseline up (worker threads, page faults) so the first
	 * workload is not charged for it. */
	{
		qmx_gemm_params p;
		qmx_problem pb;
		qmx_gemm_host_operands ops;
		qmx_rng rng = { 7 };
		cmp_layer_params(&p, &(struct cmp_gemm){ 64, 64, 64 }, 0, 64);
		if (qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM) == 0) {
			qmx_problem_operands(&pb, &ops, true);
			(void)qmx_gemm(cx.cpu, &p, &ops, NULL);
			qmx_problem_free(&pb);
		}
	}
	for (int i = 0; i < n; i++) {
		rep.n = i + 1;
		if ((err = run_workload(&cx, &wl[i], i, n, &rep.r[i]))) {
			/* Report the failure and go on with the other workloads. */
			progress_done();
			status = cli_error("compare", wl[i].name, err);
			struct cmp_result *r = &rep.r[i];
			memset(r, 0, sizeof(*r));
			r->w = &wl[i];
			r->breakeven = -1;
			snprintf(r->error, sizeof(r->error), "%s: %s", qmx_error_name(err),
				 qmx_last_error());
			printf("\n== %s: FAILED: %s\n", wl[i].name, r->error);
			continue;
		}
		print_result(&rep, &rep.r[i]);
		fflush(stdout);
		if (!rep.r[i].exact)
			status = 1;
	}
	int ok = 0;
	while (ok < rep.n && rep.r[ok].error[0])
		ok++; /* describe the first workload that ran */
	if (ok < rep.n) {
		printf("\nCPU energy: %s\n", rep.r[ok].cpu.detail);
		printf("accelerator energy: %s\n",
		       cx.sensor ? rep.r[ok].acc.detail
		       : rep.r[ok].acc.source == QMX_ENERGY_MEASURED
			       ? "measured by the backend from the device's power sensors"
		       : !strcmp(qmx_energy_model_name(&cx.acc_info), "model:tdp")
			       ? "modelled, CPU time x W/thread (a CPU device standing in)"
		       : !strcmp(qmx_energy_model_name(&cx.acc_info), "model:card")
			       ? "modelled, the card's maximum board power x device time (an upper bound)"
			       : "modelled, activity counters x per-action energy of the target profile + flip-flop clock, SRAM leakage and static power (hw/energy/profiles.ini, actions.ini)");
		printf("constants and their sources: hw/energy/*.ini; method: docs/energy.md\n");
	}
	if (files) {
		char path[1024];
		struct stat sb;
		if (stat(out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "qmx compare: --out '%s' is not a directory\n", out_dir);
			status = 2;
			goto out;
		}
		static const struct {
			const char *name;
			int (*write)(const struct cmp_report *, const char *);
		} writers[] = { { "report.json", report_write_json },
				{ "report.csv", report_write_csv },
				{ "emissions.csv", report_write_emissions_csv },
				{ "report.svg", report_write_svg } };
		for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", out_dir, writers[i].name);
			/* A report that cannot be written does not stop the others. */
			if (write_atomic(&rep, path, writers[i].write)) {
				fprintf(stderr, "qmx compare: writing %s: %s\n", path, strerror(errno));
				status = 1;
				continue;
			}
			printf("wrote %s\n", path);
		}
	}
out:
	qmx_meter_del(cx.sensor);
	free(rep.r);
	qmx_device_del(cx.acc);
	qmx_device_del(cx.cpu);
	return status;
}
