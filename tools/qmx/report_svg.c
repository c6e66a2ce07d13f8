/* SPDX-License-Identifier: MIT */
/*
 * report_svg.c - report.svg of `qmx compare`: per workload, energy per run
 * and carbon per run (operational + embodied, stacked) for the CPU baseline
 * and the accelerator; below, the break-even utilisation per workload on a
 * log scale against the accelerator's capacity.  Plain SVG 1.1, no script.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "svg.h"

#define W 1000
#define COLS 4
#define PW 240 /* panel width */
#define PH 230 /* panel height */
#define BAR 26

static void panel(FILE *f, const struct cmp_result *r, double x0,
		  double y0)
{
	char buf[160];
	const double base = y0 + PH - 50, top = y0 + 54, h = base - top;
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#ccc\"/>\n",
		x0 + 2, y0 + 2, PW - 4, PH - 4);
	svg_text(f, x0 + PW / 2.0, y0 + 18, "middle", 13, "#000", r->w->name);
	bool differ = !r->exact && !r->error[0];
	snprintf(buf, sizeof(buf), "per run (%g %s%s)%s", r->w->units, r->w->unit,
		 r->w->units == 1 ? "" : "s", differ ? " RESULTS DIFFER" : "");
	svg_text(f, x0 + PW / 2.0, y0 + 32, "middle", 10, differ ? "#c00" : "#555", buf);
	if (r->error[0]) {
		svg_text(f, x0 + PW / 2.0, y0 + PH / 2.0, "middle", 11, "#c00", "FAILED");
		snprintf(buf, sizeof(buf), "%.40s", r->error);
		svg_text(f, x0 + PW / 2.0, y0 + PH / 2.0 + 16, "middle", 8, "#c00", buf);
		return;
	}

	/* Energy pair (left) and carbon pair (right), each on its own scale. */
	double emax = fmax(r->cpu.energy_j, r->acc.energy_j);
	double cmax = fmax(r->cpu.op_g + r->cpu.emb_g, r->acc.op_g + r->acc.emb_g);
	const struct cmp_side *sides[2] = { &r->cpu, &r->acc };
	const char *who[2] = { "CPU", "accel" };
	for (int i = 0; i < 2; i++) {
		const struct cmp_side *s = sides[i];
		double xe = x0 + 20 + i * (BAR + 6), xc = x0 + 130 + i * (BAR + 6);
		/* Stacked: the chip (dark) and the host's share (light). */
		double he = emax > 0 ? h * s->energy_j / emax : 0;
		double hc = emax > 0 ? h * s->chip_j / emax : 0;
		snprintf(buf, sizeof(buf), "%s chip energy %.4g J (%s)", who[i], s->chip_j,
			 cmp_source_name(s->source));
		svg_rect(f, xe, base - hc, BAR, hc, i ? "#2b8cbe" : "#888", NULL, buf);
		snprintf(buf, sizeof(buf), "%s host share %.4g J", who[i], s->host_j);
		svg_rect(f, xe, base - he, BAR, he - hc, i ? "#a6d5ec" : "#ccc", NULL, buf);
		snprintf(buf, sizeof(buf), "%.3g J", s->energy_j);
		svg_text(f, xe + BAR / 2.0, base - he - 3, "middle", 9, "#000", buf);
		svg_text(f, xe + BAR / 2.0, base + 12, "middle", 9, "#000", who[i]);
		svg_text(f, xe + BAR / 2.0, base + 23, "middle", 8, "#555",
		     s->source == QMX_ENERGY_MEASURED ? "meas." : "model");

		double hop = cmax > 0 ? h * s->op_g / cmax : 0;
		double hem = cmax > 0 ? h * s->emb_g / cmax : 0;
		snprintf(buf, sizeof(buf), "%s operational %.4g gCO2e", who[i], s->op_g);
		svg_rect(f, xc, base - hop, BAR, hop, i ? "#2b8cbe" : "#888", NULL, buf);
		snprintf(buf, sizeof(buf), "%s embodied %.4g gCO2e", who[i], s->emb_g);
		svg_rect(f, xc, base - hop - hem, BAR, hem, i ? "#a6d5ec" : "#ccc", NULL, buf);
		snprintf(buf, sizeof(buf), "%.3g g", s->op_g + s->emb_g);
		svg_text(f, xc + BAR / 2.0, base - hop - hem - 3, "middle", 9, "#000", buf);
		svg_text(f, xc + BAR / 2.0, base + 12, "middle", 9, "#000", who[i]);
	}
	svg_text(f, x0 + 20 + BAR + 3, base + 36, "middle", 10, "#333", "energy (J)");
	svg_text(f, x0 + 130 + BAR + 3, base + 36, "middle", 10, "#333", "gCO2e");
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n",
		x0 + 12, base, x0 + PW - 12, base);
}

int report_write_svg(const struct cmp_report *rep, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	char buf[600];
	int rows = (rep->n + COLS - 1) / COLS;
	double y_be = 70 + rows * PH + 30;
	double bh = 22;
	int height = (int)(y_be + 50 + rep->n * bh + 60);
	svg_begin(f, W, height);
	snprintf(buf, sizeof(buf), "qmx compare: %s (%s) vs CPU baseline %s — energy and carbon per run",
		 rep->acc_dev.uri, rep->acc_dev.name, rep->cpu_dev.uri);
	svg_text(f, 10, 24, "start", 16, "#000", buf);
	snprintf(buf, sizeof(buf),
		 "grid %.0f gCO2e/kWh (%s), PUE %.3g · energy: dark = chip, light = host share · "
		 "carbon: dark = operational, light = embodied · %s · run %s",
		 rep->grid, rep->region, rep->pue, rep->timestamp, rep->run_id);
	svg_text(f, 10, 44, "start", 11, "#444", buf);
	int ok = 0;
	while (ok < rep->n && rep->r[ok].error[0])
		ok++;
	snprintf(buf, sizeof(buf), "accelerator energy %s; CPU energy %s",
		 ok < rep->n && rep->r[ok].acc.source == QMX_ENERGY_MEASURED ? "measured" : "modelled",
		 ok < rep->n && rep->r[ok].cpu.source == QMX_ENERGY_MEASURED ? "measured" : "modelled");
	svg_text(f, 10, 60, "start", 11, "#444", buf);
	for (int i = 0; i < rep->n; i++)
		panel(f, &rep->r[i], 10 + (i % COLS) * PW, 70 + (i / COLS) * PH);

	/* Break-even: log10(jobs/day) bars, capacity as a tick. */
	snprintf(buf, sizeof(buf),
		 "break-even utilisation: jobs/day over %.0f years above which the accelerator's embodied %.3g kgCO2e is repaid (log scale)",
		 rep->acc_emb.lifetime_s / (365.0 * 86400), rep->acc_emb.total_g / 1000);
	svg_text(f, 10, y_be, "start", 13, "#000", buf);
	double lo = -2, hi = 8; /* 0.01 .. 1e8 jobs/day */
	double x0 = 180, x1 = W - 160;
	for (int d = (int)lo; d <= (int)hi; d++) {
		double x = x0 + (d - lo) / (hi - lo) * (x1 - x0);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", x,
			y_be + 12, x, y_be + 20 + rep->n * bh);
		snprintf(buf, sizeof(buf), "1e%d", d);
		svg_text(f, x, y_be + 34 + rep->n * bh, "middle", 9, "#555", buf);
	}
	for (int i = 0; i < rep->n; i++) {
		const struct cmp_result *r = &rep->r[i];
		double y = y_be + 16 + i * bh;
		svg_text(f, x0 - 6, y + 13, "end", 11, "#000", r->w->name);
		if (r->error[0]) {
			svg_text(f, x0 + 4, y + 13, "start", 11, "#c00", "failed: see report.json");
			continue;
		}
		if (r->breakeven < 0) {
			svg_text(f, x0 + 4, y + 13, "start", 11, "#c00", "never: no operational saving");
			continue;
		}
		double v = fmin(fmax(log10(fmax(r->breakeven, 1e-300)), lo), hi);
		double x = x0 + (v - lo) / (hi - lo) * (x1 - x0);
		bool ok = r->breakeven <= r->capacity;
		snprintf(buf, sizeof(buf), "break-even %.4g jobs/day, capacity %.4g jobs/day",
			 r->breakeven, r->capacity);
		svg_rect(f, x0, y + 2, x - x0, bh - 6, ok ? "#41ab5d" : "#ef6548", NULL, buf);
		if (r->capacity > 0) {
			double c = fmin(fmax(log10(r->capacity), lo), hi);
			double xc = x0 + (c - lo) / (hi - lo) * (x1 - x0);
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" stroke-width=\"2\"/>\n",
				xc, y, xc, y + bh - 2);
		}
		snprintf(buf, sizeof(buf), "%.3g/day%s", r->breakeven, ok ? "" : " (> capacity)");
		svg_text(f, x1 + 6, y + 13, "start", 10, "#000", buf);
	}
	svg_text(f, 10, height - 14, "start", 10, "#555",
	     "black tick = accelerator capacity (86400 s / time per run); green = reachable. Sources: hw/energy/*.ini, docs/energy.md");
	fputs("</svg>\n", f);
	return fclose(f);
}
