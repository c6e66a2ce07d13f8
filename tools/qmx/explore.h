/* SPDX-License-Identifier: MIT */
/* explore.h - `qmx explore`: the design sweep, its results and writers. */
#ifndef QMX_CLI_EXPLORE_H
#define QMX_CLI_EXPLORE_H

#include <stdbool.h>
#include <stdio.h>

#include "compare.h"
#include "qmx_design.h"
#include "qmx_model.h"

#define XP_MAX_LEVELS 8    /* utilisation levels */
#define XP_MAX_PROFILES 8
#define XP_MAX_SHAPES 128  /* distinct GEMM shapes of the mix */

/* One point of the sweep: a configuration at a profile. */
struct xp_design {
	struct qmx_model_config cfg;
	int profile;              /* index into xp_run.prof */
	struct qmx_design_die die;
	double emb_g;             /* ACT: die + package + DRAM (TE) */
	double time_s;            /* device time of one run of the mix */
	double chip_j, host_j;    /* chip + its DRAM; the host thread held */
	double host_emb_g;        /* host's embodied time-share for time_s */
	double op_g;              /* operational gCO2e per run (PUE, grid) */
	double capacity;          /* runs per day at 100 % busy */
	double macs;
	double life_g[XP_MAX_LEVELS]; /* lifecycle gCO2e per functional unit; < 0 above capacity */
	double beats_cpu;         /* runs/day above which it beats the CPU; < 0 never */
	bool pareto;              /* embodied vs operational front */
};

/* One reference side (the CPU baseline): per run of the mix. */
struct xp_ref {
	double time_s, energy_j, op_g, emb_g, life_g; /* life_g: per functional unit */
	int32_t source;
	char uri[128], method[32], detail[512];
};

/* The measured GPU rows matching the mix's shapes exactly. */
struct xp_gpu_row {
	struct cmp_gemm g;
	bool matched;
	double us, uj, board_w, pj_per_op;
	int count; /* times the shape appears in one run of the mix */
	int n_model; /* the optimal designs' figures for the same GEMM (modelled) */
	struct {
		int design;
		double us, chip_uj, host_uj;
	} model[XP_MAX_LEVELS];
};
struct xp_gpu {
	char path[600], what[200];
	int n;
	struct xp_gpu_row row[XP_MAX_SHAPES];
	int matched;       /* distinct shapes with a row */
	double uj_matched; /* board energy of the matched GEMMs of one run */
	double op_g;       /* its operational carbon (a lower bound per run) */
	bool all;          /* every shape matched */
	char error[300];   /* why there is no reference ("" when loaded) */
};

struct xp_run {
	char set[256], unit[64];
	double units;            /* functional units per run of the mix */
	int n_wl;
	struct cmp_workload *wl;
	int n_shapes;
	struct cmp_gemm shape[XP_MAX_SHAPES];
	int shape_count[XP_MAX_SHAPES]; /* appearances in one run */
	int n_prof;
	qmx_profile_info prof[XP_MAX_PROFILES];
	int n_levels;
	double level[XP_MAX_LEVELS];    /* runs per day */
	double lifetime_s, days;
	qmx_carbon_config cfg;
	double w_per_thread;            /* host thread, the CPU model's */
	qmx_embodied server;
	struct qmx_design_fit fit;
	struct xp_ref cpu;
	struct xp_gpu gpu;
	int n, skipped;
	struct xp_design *d;
	int optimal[XP_MAX_LEVELS];     /* design index, -1 when none fits */
	double sweep_s, evals, cpu_s;
	char skipped_why[200];
	char cpu_model[128];
};

int xp_write_json(const struct xp_run *x, FILE *f);
int xp_write_svg(const struct xp_run *x, const char *path);
/* Load the measured GPU reference and match the mix's shapes. */
void xp_gpu_load(struct xp_run *x);
/* "128x16 BM512 BK256 W128 asic-7nm": array, output block, K chunk, bus bits, profile */
void xp_design_name(const struct xp_run *x, const struct xp_design *d, char *buf, size_t len);

#endif
