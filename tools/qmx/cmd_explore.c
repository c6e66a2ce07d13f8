/* SPDX-License-Identifier: MIT */
/*
 * cmd_explore.c - `qmx explore`: which accelerator configuration is
 * greenest for a workload mix at a utilisation?  Sweeps array sizes, buffer
 * sizes and bus widths x target profiles through the analytical model
 * (qmx_model.h), prices each design's die (logic fitted to the synthesised
 * configurations, SRAM at the node's bit cell), its ACT embodied carbon, its
 * energy per run and the lifecycle carbon per functional unit at each
 * utilisation, against the CPU baseline as `qmx compare` measures it and the
 * measured GPU reference where its shapes match.  Method: docs/explore.md.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "explore.h"

#define XP_MAX_LIST 16

static void explore_usage(FILE *f)
{
	fprintf(f,
		"usage: qmx explore [options]\n\n"
		"Sweep accelerator configurations x target profiles for a workload mix and\n"
		"print, per design: die area, embodied kgCO2e (ACT), time, energy and\n"
		"operational carbon per run, lifecycle gCO2e per functional unit at each\n"
		"utilisation, and the utilisation above which it beats the CPU baseline;\n"
		"then the carbon-optimal design at each utilisation.  Cycles and counters\n"
		"come from the analytical model (modelled); the CPU baseline is measured\n"
		"here as `qmx compare` measures it; the H200 rows are measured on other\n"
		"hardware.  Writes explore.json and explore.svg into --out.\n\n"
		"  --workloads SET      the mix: a set (default bert-base), a workload file\n"
		"                       (a path), or names / MxNxK as for qmx compare\n"
		"  --arrays LIST        RxC arrays, R a power of two, <= 256 each\n"
		"                       (default 8x8,16x16,32x32,64x64,128x128,256x256)\n"
		"  --blocks LIST        output block BM = BN kept on chip (accumulators\n"
		"                       4 x BM x BN bytes; default 256,512,1024)\n"
		"  --tile-k LIST        K chunk per scratchpad half (default 128,256,512)\n"
		"  --axi LIST           AXI data width, bits (default 64,128,256,512,1024)\n"
		"  --profiles LIST      ASIC target profiles (default: every ASIC profile of\n"
		"                       hw/energy/profiles.ini): node, clock, DRAM\n"
		"  --utilisation LIST   runs of the mix per day (default 100,10000,1000000)\n"
		"  --lifetime YEARS     accelerator lifetime (default hw/energy/embodied.ini)\n"
		"  --grid G, --region NAME, --pue P   as for qmx compare\n"
		"  --baseline URI       CPU baseline (default: the fastest exact CPU device)\n"
		"  --out DIR            where explore.json and explore.svg go (default .)\n"
		"  --no-files           write no files\n"
		"  --json               print the JSON on stdout instead of the table\n"
		"  --all                print every design (default: the Pareto front and the\n"
		"                       optimal ones)\n"
		"  --list               print the mix (workloads, GEMMs, sources) and exit\n");
}

/* ---------------------------------------------------------------- options */

static int parse_list(const char *opt, const char *arg, double lo, double hi, bool integer,
		      double *out, int cap)
{
	char buf[512], *save = NULL;
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		errno = 0;
		double v = strtod(t, &end);
		if (errno || *end || end == t || !(v >= lo) || v > hi || (integer && v != floor(v))) {
			fprintf(stderr, "qmx explore: %s: '%s' must be %s in [%g, %g]\n", opt, t,
				integer ? "an integer" : "a number", lo, hi);
			return -1;
		}
		if (n == cap) {
			fprintf(stderr, "qmx explore: %s: more than %d values\n", opt, cap);
			return -1;
		}
		out[n++] = v;
	}
	if (!n) {
		fprintf(stderr, "qmx explore: %s is empty\n", opt);
		return -1;
	}
	return n;
}

static int parse_arrays(const char *arg, uint32_t (*out)[2], int cap)
{
	char buf[512], *save = NULL;
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned r, c;
		int used = 0;
		if (sscanf(t, "%ux%u%n", &r, &c, &used) != 2 || t[used] || !r || !c ||
		    r > QMX_MODEL_MAX_ARRAY || c > QMX_MODEL_MAX_ARRAY || (r & (r - 1))) {
			fprintf(stderr,
				"qmx explore: --arrays: '%s' must be RxC with R a power of two, 1 <= R, C <= %d\n",
				t, QMX_MODEL_MAX_ARRAY);
			return -1;
		}
		if (n == cap) {
			fprintf(stderr, "qmx explore: --arrays: more than %d values\n", cap);
			return -1;
		}
		out[n][0] = r;
		out[n++][1] = c;
	}
	if (!n) {
		fprintf(stderr, "qmx explore: --arrays is empty\n");
		return -1;
	}
	return n;
}

static int pick_profiles(struct xp_run *x, const char *arg)
{
	qmx_profile_info all[XP_MAX_PROFILES * 2];
	size_t count = 0;
	int err = qmx_profile_list(all, XP_MAX_PROFILES * 2, &count);
	if (err)
		return cli_error("explore", "target profiles", err);
	if (!arg) {
		for (size_t i = 0; i < count && x->n_prof < XP_MAX_PROFILES; i++)
			if (!strcmp(all[i].kind, "asic"))
				x->prof[x->n_prof++] = all[i];
		return 0;
	}
	char buf[512], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		qmx_profile_info p;
		if ((err = qmx_profile_get(t, &p)))
			return cli_error("explore", "--profiles", err);
		if (strcmp(p.kind, "asic")) {
			fprintf(stderr,
				"qmx explore: --profiles: '%s' is an FPGA card (its area and power do not follow the array); ASIC profiles only\n",
				t);
			return 1;
		}
		if (x->n_prof == XP_MAX_PROFILES) {
			fprintf(stderr, "qmx explore: --profiles: more than %d\n", XP_MAX_PROFILES);
			return 1;
		}
		x->prof[x->n_prof++] = p;
	}
	return 0;
}

/* ---------------------------------------------------------------- the mix */

static int mix_shapes(struct xp_run *x)
{
	for (int w = 0; w < x->n_wl; w++)
		for (int l = 0; l < x->wl[w].n_layers; l++) {
			const struct cmp_gemm *g = &x->wl[w].layers[l];
			int i = 0;
			while (i < x->n_shapes && memcmp(&x->shape[i], g, sizeof(*g)))
				i++;
			if (i == x->n_shapes) {
				if (i == XP_MAX_SHAPES) {
					fprintf(stderr, "qmx explore: the mix has more than %d distinct GEMM shapes\n",
						XP_MAX_SHAPES);
					return -1;
				}
				x->shape[x->n_shapes++] = *g;
			}
			x->shape_count[i]++;
		}
	x->units = x->n_wl == 1 ? x->wl[0].units : 1;
	snprintf(x->unit, sizeof(x->unit), "%s", x->n_wl == 1 ? x->wl[0].unit : "run of the mix");
	return 0;
}

static void print_mix(const struct xp_run *x)
{
	for (int w = 0; w < x->n_wl; w++) {
		const struct cmp_workload *wl = &x->wl[w];
		printf("%s: %s; %d GEMMs, %.0f MACs per run (%g %s)\n", wl->name, wl->what,
		       wl->n_layers, cmp_workload_macs(wl), wl->units, wl->unit);
		if (wl->source[0])
			printf("  source: %s\n", wl->source);
		for (int l = 0; l < wl->n_layers; l++)
			printf("  gemm %lldx%lldx%lld\n", (long long)wl->layers[l].m,
			       (long long)wl->layers[l].n, (long long)wl->layers[l].k);
	}
	printf("%d distinct shapes; functional unit: %g %s per run of the mix\n", x->n_shapes,
	       x->units, x->unit);
}

/* ---------------------------------------------------------------- CPU baseline */

/* Every GEMM of the mix on the CPU baseline, in order, through the same
 * metered path as `qmx compare`. */
static int cpu_baseline(struct xp_run *x, const char *uri, qmx_device_info *info, FILE *log)
{
	qmx_device *cpu = NULL;
	qmx_meter *meter = NULL;
	struct cmp_side *s = calloc(1, sizeof(*s));
	char picked[128];
	int err;
	if (!s)
		return cli_error("explore", "CPU baseline", QMX_ENOMEM);
	if (!uri) {
		qmx_gemm_params probe;
		struct cmp_gemm big = x->shape[0];
		for (int i = 1; i < x->n_shapes; i++) {
			const struct cmp_gemm *g = &x->shape[i];
			double macs = (double)g->m * (double)g->n * (double)g->k;
			if (macs > (double)big.m * big.n * big.k && macs <= 1024.0 * 1024 * 1024)
				big = *g;
		}
		cmp_layer_params(&probe, &big, QMX_FEATURE_INT8_OUT | QMX_FEATURE_BIAS,
				 (uint64_t)big.k);
		if ((err = cmp_pick_baseline(&probe, picked, sizeof(picked), log))) {
			err = cli_error("explore", "choosing the CPU baseline", err);
			goto out;
		}
		uri = picked;
	}
	if ((err = qmx_device_open(uri, &cpu)) || (err = qmx_device_query(cpu, info)) ||
	    (err = qmx_meter_new("cpu", &meter))) {
		err = cli_error("explore", "opening the CPU baseline", err);
		goto out;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int w = 0; w < x->n_wl && !err; w++)
		for (int l = 0; l < x->wl[w].n_layers && !err; l++) {
			qmx_gemm_params p;
			qmx_problem pb;
			qmx_rng rng = { 1 + (uint64_t)w * 131 + (uint64_t)l };
			cmp_layer_params(&p, &x->wl[w].layers[l], QMX_FEATURE_INT8_OUT | QMX_FEATURE_BIAS,
					 32768);
			if ((err = qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM)))
				break;
			err = cmp_cpu_gemm(cpu, info, meter, &p, &pb, l, s);
			qmx_problem_free(&pb);
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	x->cpu_s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
	struct cmp_workload unit = { .units = x->units };
	if (err || (err = cmp_finish_side(s, &unit, &x->cfg))) {
		err = cli_error("explore", "running the mix on the CPU baseline", err);
		goto out;
	}
	x->cpu.time_s = s->time_s;
	x->cpu.energy_j = s->energy_j;
	x->cpu.op_g = s->op_g;
	x->cpu.emb_g = s->emb_g;
	x->cpu.life_g = (s->op_g + s->emb_g) / x->units;
	x->cpu.source = s->source;
	snprintf(x->cpu.uri, sizeof(x->cpu.uri), "%s", info->uri);
	snprintf(x->cpu.method, sizeof(x->cpu.method), "%s", s->method);
	snprintf(x->cpu.detail, sizeof(x->cpu.detail), "%s", s->detail);
out:
	qmx_meter_del(meter);
	qmx_device_del(cpu);
	free(s);
	return err;
}

/* The host's share of an accelerator run: one host thread held for the
 * device time, at the CPU model's W/thread and the server's embodied
 * time-share (docs/energy.md, "The boundary"). */
static int host_share(struct xp_run *x, const qmx_device_info *cpu_info)
{
	qmx_job_stats one;
	qmx_energy_breakdown b;
	int err;
	memset(&one, 0, sizeof(one));
	one.cpu_ns = 1000000000;
	if ((err = qmx_accel_energy_breakdown(cpu_info, &one, &b)) ||
	    (err = qmx_device_embodied(cpu_info, &x->server)))
		return cli_error("explore", "host share", err);
	for (int i = 0; i < b.n; i++)
		if (!strcmp(b.action[i].name, "cpu_second"))
			x->w_per_thread = b.action[i].joules;
	return 0;
}

/* ---------------------------------------------------------------- one design */

/* One GEMM on a design: the model's time and counters, priced by action
 * at its profile (chip and its DRAM). */
static int shape_cost(const struct xp_run *x, const struct xp_design *d, const struct cmp_gemm *s,
		      double *sec, double *chip_j, double *macs)
{
	const qmx_profile_info *p = &x->prof[d->profile];
	struct qmx_model_gemm g = {
		.m = (uint32_t)s->m, .n = (uint32_t)s->n, .k = (uint32_t)s->k,
		.out_int8 = true, .bias = true,
	};
	struct qmx_model_result r;
	qmx_job_stats st;
	qmx_energy_breakdown b;
	int err;
	if ((err = qmx_model_predict(&d->cfg, &g, &r)))
		return err;
	memset(&st, 0, sizeof(st));
	st.cycles = r.cycles;
	st.stall_cycles = r.stall_cycles;
	st.macs = r.macs;
	st.sram_bytes_read = r.sram_rd_bytes;
	st.sram_bytes_written = r.sram_wr_bytes;
	st.ext_bytes_read = r.ext_rd_bytes;
	st.ext_bytes_written = r.ext_wr_bytes;
	st.device_ns = (uint64_t)llround(r.seconds * 1e9);
	if ((err = qmx_design_energy(p, d->cfg.rows, d->cfg.cols, d->cfg.clock_mhz,
				     d->die.flipflop_bits, d->die.memory_bits, &st, &b)))
		return err;
	*sec = r.seconds;
	*chip_j = b.joules;
	*macs = (double)r.macs;
	return 0;
}

/* Beside each measured GPU row: the same GEMM on the optimal design of
 * each utilisation level (each design once). */
static int gpu_beside(struct xp_run *x)
{
	for (int i = 0; i < x->gpu.n; i++) {
		struct xp_gpu_row *r = &x->gpu.row[i];
		for (int l = 0; r->matched && l < x->n_levels; l++) {
			int o = x->optimal[l], seen = 0;
			for (int j = 0; j < r->n_model; j++)
				seen |= r->model[j].design == o;
			if (o < 0 || seen)
				continue;
			double sec, joules, macs;
			int err = shape_cost(x, &x->d[o], &r->g, &sec, &joules, &macs);
			if (err)
				return err;
			r->model[r->n_model].design = o;
			r->model[r->n_model].us = sec * 1e6;
			r->model[r->n_model].chip_uj = joules * 1e6;
			r->model[r->n_model++].host_uj = x->w_per_thread * sec * 1e6;
		}
	}
	return 0;
}

static int evaluate(struct xp_run *x, struct xp_design *d)
{
	const qmx_profile_info *p = &x->prof[d->profile];
	struct qmx_model_memory mem;
	qmx_embodied emb;
	int err;

	qmx_model_memory(&d->cfg, &mem);
	if ((err = qmx_design_die_get(&x->fit, p, d->cfg.rows, d->cfg.cols, d->cfg.axi_data_bits,
				      (double)mem.total_bytes * 8, &d->die)) ||
	    (err = qmx_design_embodied(p, d->die.area_mm2, "", &emb)))
		return err;
	d->emb_g = emb.total_g;
	for (int i = 0; i < x->n_shapes; i++) {
		double sec, joules, macs;
		if ((err = shape_cost(x, d, &x->shape[i], &sec, &joules, &macs)))
			return err;
		double n = x->shape_count[i];
		d->time_s += n * sec;
		d->chip_j += n * joules;
		d->macs += n * macs;
		x->evals++;
	}
	double k = x->cfg.pue * x->cfg.grid_g_per_kwh / 3.6e6; /* g per J */
	d->host_j = x->w_per_thread * d->time_s;
	d->host_emb_g = x->server.lifetime_s > 0 && x->server.resources > 0
				? x->server.total_g * d->time_s / x->server.lifetime_s /
					  x->server.resources
				: 0;
	d->op_g = (d->chip_j + d->host_j) * k;
	d->capacity = d->time_s > 0 ? 86400.0 / d->time_s : 0;
	/* Lifecycle per unit at u runs/day: operational + the host's share +
	 * the whole chip's TE spread over the runs of its life. */
	for (int l = 0; l < x->n_levels; l++) {
		double u = x->level[l];
		d->life_g[l] = u <= d->capacity ? (d->op_g + d->host_emb_g + d->emb_g / (u * x->days)) /
							  x->units
						: -1;
	}
	double saving = (x->cpu.op_g + x->cpu.emb_g) - (d->op_g + d->host_emb_g);
	d->beats_cpu = saving > 0 ? d->emb_g / (x->days * saving) : -1;
	return 0;
}

static int cmp_by_emb(const void *a, const void *b, void *arg)
{
	const struct xp_design *d = arg;
	const struct xp_design *x = &d[*(const int *)a], *y = &d[*(const int *)b];
	return x->emb_g < y->emb_g ? -1 : x->emb_g > y->emb_g ? 1 : x->op_g < y->op_g ? -1 : x->op_g > y->op_g;
}

static void pareto(struct xp_run *x)
{
	int *idx = malloc((size_t)x->n * sizeof(int));
	if (!idx)
		return;
	for (int i = 0; i < x->n; i++)
		idx[i] = i;
	qsort_r(idx, (size_t)x->n, sizeof(int), cmp_by_emb, x->d);
	double best = INFINITY;
	for (int i = 0; i < x->n; i++) {
		struct xp_design *d = &x->d[idx[i]];
		if (d->op_g < best) {
			d->pareto = true;
			best = d->op_g;
		}
	}
	free(idx);
}

void xp_design_name(const struct xp_run *x, const struct xp_design *d, char *buf, size_t len)
{
	snprintf(buf, len, "%ux%u BM%u BK%u W%u %s", d->cfg.rows, d->cfg.cols, d->cfg.block_m,
		 d->cfg.tile_k, d->cfg.axi_data_bits, x->prof[d->profile].name);
}

/* ---------------------------------------------------------------- printing */

static void print_fit_line(const struct xp_run *x, const char *what,
			   const struct qmx_design_fit_line *l, bool tr)
{
	printf("  %s = %.4g x PEs + %.4g x bus bits (rms residual %.2f %%):\n", what, l->per_pe,
	       l->per_bus_bit, 100 * l->rms_rel);
	for (int i = 0; i < x->fit.n; i++) {
		double obs = tr ? x->fit.point[i].transistors : x->fit.point[i].flipflop_bits;
		printf("    %-8s bus %4u: synthesised %10.0f, fitted %10.0f, residual %+6.2f %%\n",
		       x->fit.point[i].array, x->fit.point[i].bus_bits, obs, l->fitted[i],
		       100 * l->residual[i] / obs);
	}
}

static void fmt_life(double v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "%s", ">capacity");
	else
		snprintf(buf, len, "%.4g", v);
}

static int print_table(const struct xp_run *x, bool all)
{
	int shown = 0;
	printf("\n%-34s %8s %7s %10s %10s %10s %10s", "design (RxC, block BM=BN, K chunk, bus bits, profile)",
	       "area", "emb.", "time/run", "runs/s", "J/unit", "op. g/unit");
	for (int l = 0; l < x->n_levels; l++) {
		char h[32];
		snprintf(h, sizeof(h), "g/unit@%.3g", x->level[l]);
		printf(" %11s", h);
	}
	printf(" %12s\n", "beats CPU");
	printf("%-34s %8s %7s %10s %10s %10s %10s", "", "mm^2", "kgCO2e", "s", "", "", "");
	for (int l = 0; l < x->n_levels; l++)
		printf(" %11s", "lifecycle");
	printf(" %12s\n", "above/day");
	for (int i = 0; i < x->n; i++) {
		const struct xp_design *d = &x->d[i];
		bool opt = false;
		for (int l = 0; l < x->n_levels; l++)
			opt |= x->optimal[l] == i;
		if (!all && !d->pareto && !opt)
			continue;
		shown++;
		char name[96], be[32];
		xp_design_name(x, d, name, sizeof(name));
		printf("%-34s %8.3g %7.3g %10.3g %10.4g %10.4g %10.4g", name, d->die.area_mm2,
		       d->emb_g / 1000, d->time_s, 1 / d->time_s, (d->chip_j + d->host_j) / x->units,
		       d->op_g / x->units);
		for (int l = 0; l < x->n_levels; l++) {
			char v[32];
			fmt_life(d->life_g[l], v, sizeof(v));
			printf(" %11s", v);
		}
		if (d->beats_cpu < 0)
			snprintf(be, sizeof(be), "never");
		else if (d->beats_cpu > d->capacity)
			snprintf(be, sizeof(be), "%.3g>cap", d->beats_cpu);
		else
			snprintf(be, sizeof(be), "%.3g", d->beats_cpu);
		printf(" %12s%s%s\n", be, d->pareto ? " P" : "", opt ? " *" : "");
	}
	return shown;
}

static void print_report(const struct xp_run *x, bool all)
{
	printf("area fit (least squares, no constant) to the %d synthesised configurations of %s:\n",
	       x->fit.n, x->fit.path);
	print_fit_line(x, "transistors", &x->fit.transistors, true);
	print_fit_line(x, "flip-flop bits", &x->fit.flipflop_bits, false);
	printf("  memories: the model's buffer bytes x 8 x the profile's SRAM bit cell / array efficiency (hw/energy/embodied.ini)\n");
	printf("CPU baseline %s (%s, %s): %.4g s, %.4g J, %.4g gCO2e operational + %.4g embodied (time-share) per run; %.4g gCO2e per %s\n",
	       x->cpu.uri, cmp_source_name(x->cpu.source), x->cpu.method, x->cpu.time_s,
	       x->cpu.energy_j, x->cpu.op_g, x->cpu.emb_g, x->cpu.life_g, x->unit);
	if (x->gpu.error[0]) {
		printf("GPU reference: none (%s)\n", x->gpu.error);
	} else {
		printf("GPU reference (measured, other hardware, board energy incl. idle): %s\n",
		       x->gpu.what);
		for (int i = 0; i < x->gpu.n; i++) {
			const struct xp_gpu_row *r = &x->gpu.row[i];
			if (r->matched) {
				printf("  %lldx%lldx%lld x%d: %.4g uJ, %.4g us, %.4g pJ/op per GEMM (int8)\n",
				       (long long)r->g.m, (long long)r->g.n, (long long)r->g.k, r->count,
				       r->uj, r->us, r->pj_per_op);
				for (int j = 0; j < r->n_model; j++) {
					char name[96];
					xp_design_name(x, &x->d[r->model[j].design], name, sizeof(name));
					printf("      beside it, modelled %-34s %.4g uJ chip + %.4g uJ host thread, %.4g us\n",
					       name, r->model[j].chip_uj, r->model[j].host_uj, r->model[j].us);
				}
			} else
				printf("  %lldx%lldx%lld x%d: no measured row (not interpolated)\n",
				       (long long)r->g.m, (long long)r->g.n, (long long)r->g.k, r->count);
		}
		printf("  %s: %.4g gCO2e per run operational, no embodied figure: a lower bound\n",
		       x->gpu.all ? "every shape measured" : "measured shapes only", x->gpu.op_g);
	}
	printf("grid %.0f gCO2e/kWh (%s, %s), PUE %.3g, lifetime %.3g years; host share: one thread at %.3g W + the server's embodied time-share\n",
	       x->cfg.grid_g_per_kwh, x->cfg.region, x->cfg.grid_source, x->cfg.pue,
	       x->lifetime_s / (365.0 * 86400), x->w_per_thread);
	int shown = print_table(x, all);
	printf("(P: on the Pareto front of embodied vs operational carbon; *: carbon-optimal at a utilisation; %d of %d designs shown%s)\n",
	       shown, x->n, all ? "" : ", --all for every one");
	for (int l = 0; l < x->n_levels; l++) {
		int o = x->optimal[l];
		if (o < 0) {
			printf("carbon-optimal at %.3g runs/day: none (no design has the capacity)\n",
			       x->level[l]);
			continue;
		}
		const struct xp_design *d = &x->d[o];
		char name[96];
		xp_design_name(x, d, name, sizeof(name));
		printf("carbon-optimal at %.3g runs/day: %s — %.4g gCO2e per %s (CPU %.4g, %.3gx); over %.3g years: %.4g kgCO2e operational + %.4g embodied\n",
		       x->level[l], name, d->life_g[l], x->unit, x->cpu.life_g,
		       x->cpu.life_g / d->life_g[l], x->lifetime_s / (365.0 * 86400),
		       (d->op_g + d->host_emb_g) * x->level[l] * x->days / 1000, d->emb_g / 1000);
	}
	printf("swept %d designs (%d configurations skipped: %s) x %d GEMM shapes in %.3f s (%.3g model evaluations/s); CPU baseline run %.3f s; CPU %s\n",
	       x->n, x->skipped, x->skipped ? x->skipped_why : "none", x->n_shapes, x->sweep_s,
	       x->sweep_s > 0 ? x->evals / x->sweep_s : 0, x->cpu_s, x->cpu_model);
}

/* ---------------------------------------------------------------- main */

static int write_json_file(void *ctx, const char *tmp)
{
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -1;
	int bad = xp_write_json(ctx, f) != 0;
	if (fclose(f))
		bad = 1;
	return bad ? -1 : 0;
}

static int write_svg_file(void *ctx, const char *tmp)
{
	return xp_write_svg(ctx, tmp) ? -1 : 0;
}

int cmd_explore(int argc, char **argv)
{
	enum { O_WL = 256, O_ARRAYS, O_BLOCKS, O_TILEK, O_AXI, O_PROF, O_UTIL, O_LIFE, O_GRID,
	       O_REGION, O_PUE, O_BASE, O_OUT, O_NOFILES, O_JSON, O_ALL, O_LIST };
	static const struct option opts[] = {
		{ "workloads", required_argument, 0, O_WL },
		{ "arrays", required_argument, 0, O_ARRAYS },
		{ "blocks", required_argument, 0, O_BLOCKS },
		{ "tile-k", required_argument, 0, O_TILEK },
		{ "axi", required_argument, 0, O_AXI },
		{ "profiles", required_argument, 0, O_PROF },
		{ "utilisation", required_argument, 0, O_UTIL },
		{ "lifetime", required_argument, 0, O_LIFE },
		{ "grid", required_argument, 0, O_GRID },
		{ "region", required_argument, 0, O_REGION },
		{ "pue", required_argument, 0, O_PUE },
		{ "baseline", required_argument, 0, O_BASE },
		{ "out", required_argument, 0, O_OUT },
		{ "no-files", no_argument, 0, O_NOFILES },
		{ "json", no_argument, 0, O_JSON },
		{ "all", no_argument, 0, O_ALL },
		{ "list", no_argument, 0, O_LIST },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *spec = "bert-base", *prof_arg = NULL, *base = NULL, *out_dir = ".";
	uint32_t arrays[XP_MAX_LIST][2] = { { 8, 8 }, { 16, 16 }, { 32, 32 }, { 64, 64 },
					    { 128, 128 }, { 256, 256 } };
	double blocks[XP_MAX_LIST] = { 256, 512, 1024 }, tilek[XP_MAX_LIST] = { 128, 256, 512 };
	double axi[XP_MAX_LIST] = { 64, 128, 256, 512, 1024 };
	int n_arr = 6, n_blk = 3, n_tk = 3, n_axi = 5, c, status = 0, err;
	bool files = true, json = false, all = false, list = false;
	static struct xp_run x;
	memset(&x, 0, sizeof(x));
	x.n_levels = 3;
	/* Utilisation levels (runs of the mix per day): illustrative decades
	 * from a mostly idle chip to one busy around the clock, not measured
	 * usage; --utilisation sets others. */
	x.level[0] = 100, x.level[1] = 1e4, x.level[2] = 1e6;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		int n = 0;
		switch (c) {
		case O_WL: spec = optarg; break;
		case O_ARRAYS: n = n_arr = parse_arrays(optarg, arrays, XP_MAX_LIST); break;
		case O_BLOCKS:
			n = n_blk = parse_list("--blocks", optarg, 1, 1 << 20, true, blocks, XP_MAX_LIST);
			break;
		case O_TILEK:
			n = n_tk = parse_list("--tile-k", optarg, 1, 4096, true, tilek, XP_MAX_LIST);
			break;
		case O_AXI:
			n = n_axi = parse_list("--axi", optarg, 32, 1024, true, axi, XP_MAX_LIST);
			break;
		case O_PROF: prof_arg = optarg; break;
		case O_UTIL:
			n = x.n_levels = parse_list("--utilisation", optarg, 1e-6, 1e12, false, x.level,
						    XP_MAX_LEVELS);
			break;
		case O_LIFE:
			n = cmp_env_option("explore", "--lifetime", optarg, 0.01, 30, "years",
					   "QMX_LIFETIME_YEARS");
			break;
		case O_GRID:
			n = cmp_env_option("explore", "--grid", optarg, 0, 2000, "gCO2e/kWh",
					   "QMX_GRID_INTENSITY");
			break;
		case O_REGION: setenv("QMX_REGION", optarg, 1); break;
		case O_PUE:
			n = cmp_env_option("explore", "--pue", optarg, 1, 3, "a ratio", "QMX_PUE");
			break;
		case O_BASE:
			if (cli_device_arg("explore", "baseline", optarg))
				return 2;
			base = optarg;
			break;
		case O_OUT: out_dir = optarg; break;
		case O_NOFILES: files = false; break;
		case O_JSON: json = true; break;
		case O_ALL: all = true; break;
		case O_LIST: list = true; break;
		case 'h': explore_usage(stdout); return 0;
		default: return cli_bad_option("explore", argv, c);
		}
		if (n < 0)
			return 2;
	}
	if (cli_no_operands("explore", argc, argv))
		return 2;
	if (files) {
		struct stat sb;
		if (stat(out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "qmx explore: --out '%s' is not a directory\n", out_dir);
			return 2;
		}
	}
	static struct cmp_workload wl[32];
	x.wl = wl;
	if ((x.n_wl = cmp_workloads_parse("explore", spec, wl, 32)) < 0 || mix_shapes(&x))
		return 2;
	snprintf(x.set, sizeof(x.set), "%s", spec);
	if (list) {
		print_mix(&x);
		return 0;
	}
	if ((status = pick_profiles(&x, prof_arg)))
		return status;
	if ((err = qmx_carbon_config_get(&x.cfg)))
		return cli_error("explore", "carbon settings", err);
	x.lifetime_s = x.cfg.accel_lifetime_s;
	x.days = x.lifetime_s / 86400.0;
	if ((err = qmx_design_fit_get(&x.fit)))
		return cli_error("explore", "area fit", err);
	qmx_util_cpu_model(x.cpu_model, sizeof(x.cpu_model));

	/* With --json, stdout holds the JSON alone: the baseline's rates go
	 * to stderr. */
	qmx_device_info cpu_info;
	status = cpu_baseline(&x, base, &cpu_info, json ? stderr : stdout);
	if (!status)
		status = host_share(&x, &cpu_info);
	if (status)
		return status;
	xp_gpu_load(&x);

	size_t cap = (size_t)x.n_prof * n_arr * n_blk * n_tk * n_axi;
	x.d = calloc(cap ? cap : 1, sizeof(*x.d));
	if (!x.d)
		return cli_error("explore", "allocating designs", QMX_ENOMEM);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int p = 0; p < x.n_prof; p++)
		for (int a = 0; a < n_arr; a++)
			for (int b = 0; b < n_blk; b++)
				for (int t = 0; t < n_tk; t++)
					for (int w = 0; w < n_axi; w++) {
						const qmx_profile_info *pi = &x.prof[p];
						struct xp_design *d = &x.d[x.n];
						memset(d, 0, sizeof(*d));
						d->profile = p;
						qmx_model_config_default(&d->cfg, arrays[a][0], arrays[a][1]);
						d->cfg.block_m = d->cfg.block_n = (uint32_t)blocks[b];
						d->cfg.tile_k = (uint32_t)tilek[t];
						d->cfg.axi_data_bits = (uint32_t)axi[w];
						d->cfg.clock_mhz = pi->clock_mhz;
						/* The profile's DRAM: latency and bandwidth in cycles of its clock. */
						d->cfg.mem_latency_cycles =
							(uint32_t)ceil(pi->dram_latency_ns * pi->clock_mhz / 1000.0);
						double bpc = pi->dram_gb_s * 1000.0 / pi->clock_mhz;
						d->cfg.mem_bytes_per_cycle =
							(uint32_t)fmin(4096, fmax(1, floor(bpc)));
						if (qmx_model_config_check(&d->cfg)) {
							if (!x.skipped++)
								snprintf(x.skipped_why, sizeof(x.skipped_why),
									 "e.g. %.180s", qmx_last_error());
							continue;
						}
						if ((err = evaluate(&x, d))) {
							status = cli_error("explore", "evaluating a design", err);
							goto out;
						}
						x.n++;
					}
	for (int l = 0; l < x.n_levels; l++) {
		x.optimal[l] = -1;
		for (int i = 0; i < x.n; i++)
			if (x.d[i].life_g[l] >= 0 &&
			    (x.optimal[l] < 0 || x.d[i].life_g[l] < x.d[x.optimal[l]].life_g[l]))
				x.optimal[l] = i;
	}
	pareto(&x);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (x.n && (err = gpu_beside(&x))) {
		status = cli_error("explore", "the model beside the GPU", err);
		goto out;
	}
	x.sweep_s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
	if (!x.n) {
		fprintf(stderr, "qmx explore: no valid configuration in the sweep (%s)\n", x.skipped_why);
		status = 2;
		goto out;
	}

	if (json)
		xp_write_json(&x, stdout);
	else
		print_report(&x, all);
	if (files) {
		/* Both files whole or not at all (a reader never sees half). */
		int (*const writers[2])(void *, const char *) = { write_json_file, write_svg_file };
		const char *const names[2] = { "explore.json", "explore.svg" };
		for (int i = 0; i < 2; i++) {
			char path[1024];
			snprintf(path, sizeof(path), "%s/%s", out_dir, names[i]);
			if (cli_write_atomic(path, writers[i], &x)) {
				fprintf(stderr, "qmx explore: writing %s: %s\n", path, strerror(errno));
				status = 1;
			} else if (!json) {
				printf("wrote %s\n", path);
			}
		}
	}
out:
	free(x.d);
	return status;
}
