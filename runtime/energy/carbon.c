/* SPDX-License-Identifier: MIT */
/*
 * carbon.c - SCI (Green Software Foundation SCI spec v1.1), ACT embodied
 * carbon of chips (Gupta et al., ISCA 2022), grid intensity and the
 * embodied carbon behind each kind of device.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "energy_internal.h"
#include "qmx_design.h"
#include "grid_internal.h"
#include "qmx_backend.h"

#define SECONDS_PER_YEAR (365.0 * 24 * 3600) /* the SCI example's 4 y = 35040 h */

QMX_API int qmx_sci_embodied(double te_g, double tir_s, double el_s, double rr,
			     double tor, double *m_g)
{
	if (!m_g)
		return qmx_fail(QMX_EINVAL, "qmx_sci_embodied: m_g is NULL");
	if (!(te_g >= 0) || !isfinite(te_g))
		return qmx_fail(QMX_EINVAL, "qmx_sci_embodied: TE (%g g) must be >= 0", te_g);
	if (!(tir_s >= 0) || !isfinite(tir_s))
		return qmx_fail(QMX_EINVAL, "qmx_sci_embodied: TiR (%g s) must be >= 0", tir_s);
	if (!(el_s > 0) || !isfinite(el_s))
		return qmx_fail(QMX_EINVAL, "qmx_sci_embodied: EL (%g s) must be > 0", el_s);
	if (!(tor > 0) || !(rr >= 0) || rr > tor)
		return qmx_fail(QMX_EINVAL,
				"qmx_sci_embodied: RR (%g) must be in [0, ToR] and ToR (%g) > 0",
				rr, tor);
	*m_g = te_g * (tir_s / el_s) * (rr / tor);
	return 0;
}

QMX_API int qmx_sci(double e_kwh, double i_g_per_kwh, double m_g, double r, double *sci_g)
{
	if (!sci_g)
		return qmx_fail(QMX_EINVAL, "qmx_sci: sci_g is NULL");
	if (!(e_kwh >= 0) || !(i_g_per_kwh >= 0) || !(m_g >= 0) || !isfinite(e_kwh) ||
	    !isfinite(i_g_per_kwh) || !isfinite(m_g))
		return qmx_fail(QMX_EINVAL, "qmx_sci: E (%g kWh), I (%g g/kWh) and M (%g g) must be finite and >= 0",
				e_kwh, i_g_per_kwh, m_g);
	if (!(r > 0) || !isfinite(r))
		return qmx_fail(QMX_EINVAL, "qmx_sci: R (%g functional units) must be > 0", r);
	*sci_g = (e_kwh * i_g_per_kwh + m_g) / r;
	return 0;
}

static int act_yield(const struct qmx_data *d, double *yield)
{
	int err = qmx_data_value(d, "act", "yield", 0, yield);
	if (!err && (!(*yield > 0) || *yield > 1))
		return qmx_fail(QMX_EINVAL, "%s: [act] yield %g must be in (0, 1]", d->path, *yield);
	return err;
}

/* ACT's two fab models, as the artifact computes them (logic_model.py,
 * dram_model.py): carbon per area of logic, and DRAM per GB, both divided by
 * the fab yield. */
double qmx_act_logic_cpa(double fab_ci, double epa, double gpa, double mpa, double yield)
{
	return (fab_ci * epa + gpa + mpa) / yield;
}

double qmx_act_dram_g(double gb, double g_per_gb, double yield)
{
	return gb * g_per_gb / yield;
}

QMX_API int qmx_act_cpa(int node_nm, double *g_per_cm2)
{
	const struct qmx_data *d;
	char key[16];
	double act_node, ci, yield, mpa, epa, gpa95, gpa99;
	int err;
	if (!g_per_cm2)
		return qmx_fail(QMX_EINVAL, "qmx_act_cpa: g_per_cm2 is NULL");
	if ((err = qmx_data_get("embodied.ini", &d)))
		return err;
	snprintf(key, sizeof(key), "%d", node_nm);
	if (!qmx_data_find(d, "act_node", key))
		return qmx_fail(QMX_EINVAL, "qmx_act_cpa: node %d nm not in %s [act_node] (45, 28, 16, 7, 5)",
				node_nm, d->path);
	if ((err = qmx_data_value(d, "act_node", key, 0, &act_node)))
		return err;
	snprintf(key, sizeof(key), "%d", (int)act_node);
	if ((err = qmx_data_value(d, "act", "fab_ci", 0, &ci)) ||
	    (err = act_yield(d, &yield)) ||
	    (err = qmx_data_value(d, "act", "mpa", 0, &mpa)) ||
	    (err = qmx_data_value(d, "epa", key, 0, &epa)) ||
	    (err = qmx_data_value(d, "gpa", key, 0, &gpa95)) ||
	    (err = qmx_data_value(d, "gpa", key, 1, &gpa99)))
		return err;
	/* ACT's default gas figure ("97") is the mean of its 95% and 99%
	 * abatement cases. */
	*g_per_cm2 = qmx_act_logic_cpa(ci, epa, 0.5 * (gpa95 + gpa99), mpa, yield);
	return 0;
}

QMX_API int qmx_act_chip(int node_nm, double area_mm2, int packages, double dram_gb,
			 double *g)
{
	const struct qmx_data *d;
	double cpa, pkg, dram, yield;
	int err;
	if (!g)
		return qmx_fail(QMX_EINVAL, "qmx_act_chip: g is NULL");
	if (!(area_mm2 >= 0) || area_mm2 > 1e5 || packages < 0 || packages > 10000 ||
	    !(dram_gb >= 0) || dram_gb > 1e6)
		return qmx_fail(QMX_EINVAL,
				"qmx_act_chip: area (%g mm^2) in [0, 1e5], packages (%d) in [0, 10000], dram (%g GB) in [0, 1e6]",
				area_mm2, packages, dram_gb);
	if ((err = qmx_act_cpa(node_nm, &cpa)) || (err = qmx_data_get("embodied.ini", &d)) ||
	    (err = act_yield(d, &yield)) ||
	    (err = qmx_data_value(d, "act", "packaging_g", 0, &pkg)) ||
	    (err = qmx_data_value(d, "act", "dram_g_per_gb", 0, &dram)))
		return err;
	*g = area_mm2 / 100.0 * cpa + packages * pkg + qmx_act_dram_g(dram_gb, dram, yield);
	return 0;
}

/* DRAM by ACT with the one DRAM factor: capacity and its packages. */
static int act_dram(const struct qmx_data *d, double gb, double packages, double *g)
{
	double pkg, per_gb, yield;
	int err;
	if ((err = act_yield(d, &yield)) ||
	    (err = qmx_data_value(d, "act", "packaging_g", 0, &pkg)) ||
	    (err = qmx_data_value(d, "act", "dram_g_per_gb", 0, &per_gb)))
		return err;
	*g = qmx_act_dram_g(gb, per_gb, yield) + packages * pkg;
	return 0;
}

QMX_API int qmx_grid_intensity(const char *region, double *g_per_kwh, char *source,
			       size_t source_len)
{
	const struct qmx_data *d;
	int err;
	if (!region || !g_per_kwh)
		return qmx_fail(QMX_EINVAL, "qmx_grid_intensity: %s is NULL",
				!region ? "region" : "g_per_kwh");
	if ((err = qmx_data_get("grid.ini", &d)))
		return err;
	const struct qmx_data_entry *e = qmx_data_find(d, "grid", region);
	if (!e) {
		char known[256] = "";
		size_t used = 0;
		for (size_t i = 0; i < d->n && used < sizeof(known); i++)
			if (!strcmp(d->e[i].section, "grid"))
				used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
							 used ? ", " : "", d->e[i].key);
		return qmx_fail(QMX_EINVAL,
				"region '%s' not in %s (known: %s); or set QMX_GRID_INTENSITY in gCO2e/kWh",
				region, d->path, known);
	}
	*g_per_kwh = e->v[0];
	if (source && source_len) {
		/* The comment is "unit; source": keep the source. */
		const char *s = strstr(e->source, "; ");
		snprintf(source, source_len, "%s", s ? s + 2 : e->source);
	}
	return 0;
}

static int env_double(const char *name, double lo, double hi, bool lo_open, double *v,
		      bool *set)
{
	const char *s = getenv(name);
	*set = false;
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(x) || x > hi || (lo_open ? x <= lo : x < lo))
		return qmx_fail(QMX_EINVAL, "%s '%s' must be a number in %c%g, %g]", name, s,
				lo_open ? '(' : '[', lo, hi);
	*v = x;
	*set = true;
	return 0;
}

QMX_API int qmx_carbon_config_get(qmx_carbon_config *cfg)
{
	const struct qmx_data *d;
	double v, years;
	bool set;
	int err;
	if (!cfg)
		return qmx_fail(QMX_EINVAL, "qmx_carbon_config_get: cfg is NULL");
	memset(cfg, 0, sizeof(*cfg));
	if ((err = env_double("QMX_GRID_INTENSITY", 0, 2000, false, &v, &set)))
		return err;
	if (set) {
		cfg->grid_g_per_kwh = v;
		snprintf(cfg->region, sizeof(cfg->region), "custom");
		snprintf(cfg->grid_source, sizeof(cfg->grid_source), "QMX_GRID_INTENSITY");
	} else if ((err = qmx_grid_trace_env(cfg, &set)) || set) {
		/* $QMX_GRID_TRACE: the intensity of a time series now (grid.c). */
		if (err)
			return err;
	} else {
		const char *region = getenv("QMX_REGION");
		if (!region || !*region)
			region = "world";
		if (strlen(region) >= sizeof(cfg->region))
			return qmx_fail(QMX_EINVAL, "QMX_REGION '%s' longer than %zu characters",
					region, sizeof(cfg->region) - 1);
		snprintf(cfg->region, sizeof(cfg->region), "%s", region);
		if ((err = qmx_grid_intensity(region, &cfg->grid_g_per_kwh, cfg->grid_source,
					      sizeof(cfg->grid_source))))
			return err;
	}
	const struct qmx_data *g;
	if ((err = qmx_data_get("grid.ini", &g)) ||
	    (err = qmx_data_value(g, "pue", "default", 0, &cfg->pue)))
		return err;
	snprintf(cfg->pue_source, sizeof(cfg->pue_source), "default: the IT equipment alone");
	if ((err = env_double("QMX_PUE", 1, 3, false, &v, &set)))
		return err;
	if (set) {
		cfg->pue = v;
		snprintf(cfg->pue_source, sizeof(cfg->pue_source), "QMX_PUE");
	}
	if ((err = qmx_data_get("embodied.ini", &d)) ||
	    (err = qmx_data_value(d, "server", "lifetime_years", 0, &years)))
		return err;
	cfg->server_lifetime_s = years * SECONDS_PER_YEAR;
	if ((err = qmx_data_value(d, "accel", "lifetime_years", 0, &years)))
		return err;
	cfg->accel_lifetime_s = years * SECONDS_PER_YEAR;
	if ((err = env_double("QMX_LIFETIME_YEARS", 0, 30, true, &v, &set)))
		return err;
	if (set)
		cfg->server_lifetime_s = cfg->accel_lifetime_s = v * SECONDS_PER_YEAR;
	if ((err = qmx_data_value(d, "accel", "node_nm", 0, &v)))
		return err;
	cfg->accel_node_nm = (int32_t)v;
	const char *node = getenv("QMX_ACCEL_NODE_NM");
	if (node && *node) {
		char *end;
		long n = strtol(node, &end, 10);
		if (*end || (n != 45 && n != 28 && n != 16 && n != 7 && n != 5))
			return qmx_fail(QMX_EINVAL, "QMX_ACCEL_NODE_NM '%s' must be 45, 28, 16, 7 or 5",
					node);
		cfg->accel_node_nm = (int32_t)n;
	}
	return 0;
}

enum qmx_device_kind qmx_device_kind(const qmx_device_info *info)
{
	if (!strncmp(info->backend, "cpu", 3) || !strcmp(info->backend, "onednn"))
		return QMX_KIND_CPU;
	if (!strcmp(info->backend, "xrt"))
		return QMX_KIND_FPGA;
	if (!strcmp(info->backend, "group"))
		return QMX_KIND_OTHER; /* its members each have their kind */
	/* Our RTL modelled as an FPGA card (sim:...,profile=fpga-u55c). */
	qmx_profile_info p;
	char saved[512];
	snprintf(saved, sizeof(saved), "%s", qmx_last_error());
	if (info->profile[0] && !qmx_profile_get(info->profile, &p) && !strcmp(p.kind, "fpga"))
		return QMX_KIND_FPGA;
	qmx_fail(0, "%s", saved); /* a bad name is reported by the model itself */
	if (!strcmp(info->backend, "opencl")) {
		/* The backend writes the OpenCL device type into detail. */
		if (strstr(info->detail, ", cpu,"))
			return QMX_KIND_CPU;
		if (strstr(info->detail, ", accelerator,"))
			return QMX_KIND_FPGA;
		return QMX_KIND_OTHER;
	}
	return QMX_KIND_ASIC;
}

QMX_API const char *qmx_energy_model_name(const qmx_device_info *info)
{
	if (!info)
		return "none";
	if (!strcmp(info->backend, "group"))
		return "members"; /* each member's own model or meter, summed */
	switch (qmx_device_kind(info)) {
	case QMX_KIND_CPU: return "model:tdp";
	case QMX_KIND_ASIC: return "model:counters";
	case QMX_KIND_FPGA: return "model:card";
	default: return "none";
	}
}

int qmx_server_embodied(qmx_embodied *out)
{
	const struct qmx_data *d;
	qmx_carbon_config cfg;
	double cpu_kg, gb, pkgs, threads, dram_g;
	int err;
	memset(out, 0, sizeof(*out));
	if ((err = qmx_carbon_config_get(&cfg)) || (err = qmx_data_get("embodied.ini", &d)) ||
	    (err = qmx_data_value(d, "server", "cpu_kg", 0, &cpu_kg)) ||
	    (err = qmx_data_value(d, "server", "dram_gb", 0, &gb)) ||
	    (err = qmx_data_value(d, "server", "dram_packages", 0, &pkgs)) ||
	    (err = qmx_data_value(d, "server", "threads", 0, &threads)) ||
	    (err = act_dram(d, gb, pkgs, &dram_g)))
		return err;
	out->total_g = cpu_kg * 1000.0 + dram_g;
	out->lifetime_s = cfg.server_lifetime_s;
	out->resources = threads;
	snprintf(out->detail, sizeof(out->detail),
		 "server: Dell R740 LCA CPUs %.0f kg + DRAM by ACT %.0f GB + %.0f ICs = %.1f kg, shared over %.0f threads, %.1f y",
		 cpu_kg, gb, pkgs, dram_g / 1000, threads, out->lifetime_s / SECONDS_PER_YEAR);
	return 0;
}

QMX_API int qmx_device_embodied(const qmx_device_info *info, qmx_embodied *out)
{
	const struct qmx_data *d;
	qmx_carbon_config cfg;
	int err;
	if (!info || !out)
		return qmx_fail(QMX_EINVAL, "qmx_device_embodied: %s is NULL", !info ? "info" : "out");
	memset(out, 0, sizeof(*out));
	if ((err = qmx_carbon_config_get(&cfg)) || (err = qmx_data_get("embodied.ini", &d)))
		return err;
	enum qmx_device_kind kind = qmx_device_kind(info);
	if (kind == QMX_KIND_OTHER)
		return qmx_fail(QMX_ENOTSUP,
				"qmx_device_embodied: no embodied model for %s device '%s' (%s)",
				info->backend, info->name, info->detail);
	if (kind == QMX_KIND_CPU)
		return qmx_server_embodied(out);
	if (kind == QMX_KIND_FPGA) {
		double die, node, gb, pkgs, years;
		if ((err = qmx_data_value(d, "fpga_card", "die_mm2", 0, &die)) ||
		    (err = qmx_data_value(d, "fpga_card", "node_nm", 0, &node)) ||
		    (err = qmx_data_value(d, "fpga_card", "dram_gb", 0, &gb)) ||
		    (err = qmx_data_value(d, "fpga_card", "packages", 0, &pkgs)) ||
		    (err = qmx_data_value(d, "fpga_card", "lifetime_years", 0, &years)) ||
		    (err = qmx_act_chip((int)node, die, (int)pkgs, gb, &out->total_g)))
			return err;
		out->lifetime_s = getenv("QMX_LIFETIME_YEARS") ? cfg.accel_lifetime_s
							       : years * SECONDS_PER_YEAR;
		out->resources = 1;
		out->area_mm2 = die;
		snprintf(out->detail, sizeof(out->detail),
			 "ACT, FPGA card: %.0f mm^2 die at %.0f nm + %.0f packages + %.0f GB DRAM",
			 die, node, pkgs, gb);
		return 0;
	}
	/* The ASIC: the die of this configuration at its profile's node
	 * (synthesised logic + memory bits x bit cell, profile.c). */
	qmx_profile_info prof;
	struct qmx_die die;
	if ((err = qmx_device_profile(info, &prof)) || (err = qmx_device_die(info, &prof, &die)))
		return err;
	char from[300];
	snprintf(from, sizeof(from), "%.3g logic + %.3g SRAM; %.64s", die.logic_mm2, die.sram_mm2,
		 die.from);
	return qmx_design_embodied(&prof, die.area_mm2, from, out);
}

QMX_API int qmx_design_embodied(const qmx_profile_info *p, double area_mm2, const char *from,
				qmx_embodied *out)
{
	const struct qmx_data *d;
	qmx_carbon_config cfg;
	double pkgs, dram_pkgs, gb;
	int err;
	if (!p || !out)
		return qmx_fail(QMX_EINVAL, "qmx_design_embodied: %s is NULL", !p ? "p" : "out");
	memset(out, 0, sizeof(*out));
	if ((err = qmx_carbon_config_get(&cfg)) || (err = qmx_data_get("embodied.ini", &d)))
		return err;
	out->area_mm2 = area_mm2;
	if ((err = qmx_data_value(d, "accel", "packages", 0, &pkgs)) ||
	    (err = qmx_data_value(d, "accel", "dram_gb", 0, &gb)) ||
	    (err = qmx_data_value(d, "accel", "dram_packages", 0, &dram_pkgs)) ||
	    (err = qmx_act_chip(p->node_nm, area_mm2, (int)(pkgs + dram_pkgs), gb, &out->total_g)))
		return err;
	out->lifetime_s = cfg.accel_lifetime_s;
	out->resources = 1;
	/* One package per IC, as ACT counts them: the die and each DRAM device. */
	snprintf(out->detail, sizeof(out->detail),
		 "ACT, ASIC %s at %d nm: %.4g mm^2 (%.100s) + %.0f GB DRAM + %.0f packages (die, DRAM)",
		 p->name, p->node_nm, area_mm2, from ? from : "", gb, pkgs + dram_pkgs);
	return 0;
}
