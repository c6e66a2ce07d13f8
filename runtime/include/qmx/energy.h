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
	double pue;                  /* carbon_operational_g = joules x pue x grid */
	double sim_seconds;          /* host meters: wall time spent simulating the
				      * devices of added jobs, left out of seconds */
	double sim_cpu_seconds;      /* ... and their CPU time, left out of cpu_seconds */
	double held_seconds;         /* host meters: device time of added jobs, a host
				      * thread held waiting (embodied share) */
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
/* Add a finished job to a running meter.  A device meter ("jobs") sums its
 * energy and carbon.  A host meter keeps the boundary of docs/energy.md: for
 * a job on a device it leaves out the host time spent simulating the device
 * (sim_wall_ns, sim_cpu_ns), counts the device time as the system would run
 * it, and charges the host thread held meanwhile its embodied share; for a
 * CPU job under the model it adds the job's DRAM traffic. */
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
	int32_t accel_node_nm;   /* embodied.ini [accel] node_nm; the accelerator models
				  * take the node of the device's target profile */
	double pue;              /* power usage effectiveness: operational carbon
				  * = energy x pue x grid, on every side */
	char pue_source[160];    /* where pue came from */
} qmx_carbon_config;

/* Settings from the environment over the data files:
 * QMX_GRID_INTENSITY (gCO2e/kWh, [0, 2000]), else QMX_GRID_TRACE (a grid
 * trace, carbon_aware.h: its window at QMX_GRID_TIME, else now), else
 * QMX_REGION; QMX_LIFETIME_YEARS (both lifetimes, (0, 30]), QMX_PUE ([1, 3];
 * default 1.0, hw/energy/grid.ini cites a typical value).  QMX_ACCEL_NODE_NM
 * is replaced by target profiles: the accelerator models refuse it, naming
 * the profiles. */
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

/* ------------------------------------------------------------------ target profiles */

/*
 * A target profile: the chip an accelerator model stands for (an ASIC at a
 * node with its DRAM, or an FPGA card), from hw/energy/profiles.ini with the
 * per-action energies resolved at its node (hw/energy/actions.ini) and the
 * SRAM bit-cell area of the node (hw/energy/embodied.ini).  Device URIs select
 * one ("sim:16x16,profile=asic-7nm"); qmx_device_info.profile names it.
 */
typedef struct qmx_profile_info {
	char name[32];             /* "asic-28nm" */
	char kind[8];              /* "asic" or "fpga" */
	char dram[96];             /* DRAM kind, e.g. "HBM2, 1 stack" */
	int32_t node_nm;           /* process node */
	uint32_t clock_mhz;        /* clock the device time is counted at */
	double dram_pj_per_bit;    /* external memory energy */
	double dram_gb_s;          /* peak external bandwidth */
	double dram_latency_ns;    /* idle row-miss latency */
	double mac_pj;             /* int8 multiply + int32 add at the node */
	double sram_byte_pj;       /* one on-chip buffer byte read or written */
	double ff_bit_cycle_pj;    /* one flip-flop bit clocked for one cycle */
	double dram_byte_pj;       /* dram_pj_per_bit x 8 */
	double sram_bitcell_um2;   /* high-density SRAM cell at the node */
	double sram_leak_pw_per_bit; /* SRAM leakage (ASIC) */
	double static_fraction;    /* ASIC: other static power, share of peak MAC power */
	double card_w;             /* FPGA: board power (upper bound) */
} qmx_profile_info;

/* Every profile of hw/energy/profiles.ini, in file order: fills at most cap
 * entries and stores the number of profiles in *count. */
QMX_API int qmx_profile_list(qmx_profile_info *infos, size_t cap, size_t *count);
/* One profile by name; QMX_EINVAL naming the valid profiles when unknown. */
QMX_API int qmx_profile_get(const char *name, qmx_profile_info *out);

/* The model a device's jobs get when nothing measures them: "model:tdp"
 * (CPUs), "model:counters" (our accelerator), "model:card" (FPGA cards),
 * "members" (a device group: each member's own, summed), or "none". */
QMX_API const char *qmx_energy_model_name(const qmx_device_info *info);

/* Modelled energy of a job on a device by its model (see above).  Our
 * accelerator, at its profile (qmx_device_info.profile): macs x E_mac + sram
 * bytes x E_sram + ext bytes x E_dram + flip-flop bits x busy cycles x E_ff +
 * (SRAM bits x leakage + P_static) x device time; an FPGA card: its board
 * power x device time; a CPU device: CPU time x W/thread.
 * QMX_ENOTSUP for devices without a model.  detail may be NULL. */
QMX_API int qmx_accel_energy(const qmx_device_info *info, const qmx_job_stats *st,
			     double *joules, char *detail, size_t detail_len);

/* The same energy by action, so a reader can recompute every joule: one
 * entry per action ("mac", "sram_byte", "dram_byte", "ff_bit_cycle",
 * "sram_bit_second", "static_cycle"; "card_second" for an FPGA card;
 * "cpu_second" and "dram_byte" for a CPU),
 * count x j_each = joules, and the entries sum to qmx_accel_energy(). */
#define QMX_ENERGY_MAX_ACTIONS 12
typedef struct qmx_energy_action {
	char name[24];
	double count;
	double j_each;
	double joules;
} qmx_energy_action;
typedef struct qmx_energy_breakdown {
	int32_t n;
	qmx_energy_action action[QMX_ENERGY_MAX_ACTIONS];
	double joules;     /* the sum */
	char detail[512];
} qmx_energy_breakdown;
QMX_API int qmx_accel_energy_breakdown(const qmx_device_info *info, const qmx_job_stats *st,
				       qmx_energy_breakdown *out);

#ifdef __cplusplus
}
#endif

#endif /* QMX_ENERGY_H */
