/* SPDX-License-Identifier: MIT */
/*
 * energy.h - energy meters and carbon accounting (part of qmx.h).
 *
 * A meter reports the joules spent between qmx_meter_start() and
 * qmx_meter_stop(), and says whether they were measured (RAPL through
 * powercap, perf's power PMU, an hwmon sensor) or modelled (CPU time x
 * per-core power from the CPU's TDP; activity counters x per-action energy).
 * Carbon follows the Green Software Foundation's SCI:
 *
 *   SCI = (E * I + M) / R,   M = TE * (TiR / EL) * (RR / ToR)
 *
 * with I the grid intensity ($QMX_GRID_INTENSITY in gCO2e/kWh, else the
 * region $QMX_REGION, else the world average), TE the embodied carbon of the
 * hardware (ACT model for chips, LCA figures for servers), EL its lifetime.
 * Every constant comes from the data files in hw/energy/ ($QMX_DATA_DIR),
 * each number with its source beside it.  See docs/energy.md.
 */
#ifndef QMX_ENERGY_H
#define QMX_ENERGY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ meters */

typedef struct qmx_meter qmx_meter;

typedef struct qmx_energy_reading {
	double joules;        /* energy attributed to the metered code */
	double joules_domain; /* whole-domain energy over the interval (e.g. all
			       * RAPL packages); equals joules for models */
	double share;         /* joules / joules_domain: the process's share of
			       * busy CPU time over the interval (Scaphandre's rule) */
	double seconds;       /* wall-clock length of the interval */
	double cpu_seconds;   /* CPU time this process used in the interval */
	int32_t source;       /* enum qmx_energy_source: measured or modelled */
	char method[32];      /* "rapl", "perf", "hwmon:<name>", "model:tdp", "jobs" */
	char detail[512];     /* what was read or assumed, and why */
	double grid_g_per_kwh;       /* grid intensity used */
	double carbon_operational_g; /* joules x grid intensity */
	double carbon_embodied_g;    /* host share of embodied carbon + jobs' */
} qmx_energy_reading;

/*
 * Make a meter.  what = "cpu" (this host's CPU package: RAPL, else perf,
 * else the TDP model), "auto" (same as "cpu"), "model" (force the TDP model),
 * "hwmon:<name>" (an hwmon chip by name, e.g. "hwmon:qmx"), or a device URI
 * ("sim", "kmod", ...): the energy of the jobs added with qmx_meter_add_job().
 * "cpu" and "auto" never fail for lack of a readable counter: they fall back
 * to the model and say why in the reading's detail.  "hwmon:<name>" fails
 * (QMX_ENOENT) when no such chip exists.
 */
QMX_API int qmx_meter_new(const char *what, qmx_meter **out);
QMX_API int qmx_meter_start(qmx_meter *m);
/* Stop and fill *r (the meter may be started again afterwards). */
QMX_API int qmx_meter_stop(qmx_meter *m, qmx_energy_reading *r);
/* Add a finished job's energy and carbon to a running meter (device meters;
 * on host meters it adds the job's modelled DRAM traffic). */
QMX_API int qmx_meter_add_job(qmx_meter *m, const qmx_job_stats *stats);
/* "rapl", "perf", "hwmon:<name>", "model:tdp" or "jobs". */
QMX_API const char *qmx_meter_method(const qmx_meter *m);
QMX_API void qmx_meter_del(qmx_meter *m);

/* ------------------------------------------------------------------ carbon */

typedef struct qmx_carbon_config {
	double grid_g_per_kwh;   /* I */
	char region[32];         /* "world" or the region used */
	char grid_source[192];   /* where I came from */
	double server_lifetime_s;/* EL of the CPU server */
	double accel_lifetime_s; /* EL of the accelerator */
	int32_t accel_node_nm;   /* process node of the accelerator ASIC model */
} qmx_carbon_config;

/* Settings from the environment over the data files:
 * QMX_GRID_INTENSITY (gCO2e/kWh, [0, 2000]), else QMX_GRID_TRACE (a grid
 * trace, carbon_aware.h: its window at QMX_GRID_TIME, else now), else
 * QMX_REGION; QMX_LIFETIME_YEARS
 * (both lifetimes, (0, 30]), QMX_ACCEL_NODE_NM (45, 28, 16, 7, 5). */
QMX_API int qmx_carbon_config_get(qmx_carbon_config *cfg);
/* Grid intensity of a region from hw/energy/grid.ini ("world", "france"...). */
QMX_API int qmx_grid_intensity(const char *region, double *g_per_kwh,
			       char *source, size_t source_len);

/* SCI embodied share M = TE * (TiR / EL) * (RR / ToR), all > 0 except TiR >= 0. */
QMX_API int qmx_sci_embodied(double te_g, double tir_s, double el_s, double rr,
			     double tor, double *m_g);
/* SCI = (E * I + M) / R with E in kWh, I in g/kWh, M in g, R > 0 units. */
QMX_API int qmx_sci(double e_kwh, double i_g_per_kwh, double m_g, double r,
		    double *sci_g);

/* ACT carbon per area of a logic node (g CO2e / cm^2, fab yield included). */
QMX_API int qmx_act_cpa(int node_nm, double *g_per_cm2);
/* ACT embodied carbon of a chip: area x CPA + packages x packaging +
 * dram_gb x DRAM carbon per GB. */
QMX_API int qmx_act_chip(int node_nm, double area_mm2, int packages,
			 double dram_gb, double *g);

/* Embodied carbon of the hardware behind a device and how to share it. */
typedef struct qmx_embodied {
	double total_g;     /* TE */
	double lifetime_s;  /* EL */
	double resources;   /* ToR: cores of the server, 1 for an accelerator */
	double area_mm2;    /* die area used (ASIC model), 0 otherwise */
	char detail[256];   /* model and inputs */
} qmx_embodied;
QMX_API int qmx_device_embodied(const qmx_device_info *info, qmx_embodied *out);

/* The model a device's jobs get when nothing measures them: "model:tdp"
 * (CPUs), "model:counters" (our accelerator), "model:card" (FPGA cards), or
 * "none". */
QMX_API const char *qmx_energy_model_name(const qmx_device_info *info);

/* Modelled energy of a job on a device by its model (see above).  Our
 * accelerator: macs x E_mac + sram bytes x E_sram + ext bytes x E_dram +
 * P_static x device time, at the node of qmx_carbon_config; an FPGA card:
 * its maximum board power x device time; a CPU device: CPU time x W/thread.
 * QMX_ENOTSUP for devices without a model.  detail may be NULL. */
QMX_API int qmx_accel_energy(const qmx_device_info *info, const qmx_job_stats *st,
			     double *joules, char *detail, size_t detail_len);

#ifdef __cplusplus
}
#endif

#endif /* QMX_ENERGY_H */
