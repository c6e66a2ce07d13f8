/* SPDX-License-Identifier: MIT */
/*
 * design.c - the die of an accelerator configuration that was not
 * synthesised (qmx explore): logic fitted to the synthesised configurations
 * of hw/synth/area.json, memories priced at the node's SRAM bit cell.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "energy_internal.h"
#include "qmx_backend.h"
#include "qmx_design.h"

/* Least squares of y = a x1 + b x2 (no constant: no PEs and no bus, no
 * logic), by the 2 x 2 normal equations. */
static int fit_line(const double *x1, const double *x2, const double *y, int n,
		    struct qmx_design_fit_line *l)
{
	double s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0;
	for (int i = 0; i < n; i++) {
		s11 += x1[i] * x1[i];
		s12 += x1[i] * x2[i];
		s22 += x2[i] * x2[i];
		s1y += x1[i] * y[i];
		s2y += x2[i] * y[i];
	}
	double det = s11 * s22 - s12 * s12;
	if (!(fabs(det) > 1e-9 * s11 * s22))
		return -1;
	l->per_pe = (s22 * s1y - s12 * s2y) / det;
	l->per_bus_bit = (s11 * s2y - s12 * s1y) / det;
	double ss = 0;
	for (int i = 0; i < n; i++) {
		l->fitted[i] = l->per_pe * x1[i] + l->per_bus_bit * x2[i];
		l->residual[i] = l->fitted[i] - y[i];
		double rel = y[i] > 0 ? l->residual[i] / y[i] : 0;
		ss += rel * rel;
	}
	l->rms_rel = sqrt(ss / n);
	return 0;
}

QMX_API int qmx_design_fit_get(struct qmx_design_fit *fit)
{
	char names[QMX_DESIGN_FIT_MAX][16];
	double pe[QMX_DESIGN_FIT_MAX], bus[QMX_DESIGN_FIT_MAX];
	double tr[QMX_DESIGN_FIT_MAX], ff[QMX_DESIGN_FIT_MAX];
	int found, err;
	if (!fit)
		return qmx_fail(QMX_EINVAL, "qmx_design_fit_get: fit is NULL");
	memset(fit, 0, sizeof(*fit));
	const char *path = qmx_area_json_path();
	snprintf(fit->path, sizeof(fit->path), "%s", path);
	if ((err = qmx_area_json_arrays(path, names, QMX_DESIGN_FIT_MAX, &found)))
		return err;
	for (int i = 0; i < found; i++) {
		struct qmx_synth_area a;
		unsigned r, c;
		if ((err = qmx_area_json_read(path, names[i], &a)))
			return err;
		if (!(a.bus_bits > 0) || sscanf(names[i], "%ux%u", &r, &c) != 2)
			continue; /* an entry without its bus width cannot be placed */
		int k = fit->n++;
		snprintf(fit->point[k].array, sizeof(fit->point[k].array), "%.15s", names[i]);
		fit->point[k].rows = r;
		fit->point[k].cols = c;
		fit->point[k].bus_bits = (uint32_t)a.bus_bits;
		fit->point[k].transistors = a.transistors;
		fit->point[k].flipflop_bits = a.flipflop_bits;
		fit->point[k].memory_bits = a.memory_bits;
		pe[k] = (double)r * c;
		bus[k] = a.bus_bits;
		tr[k] = a.transistors;
		ff[k] = a.flipflop_bits;
	}
	if (fit->n < 2)
		return qmx_fail(QMX_EINVAL,
				"%s: %d synthesised configuration(s) with bus_bits; the area fit needs at least 2",
				path, fit->n);
	if (fit_line(pe, bus, tr, fit->n, &fit->transistors) ||
	    fit_line(pe, bus, ff, fit->n, &fit->flipflop_bits))
		return qmx_fail(QMX_EINVAL,
				"%s: the synthesised configurations do not separate PEs from bus bits (PEs proportional to bus bits)",
				path);
	return 0;
}

QMX_API int qmx_design_die_get(const struct qmx_design_fit *fit, const qmx_profile_info *p,
			       uint32_t rows, uint32_t cols, uint32_t bus_bits,
			       double memory_bits, struct qmx_design_die *out)
{
	int err;
	if (!fit || !p || !out)
		return qmx_fail(QMX_EINVAL, "qmx_design_die_get: %s is NULL",
				!fit ? "fit" : !p ? "p" : "out");
	if (!rows || !cols || !bus_bits || !(memory_bits >= 0))
		return qmx_fail(QMX_EINVAL,
				"qmx_design_die_get: rows (%u), cols (%u), bus_bits (%u) must be > 0, memory_bits (%g) >= 0",
				rows, cols, bus_bits, memory_bits);
	memset(out, 0, sizeof(*out));
	out->rows = rows;
	out->cols = cols;
	out->bus_bits = bus_bits;
	double pes = (double)rows * cols;
	struct qmx_synth_area a = {
		.transistors = fit->transistors.per_pe * pes + fit->transistors.per_bus_bit * bus_bits,
		.flipflop_bits =
			fit->flipflop_bits.per_pe * pes + fit->flipflop_bits.per_bus_bit * bus_bits,
		.memory_bits = memory_bits,
	};
	out->transistors = a.transistors;
	out->flipflop_bits = a.flipflop_bits;
	out->memory_bits = memory_bits;
	if ((err = qmx_asic_area_mm2(&a, p->node_nm, &out->area_mm2, &out->sram_mm2)))
		return err;
	out->logic_mm2 = out->area_mm2 - out->sram_mm2;
	return 0;
}
