/* SPDX-License-Identifier: MIT */
/*
 * compare_workloads.c - the named workload sets of `qmx compare`.  Shapes are
 * M x N x K of C = A * B (A is M x K).  The default set fits a few minutes on
 * 2 cores with the 8x8 Verilator model (~2 M cycles/s: 1024^3 is ~17 M
 * cycles); "small" is for CI.  Sets of real models are data files
 * (workload_file.c, tools/qmx/workloads/).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "qmx_util.h"

static const struct cmp_workload default_set[] = {
	{ "square-256", "square GEMM 256^3", "GEMM", 1, "", 1, { { 256, 256, 256 } } },
	{ "square-512", "square GEMM 512^3", "GEMM", 1, "", 1, { { 512, 512, 512 } } },
	{ "square-1024", "square GEMM 1024^3", "GEMM", 1, "", 1, { { 1024, 1024, 1024 } } },
	{ "mlp-infer", "MLP 784-512-256-10, batch 128", "inference", 128, "", 3,
	  { { 128, 512, 784 }, { 128, 256, 512 }, { 128, 10, 256 } } },
	{ "bert-ffn-up", "transformer FFN up 128 tok x 768 -> 3072", "GEMM", 1, "", 1,
	  { { 128, 3072, 768 } } },
	{ "bert-ffn-down", "transformer FFN down 128 tok x 3072 -> 768", "GEMM", 1, "", 1,
	  { { 128, 768, 3072 } } },
	/* Forward, the hidden layer's input gradient, and both weight gradients
	 * of a 784-128-10 MLP at batch 64. */
	{ "mlp-train-step", "MLP 784-128-10 training step, batch 64", "training step", 1, "", 5,
	  { { 64, 128, 784 }, { 64, 10, 128 }, { 64, 128, 10 }, { 784, 128, 64 },
	    { 128, 10, 64 } } },
};

static const struct cmp_workload small_set[] = {
	{ "square-64", "square GEMM 64^3", "GEMM", 1, "", 1, { { 64, 64, 64 } } },
	{ "square-128", "square GEMM 128^3", "GEMM", 1, "", 1, { { 128, 128, 128 } } },
	{ "mlp-infer-small", "MLP 128-64-10, batch 32", "inference", 32, "", 2,
	  { { 32, 64, 128 }, { 32, 10, 64 } } },
	{ "ffn-small", "transformer FFN up 16 tok x 64 -> 256", "GEMM", 1, "", 1,
	  { { 16, 256, 64 } } },
	{ "train-step-small", "MLP 64-32-10 training step, batch 16", "training step", 1, "", 5,
	  { { 16, 32, 64 }, { 16, 10, 32 }, { 16, 32, 10 }, { 64, 32, 16 }, { 32, 10, 16 } } },
};

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

double cmp_workload_macs(const struct cmp_workload *w)
{
	double s = 0;
	for (int i = 0; i < w->n_layers; i++)
		s += (double)w->layers[i].m * (double)w->layers[i].n * (double)w->layers[i].k;
	return s;
}

static bool is_path(const char *spec)
{
	size_t n = strlen(spec);
	return strchr(spec, '/') || (n > 4 && !strcmp(spec + n - 4, ".ini"));
}

void cmp_workloads_list(FILE *f)
{
	fprintf(f, "  default:");
	for (int i = 0; i < N_OF(default_set); i++)
		fprintf(f, " %s", default_set[i].name);
	fprintf(f, "\n  small:  ");
	for (int i = 0; i < N_OF(small_set); i++)
		fprintf(f, " %s", small_set[i].name);
	fprintf(f, "\n  sets of real models (%s/*.ini; or a path to such a file):\n",
		cmp_workloads_dir());
	DIR *d = opendir(cmp_workloads_dir());
	struct dirent *e;
	char names[32][64];
	int n = 0;
	while (d && (e = readdir(d)) && n < 32) {
		size_t l = strlen(e->d_name);
		if (l > 4 && l < 64 && !strcmp(e->d_name + l - 4, ".ini"))
			snprintf(names[n++], sizeof(names[0]), "%.*s", (int)(l - 4), e->d_name);
	}
	if (d)
		closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	for (int i = 0; i < n; i++)
		fprintf(f, "    %s\n", names[i]);
	if (!n)
		fprintf(f, "    (none found)\n");
}

static const struct cmp_workload *find(const char *name)
{
	for (int i = 0; i < N_OF(default_set); i++)
		if (!strcmp(default_set[i].name, name))
			return &default_set[i];
	for (int i = 0; i < N_OF(small_set); i++)
		if (!strcmp(small_set[i].name, name))
			return &small_set[i];
	return NULL;
}

static int load_file(const char *cmd, const char *path, struct cmp_workload *out, int cap)
{
	char err[600];
	int n = cmp_workload_file_load(path, out, cap, err, sizeof(err));
	if (n < 0)
		fprintf(stderr, "qmx %s: --workloads: %s\n", cmd, err);
	return n;
}

int cmp_workloads_parse(const char *cmd, const char *spec, struct cmp_workload *out, int cap)
{
	int n = 0;
	if (!strcmp(spec, "default") || !strcmp(spec, "small")) {
		const struct cmp_workload *set = spec[0] == 'd' ? default_set : small_set;
		int count = spec[0] == 'd' ? N_OF(default_set) : N_OF(small_set);
		for (int i = 0; i < count && n < cap; i++)
			out[n++] = set[i];
		return n;
	}
	if (is_path(spec))
		return load_file(cmd, spec, out, cap);
	if (!strchr(spec, ',') && !find(spec)) {
		/* A set name: its file in the workloads directory. */
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s.ini", cmp_workloads_dir(), spec);
		if (access(path, R_OK) == 0)
			return load_file(cmd, path, out, cap);
	}
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == cap) {
			fprintf(stderr, "qmx %s: --workloads: more than %d workloads\n", cmd, cap);
			return -1;
		}
		const struct cmp_workload *w = find(tok);
		int64_t m, nn, k;
		if (w) {
			out[n++] = *w;
		} else if (qmx_parse_shape(tok, &m, &nn, &k) == 0 && m >= 1 && nn >= 1 && k >= 1 &&
			   m <= 16384 && nn <= 16384 && k <= 16384) {
			struct cmp_workload *x = &out[n++];
			memset(x, 0, sizeof(*x));
			snprintf(x->name, sizeof(x->name), "shape");
			snprintf(x->what, sizeof(x->what), "GEMM of a given shape");
			snprintf(x->unit, sizeof(x->unit), "GEMM");
			x->units = 1;
			x->n_layers = 1;
			x->layers[0] = (struct cmp_gemm){ m, nn, k };
		} else {
			fprintf(stderr,
				"qmx %s: --workloads: '%s' is neither a workload name, a set, nor an MxNxK shape with 1 <= M, N, K <= 16384\n",
				cmd, tok);
			cmp_workloads_list(stderr);
			return -1;
		}
	}
	if (!n) {
		fprintf(stderr, "qmx %s: --workloads is empty\n", cmd);
		return -1;
	}
	return n;
}
