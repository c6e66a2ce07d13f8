/* SPDX-License-Identifier: MIT */
/*
 * profile.c - target profiles (hw/energy/profiles.ini): the chip an
 * accelerator model stands for.  A profile names its node, clock and DRAM;
 * its per-action energies are actions.ini's base table at that node and its
 * SRAM bit cell is embodied.ini's at that node, so no constant is kept twice.
 * The die of a configuration (synthesised logic + memory bits x bit cell)
 * is the input of both the ACT embodied model and the clock/leakage energy.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "energy_internal.h"
#include "qmx_design.h"
#include "qmx_model.h"
#include "qmx_backend.h"

#define PROFILES_FILE "profiles.ini"

/* Every key a profile may have; anything else is a typo and is refused. */
static const char *const profile_keys[] = {
	"kind",      "node_nm",         "clock_mhz",            "dram",   "dram_pj_per_bit",
	"dram_gb_s", "dram_latency_ns", "sram_leak_pw_per_bit", "card_w",
};
#define N_KEYS (sizeof(profile_keys) / sizeof(profile_keys[0]))

static bool known_key(const char *k)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strcmp(profile_keys[i], k))
			return true;
	return false;
}

/* Sections of the file in order; returns how many, names in `names`. */
static size_t sections(const struct qmx_data *d, const char **names, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++) {
		bool seen = false;
		for (size_t j = 0; j < n && j < cap; j++)
			seen = seen || !strcmp(names[j], d->e[i].section);
		if (seen)
			continue;
		if (n < cap)
			names[n] = d->e[i].section;
		n++;
	}
	return n;
}

#define MAX_PROFILES 32

static void names_of(const struct qmx_data *d, char *out, size_t len)
{
	const char *names[MAX_PROFILES];
	size_t n = sections(d, names, MAX_PROFILES), used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && i < MAX_PROFILES && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "", names[i]);
}

void qmx_profile_names(char *out, size_t len)
{
	const struct qmx_data *d;
	char saved[512];
	snprintf(saved, sizeof(saved), "%s", qmx_last_error());
	if (qmx_data_get(PROFILES_FILE, &d)) {
		snprintf(out, len, "none readable: %s", qmx_last_error());
		qmx_fail(0, "%s", saved);
		return;
	}
	names_of(d, out, len);
}

/* A number of the profile, in (lo, hi] (or [lo, hi] when lo_closed); the
 * message names the file, line and key. */
static int number(const struct qmx_data *d, const char *name, const char *key, bool required,
		  double lo, bool lo_closed, double hi, double *v)
{
	const struct qmx_data_entry *e = qmx_data_find(d, name, key);
	if (!e) {
		if (!required)
			return 1;
		return qmx_fail(QMX_EINVAL, "%s: profile [%s] has no %s", d->path, name, key);
	}
	if (e->text[0] || e->n != 1)
		return qmx_fail(QMX_EINVAL, "%s:%d: [%s] %s: one number wanted", d->path, e->line,
				name, key);
	*v = e->v[0];
	if ((lo_closed ? *v < lo : *v <= lo) || *v > hi)
		return qmx_fail(QMX_EINVAL, "%s:%d: [%s] %s = %g: must be in %c%g, %g]", d->path,
				e->line, name, key, *v, lo_closed ? '[' : '(', lo, hi);
	return 0;
}

static int text(const struct qmx_data *d, const char *name, const char *key, const char **t)
{
	const struct qmx_data_entry *e = qmx_data_find(d, name, key);
	if (!e)
		return qmx_fail(QMX_EINVAL, "%s: profile [%s] has no %s", d->path, name, key);
	if (!e->text[0])
		return qmx_fail(QMX_EINVAL, "%s:%d: [%s] %s: \"text\" wanted", d->path, e->line,
				name, key);
	*t = e->text;
	return 0;
}

static int profile_load(const struct qmx_data *d, const char *name, qmx_profile_info *p)
{
	const char *kind, *dram;
	double node, clock, v;
	int err;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->e[i].section, name) && !known_key(d->e[i].key))
			return qmx_fail(QMX_EINVAL,
					"%s:%d: [%s] unknown key '%s' (keys: kind, node_nm, clock_mhz, dram, dram_pj_per_bit, dram_gb_s, dram_latency_ns, sram_leak_pw_per_bit, card_w)",
					d->path, d->e[i].line, name, d->e[i].key);
	if (strlen(name) >= sizeof(p->name))
		return qmx_fail(QMX_EINVAL, "%s: profile name '%s' longer than %zu characters",
				d->path, name, sizeof(p->name) - 1);
	snprintf(p->name, sizeof(p->name), "%s", name);
	if ((err = text(d, name, "kind", &kind)) || (err = text(d, name, "dram", &dram)))
		return err;
	if (strcmp(kind, "asic") && strcmp(kind, "fpga"))
		return qmx_fail(QMX_EINVAL, "%s:%d: [%s] kind \"%s\": must be \"asic\" or \"fpga\"",
				d->path, qmx_data_find(d, name, "kind")->line, name, kind);
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	snprintf(p->dram, sizeof(p->dram), "%s", dram);
	if ((err = number(d, name, "node_nm", true, 1, true, 1000, &node)) ||
	    (err = number(d, name, "clock_mhz", true, 0, false, 10000, &clock)) ||
	    (err = number(d, name, "dram_gb_s", true, 0, false, 1e5, &p->dram_gb_s)) ||
	    (err = number(d, name, "dram_latency_ns", true, 0, true, 1e5, &p->dram_latency_ns)))
		return err;
	if (node != floor(node) || clock != floor(clock))
		return qmx_fail(QMX_EINVAL, "%s: [%s] node_nm (%g) and clock_mhz (%g) must be whole numbers",
				d->path, name, node, clock);
	p->node_nm = (int32_t)node;
	p->clock_mhz = (uint32_t)clock;

	/* Per-action energies at the node: actions.ini, one table for all. */
	struct qmx_action_energy ae;
	if ((err = qmx_action_energy(p->node_nm, &ae))) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", qmx_last_error());
		return qmx_fail(err, "%s:%d: [%s] node_nm: %s", d->path,
				qmx_data_find(d, name, "node_nm")->line, name, msg);
	}
	p->mac_pj = ae.mac_j * 1e12;
	p->sram_byte_pj = ae.sram_byte_j * 1e12;
	p->ff_bit_cycle_pj = ae.ff_bit_j * 1e12;
	p->static_fraction = ae.static_fraction;
	err = number(d, name, "dram_pj_per_bit", false, 0, false, 1000, &p->dram_pj_per_bit);
	if (err < 0)
		return err;
	if (err > 0) /* not given: Horowitz's DRAM access of actions.ini */
		p->dram_pj_per_bit = ae.dram_byte_j * 1e12 / 8.0;
	p->dram_byte_pj = p->dram_pj_per_bit * 8.0;

	const struct qmx_data *emb;
	char key[16];
	snprintf(key, sizeof(key), "%d", p->node_nm);
	if ((err = qmx_data_get("embodied.ini", &emb)) ||
	    (err = qmx_data_value(emb, "sram_bitcell", key, 0, &p->sram_bitcell_um2)))
		return err;

	bool asic = !strcmp(kind, "asic");
	err = number(d, name, "sram_leak_pw_per_bit", asic, 0, true, 1e6, &v);
	if (err < 0)
		return err;
	p->sram_leak_pw_per_bit = err ? 0 : v;
	err = number(d, name, "card_w", !asic, 0, false, 10000, &v);
	if (err < 0)
		return err;
	p->card_w = err ? 0 : v;
	return 0;
}

int qmx_profile_from_file(const char *path, const char *name, qmx_profile_info *out)
{
	struct qmx_data d;
	int err = qmx_data_load(&d, path);
	if (err)
		return err;
	bool found = false;
	for (size_t i = 0; i < d.n && !found; i++)
		found = !strcmp(d.e[i].section, name);
	err = found ? profile_load(&d, name, out)
		    : qmx_fail(QMX_EINVAL, "%s: no profile [%s]", path, name);
	qmx_data_free(&d);
	return err;
}

QMX_API int qmx_profile_get(const char *name, qmx_profile_info *out)
{
	const struct qmx_data *d;
	int err;
	if (!name || !out)
		return qmx_fail(QMX_EINVAL, "qmx_profile_get: %s is NULL", !name ? "name" : "out");
	if ((err = qmx_data_get(PROFILES_FILE, &d)))
		return err;
	bool found = false;
	for (size_t i = 0; i < d->n && !found; i++)
		found = !strcmp(d->e[i].section, name);
	if (!found) {
		char known[256];
		names_of(d, known, sizeof(known));
		return qmx_fail(QMX_EINVAL, "profile '%s' not in %s (profiles: %s)", name, d->path,
				known);
	}
	return profile_load(d, name, out);
}

QMX_API int qmx_profile_list(qmx_profile_info *infos, size_t cap, size_t *count)
{
	const struct qmx_data *d;
	const char *names[MAX_PROFILES];
	int err;
	if (!count)
		return qmx_fail(QMX_EINVAL, "qmx_profile_list: count is NULL");
	if (cap && !infos)
		return qmx_fail(QMX_EINVAL, "qmx_profile_list: infos is NULL with cap (%zu) > 0", cap);
	if ((err = qmx_data_get(PROFILES_FILE, &d)))
		return err;
	size_t n = sections(d, names, MAX_PROFILES);
	if (n > MAX_PROFILES)
		return qmx_fail(QMX_EOVERFLOW, "%s: %zu profiles, at most %d", d->path, n,
				MAX_PROFILES);
	for (size_t i = 0; i < n && i < cap; i++)
		if ((err = profile_load(d, names[i], &infos[i])))
			return err;
	*count = n;
	return 0;
}

int qmx_uri_profile(const char *who, const char *arg, char *rest, size_t rest_len,
		    qmx_profile_info *p, bool *given)
{
	const char *at = !strncmp(arg, "profile=", 8) ? arg : strstr(arg, ",profile=");
	*given = at != NULL;
	if (strlen(arg) >= rest_len)
		return qmx_fail(QMX_EINVAL, "%s: arguments '%s' longer than %zu characters", who, arg,
				rest_len - 1);
	if (!at) {
		snprintf(rest, rest_len, "%s", arg);
		return 0;
	}
	const char *name = at + (at[0] == ',' ? 9 : 8);
	if (strchr(name, ','))
		return qmx_fail(QMX_EINVAL, "%s: profile=NAME must come last in '%s'", who, arg);
	size_t keep = (size_t)(at - arg);
	memcpy(rest, arg, keep);
	rest[keep] = '\0';
	char known[256];
	if (!*name) {
		qmx_profile_names(known, sizeof(known));
		return qmx_fail(QMX_EINVAL, "%s: profile needs a name (profiles: %s)", who, known);
	}
	int err = qmx_profile_get(name, p);
	if (err) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", qmx_last_error());
		return qmx_fail(err, "%s: profile: %s", who, msg);
	}
	return 0;
}

int qmx_device_profile(const qmx_device_info *info, qmx_profile_info *p)
{
	const char *env = getenv("QMX_ACCEL_NODE_NM");
	if (env && *env) {
		char known[256];
		qmx_profile_names(known, sizeof(known));
		return qmx_fail(QMX_EINVAL,
				"QMX_ACCEL_NODE_NM is replaced by target profiles: open the device with ',profile=NAME' (profiles: %s)",
				known);
	}
	if (info->profile[0])
		return qmx_profile_get(info->profile, p);
	/* Backends that predate profiles: by the kind of device. */
	bool fpga = !strcmp(info->backend, "xrt") || !strcmp(info->backend, "opencl");
	return qmx_profile_get(fpga ? QMX_PROFILE_FPGA_DEFAULT : QMX_PROFILE_ASIC_DEFAULT, p);
}

int qmx_device_die(const qmx_device_info *info, const qmx_profile_info *p, struct qmx_die *die)
{
	const struct qmx_data *d;
	struct qmx_synth_area area;
	char array[32];
	int err;

	memset(die, 0, sizeof(*die));
	die->node_nm = p->node_nm;
	snprintf(array, sizeof(array), "%ux%u", info->array_rows, info->array_cols);
	const char *path = qmx_area_json_path();
	char saved[512];
	snprintf(saved, sizeof(saved), "%s", qmx_last_error());
	struct qmx_design_fit fit;
	bool missing = qmx_area_json_read(path, array, &area) != 0;
	if (missing && !qmx_design_fit_get(&fit)) {
		/* Not synthesised: logic from the fit to the synthesised sizes
		 * (design.c), memories the RTL's default buffers at this array
		 * with the models' bus width (qmx_model.h). */
		struct qmx_model_config cfg;
		struct qmx_model_memory mem;
		qmx_model_config_default(&cfg, info->array_rows, info->array_cols);
		qmx_model_memory(&cfg, &mem);
		qmx_fail(0, "%s", saved); /* a missing entry is said in `from` */
		double pes = (double)info->array_rows * info->array_cols;
		memset(&area, 0, sizeof(area));
		area.transistors = fit.transistors.per_pe * pes +
				   fit.transistors.per_bus_bit * cfg.axi_data_bits;
		area.flipflop_bits = fit.flipflop_bits.per_pe * pes +
				     fit.flipflop_bits.per_bus_bit * cfg.axi_data_bits;
		area.memory_bits = (double)mem.total_bytes * 8;
		snprintf(die->from, sizeof(die->from),
			 "no %s synthesis: fitted %.0f transistors, %.0f flip-flop bits (%d synthesised sizes), %.0f memory bits",
			 array, area.transistors, area.flipflop_bits, fit.n, area.memory_bits);
	} else if (missing) {
		qmx_fail(0, "%s", saved); /* a missing entry is said in `from` */
		memset(&area, 0, sizeof(area));
		if ((err = qmx_data_get("embodied.ini", &d)) ||
		    (err = qmx_data_value(d, "accel", "default_transistors", 0, &area.transistors)))
			return err;
		snprintf(die->from, sizeof(die->from),
			 "assumed %.0f transistors, flip-flops and memories not counted (no %s entry in %s)",
			 area.transistors, array, path);
	} else {
		die->synthesised = true;
		snprintf(die->from, sizeof(die->from),
			 "%s synthesis: %.0f transistors, %.0f flip-flop bits, %.0f memory bits", array,
			 area.transistors, area.flipflop_bits, area.memory_bits);
	}
	die->transistors = area.transistors;
	die->flipflop_bits = area.flipflop_bits;
	die->memory_bits = area.memory_bits;
	if ((err = qmx_asic_area_mm2(&area, p->node_nm, &die->area_mm2, &die->sram_mm2)))
		return err;
	die->logic_mm2 = die->area_mm2 - die->sram_mm2;
	return 0;
}

void qmx_profile_mem_cycles(const qmx_profile_info *p, unsigned *latency_cycles,
			    unsigned *bytes_per_cycle)
{
	double b = floor(p->dram_gb_s * 1000.0 / p->clock_mhz);

	*latency_cycles = (unsigned)ceil(p->dram_latency_ns * p->clock_mhz / 1000.0);
	*bytes_per_cycle = b < 1 ? 1 : b > 4096 ? 4096 : (unsigned)b;
}
