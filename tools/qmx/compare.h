/* SPDX-License-Identifier: MIT */
/* compare.h - `qmx compare`: workload sets, results, and the report writers. */
#ifndef QMX_CLI_COMPARE_H
#define QMX_CLI_COMPARE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qmx/qmx.h"
#include "qmx_util.h"

#define CMP_MAX_LAYERS 64 /* ResNet-50 has 54 GEMMs */

struct cmp_gemm {
	int64_t m, n, k;
};

struct cmp_workload {
	char name[48];
	char what[160];   /* one line for the table */
	char unit[48];    /* functional unit R: "GEMM", "inference", "training step" */
	double units;     /* R per run of the workload */
	char source[400]; /* where the shapes come from ("" for the built-in sets) */
	int n_layers;
	struct cmp_gemm layers[CMP_MAX_LAYERS];
};

/* Resolve --workloads: "default", "small", a workload file's set name
 * (tools/qmx/workloads/NAME.ini: bert-base, llama-7b, ...), a path to such a
 * file (a `/` or a `.ini` ending), or a comma list of workload names and
 * MxNxK shapes.  `cmd` prefixes messages.  Fills at most cap entries;
 * returns the count or -1 with a message on stderr. */
int cmp_workloads_parse(const char *cmd, const char *spec, struct cmp_workload *out, int cap);
void cmp_workloads_list(FILE *f);
double cmp_workload_macs(const struct cmp_workload *w);
/* Directory of the workload files: $QMX_WORKLOADS_DIR, else the source
 * tree's (build tree), else the installed share/qmx/workloads. */
const char *cmp_workloads_dir(void);
/* A data file or directory of the tool: `build` (the source tree's, when the
 * build tree runs), else `install`, else <program dir>/../share/qmx/<rel>
 * (installed under another prefix); buf holds the last. */
const char *cmp_data_path(const char *build, const char *install, const char *rel, char *buf,
			  size_t len);
/* Load a workload file (format: tools/qmx/workloads/README.md) into at most
 * cap entries: the count, or -1 with "FILE:LINE: field 'F': why" in err. */
int cmp_workload_file_load(const char *path, struct cmp_workload *out, int cap, char *err,
			   size_t err_len);

/* One side of a comparison, inside one boundary (docs/energy.md): its chip
 * (the CPU package, or the accelerator with its DRAM) and the host server's
 * share.  The CPU baseline is all host; the accelerator's run is charged its
 * host's CPU time outside any simulator and the host thread it holds. */
/* The evidence behind a modelled figure: counters and energy by action. */
struct cmp_acct {
	qmx_job_stats counters;       /* summed over the jobs */
	qmx_energy_breakdown actions; /* summed by action name */
	bool have_actions;
};

struct cmp_side {
	char uri[128], name[96], backend[16];
	bool simulated;
	double wall_s;      /* host wall time of the run (a simulator's included) */
	double time_s;      /* the system's time: CPU wall, or host time outside the
			     * simulator + device time at the chip's clock */
	double chip_time_s; /* CPU: wall; accelerator: device time (chip only) */
	double sim_wall_s, sim_cpu_s; /* host time spent simulating: shown, not counted */
	double host_cpu_s, held_s;    /* accelerator host share: CPU time, thread held */
	double energy_j;    /* system: chip + host share */
	double chip_j, host_j, dram_j; /* dram_j: CPU side's modelled DRAM, inside chip_j */
	int32_t source;     /* enum qmx_energy_source */
	int32_t host_source;
	char method[32];
	char detail[512];
	double op_g, emb_g, sci_g;        /* system: operational, embodied, SCI per unit */
	double chip_op_g, chip_emb_g;     /* chip only */
	uint64_t cycles;
	/* Modelled energy by action (J): MAC, SRAM, DRAM, clock, leakage, static
	 * (qmx_job_stats' energy_*_j); all 0 when measured or not modelled. */
	double by_action[6];
	struct cmp_acct total;              /* the workload's jobs */
	struct cmp_acct gemm[CMP_MAX_LAYERS]; /* each GEMM's jobs (its tiles) */
};

struct cmp_result {
	const struct cmp_workload *w;
	struct cmp_side cpu, acc;
	bool exact;
	char mismatch[160];
	double speedup;        /* cpu time / accelerator system time */
	double speedup_chip;   /* cpu time / accelerator device time */
	double energy_ratio;   /* accelerator system energy / cpu energy */
	double energy_ratio_chip; /* chip-only ("incremental") */
	double breakeven;      /* jobs per day (system figures); < 0 when never */
	double capacity;       /* jobs per day the accelerator can run */
	char error[300];       /* non-empty: the workload failed, figures are 0 */
};

/* Names of cmp_side.by_action's entries, in order. */
extern const char *const cmp_action_names[6];

struct cmp_report {
	char timestamp[32], run_id[40], set[64];
	char region[32], grid_source[192], os[96], cpu_model[128];
	char cpu_power[384]; /* the CPU model's choice */
	double grid, pue, pue_typical, ram_gb;
	char pue_source[160];
	int cpu_count;
	struct cmp_side cpu_dev, acc_dev; /* uri, name, backend */
	qmx_profile_info acc_profile;     /* the chip the accelerator stands for; name "" when none */
	qmx_embodied acc_emb, cpu_emb;
	int n;
	struct cmp_result *r;
};

/* What each side's figures hold: printed with the table and in every report. */
extern const char *const cmp_boundary;
/* Without --baseline: time every exact CPU device (cpu, onednn) on `probe`
 * side by side, print each rate, the choice and the runner-up, and write the
 * fastest one's URI into out; the rates go to `log`.  0, or an error code
 * after a message. */
int cmp_pick_baseline(const qmx_gemm_params *probe, char *out, size_t len, FILE *log);

/* The GEMM parameters `qmx compare` runs a shape with on a device with
 * these features and K limit (int8 output with bias where it can). */
void cmp_layer_params(qmx_gemm_params *p, const struct cmp_gemm *g, uint32_t features,
		      uint64_t max_k);
/* The CPU baseline on one GEMM, as `qmx compare` measures it: run `pb` on
 * `cpu` inside `meter` (RAPL when readable, else the per-job model: CPU time
 * x W/thread + DRAM bytes), and add time, energy, embodied time-share and
 * counters to side s (and to its GEMM l).  Output goes to pb's c_ref. */
int cmp_cpu_gemm(qmx_device *cpu, const qmx_device_info *cpu_info, qmx_meter *meter,
		 const qmx_gemm_params *p, qmx_problem *pb, int l, struct cmp_side *s);
/* Energy total, operational carbon and SCI per unit of a side once its
 * GEMMs are in. */
int cmp_finish_side(struct cmp_side *s, const struct cmp_workload *w,
		    const qmx_carbon_config *cfg);

/* An option that sets a number the library reads from the environment
 * (`env`), checked here against [lo, hi] to name the option; -1 after a
 * message. */
int cmp_env_option(const char *cmd, const char *opt, const char *arg, double lo, double hi,
		   const char *unit, const char *env);

int report_write_json(const struct cmp_report *rep, const char *path);
int report_write_csv(const struct cmp_report *rep, const char *path);
int report_write_svg(const struct cmp_report *rep, const char *path);
int report_write_emissions_csv(const struct cmp_report *rep, const char *path);
const char *cmp_source_name(int32_t source);
/* CodeCarbon's emissions.csv columns (release 2.4.2), emissions.csv's whole
 * header and report.csv's first columns. */
extern const char *const report_codecarbon_columns;
/* report.csv's header: CodeCarbon's columns, then qmx's. */
extern const char *const report_csv_header;

#endif
