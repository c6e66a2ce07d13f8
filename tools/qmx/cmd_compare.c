/* SPDX-License-Identifier: MIT */
/*
 * cmd_compare.c - `qmx compare`: run a workload set on the CPU baseline and on
 * the accelerator, check the results match bit for bit, and report time,
 * energy (measured or modelled), operational and embodied carbon, SCI per
 * functional unit, speed-up, energy ratio and the break-even utilisation;
 * writes report.json, report.csv and report.svg.
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

static void compare_usage(FILE *f)
{
	fprintf(f,
		"usage: qmx compare [options]\n\n"
		"Run a workload set on the CPU baseline (device \"cpu\") and on an accelerator,\n"
		"verify both give the same bits, and print per workload: time, energy (J,\n"
		"measured or modelled), operational and embodied gCO2e, SCI per functional\n"
		"unit, speed-up, energy ratio, and the utilisation above which the\n"
		"accelerator's embodied carbon is repaid.  Writes report.json, report.csv\n"
		"and report.svg into --out.\n\n"
		"  --device URI         accelerator (default $QMX_DEVICE, else %s)\n"
		"  --baseline URI       CPU baseline (default: the fastest exact CPU device,\n"
		"                       cpu or onednn, timed on the largest layer)\n"
		"  --workloads SET      default, small, or a comma list of names / MxNxK\n"
		"  --out DIR            where the reports go (default: current directory)\n"
		"  --grid G             grid intensity, gCO2e/kWh (else $QMX_GRID_INTENSITY,\n"
		"                       $QMX_REGION, or the world average)\n"
		"  --region NAME        region of hw/energy/grid.ini (world, europe, usa, ...)\n"
		"  --seed S             operand seed (default 1)\n"
		"  --no-files           print only, write no report files\n"
		"  --list               list the workloads\n\n"
		"workloads:\n",
		qmx_default_device_uri());
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
static void layer_params(qmx_gemm_params *p, const struct cmp_gemm *g, uint32_t features,
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

/* Run one GEMM on `dev` through submit/wait so progress can be shown while a
 * simulated device runs.  Output goes to ops->c. */
static int run_async(qmx_device *dev, const qmx_gemm_params *p,
		     const qmx_gemm_host_operands *ops, qmx_job_stats *st,
		     const char *label, double expect_cycles)
{
	size_t la = (size_t)(p->m * p->lda), lb = (size_t)(p->k * p->ldb);
	size_t lc = (size_t)(p->m * p->ldc) * (p->out_type == QMX_OUT_INT8 ? 1 : 4);
	size_t lbias = p->has_bias ? (size_t)p->n * 4 : 0;
	qmx_buffer *a = NULL, *b = NULL, *c = NULL, *bi = NULL;
	void *pa, *pb, *pc, *pbi = NULL;
	qmx_job *job = NULL;
	int err;

	if ((err = qmx_buffer_new(dev, la, 0, &a)) || (err = qmx_buffer_new(dev, lb, 0, &b)) ||
	    (err = qmx_buffer_new(dev, lc, 0, &c)) ||
	    (lbias && (err = qmx_buffer_new(dev, lbias, 0, &bi))))
		goto out;
	if ((err = qmx_buffer_map(a, &pa)) || (err = qmx_buffer_map(b, &pb)) ||
	    (err = qmx_buffer_map(c, &pc)) || (bi && (err = qmx_buffer_map(bi, &pbi))))
		goto out;
	memcpy(pa, ops->a, la);
	memcpy(pb, ops->b, lb);
	if (bi)
		memcpy(pbi, ops->bias, lbias);
	if ((err = qmx_buffer_sync(a, QMX_SYNC_TO_DEVICE, 0, la)) ||
	    (err = qmx_buffer_sync(b, QMX_SYNC_TO_DEVICE, 0, lb)) ||
	    (bi && (err = qmx_buffer_sync(bi, QMX_SYNC_TO_DEVICE, 0, lbias))))
		goto out;
	qmx_gemm_desc d;
	memset(&d, 0, sizeof(d));
	d.params = *p;
	d.a.buffer = a;
	d.b.buffer = b;
	d.c.buffer = c;
	d.bias.buffer = bi;
	uint64_t t0 = (uint64_t)time(NULL);
	if ((err = qmx_gemm_submit(dev, &d, &job)))
		goto out;
	int shown = 0;
	for (;;) {
		err = qmx_job_wait(job, 250 * 1000000LL);
		if (err != QMX_ETIMEDOUT)
			break;
		uint64_t el = (uint64_t)time(NULL) - t0;
		/* On a pipe, a line every 5 s; on a terminal, a live line. */
		if (tty || (int)(el / 5) > shown) {
			shown = (int)(el / 5);
			progress("  %s: running %llu s (%.2f M cycles if the array were always busy)", label,
				 (unsigned long long)el, expect_cycles / 1e6);
		}
	}
	if (err || (err = qmx_job_get_stats(job, st)) ||
	    (err = qmx_buffer_sync(c, QMX_SYNC_FROM_DEVICE, 0, lc)))
		goto out;
	memcpy(ops->c, pc, lc);
out:
	qmx_job_del(job);
	qmx_buffer_del(a);
	qmx_buffer_del(b);
	qmx_buffer_del(c);
	qmx_buffer_del(bi);
	return err;
}

static void add_stats(qmx_job_stats *sum, const qmx_job_stats *st, bool first)
{
	sum->wall_ns += st->wall_ns;
	sum->device_ns += st->device_ns;
	sum->cpu_ns += st->cpu_ns;
	sum->cycles += st->cycles;
	sum->stall_cycles += st->stall_cycles;
	sum->macs += st->macs;
	sum->ext_bytes_read += st->ext_bytes_read;
	sum->ext_bytes_written += st->ext_bytes_written;
	sum->sram_bytes_read += st->sram_bytes_read;
	sum->sram_bytes_written += st->sram_bytes_written;
	sum->energy_j += st->energy_j;
	sum->carbon_operational_g += st->carbon_operational_g;
	sum->carbon_embodied_g += st->carbon_embodied_g;
	/* Modelled (or none) as soon as one part is. */
	if (first || st->energy_source != QMX_ENERGY_MEASURED)
		sum->energy_source = st->energy_source;
}

/* Run a GEMM larger than the device accepts as tiles of at most `t` rows and
 * columns and `tk` of K (operands packed so every stride fits too).  K tiles
 * are int32 partial sums added on the host (exact: int32 addition), so they
 * are only used for int32 output; the bias is added by the first K tile. */
struct cmp_tiles {
	uint64_t t, tk;
};

static int run_tiled(struct cmp_tiles *tc, qmx_device *dev, const qmx_gemm_params *p,
		     const qmx_gemm_host_operands *ops, qmx_job_stats *sum, const char *label,
		     double lanes)
{
	int64_t t = (int64_t)tc->t, tk = (int64_t)tc->tk;
	bool i8 = p->out_type == QMX_OUT_INT8;
	char tl[400];
	memset(sum, 0, sizeof(*sum));
	if (p->m <= t && p->n <= t && p->k <= tk && p->lda <= t && p->ldb <= t && p->ldc <= t)
		return run_async(dev, p, ops, sum, label,
				 lanes > 0 ? (double)p->m * p->n * p->k / lanes : 0);
	if (i8 && p->k > tk)
		return -1; /* layer_params never asks for this */
	int64_t nm = (p->m + t - 1) / t, nn = (p->n + t - 1) / t, nk = (p->k + tk - 1) / tk;
	int8_t *a = malloc((size_t)(t * tk)), *b = malloc((size_t)(tk * t));
	int32_t *bias = malloc((size_t)t * 4);
	void *c = malloc((size_t)(t * t) * 4);
	int err = 0, part = 0;
	if (!a || !b || !bias || !c) {
		err = QMX_ENOMEM;
		goto out;
	}
	for (int64_t bi = 0; bi < nm && !err; bi++) {
		for (int64_t bj = 0; bj < nn && !err; bj++) {
			for (int64_t bk = 0; bk < nk && !err; bk++) {
				int64_t i0 = bi * t, j0 = bj * t, k0 = bk * tk;
				int64_t mt = p->m - i0 < t ? p->m - i0 : t;
				int64_t nt = p->n - j0 < t ? p->n - j0 : t;
				int64_t kt = p->k - k0 < tk ? p->k - k0 : tk;
				qmx_gemm_params q = *p;
				qmx_gemm_host_operands o;
				qmx_job_stats st;
				q.m = mt, q.n = nt, q.k = kt, q.lda = kt, q.ldb = nt, q.ldc = nt;
				q.has_bias = p->has_bias && bk == 0;
				for (int64_t i = 0; i < mt; i++)
					memcpy(a + i * kt, ops->a + (i0 + i) * p->lda + k0, (size_t)kt);
				for (int64_t k = 0; k < kt; k++)
					memcpy(b + k * nt, ops->b + (k0 + k) * p->ldb + j0, (size_t)nt);
				if (q.has_bias)
					memcpy(bias, ops->bias + j0, (size_t)nt * 4);
				memset(&o, 0, sizeof(o));
				o.a = a, o.b = b, o.bias = q.has_bias ? bias : NULL, o.c = c;
				snprintf(tl, sizeof(tl), "%s tile %d/%lld", label, ++part,
					 (long long)(nm * nn * nk));
				err = run_async(dev, &q, &o, &st, tl,
						lanes > 0 ? (double)mt * nt * kt / lanes : 0);
				if (err)
					break;
				add_stats(sum, &st, part == 1);
				for (int64_t i = 0; i < mt; i++) {
					if (i8) {
						memcpy((int8_t *)ops->c + (i0 + i) * p->ldc + j0,
						       (int8_t *)c + i * nt, (size_t)nt);
						continue;
					}
					int32_t *dst = (int32_t *)ops->c + (i0 + i) * p->ldc + j0;
					const int32_t *src = (const int32_t *)c + i * nt;
					for (int64_t j = 0; j < nt; j++)
						dst[j] = bk ? (int32_t)((uint32_t)dst[j] + (uint32_t)src[j])
							    : src[j];
				}
			}
		}
	}
out:
	free(a);
	free(b);
	free(bias);
	free(c);
	return err;
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

static int finish_side(struct cmp_side *s, const struct cmp_workload *w, double grid)
{
	s->op_g = s->energy_j / 3.6e6 * grid;
	return qmx_sci(s->energy_j / 3.6e6, grid, s->emb_g, w->units, &s->sci_g);
}

static int run_workload(struct cmp_ctx *cx, const struct cmp_workload *w, int idx, int total,
			struct cmp_result *r)
{
	qmx_meter *meter = NULL;
	qmx_energy_reading rd;
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
		qmx_rng rng = { cx->seed + (uint64_t)idx * 131 + (uint64_t)l };
		char label[320];
		const struct cmp_gemm *g = &w->layers[l];

		layer_params(&p, g, cx->acc_info.features, cx->tile_k);
		if ((err = qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM)))
			break;
		/* CPU baseline into c_ref, metered (RAPL when readable). */
		snprintf(label, sizeof(label), "[%d/%d] %s layer %d/%d %lldx%lldx%lld on %s",
			 idx + 1, total, w->name, l + 1, w->n_layers, (long long)g->m,
			 (long long)g->n, (long long)g->k, cx->cpu_info.uri);
		if (tty)
			progress("  %s", label);
		qmx_problem_operands(&pb, &ops, true);
		if ((err = qmx_meter_start(meter)) || (err = qmx_gemm(cx->cpu, &p, &ops, &st)) ||
		    (err = qmx_meter_stop(meter, &rd))) {
			qmx_problem_free(&pb);
			break;
		}
		r->cpu.wall_s += st.wall_ns * 1e-9;
		r->cpu.time_s += st.wall_ns * 1e-9;
		r->cpu.emb_g += st.carbon_embodied_g;
		if (rd.source == QMX_ENERGY_MEASURED) {
			r->cpu.energy_j += rd.joules;
			r->cpu.source = QMX_ENERGY_MEASURED;
			snprintf(r->cpu.method, sizeof(r->cpu.method), "%s", rd.method);
			snprintf(r->cpu.detail, sizeof(r->cpu.detail), "%s", rd.detail);
		} else {
			/* The per-job model (CPU time x W/thread + DRAM traffic) is
			 * attributed to the job alone, so it is preferred. */
			const char *why = strstr(rd.detail, "no counter:");
			r->cpu.energy_j += st.energy_j;
			r->cpu.source = st.energy_source;
			snprintf(r->cpu.method, sizeof(r->cpu.method), "model:tdp");
			snprintf(r->cpu.detail, sizeof(r->cpu.detail),
				 "modelled per job: CPU time x W/thread + compulsory DRAM bytes x J/byte (hw/energy); %.400s",
				 why ? why : rd.detail);
		}

		/* Accelerator into c. */
		snprintf(label, sizeof(label), "[%d/%d] %s layer %d/%d %lldx%lldx%lld on %s",
			 idx + 1, total, w->name, l + 1, w->n_layers, (long long)g->m,
			 (long long)g->n, (long long)g->k, cx->acc_info.uri);
		if (tty)
			progress("  %s", label);
		qmx_problem_operands(&pb, &ops, false);
		qmx_energy_reading hw;
		memset(&hw, 0, sizeof(hw));
		if (cx->sensor && (err = qmx_meter_start(cx->sensor))) {
			qmx_problem_free(&pb);
			break;
		}
		struct cmp_tiles tc = { cx->tile, cx->tile_k };
		err = run_tiled(&tc, cx->acc, &p, &ops, &st, label, lanes);
		if (!err && cx->sensor)
			err = qmx_meter_stop(cx->sensor, &hw);
		if (err) {
			qmx_problem_free(&pb);
			break;
		}
		bool sim = (cx->acc_info.features & QMX_FEATURE_SIMULATED) != 0;
		r->acc.wall_s += st.wall_ns * 1e-9;
		/* A simulated device's time is its cycles at its clock, not how
		 * long the host took to simulate them. */
		r->acc.time_s += (sim && st.device_ns ? st.device_ns : st.wall_ns) * 1e-9;
		if (cx->sensor) {
			/* The card's own sensor over the job (its label says
			 * whether the driver measures or models it). */
			r->acc.energy_j += hw.joules;
			st.energy_source = hw.source;
			snprintf(r->acc.detail, sizeof(r->acc.detail), "%s", hw.detail);
		} else {
			double j;
			r->acc.energy_j += st.energy_j;
			if (!strncmp(cx->acc_info.backend, "cpu", 3))
				snprintf(r->acc.detail, sizeof(r->acc.detail),
					 "modelled per job: CPU time x W/thread + compulsory DRAM bytes x J/byte (hw/energy)");
			else if (st.energy_source == QMX_ENERGY_MEASURED)
				snprintf(r->acc.detail, sizeof(r->acc.detail),
					 "measured by the %s backend from the device's power sensors",
					 cx->acc_info.backend);
			else if (qmx_accel_energy(&cx->acc_info, &st, &j, r->acc.detail,
						  sizeof(r->acc.detail)))
				snprintf(r->acc.detail, sizeof(r->acc.detail), "%s", qmx_last_error());
		}
		r->acc.emb_g += st.carbon_embodied_g;
		r->acc.cycles += st.cycles;
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
	if ((err = finish_side(&r->cpu, w, cx->cfg.grid_g_per_kwh)) ||
	    (err = finish_side(&r->acc, w, cx->cfg.grid_g_per_kwh)))
		return err;
	r->speedup = r->acc.time_s > 0 ? r->cpu.time_s / r->acc.time_s : 0;
	r->energy_ratio = r->cpu.energy_j > 0 ? r->acc.energy_j / r->cpu.energy_j : 0;
	/* Break-even: N jobs/day over the accelerator's life save
	 * N x days x (op_cpu - op_acc); they repay its embodied TE when
	 * N >= TE / (days x saving).  The accelerator's own embodied share is
	 * not counted as a saving: TE is what has to be repaid. */
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

static void print_side(const char *who, const struct cmp_side *s, const char *unit)
{
	char t[32], e[32], op[32], em[32], sci[32];
	printf("  %-22.22s %10s %10s %-9s %11s %11s %11s/%s\n", who, si(s->time_s, "s", t, sizeof(t)),
	       si(s->energy_j, "J", e, sizeof(e)), cmp_source_name(s->source),
	       si(s->op_g, "g", op, sizeof(op)), si(s->emb_g, "g", em, sizeof(em)),
	       si(s->sci_g, "g", sci, sizeof(sci)), unit);
}

static void print_result(const struct cmp_report *rep, const struct cmp_result *r)
{
	const struct cmp_workload *w = r->w;
	char buf[64], cpu_who[200], acc_who[200];
	printf("\n== %s: %s (%s MAC) — results %s\n", w->name, w->what,
	       si(cmp_workload_macs(w), "", buf, sizeof(buf)),
	       r->exact ? "bit-exact" : "DIFFER");
	if (!r->exact)
		printf("   mismatch: %s\n", r->mismatch);
	printf("  %-22s %10s %10s %-9s %11s %11s %13s\n", "device", "time", "energy", "source",
	       "op. CO2e", "emb. CO2e", "SCI");
	snprintf(cpu_who, sizeof(cpu_who), "%s (%s)", rep->cpu_dev.uri, r->cpu.method);
	snprintf(acc_who, sizeof(acc_who), "%s (%s)", rep->acc_dev.uri, r->acc.method);
	print_side(cpu_who, &r->cpu, w->unit);
	print_side(acc_who, &r->acc, w->unit);
	printf("  speed-up %.3gx, energy ratio %.3g (accelerator / CPU)", r->speedup, r->energy_ratio);
	if (r->breakeven < 0)
		printf(", break-even: never (no operational saving)\n");
	else
		printf(", break-even: %.3g jobs/day over %.0f y (%s; capacity %.3g/day)\n",
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
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	snprintf(rep->cpu_model, sizeof(rep->cpu_model), "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && c) {
			c += 1 + strspn(c + 1, " \t");
			c[strcspn(c, "\n")] = '\0';
			snprintf(rep->cpu_model, sizeof(rep->cpu_model), "%s", c);
			break;
		}
	}
	if (f)
		fclose(f);
	if (uname(&u) == 0)
		snprintf(rep->os, sizeof(rep->os), "%.20s-%.50s-%.20s", u.sysname, u.release, u.machine);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	rep->cpu_count = n > 0 ? (int)n : 1;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(rep->timestamp, sizeof(rep->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cmd_compare(int argc, char **argv)
{
	enum { O_DEVICE = 256, O_BASE, O_WL, O_OUT, O_GRID, O_REGION, O_SEED, O_NOFILES, O_LIST };
	static const struct option opts[] = {
		{ "device", required_argument, 0, O_DEVICE },
		{ "baseline", required_argument, 0, O_BASE },
		{ "workloads", required_argument, 0, O_WL },
		{ "out", required_argument, 0, O_OUT },
		{ "grid", required_argument, 0, O_GRID },
		{ "region", required_argument, 0, O_REGION },
		{ "seed", required_argument, 0, O_SEED },
		{ "no-files", no_argument, 0, O_NOFILES },
		{ "list", no_argument, 0, O_LIST },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *acc_uri = NULL, *cpu_uri = NULL, *spec = "default", *out_dir = ".";
	long long seed = 1;
	int files = 1, c, status = 0, err;
	char grid_env[64];

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_DEVICE: acc_uri = optarg; break;
		case O_BASE: cpu_uri = optarg; break;
		case O_WL: spec = optarg; break;
		case O_OUT: out_dir = optarg; break;
		case O_GRID: {
			char *end;
			errno = 0;
			double g = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(g >= 0) || g > 2000) {
				fprintf(stderr, "qmx compare: --grid '%s' must be gCO2e/kWh in [0, 2000]\n",
					optarg);
				return 2;
			}
			snprintf(grid_env, sizeof(grid_env), "%s", optarg);
			setenv("QMX_GRID_INTENSITY", grid_env, 1);
			break;
		}
		case O_REGION: setenv("QMX_REGION", optarg, 1); break;
		case O_SEED:
			if (cli_parse_i64("compare", "seed", optarg, 0, INT64_MAX, &seed))
				return 2;
			break;
		case O_NOFILES: files = 0; break;
		case O_LIST: cmp_workloads_list(stdout); return 0;
		case 'h': compare_usage(stdout); return 0;
		default: compare_usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "qmx compare: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	tty = isatty(STDERR_FILENO);

	static struct cmp_workload wl[CMP_MAX_WORKLOADS];
	static struct cmp_gemm shapes[CMP_MAX_WORKLOADS];
	int n = cmp_workloads_parse(spec, wl, CMP_MAX_WORKLOADS, shapes);
	if (n < 0)
		return 2;

	struct cmp_ctx cx;
	memset(&cx, 0, sizeof(cx));
	cx.seed = (uint64_t)seed;
	if ((err = qmx_carbon_config_get(&cx.cfg)))
		return cli_error("compare", "carbon settings", err);
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
		layer_params(&probe, &big, QMX_FEATURE_INT8_OUT | QMX_FEATURE_BIAS, (uint64_t)big.k);
		if ((err = cmp_pick_baseline(&probe, picked, sizeof(picked))))
			return cli_error("compare", "choosing the CPU baseline", err);
		cpu_uri = picked;
	}
	if ((err = qmx_device_open(cpu_uri, &cx.cpu)))
		return cli_error("compare", "opening the CPU baseline", err);
	if ((err = qmx_device_open(acc_uri, &cx.acc))) {
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
	snprintf(rep.cpu_dev.uri, sizeof(rep.cpu_dev.uri), "%s", cx.cpu_info.uri);
	snprintf(rep.cpu_dev.name, sizeof(rep.cpu_dev.name), "%s", cx.cpu_info.name);
	snprintf(rep.cpu_dev.backend, sizeof(rep.cpu_dev.backend), "%s", cx.cpu_info.backend);
	snprintf(rep.acc_dev.uri, sizeof(rep.acc_dev.uri), "%s", cx.acc_info.uri);
	snprintf(rep.acc_dev.name, sizeof(rep.acc_dev.name), "%s", cx.acc_info.name);
	snprintf(rep.acc_dev.backend, sizeof(rep.acc_dev.backend), "%s", cx.acc_info.backend);
	rep.acc_dev.simulated = (cx.acc_info.features & QMX_FEATURE_SIMULATED) != 0;
	if ((err = qmx_device_embodied(&cx.acc_info, &rep.acc_emb)) ||
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
	printf("grid intensity %.0f gCO2e/kWh, region %s (source: %s)\n", rep.grid, rep.region,
	       rep.grid_source);
	printf("embodied: accelerator %.4g kgCO2e — %s\n", rep.acc_emb.total_g / 1000,
	       rep.acc_emb.detail);
	printf("          CPU baseline %.4g kgCO2e — %s\n", rep.cpu_emb.total_g / 1000,
	       rep.cpu_emb.detail);
	if (rep.acc_dev.simulated)
		printf("accelerator time is simulated device time (cycles / %u MHz clock)\n",
		       cx.acc_info.clock_mhz);

	/* Warm the CPU baseline up (worker threads, page faults) so the first
	 * workload is not charged for it. */
	{
		qmx_gemm_params p;
		qmx_problem pb;
		qmx_gemm_host_operands ops;
		qmx_rng rng = { 7 };
		layer_params(&p, &(struct cmp_gemm){ 64, 64, 64 }, 0, 64);
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
			       : "modelled, activity counters x per-action energy + static power (hw/energy/actions.ini)");
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
				{ "report.svg", report_write_svg } };
		for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", out_dir, writers[i].name);
			/* A report that cannot be written does not stop the others. */
			if (writers[i].write(&rep, path)) {
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
