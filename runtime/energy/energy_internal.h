/* SPDX-License-Identifier: MIT */
/*
 * energy_internal.h - readers, models and data tables behind energy.h.
 * Not installed; the tests link qmx_static and call these directly.
 */
#ifndef QMX_ENERGY_INTERNAL_H
#define QMX_ENERGY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qmx/qmx.h"

/* ---------------------------------------------------------------- data files */

#define QMX_DATA_MAX_VALUES 4

struct qmx_data_entry {
	char section[32];
	char key[64];
	double v[QMX_DATA_MAX_VALUES];
	int n;
	char text[96];     /* a "quoted" value instead of numbers (n = 0) */
	int line;          /* line in the file, for messages */
	char source[320]; /* the comment after '#' */
};

struct qmx_data {
	struct qmx_data_entry *e;
	size_t n, cap;
	char path[512];
};

/* Directory of the data files: $QMX_DATA_DIR, else the source tree's
 * hw/energy (build tree), else the installed share/qmx/energy. */
const char *qmx_data_dir(void);
/* Parse one INI-style file (see hw/energy/actions.ini).  Every value line
 * must carry a '# source' comment; errors name the file, line and field. */
int qmx_data_load(struct qmx_data *d, const char *path);
/* The same from an open stream; `path` names it in messages. */
int qmx_data_parse(struct qmx_data *d, const char *path, FILE *f);
/* Load <data dir>/<name>, cached for the life of the process. */
int qmx_data_get(const char *name, const struct qmx_data **out);
void qmx_data_free(struct qmx_data *d);
const struct qmx_data_entry *qmx_data_find(const struct qmx_data *d,
					   const char *section, const char *key);
/* The idx-th value of section/key with at least idx+1 values; error names
 * the file and the missing key. */
int qmx_data_value(const struct qmx_data *d, const char *section, const char *key,
		   int idx, double *v);
/* The "quoted" text of section/key; error when missing or a number. */
int qmx_data_text(const struct qmx_data *d, const char *section, const char *key,
		  const char **text);

/* Synthesis area of the accelerator at an array size ("8x8") from
 * hw/synth/area.json ($QMX_AREA_JSON overrides the path). */
struct qmx_synth_area {
	double cells, transistors, memory_bits, flipflop_bits;
	double bus_bits; /* AXI data width it was synthesised with; 0 when absent */
};
int qmx_area_json_read(const char *path, const char *array, struct qmx_synth_area *a);
/* The array sizes ("8x8", ...) the file has entries for, in file order:
 * at most cap names into names[], their count into *n. */
int qmx_area_json_arrays(const char *path, char (*names)[16], int cap, int *n);
/* The same on the file's text (NUL-terminated); `path` names it in messages. */
int qmx_area_json_parse(const char *text, const char *path, const char *array,
			struct qmx_synth_area *a);
const char *qmx_area_json_path(void);

/* ---------------------------------------------------------------- job journal */

/* Append a finished job to $QMX_STATS_FILE when set (journal.c); never fails. */
void qmx_journal_job(const qmx_device *dev, const qmx_job_stats *st, double grid_g_per_kwh);

/* ---------------------------------------------------------------- sysfs roots */

/* $QMX_SYSFS_ROOT (default "/sys") and $QMX_PROCFS_ROOT (default "/proc"). */
const char *qmx_sysfs_root(void);
const char *qmx_procfs_root(void);
/* Read a whole small file; -errno style errors are turned into QMX_E*
 * with the path in the message (EACCES -> QMX_EPERM). */
int qmx_read_file(const char *path, char *buf, size_t len);
int qmx_read_u64(const char *path, uint64_t *v);

/* ---------------------------------------------------------------- RAPL */

#define QMX_RAPL_MAX_DOMAINS 16

struct qmx_rapl_domain {
	char path[600];         /* .../intel-rapl:N/energy_uj */
	char name[32];          /* "package-0" */
	uint64_t max_range_uj;  /* wrap point */
	uint64_t last_uj;
};

struct qmx_rapl {
	struct qmx_rapl_domain d[QMX_RAPL_MAX_DOMAINS];
	int n;
};

/* Find the package domains under <sysroot>/class/powercap (intel-rapl:N with
 * name "package-*"; sub-domains and psys are skipped so nothing is counted
 * twice) and check their counters are readable.  QMX_ENOENT when there are
 * none, QMX_EPERM (with the CVE-2020-8694 explanation) when root-only. */
int qmx_rapl_open(struct qmx_rapl *r, const char *sysroot);
/* Sample every domain; *uj gets the energy since the previous sample,
 * summed over domains, wraparound handled. */
int qmx_rapl_sample(struct qmx_rapl *r, double *joules);
/* Counter difference with wraparound at max_range. */
uint64_t qmx_rapl_delta(uint64_t before, uint64_t after, uint64_t max_range);

/* ---------------------------------------------------------------- perf */

#define QMX_PERF_MAX_PKGS 16

struct qmx_perf_power {
	int type;       /* PMU type of "power" */
	uint64_t config;/* energy-pkg event code */
	double scale;   /* joules per count */
	int cpus[QMX_PERF_MAX_PKGS]; /* one CPU per package (the PMU's cpumask) */
	int n;
	int fd[QMX_PERF_MAX_PKGS];
	uint64_t last[QMX_PERF_MAX_PKGS];
};
/* Parse <sysroot>/bus/event_source/devices/power/{type, cpumask,
 * events/energy-pkg, events/energy-pkg.scale}.  Does not open the event. */
int qmx_perf_power_describe(struct qmx_perf_power *p, const char *sysroot);
/* perf_event_open(type, config) on one CPU of each package and take a first
 * read. */
int qmx_perf_power_open(struct qmx_perf_power *p);
int qmx_perf_power_sample(struct qmx_perf_power *p, double *joules);
void qmx_perf_power_close(struct qmx_perf_power *p);

/* ---------------------------------------------------------------- hwmon */

struct qmx_hwmon {
	char dir[520];   /* .../class/hwmon/hwmonN */
	char name[64];
	bool energy;     /* energy1_input (uJ) rather than a power file (uW) */
	char power_file[16]; /* "power1_input" or "power1_average" */
	bool modelled;   /* energy1_label says the driver models it */
	uint64_t last;   /* last energy (uJ) or power (uW) */
	uint64_t last_ns;
};
/* Find the hwmon chip called `name` with energy1_input or power1_input. */
int qmx_hwmon_open(struct qmx_hwmon *h, const char *sysroot, const char *name);
/* Joules since the previous sample: energy counter difference, or power
 * averaged between two samples (trapezoid) x elapsed time. */
int qmx_hwmon_sample(struct qmx_hwmon *h, uint64_t now_ns, double *joules);

/* ---------------------------------------------------------------- CPU model */

struct qmx_cpu_model {
	char model[128];        /* /proc/cpuinfo model name */
	char vendor[16];        /* CPUID vendor ("AuthenticAMD"), "" if unknown */
	int family, cpuid_model;/* CPUID family and model, -1 if unknown */
	double watts_per_thread;/* TDP / hardware threads */
	char match[16];         /* what picked it: "model name", "cpuid", "family",
				 * "vendor", "default" or "QMX_CPU_TDP_W" */
	char detail[384];       /* where the figure came from */
};
int qmx_cpu_model_get(struct qmx_cpu_model *m);
/* Total busy and total jiffies of /proc/stat's "cpu" line. */
int qmx_proc_stat_busy(uint64_t *busy_jiffies, uint64_t *total_jiffies);
/* DRAM energy per byte (J) of the model (Horowitz, low end). */
int qmx_dram_j_per_byte(double *j);

/* ---------------------------------------------------------------- accelerator */

struct qmx_action_energy {
	int node_nm;
	double mac_j, sram_byte_j, dram_byte_j; /* per action */
	double ff_bit_j;                        /* per flip-flop bit per cycle */
	double scale;                           /* energy relative to 45 nm */
	double static_fraction;
};
int qmx_action_energy(int node_nm, struct qmx_action_energy *e);
/* Energy scale of a node relative to 45 nm at the table's Vdd. */
int qmx_node_energy_scale(int node_nm, double *scale);
/* Area of the accelerator ASIC from a synthesis result at a node (mm^2):
 * logic (transistors / placed density) + SRAM (memory bits x bit cell /
 * array efficiency); sram_mm2 may be NULL. */
int qmx_asic_area_mm2(const struct qmx_synth_area *a, int node_nm, double *mm2,
		      double *sram_mm2);

/* ---------------------------------------------------------------- target profiles */

/* The profile a backend's devices get unless the URI names one (profile.c). */
#define QMX_PROFILE_ASIC_DEFAULT "asic-28nm"
#define QMX_PROFILE_FPGA_DEFAULT "fpga-u250"

/* "asic-28nm, asic-7nm, ..." for messages; never fails (says why instead). */
void qmx_profile_names(char *out, size_t len);
/* One profile from a file of that format, read uncached (tests, tools):
 * the per-node tables still come from the data directory. */
int qmx_profile_from_file(const char *path, const char *name, qmx_profile_info *out);
/* Split a trailing "profile=NAME" (",profile=NAME" after other arguments)
 * off a device URI's arguments: *rest gets the others, *p the profile when
 * *given.  Errors are prefixed with `who` and list the valid profiles. */
int qmx_uri_profile(const char *who, const char *arg, char *rest, size_t rest_len,
		    qmx_profile_info *p, bool *given);
/* The profile behind a device: info->profile, else its kind's default. */
int qmx_device_profile(const qmx_device_info *info, qmx_profile_info *p);
/* A profile's DRAM in cycles of its clock, as the accelerator models (sim,
 * model) see it: latency rounded up, bandwidth in whole bytes per cycle
 * (at least 1, at most 4096). */
void qmx_profile_mem_cycles(const qmx_profile_info *p, unsigned *latency_cycles,
			    unsigned *bytes_per_cycle);

/* The die of an accelerator configuration at its profile's node: the input
 * of the ACT model (carbon.c) and of the clock and leakage energies. */
struct qmx_die {
	int node_nm;
	double transistors, flipflop_bits, memory_bits; /* from synthesis */
	double logic_mm2, sram_mm2, area_mm2;
	bool synthesised;  /* hw/synth/area.json had this array size */
	char from[200];    /* where the figures came from */
};
int qmx_device_die(const qmx_device_info *info, const qmx_profile_info *p,
		   struct qmx_die *die);

/* Accelerator energy by action (J). */
struct qmx_energy_split {
	double mac, sram, dram, clock, leakage, stat;
};
/* qmx_accel_energy_breakdown()'s actions gathered into qmx_job_stats'
 * energy_*_j groups (an FPGA card's and a CPU's power x time go to `stat`). */
void qmx_energy_split_of(const qmx_energy_breakdown *b, struct qmx_energy_split *sp);
/* qmx_accel_energy_breakdown() as a total and its split.  detail may be NULL. */
int qmx_accel_model(const qmx_device_info *info, const qmx_job_stats *st, double *joules,
		    struct qmx_energy_split *split, char *detail, size_t detail_len);

/* ---------------------------------------------------------------- ACT */

/* ACT's fab models as its artifact computes them (logic_model.py and
 * dram_model.py at commit 7cdffa3): logic carbon per area
 * (CI_fab x EPA + GPA + MPA) / yield in g/cm^2, and DRAM
 * GB x g/GB / yield in g. */
double qmx_act_logic_cpa(double fab_ci, double epa, double gpa, double mpa, double yield);
double qmx_act_dram_g(double gb, double g_per_gb, double yield);
/* Embodied carbon of the host server (embodied.ini [server]): the CPU
 * baseline's, and the one the accelerator's host share is charged from. */
int qmx_server_embodied(qmx_embodied *out);

/* ---------------------------------------------------------------- device kinds */

/* Which energy and embodied model a device gets. */
enum qmx_device_kind {
	QMX_KIND_CPU,   /* cpu backends, and OpenCL CPU devices (PoCL) */
	QMX_KIND_ASIC,  /* our accelerator: sim, kmod */
	QMX_KIND_FPGA,  /* xrt, OpenCL accelerator devices */
	QMX_KIND_OTHER, /* e.g. OpenCL GPUs: no model */
};
enum qmx_device_kind qmx_device_kind(const qmx_device_info *info);

/* What a device's energy model needs that depends on the device alone:
 * resolved once (qmx_device_model_get: data files, profile, area.json), then
 * a job's energy is its counters x these (qmx_device_model_energy), the
 * figure qmx_accel_energy_breakdown() gives. */
struct qmx_device_model {
	enum qmx_device_kind kind;
	qmx_profile_info prof;   /* ASIC, FPGA */
	struct qmx_die die;      /* ASIC */
	struct qmx_cpu_model cm; /* CPU */
	double dram_j_per_byte;  /* CPU */
};
int qmx_device_model_get(const qmx_device_info *info, struct qmx_device_model *m);
int qmx_device_model_energy(const struct qmx_device_model *m, const qmx_device_info *info,
			    const qmx_job_stats *st, qmx_energy_breakdown *b);

#endif /* QMX_ENERGY_INTERNAL_H */
