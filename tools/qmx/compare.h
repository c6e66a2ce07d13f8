/* SPDX-License-Identifier: MIT */
/* compare.h - `qmx compare`: workload sets, results, and the report writers. */
#ifndef QMX_CLI_COMPARE_H
#define QMX_CLI_COMPARE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qmx/qmx.h"

#define CMP_MAX_LAYERS 6

struct cmp_gemm {
	int64_t m, n, k;
};

struct cmp_workload {
	const char *name;
	const char *what;  /* one line for the table */
	const char *unit;  /* functional unit R: "GEMM", "inference", "training step" */
	double units;      /* R per run of the workload */
	int n_layers;
	struct cmp_gemm layers[CMP_MAX_LAYERS];
};

/* Resolve --workloads: "default", "small", or a comma list of workload names
 * and MxNxK shapes.  Fills at most cap entries; returns the count or -1 with
 * a message on stderr. */
int cmp_workloads_parse(const char *spec, struct cmp_workload *out, int cap,
			struct cmp_gemm *shape_store);
void cmp_workloads_list(FILE *f);
double cmp_workload_macs(const struct cmp_workload *w);

struct cmp_side {
	char uri[128], name[96], backend[16];
	bool simulated;
	double wall_s;     /* host wall time of the run */
	double time_s;     /* time compared: wall (CPU) or device time (accelerator) */
	double energy_j;
	int32_t source;    /* enum qmx_energy_source */
	char method[32];
	char detail[512];
	double op_g, emb_g, sci_g; /* operational, embodied, SCI per unit */
	uint64_t cycles;
};

struct cmp_result {
	const struct cmp_workload *w;
	struct cmp_side cpu, acc;
	bool exact;
	char mismatch[160];
	double speedup;        /* cpu time / accelerator time */
	double energy_ratio;   /* accelerator energy / cpu energy */
	double breakeven;      /* jobs per day; < 0 when never */
	double capacity;       /* jobs per day the accelerator can run */
	char error[300];       /* non-empty: the workload failed, figures are 0 */
};

struct cmp_report {
	char timestamp[32], run_id[40], set[64];
	char region[32], grid_source[192], os[96], cpu_model[128];
	double grid;
	int cpu_count;
	struct cmp_side cpu_dev, acc_dev; /* uri, name, backend */
	qmx_embodied acc_emb, cpu_emb;
	int n;
	struct cmp_result *r;
};

/* Without --baseline: time every exact CPU device (cpu, onednn) on `probe`
 * side by side, print each rate, the choice and the runner-up, and write the
 * fastest one's URI into out.  0, or an error code after a message. */
int cmp_pick_baseline(const qmx_gemm_params *probe, char *out, size_t len);

int report_write_json(const struct cmp_report *rep, const char *path);
int report_write_csv(const struct cmp_report *rep, const char *path);
int report_write_svg(const struct cmp_report *rep, const char *path);
const char *cmp_source_name(int32_t source);
/* First line of report.csv (CodeCarbon column names first). */
extern const char *const report_csv_header;

#endif
