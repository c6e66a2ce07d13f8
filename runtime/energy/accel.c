/* SPDX-License-Identifier: MIT */
/*
 * accel.c - the accelerator energy model (Accelergy's method): activity
 * counters x per-action energy at a process node + static power x busy time.
 * Base energies: Horowitz ISSCC 2014 (45 nm); other nodes scaled with
 * Stillmaker & Baas 2017.  All numbers come from hw/energy/actions.ini.
 */
#include <stdio.h>
#include <string.h>

#include "energy_internal.h"
#include "qmx_design.h"
#include "qmx_backend.h"

static int poly(const struct qmx_data *d, int node, double vdd, double *e)
{
	char key[16];
	double a, b, c;
	int err;
	snprintf(key, sizeof(key), "%d", node);
	if ((err = qmx_data_value(d, "stillmaker_baas", key, 0, &a)) ||
	    (err = qmx_data_value(d, "stillmaker_baas", key, 1, &b)) ||
	    (err = qmx_data_value(d, "stillmaker_baas", key, 2, &c)))
		return err;
	*e = a * vdd * vdd + b * vdd + c;
	return 0;
}

static int node_vdd(const struct qmx_data *d, int node, double *vdd)
{
	char key[16];
	snprintf(key, sizeof(key), "%d", node);
	return qmx_data_value(d, "vdd", key, 0, vdd);
}

static int energy_at(const struct qmx_data *d, int node, double *e)
{
	double vdd, lo, hi, nodes[2];
	int err;
	if (node == 5) {
		double r;
		if ((err = qmx_data_value(d, "node_rules", "n5_over_n7", 0, &r)) ||
		    (err = energy_at(d, 7, e)))
			return err;
		*e *= r;
		return 0;
	}
	if ((err = node_vdd(d, node, &vdd)))
		return err;
	if (node == 28) {
		if ((err = qmx_data_value(d, "node_rules", "interp_28", 0, &nodes[0])) ||
		    (err = qmx_data_value(d, "node_rules", "interp_28", 1, &nodes[1])) ||
		    (err = poly(d, (int)nodes[0], vdd, &lo)) ||
		    (err = poly(d, (int)nodes[1], vdd, &hi)))
			return err;
		*e = lo + (nodes[0] - 28.0) / (nodes[0] - nodes[1]) * (hi - lo);
		return 0;
	}
	return poly(d, node, vdd, e);
}

static bool node_known(int node)
{
	return node == 45 || node == 28 || node == 16 || node == 7 || node == 5;
}

int qmx_node_energy_scale(int node_nm, double *scale)
{
	const struct qmx_data *d;
	double e, e45;
	int err;
	if (!node_known(node_nm))
		return qmx_fail(QMX_EINVAL, "process node %d nm: must be 45, 28, 16, 7 or 5",
				node_nm);
	if ((err = qmx_data_get("actions.ini", &d)) || (err = energy_at(d, 45, &e45)) ||
	    (err = energy_at(d, node_nm, &e)))
		return err;
	if (!(e > 0) || !(e45 > 0))
		return qmx_fail(QMX_EINVAL, "%s: energy fit at %d nm is not positive", d->path,
				node_nm);
	*scale = e / e45;
	return 0;
}

int qmx_action_energy(int node_nm, struct qmx_action_energy *ae)
{
	const struct qmx_data *d;
	double mul, add, sram64, dram64, ff;
	int err;
	memset(ae, 0, sizeof(*ae));
	if ((err = qmx_node_energy_scale(node_nm, &ae->scale)) ||
	    (err = qmx_data_get("actions.ini", &d)) ||
	    (err = qmx_data_value(d, "horowitz45", "mul_int8", 0, &mul)) ||
	    (err = qmx_data_value(d, "horowitz45", "add_int32", 0, &add)) ||
	    (err = qmx_data_value(d, "horowitz45", "sram_64bit_8kb", 0, &sram64)) ||
	    (err = qmx_data_value(d, "horowitz45", "dram_64bit", 0, &dram64)) ||
	    (err = qmx_data_value(d, "aladdin40", "register_bit", 0, &ff)) ||
	    (err = qmx_data_value(d, "static", "fraction_of_peak", 0, &ae->static_fraction)))
		return err;
	ae->node_nm = node_nm;
	ae->mac_j = (mul + add) * ae->scale * 1e-12;
	ae->sram_byte_j = sram64 / 8.0 * ae->scale * 1e-12;
	ae->ff_bit_j = ff * ae->scale * 1e-12;
	/* DRAM is its own chip and its energy is dominated by the interface:
	 * not scaled with the accelerator's logic node. */
	ae->dram_byte_j = dram64 / 8.0 * 1e-12;
	return 0;
}

int qmx_asic_area_mm2(const struct qmx_synth_area *a, int node_nm, double *mm2,
		      double *sram_mm2)
{
	const struct qmx_data *d;
	char key[16];
	double density, util, bitcell, eff;
	int err;
	snprintf(key, sizeof(key), "%d", node_nm);
	if ((err = qmx_data_get("embodied.ini", &d)) ||
	    (err = qmx_data_value(d, "logic_density", key, 0, &density)) ||
	    (err = qmx_data_value(d, "logic_density", "utilisation", 0, &util)) ||
	    (err = qmx_data_value(d, "sram_bitcell", key, 0, &bitcell)) ||
	    (err = qmx_data_value(d, "sram_bitcell", "array_efficiency", 0, &eff)))
		return err;
	if (!(density > 0) || !(util > 0) || !(eff > 0))
		return qmx_fail(QMX_EINVAL, "%s: density, utilisation and efficiency must be > 0",
				d->path);
	double sram = a->memory_bits * bitcell * 1e-6 / eff;
	*mm2 = a->transistors / (density * 1e6 * util) + sram;
	if (sram_mm2)
		*sram_mm2 = sram;
	return 0;
}


static void action_add(qmx_energy_breakdown *b, const char *name, double count, double j_each)
{
	if (b->n >= QMX_ENERGY_MAX_ACTIONS)
		return;
	qmx_energy_action *a = &b->action[b->n++];
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->count = count;
	a->j_each = j_each;
	a->joules = count * j_each;
	b->joules += a->joules;
}

QMX_API int qmx_design_energy(const qmx_profile_info *p, uint32_t rows, uint32_t cols,
			      uint32_t clock_mhz, double flipflop_bits, double memory_bits,
			      const qmx_job_stats *st, qmx_energy_breakdown *b)
{
	if (!p || !st || !b)
		return qmx_fail(QMX_EINVAL, "qmx_design_energy: %s is NULL",
				!p ? "p" : !st ? "st" : "out");
	memset(b, 0, sizeof(*b));
	double t = st->device_ns ? st->device_ns * 1e-9 : st->wall_ns * 1e-9;
	double hz = (clock_mhz ? clock_mhz : p->clock_mhz) * 1e6;
	/* Busy cycles as the counters say, else device time at the clock. */
	double cycles = st->cycles ? (double)st->cycles : t * hz;
	double mac_j = p->mac_pj * 1e-12;
	action_add(b, "mac", (double)st->macs, mac_j);
	action_add(b, "sram_byte", (double)(st->sram_bytes_read + st->sram_bytes_written),
		   p->sram_byte_pj * 1e-12);
	action_add(b, "dram_byte", (double)(st->ext_bytes_read + st->ext_bytes_written),
		   p->dram_byte_pj * 1e-12);
	/* Every flip-flop bit is clocked on every busy cycle (no clock gating
	 * assumed): a bigger array or deeper pipeline costs energy. */
	action_add(b, "ff_bit_cycle", flipflop_bits * cycles, p->ff_bit_cycle_pj * 1e-12);
	/* Every SRAM bit leaks for the whole device time. */
	action_add(b, "sram_bit_second", memory_bits * t, p->sram_leak_pw_per_bit * 1e-12);
	/* Other static power: a fraction of the array's peak MAC power, per
	 * cycle of the device time so it is a count x energy too. */
	double lanes = (double)rows * (double)cols;
	double p_static = p->static_fraction * lanes * mac_j * hz;
	if (hz > 0)
		action_add(b, "static_cycle", t * hz, p_static / hz);
	snprintf(b->detail, sizeof(b->detail),
		 "modelled: profile %s (%d nm, %.0f MHz, %.40s): %.3g pJ/MAC, %.3g pJ/SRAM byte, %.3g pJ/DRAM byte, %.3g fJ per flip-flop bit-cycle x %.0f bits, leakage %.3g pW/bit x %.0f bits, static %.3g W x %.3g s",
		 p->name, p->node_nm, hz / 1e6, p->dram, p->mac_pj, p->sram_byte_pj, p->dram_byte_pj,
		 p->ff_bit_cycle_pj * 1e3, flipflop_bits, p->sram_leak_pw_per_bit,
		 memory_bits, p_static, t);
	return 0;
}

int qmx_device_model_get(const qmx_device_info *info, struct qmx_device_model *m)
{
	int err;
	memset(m, 0, sizeof(*m));
	m->kind = qmx_device_kind(info);
	if (m->kind == QMX_KIND_OTHER)
		return qmx_fail(QMX_ENOTSUP, "no energy model for %s device '%s' (%s)",
				info->backend, info->name, info->detail);
	if (m->kind == QMX_KIND_CPU)
		return (err = qmx_cpu_model_get(&m->cm)) ? err
							 : qmx_dram_j_per_byte(&m->dram_j_per_byte);
	if ((err = qmx_device_profile(info, &m->prof)))
		return err;
	if (m->kind == QMX_KIND_FPGA)
		return m->prof.card_w > 0 ? 0
					  : qmx_fail(QMX_EINVAL,
						     "profile %s is not an FPGA card (no card_w)",
						     m->prof.name);
	return qmx_device_die(info, &m->prof, &m->die);
}

int qmx_device_model_energy(const struct qmx_device_model *m, const qmx_device_info *info,
			    const qmx_job_stats *st, qmx_energy_breakdown *b)
{
	memset(b, 0, sizeof(*b));
	double t = st->device_ns ? st->device_ns * 1e-9 : st->wall_ns * 1e-9;
	if (m->kind == QMX_KIND_CPU) {
		/* A CPU behind another API (OpenCL on PoCL): CPU time when the
		 * backend knows it, else all its compute units busy for the job. */
		double units = info->compute_units ? info->compute_units : 1;
		double cpu_s = st->cpu_ns ? st->cpu_ns * 1e-9 : t * units;
		double dram = (double)(st->ext_bytes_read + st->ext_bytes_written);
		action_add(b, "cpu_second", cpu_s, m->cm.watts_per_thread);
		if (dram > 0)
			action_add(b, "dram_byte", dram, m->dram_j_per_byte);
		snprintf(b->detail, sizeof(b->detail), "modelled: %.3g CPU-s x %.3g W/thread%s (%.300s)",
			 cpu_s, m->cm.watts_per_thread, dram > 0 ? " + DRAM bytes x J/byte" : "",
			 m->cm.detail);
		return 0;
	}
	if (m->kind == QMX_KIND_FPGA) {
		action_add(b, "card_second", t, m->prof.card_w);
		snprintf(b->detail, sizeof(b->detail),
			 "modelled: profile %s, card board power %.0f W (data sheet maximum) x %.3g s",
			 m->prof.name, m->prof.card_w, t);
		return 0;
	}
	return qmx_design_energy(&m->prof, info->array_rows, info->array_cols, info->clock_mhz,
				 m->die.flipflop_bits, m->die.memory_bits, st, b);
}

/* The one energy model of a job on a device, as count x energy per action:
 * the ASIC by action at the device's profile, the FPGA card's board power,
 * or the CPU model. */
QMX_API int qmx_accel_energy_breakdown(const qmx_device_info *info, const qmx_job_stats *st,
				       qmx_energy_breakdown *b)
{
	struct qmx_device_model m;
	int err;
	if (!info || !st || !b)
		return qmx_fail(QMX_EINVAL, "qmx_accel_energy_breakdown: %s is NULL",
				!info ? "info" : !st ? "st" : "out");
	memset(b, 0, sizeof(*b));
	if ((err = qmx_device_model_get(info, &m)))
		return err;
	return qmx_device_model_energy(&m, info, st, b);
}

void qmx_energy_split_of(const qmx_energy_breakdown *b, struct qmx_energy_split *sp)
{
	memset(sp, 0, sizeof(*sp));
	for (int i = 0; i < b->n; i++) {
		const qmx_energy_action *a = &b->action[i];
		double *to = !strcmp(a->name, "mac")		   ? &sp->mac
			     : !strcmp(a->name, "sram_byte")	   ? &sp->sram
			     : !strcmp(a->name, "dram_byte")	   ? &sp->dram
			     : !strcmp(a->name, "ff_bit_cycle")	   ? &sp->clock
			     : !strcmp(a->name, "sram_bit_second") ? &sp->leakage
								   : &sp->stat;
		*to += a->joules;
	}
}

int qmx_accel_model(const qmx_device_info *info, const qmx_job_stats *st, double *joules,
		    struct qmx_energy_split *split, char *detail, size_t detail_len)
{
	qmx_energy_breakdown b;
	int err = qmx_accel_energy_breakdown(info, st, &b);
	if (err)
		return err;
	*joules = b.joules;
	if (split)
		qmx_energy_split_of(&b, split);
	if (detail)
		snprintf(detail, detail_len, "%s", b.detail);
	return 0;
}

QMX_API int qmx_accel_energy(const qmx_device_info *info, const qmx_job_stats *st,
			     double *joules, char *detail, size_t detail_len)
{
	if (!info || !st || !joules)
		return qmx_fail(QMX_EINVAL, "qmx_accel_energy: %s is NULL",
				!info ? "info" : !st ? "st" : "joules");
	return qmx_accel_model(info, st, joules, NULL, detail, detail_len);
}
