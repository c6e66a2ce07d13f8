/* SPDX-License-Identifier: MIT */
/*
 * explore_report.c - `qmx explore`'s measured GPU reference (the H200 rows
 * whose shapes match the mix exactly, nothing interpolated), explore.json
 * and explore.svg: (a) embodied vs operational carbon of every design with
 * the Pareto front, (b) lifecycle carbon per functional unit against
 * utilisation for a few designs, the CPU baseline and the GPU as reference
 * lines.  Plain SVG 1.1.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "explore.h"
#include "svg.h"

#ifndef QMX_REFERENCE_DIR_BUILD
#define QMX_REFERENCE_DIR_BUILD ""
#endif
#ifndef QMX_REFERENCE_DIR_INSTALL
#define QMX_REFERENCE_DIR_INSTALL "/usr/local/share/qmx/energy/reference"
#endif
#define GPU_FILE "h200-gemm-energy.csv"

/* ---------------------------------------------------------------- GPU reference */

static const char *gpu_path(char *buf, size_t len)
{
	const char *env = getenv("QMX_GPU_REFERENCE");
	if (env && *env)
		return env;
	return cmp_data_path(QMX_REFERENCE_DIR_BUILD[0] ? QMX_REFERENCE_DIR_BUILD "/" GPU_FILE : "",
			     QMX_REFERENCE_DIR_INSTALL "/" GPU_FILE,
			     "energy/reference/" GPU_FILE, buf, len);
}

enum { C_M, C_N, C_K, C_DTYPE, C_US, C_W, C_UJ, C_PJ, C_COLS };
static const char *const gpu_cols[C_COLS] = { "m", "n", "k", "dtype", "us_per_gemm",
					       "avg_board_w", "uj_per_gemm", "pj_per_op" };

void xp_gpu_load(struct xp_run *x)
{
	struct xp_gpu *g = &x->gpu;
	char pbuf[600], line[512];
	int col[C_COLS], lineno = 0;
	bool header = false;
	snprintf(g->path, sizeof(g->path), "%s", gpu_path(pbuf, sizeof(pbuf)));
	g->n = x->n_shapes;
	for (int i = 0; i < x->n_shapes; i++) {
		g->row[i].g = x->shape[i];
		g->row[i].count = x->shape_count[i];
	}
	FILE *f = fopen(g->path, "r");
	if (!f) {
		snprintf(g->error, sizeof(g->error), "%.200s: %s", g->path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(g->error, sizeof(g->error), "%.200s:%d: line longer than %zu characters",
				 g->path, lineno, sizeof(line) - 2);
			goto out;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#') {
			if (!g->what[0] && strstr(line, "NVIDIA")) {
				/* "NVIDIA H200 (141 GB HBM3e, 700 W limit)": up to the ')'. */
				const char *close = strchr(line + 2, ')');
				int len = close ? (int)(close - (line + 2)) + 1
						: (int)strcspn(line + 2, ",");
				snprintf(g->what, sizeof(g->what), "%.*s; int8 rows of %s",
					 len > 150 ? 150 : len, line + 2, GPU_FILE);
			}
			continue;
		}
		/* strsep keeps empty fields, so an empty cell cannot shift the
		 * columns after it. */
		char *fields[16], *rest = line;
		int nf = 0;
		for (char *t; nf < 16 && (t = strsep(&rest, ",")); )
			fields[nf++] = t;
		if (!header) {
			for (int c = 0; c < C_COLS; c++) {
				col[c] = -1;
				for (int i = 0; i < nf; i++)
					if (!strcmp(fields[i], gpu_cols[c]))
						col[c] = i;
				if (col[c] < 0) {
					snprintf(g->error, sizeof(g->error),
						 "%.200s:%d: header has no column '%s'", g->path,
						 lineno, gpu_cols[c]);
					goto out;
				}
			}
			header = true;
			continue;
		}
		double v[C_COLS];
		for (int c = 0; c < C_COLS; c++) {
			char *end;
			if (col[c] >= nf) {
				snprintf(g->error, sizeof(g->error), "%.200s:%d: field '%s' missing",
					 g->path, lineno, gpu_cols[c]);
				goto out;
			}
			if (c == C_DTYPE)
				continue;
			v[c] = strtod(fields[col[c]], &end);
			if (*end || end == fields[col[c]] || !(v[c] >= 0)) {
				snprintf(g->error, sizeof(g->error),
					 "%.200s:%d: field '%s': '%.20s' is not a number >= 0", g->path,
					 lineno, gpu_cols[c], fields[col[c]]);
				goto out;
			}
		}
		/* qmx computes int8: only int8 rows stand beside it. */
		if (strcmp(fields[col[C_DTYPE]], "int8"))
			continue;
		for (int i = 0; i < g->n; i++) {
			struct xp_gpu_row *r = &g->row[i];
			if (r->matched || (double)r->g.m != v[C_M] || (double)r->g.n != v[C_N] ||
			    (double)r->g.k != v[C_K])
				continue;
			r->matched = true;
			r->us = v[C_US];
			r->uj = v[C_UJ];
			r->board_w = v[C_W];
			r->pj_per_op = v[C_PJ];
		}
	}
	if (!header)
		snprintf(g->error, sizeof(g->error), "%.200s: no header line", g->path);
out:
	fclose(f);
	if (g->error[0])
		return;
	g->all = true;
	for (int i = 0; i < g->n; i++) {
		if (g->row[i].matched) {
			g->matched++;
			g->uj_matched += g->row[i].count * g->row[i].uj;
		} else {
			g->all = false;
		}
	}
	g->op_g = g->uj_matched * 1e-6 * x->cfg.pue * x->cfg.grid_g_per_kwh / 3.6e6;
	if (!g->matched)
		snprintf(g->error, sizeof(g->error), "no shape of the mix has a measured row in %.200s",
			 g->path);
}

/* ---------------------------------------------------------------- JSON */


/* ", \"key\": number" */
static void jfield(FILE *f, const char *key, double v)
{
	fprintf(f, ", \"%s\": ", key);
	cli_json_number(f, v);
}

static void json_fit(FILE *f, const struct xp_run *x, const char *name,
		     const struct qmx_design_fit_line *l, bool tr)
{
	fprintf(f, "\"%s\": {\"per_pe\": ", name);
	cli_json_number(f, l->per_pe);
	jfield(f, "per_bus_bit", l->per_bus_bit);
	jfield(f, "rms_relative_residual", l->rms_rel);
	fprintf(f, ", \"points\": [");
	for (int i = 0; i < x->fit.n; i++) {
		fprintf(f, "%s{\"array\": \"%s\", \"pes\": %u, \"bus_bits\": %u, \"synthesised\": ",
			i ? ", " : "", x->fit.point[i].array,
			x->fit.point[i].rows * x->fit.point[i].cols, x->fit.point[i].bus_bits);
		cli_json_number(f, tr ? x->fit.point[i].transistors : x->fit.point[i].flipflop_bits);
		jfield(f, "fitted", l->fitted[i]);
		jfield(f, "residual", l->residual[i]);
		fputc('}', f);
	}
	fputs("]}", f);
}

int xp_write_json(const struct xp_run *x, FILE *f)
{
	fprintf(f, "{\n\"tool\": \"qmx explore\",\n\"workloads\": ");
	cli_json_string(f, x->set);
	fprintf(f, ",\n\"mix\": [");
	for (int w = 0; w < x->n_wl; w++) {
		fprintf(f, "%s{\"name\": ", w ? ", " : "");
		cli_json_string(f, x->wl[w].name);
		fprintf(f, ", \"what\": ");
		cli_json_string(f, x->wl[w].what);
		fprintf(f, ", \"source\": ");
		cli_json_string(f, x->wl[w].source);
		fprintf(f, ", \"gemms\": %d}", x->wl[w].n_layers);
	}
	fprintf(f, "],\n\"unit\": ");
	cli_json_string(f, x->unit);
	jfield(f, "units_per_run", x->units);
	fprintf(f, ",\n\"grid_g_per_kwh\": ");
	cli_json_number(f, x->cfg.grid_g_per_kwh);
	jfield(f, "pue", x->cfg.pue);
	jfield(f, "lifetime_years", x->lifetime_s / (365.0 * 86400));
	fprintf(f, ",\n\"utilisation_runs_per_day\": [");
	for (int l = 0; l < x->n_levels; l++) {
		fputs(l ? ", " : "", f);
		cli_json_number(f, x->level[l]);
	}
	fprintf(f, "],\n\"area_fit\": {\"file\": ");
	cli_json_string(f, x->fit.path);
	fputs(", ", f);
	json_fit(f, x, "transistors", &x->fit.transistors, true);
	fputs(", ", f);
	json_fit(f, x, "flipflop_bits", &x->fit.flipflop_bits, false);
	fprintf(f, "},\n\"host_share\": {\"w_per_thread\": ");
	cli_json_number(f, x->w_per_thread);
	jfield(f, "server_embodied_g", x->server.total_g);
	fprintf(f, "},\n\"cpu_baseline\": {\"uri\": ");
	cli_json_string(f, x->cpu.uri);
	fprintf(f, ", \"source\": \"%s\", \"method\": ", cmp_source_name(x->cpu.source));
	cli_json_string(f, x->cpu.method);
	jfield(f, "time_s", x->cpu.time_s);
	jfield(f, "energy_j", x->cpu.energy_j);
	jfield(f, "operational_g", x->cpu.op_g);
	jfield(f, "embodied_g", x->cpu.emb_g);
	jfield(f, "lifecycle_g_per_unit", x->cpu.life_g);
	fprintf(f, ", \"cpu_model\": ");
	cli_json_string(f, x->cpu_model);
	fprintf(f, "},\n\"gpu_reference\": {\"label\": \"measured, other hardware, board energy incl. idle\", \"file\": ");
	cli_json_string(f, x->gpu.path);
	fprintf(f, ", \"error\": ");
	cli_json_string(f, x->gpu.error);
	fprintf(f, ", \"all_shapes_matched\": %s, \"operational_g_per_run_matched\": ",
		x->gpu.all ? "true" : "false");
	cli_json_number(f, x->gpu.op_g);
	fprintf(f, ", \"shapes\": [");
	for (int i = 0; i < x->gpu.n; i++) {
		const struct xp_gpu_row *r = &x->gpu.row[i];
		fprintf(f, "%s{\"m\": %lld, \"n\": %lld, \"k\": %lld, \"count\": %d, \"matched\": %s",
			i ? ", " : "", (long long)r->g.m, (long long)r->g.n, (long long)r->g.k,
			r->count, r->matched ? "true" : "false");
		if (r->matched) {
			fprintf(f, ", \"dtype\": \"int8\", \"uj_per_gemm\": ");
			cli_json_number(f, r->uj);
			jfield(f, "us_per_gemm", r->us);
			jfield(f, "pj_per_op", r->pj_per_op);
			fprintf(f, ", \"model\": [");
			for (int j = 0; j < r->n_model; j++) {
				fprintf(f, "%s{\"design\": %d", j ? ", " : "", r->model[j].design);
				jfield(f, "chip_uj", r->model[j].chip_uj);
				jfield(f, "host_uj", r->model[j].host_uj);
				jfield(f, "us", r->model[j].us);
				fputc('}', f);
			}
			fputc(']', f);
		}
		fputc('}', f);
	}
	fprintf(f, "]},\n\"designs\": [\n");
	for (int i = 0; i < x->n; i++) {
		const struct xp_design *d = &x->d[i];
		const qmx_profile_info *p = &x->prof[d->profile];
		char name[96];
		xp_design_name(x, d, name, sizeof(name));
		fprintf(f, "%s{\"id\": %d, \"name\": \"%s\", \"rows\": %u, \"cols\": %u, \"block\": %u, \"tile_k\": %u, \"axi_bits\": %u, \"profile\": \"%s\", \"node_nm\": %d, \"clock_mhz\": %u, \"mem_latency_cycles\": %u, \"mem_bytes_per_cycle\": %u",
			i ? ",\n" : "", i, name, d->cfg.rows, d->cfg.cols, d->cfg.block_m, d->cfg.tile_k,
			d->cfg.axi_data_bits, p->name, p->node_nm, d->cfg.clock_mhz,
			d->cfg.mem_latency_cycles, d->cfg.mem_bytes_per_cycle);
		const struct {
			const char *k;
			double v;
		} nums[] = {
			{ "transistors", d->die.transistors },
			{ "flipflop_bits", d->die.flipflop_bits },
			{ "memory_bits", d->die.memory_bits },
			{ "logic_mm2", d->die.logic_mm2 },
			{ "sram_mm2", d->die.sram_mm2 },
			{ "area_mm2", d->die.area_mm2 },
			{ "embodied_g", d->emb_g },
			{ "time_s", d->time_s },
			{ "runs_per_s", 1 / d->time_s },
			{ "ops_per_s", 2 * d->macs / d->time_s },
			{ "chip_j", d->chip_j },
			{ "host_j", d->host_j },
			{ "energy_j_per_unit", (d->chip_j + d->host_j) / x->units },
			{ "operational_g_per_unit", d->op_g / x->units },
			{ "host_embodied_g", d->host_emb_g },
			{ "capacity_runs_per_day", d->capacity },
		};
		for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
			jfield(f, nums[k].k, nums[k].v);
		fprintf(f, ", \"lifecycle_g_per_unit\": [");
		for (int l = 0; l < x->n_levels; l++) {
			fputs(l ? ", " : "", f);
			if (d->life_g[l] < 0)
				fputs("null", f);
			else
				cli_json_number(f, d->life_g[l]);
		}
		fprintf(f, "], \"lifetime_operational_kg\": [");
		for (int l = 0; l < x->n_levels; l++) {
			fputs(l ? ", " : "", f);
			cli_json_number(f, (d->op_g + d->host_emb_g) * x->level[l] * x->days / 1000);
		}
		fprintf(f, "], \"beats_cpu_above_runs_per_day\": ");
		if (d->beats_cpu < 0)
			fputs("null", f);
		else
			cli_json_number(f, d->beats_cpu);
		fprintf(f, ", \"pareto\": %s}", d->pareto ? "true" : "false");
	}
	fprintf(f, "\n],\n\"optimal\": [");
	for (int l = 0; l < x->n_levels; l++) {
		fprintf(f, "%s{\"runs_per_day\": ", l ? ", " : "");
		cli_json_number(f, x->level[l]);
		if (x->optimal[l] < 0) {
			fputs(", \"design\": null}", f);
			continue;
		}
		fprintf(f, ", \"design\": %d, \"lifecycle_g_per_unit\": ", x->optimal[l]);
		cli_json_number(f, x->d[x->optimal[l]].life_g[l]);
		fputc('}', f);
	}
	fprintf(f, "],\n\"skipped_configurations\": %d, \"sweep_seconds\": ", x->skipped);
	cli_json_number(f, x->sweep_s);
	jfield(f, "model_evaluations", x->evals);
	jfield(f, "cpu_baseline_seconds", x->cpu_s);
	fprintf(f, "\n}\n");
	return ferror(f) ? -1 : 0;
}

/* ---------------------------------------------------------------- SVG */

#define SW 1080
#define PX0 110.0 /* plot left */
#define PX1 740.0 /* plot right; the legend is to its right */

struct axis {
	double lo, hi; /* log10 */
	double p0, p1; /* pixels */
};

static double ax(const struct axis *a, double v)
{
	double l = log10(fmax(v, 1e-300));
	return a->p0 + (l - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

static void decade_label(double e, char *buf, size_t len)
{
	static const char *const names[] = { "0.001", "0.01", "0.1", "1", "10", "100", "1k",
					     "10k", "100k", "1M", "10M", "100M", "1G" };
	int i = (int)e + 3;
	if (i >= 0 && i < (int)(sizeof(names) / sizeof(names[0])))
		snprintf(buf, len, "%s", names[i]);
	else
		snprintf(buf, len, "1e%d", (int)e);
}

static void frame(FILE *f, const struct axis *xa, const struct axis *ya, const char *xl,
		  const char *yl)
{
	char buf[32];
	for (double e = ceil(xa->lo); e <= xa->hi + 1e-9; e++) {
		double px = ax(xa, pow(10, e));
		svg_line(f, px, ya->p1, px, ya->p0, "#e5e5e5", 1, NULL);
		decade_label(e, buf, sizeof(buf));
		svg_text(f, px, ya->p0 + 16, "middle", 11, "#333", buf);
	}
	for (double e = ceil(ya->lo); e <= ya->hi + 1e-9; e++) {
		double py = ax(ya, pow(10, e));
		svg_line(f, xa->p0, py, xa->p1, py, "#e5e5e5", 1, NULL);
		decade_label(e, buf, sizeof(buf));
		svg_text(f, xa->p0 - 6, py + 4, "end", 11, "#333", buf);
	}
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#000\"/>\n",
		xa->p0, ya->p1, xa->p1 - xa->p0, ya->p0 - ya->p1);
	svg_text(f, (xa->p0 + xa->p1) / 2, ya->p0 + 36, "middle", 12, "#000", xl);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 %.1f %.1f)\">",
		xa->p0 - 62, (ya->p0 + ya->p1) / 2, xa->p0 - 62, (ya->p0 + ya->p1) / 2);
	svg_escape(f, yl);
	fputs("</text>\n", f);
}

/* log10 bounds around [lo, hi] with whole decades. */
static void bounds(struct axis *a, double lo, double hi)
{
	a->lo = floor(log10(fmax(lo, 1e-300)));
	a->hi = ceil(log10(fmax(hi, 1e-300)));
	if (a->hi <= a->lo)
		a->hi = a->lo + 1;
}

static const char *const prof_fill[] = { "#2b8cbe", "#e6550d", "#31a354", "#756bb1",
					 "#636363", "#d6616b", "#8c6d31", "#17becf" };
static const char *const curve_col[] = { "#1b9e77", "#d95f02", "#7570b3", "#e7298a",
					 "#66a61e", "#e6ab02" };

static int cmp_int_emb(const void *a, const void *b, void *arg)
{
	const struct xp_design *d = arg;
	double x = d[*(const int *)a].emb_g, y = d[*(const int *)b].emb_g;
	return x < y ? -1 : x > y;
}

/* Panel (a): every design, embodied kg (x) vs operational g per unit (y). */
static void panel_front(FILE *f, const struct xp_run *x, double y0, double y1)
{
	struct axis xa = { .p0 = PX0, .p1 = PX1 }, ya = { .p0 = y1, .p1 = y0 };
	double elo = INFINITY, ehi = 0, olo = INFINITY, ohi = 0;
	char buf[300];
	for (int i = 0; i < x->n; i++) {
		elo = fmin(elo, x->d[i].emb_g / 1000);
		ehi = fmax(ehi, x->d[i].emb_g / 1000);
		olo = fmin(olo, x->d[i].op_g / x->units);
		ohi = fmax(ohi, x->d[i].op_g / x->units);
	}
	double cpu_op = x->cpu.op_g / x->units, gpu_op = x->gpu.op_g / x->units;
	ohi = fmax(ohi, cpu_op);
	if (!x->gpu.error[0])
		olo = fmin(olo, gpu_op);
	bounds(&xa, elo, ehi);
	bounds(&ya, olo, ohi);
	svg_text(f, PX0, y0 - 12, "start", 14, "#000",
		 "(a) embodied vs operational carbon of every design; line: the Pareto front");
	frame(f, &xa, &ya, "embodied carbon of the accelerator (die + package + DRAM, ACT), kgCO2e (log)",
	      "operational carbon, gCO2e per functional unit (log)");
	for (int i = 0; i < x->n; i++) {
		const struct xp_design *d = &x->d[i];
		char name[96];
		xp_design_name(x, d, name, sizeof(name));
		snprintf(buf, sizeof(buf), "%s: %.4g kgCO2e embodied, %.4g gCO2e/unit operational",
			 name, d->emb_g / 1000, d->op_g / x->units);
		svg_circle(f, ax(&xa, d->emb_g / 1000), ax(&ya, d->op_g / x->units), d->pareto ? 3.5 : 2,
			   prof_fill[d->profile % 8], buf);
	}
	int *idx = malloc((size_t)x->n * sizeof(int));
	double *xs = malloc((size_t)x->n * sizeof(double)), *ys = malloc((size_t)x->n * sizeof(double));
	int n = 0;
	if (idx && xs && ys) {
		for (int i = 0; i < x->n; i++)
			if (x->d[i].pareto)
				idx[n++] = i;
		qsort_r(idx, (size_t)n, sizeof(int), cmp_int_emb, x->d);
		for (int i = 0; i < n; i++) {
			xs[i] = ax(&xa, x->d[idx[i]].emb_g / 1000);
			ys[i] = ax(&ya, x->d[idx[i]].op_g / x->units);
		}
		svg_polyline(f, xs, ys, n, "#000", 1.5, NULL);
	}
	free(idx);
	free(xs);
	free(ys);
	bool gpu_up = !x->gpu.error[0] && gpu_op > cpu_op;
	double py = ax(&ya, cpu_op);
	svg_line(f, xa.p0, py, xa.p1, py, "#000", 1.5, "6 3");
	svg_text(f, xa.p1 - 4, gpu_up ? py + 13 : py - 4, "end", 11, "#000",
		 "CPU baseline (operational)");
	if (!x->gpu.error[0]) {
		py = ax(&ya, gpu_op);
		svg_line(f, xa.p0, py, xa.p1, py, "#c51b8a", 1.5, "2 3");
		svg_text(f, xa.p1 - 4, gpu_up ? py - 4 : py + 13, "end", 11, "#c51b8a",
			 x->gpu.all ? "H200, measured (operational)"
				    : "H200, measured shapes only (lower bound)");
	}
	/* Legend: the profiles. */
	double ly = y0 + 10;
	svg_text(f, PX1 + 20, ly, "start", 12, "#000", "profile (colour):");
	for (int p = 0; p < x->n_prof; p++) {
		ly += 18;
		svg_circle(f, PX1 + 26, ly - 4, 4, prof_fill[p % 8], NULL);
		snprintf(buf, sizeof(buf), "%s (%d nm, %u MHz)", x->prof[p].name, x->prof[p].node_nm,
			 x->prof[p].clock_mhz);
		svg_text(f, PX1 + 36, ly, "start", 11, "#000", buf);
	}
	ly += 22;
	svg_text(f, PX1 + 20, ly, "start", 11, "#555", "larger dot: on the front");
	snprintf(buf, sizeof(buf), "%d designs; hover for names", x->n);
	svg_text(f, PX1 + 20, ly + 16, "start", 11, "#555", buf);
}

/* Panel (b): lifecycle carbon per unit vs utilisation. */
static void panel_life(FILE *f, const struct xp_run *x, double y0, double y1)
{
	struct axis xa = { .p0 = PX0, .p1 = PX1 }, ya = { .p0 = y1, .p1 = y0 };
	int pick[8], np = 0;
	char buf[300];
	/* The optimal design of each level, then the smallest die. */
	for (int l = 0; l < x->n_levels && np < 6; l++) {
		int o = x->optimal[l];
		bool dup = o < 0;
		for (int i = 0; i < np; i++)
			dup |= pick[i] == o;
		if (!dup)
			pick[np++] = o;
	}
	int small = 0;
	for (int i = 1; i < x->n; i++)
		if (x->d[i].emb_g < x->d[small].emb_g)
			small = i;
	bool dup = false;
	for (int i = 0; i < np; i++)
		dup |= pick[i] == small;
	if (!dup && np < 6)
		pick[np++] = small;

	double ulo = x->level[0], uhi = x->level[0];
	for (int l = 1; l < x->n_levels; l++) {
		ulo = fmin(ulo, x->level[l]);
		uhi = fmax(uhi, x->level[l]);
	}
	bounds(&xa, ulo / 10, uhi * 10);
	double glo = x->cpu.life_g, ghi = x->cpu.life_g;
	double gpu = x->gpu.op_g / x->units;
	if (!x->gpu.error[0])
		glo = fmin(glo, gpu), ghi = fmax(ghi, gpu);
	double u0 = pow(10, xa.lo), u1 = pow(10, xa.hi);
	for (int i = 0; i < np; i++) {
		const struct xp_design *d = &x->d[pick[i]];
		double base = (d->op_g + d->host_emb_g) / x->units;
		glo = fmin(glo, base + d->emb_g / (fmin(u1, d->capacity) * x->days) / x->units);
		ghi = fmax(ghi, base + d->emb_g / (u0 * x->days) / x->units);
	}
	bounds(&ya, glo, ghi);
	snprintf(buf, sizeof(buf),
		 "(b) lifecycle carbon per %s vs utilisation, over %.3g years (operational + embodied spread over the runs)",
		 x->unit, x->lifetime_s / (365.0 * 86400));
	svg_text(f, PX0, y0 - 12, "start", 14, "#000", buf);
	frame(f, &xa, &ya, "utilisation: runs of the workload mix per day (log)",
	      "lifecycle carbon, gCO2e per functional unit (log)");
	for (int l = 0; l < x->n_levels; l++) {
		double px = ax(&xa, x->level[l]);
		svg_line(f, px, ya.p0, px, ya.p1, "#bbb", 1, "3 3");
	}
	double ly = y0 + 10;
	svg_text(f, PX1 + 20, ly, "start", 12, "#000", "designs:");
	for (int i = 0; i < np; i++) {
		const struct xp_design *d = &x->d[pick[i]];
		double xs[64], ys[64];
		int n = 0;
		double top = fmin(u1, d->capacity);
		for (int s = 0; s < 64 && top > u0; s++) {
			double u = u0 * pow(top / u0, s / 63.0);
			xs[n] = ax(&xa, u);
			ys[n++] = ax(&ya, ((d->op_g + d->host_emb_g) + d->emb_g / (u * x->days)) /
						  x->units);
		}
		svg_polyline(f, xs, ys, n, curve_col[i % 6], 2, NULL);
		if (top < u1 && n)
			svg_circle(f, xs[n - 1], ys[n - 1], 3, curve_col[i % 6], "capacity");
		char name[96];
		xp_design_name(x, d, name, sizeof(name));
		ly += 18;
		svg_line(f, PX1 + 20, ly - 4, PX1 + 40, ly - 4, curve_col[i % 6], 2, NULL);
		snprintf(buf, sizeof(buf), "%s%s", name, pick[i] == small && i == np - 1 ? " (smallest)" : "");
		svg_text(f, PX1 + 44, ly, "start", 10, "#000", buf);
	}
	/* Of the two reference lines, the upper one is labelled above it and
	 * the lower one below, so close lines keep readable labels. */
	bool gpu_up = !x->gpu.error[0] && gpu > x->cpu.life_g;
	double py = ax(&ya, x->cpu.life_g);
	svg_line(f, xa.p0, py, xa.p1, py, "#000", 1.5, "6 3");
	svg_text(f, xa.p0 + 4, gpu_up ? py + 13 : py - 4, "start", 11, "#000",
		 "CPU baseline (run here; operational + server time-share)");
	ly += 22;
	svg_line(f, PX1 + 20, ly - 4, PX1 + 40, ly - 4, "#000", 1.5, "6 3");
	svg_text(f, PX1 + 44, ly, "start", 10, "#000", "CPU baseline");
	if (!x->gpu.error[0]) {
		py = ax(&ya, gpu);
		svg_line(f, xa.p0, py, xa.p1, py, "#c51b8a", 1.5, "2 3");
		svg_text(f, xa.p0 + 4, gpu_up ? py - 4 : py + 13, "start", 11, "#c51b8a",
			 x->gpu.all ? "H200: measured, other hardware, board energy incl. idle; operational only"
				    : "H200: measured shapes only, other hardware, board energy incl. idle; operational only (lower bound)");
		ly += 18;
		svg_line(f, PX1 + 20, ly - 4, PX1 + 40, ly - 4, "#c51b8a", 1.5, "2 3");
		svg_text(f, PX1 + 44, ly, "start", 10, "#000", "H200 (measured)");
	} else {
		ly += 18;
		svg_text(f, PX1 + 20, ly, "start", 10, "#555", "no H200 row for these shapes");
	}
	ly += 18;
	svg_text(f, PX1 + 20, ly, "start", 10, "#555", "grey dashes: utilisation levels");
	ly += 14;
	svg_text(f, PX1 + 20, ly, "start", 10, "#555", "dot: the design's capacity");
}

int xp_write_svg(const struct xp_run *x, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	const int height = 960;
	char buf[600];
	svg_begin(f, SW, height);
	snprintf(buf, sizeof(buf), "qmx explore: %s — %d designs, accelerator modelled (analytical model), CPU run here",
		 x->set, x->n);
	svg_text(f, 10, 24, "start", 16, "#000", buf);
	snprintf(buf, sizeof(buf),
		 "grid %.0f gCO2e/kWh (%s), PUE %.3g, functional unit: %g %s per run; CPU baseline %s (%s); sources: hw/energy/*.ini, docs/explore.md",
		 x->cfg.grid_g_per_kwh, x->cfg.region, x->cfg.pue, x->units, x->unit, x->cpu.uri,
		 cmp_source_name(x->cpu.source));
	svg_text(f, 10, 44, "start", 11, "#444", buf);
	panel_front(f, x, 90, 440);
	panel_life(f, x, 540, 890);
	fputs("</svg>\n", f);
	return fclose(f);
}
