/* SPDX-License-Identifier: MIT */
/*
 * qmx_design.h - area, energy and embodied carbon of an accelerator
 * configuration that need not have been synthesised: what `qmx explore`
 * sweeps.  Logic is fitted to the synthesised configurations of
 * hw/synth/area.json (transistors and flip-flop bits per PE and per bus bit,
 * least squares), memories are priced as SRAM bits x the node's bit cell.
 * The energy and ACT functions are the ones every accelerator device's
 * accounting uses (qmx_accel_energy_breakdown, qmx_device_embodied), given
 * the die explicitly.
 *
 * Internal: not installed.  Exported from libqmx (QMX_API) for tools/qmx,
 * which has runtime/src on its include path (as for qmx_model.h).
 */
#ifndef QMX_DESIGN_H
#define QMX_DESIGN_H

#include <stdint.h>

#include "qmx/qmx.h"

#define QMX_DESIGN_FIT_MAX 16

/* y = per_pe x PEs + per_bus_bit x bus bits, fitted without a constant. */
struct qmx_design_fit_line {
	double per_pe, per_bus_bit;
	double fitted[QMX_DESIGN_FIT_MAX], residual[QMX_DESIGN_FIT_MAX]; /* per point */
	double rms_rel; /* root mean square of residual / observed */
};

struct qmx_design_fit {
	int n; /* synthesised configurations used */
	struct {
		char array[16];
		uint32_t rows, cols, bus_bits;
		double transistors, flipflop_bits, memory_bits;
	} point[QMX_DESIGN_FIT_MAX];
	struct qmx_design_fit_line transistors, flipflop_bits;
	char path[512]; /* the area file */
};

/* Fit both lines to hw/synth/area.json ($QMX_AREA_JSON); QMX_EINVAL when it
 * has fewer than two entries with bus_bits or the points are degenerate. */
QMX_API int qmx_design_fit_get(struct qmx_design_fit *fit);

/* The die of a configuration at a profile's node. */
struct qmx_design_die {
	uint32_t rows, cols, bus_bits;
	double transistors, flipflop_bits, memory_bits; /* logic from the fit */
	double logic_mm2, sram_mm2, area_mm2;
};
QMX_API int qmx_design_die_get(const struct qmx_design_fit *fit, const qmx_profile_info *p,
			       uint32_t rows, uint32_t cols, uint32_t bus_bits,
			       double memory_bits, struct qmx_design_die *out);

/* Energy of a job's counters on an ASIC die at a profile, by action (the
 * model of qmx_accel_energy_breakdown): clock_mhz 0 = the profile's. */
QMX_API int qmx_design_energy(const qmx_profile_info *p, uint32_t rows, uint32_t cols,
			      uint32_t clock_mhz, double flipflop_bits, double memory_bits,
			      const qmx_job_stats *st, qmx_energy_breakdown *out);

/* ACT embodied carbon of an accelerator ASIC of `area_mm2` at the profile's
 * node with its package and DRAM (hw/energy/embodied.ini [accel]) and its
 * lifetime; `from` (may be "") is put in the detail. */
QMX_API int qmx_design_embodied(const qmx_profile_info *p, double area_mm2, const char *from,
				qmx_embodied *out);

#endif /* QMX_DESIGN_H */
