/* SPDX-License-Identifier: MIT */
/*
 * report_files.c - report.json, report.csv and emissions.csv of `qmx
 * compare`.  emissions.csv is CodeCarbon's (release 2.4.2) columns exactly,
 * with CodeCarbon's units and meanings (seconds, kg CO2e operational only,
 * kWh, W); report.csv is the same columns followed by qmx's own (embodied
 * carbon, the parts of the boundary).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "compare.h"


/* Counters and every modelled joule: count x pJ each = joules, per action. */
static void json_acct(FILE *f, const struct cmp_acct *c)
{
	fprintf(f, "\"counters\": {\"macs\": %llu, \"cycles\": %llu, \"stall_cycles\": %llu, "
		   "\"sram_bytes_read\": %llu, \"sram_bytes_written\": %llu, "
		   "\"dram_bytes_read\": %llu, \"dram_bytes_written\": %llu}, \"energy_by_action\": ",
		(unsigned long long)c->counters.macs, (unsigned long long)c->counters.cycles,
		(unsigned long long)c->counters.stall_cycles,
		(unsigned long long)c->counters.sram_bytes_read,
		(unsigned long long)c->counters.sram_bytes_written,
		(unsigned long long)c->counters.ext_bytes_read,
		(unsigned long long)c->counters.ext_bytes_written);
	if (!c->have_actions) {
		fputs("null", f);
		return;
	}
	fputc('[', f);
	for (int i = 0; i < c->actions.n; i++) {
		const qmx_energy_action *a = &c->actions.action[i];
		fprintf(f, "%s{\"action\": ", i ? ", " : "");
		cli_json_string(f, a->name);
		fprintf(f, ", \"count\": ");
		cli_json_number(f, a->count);
		fprintf(f, ", \"pj_each\": ");
		cli_json_number(f, a->j_each * 1e12);
		fprintf(f, ", \"joules\": ");
		cli_json_number(f, a->joules);
		fputc('}', f);
	}
	fprintf(f, "], \"energy_by_action_total_j\": ");
	cli_json_number(f, c->actions.joules);
}

static void json_side(FILE *f, const struct cmp_workload *w, const struct cmp_side *dev,
		      const struct cmp_side *s, bool acc)
{
	fprintf(f, "{\"device\": ");
	cli_json_string(f, dev->uri);
	fprintf(f, ", \"backend\": ");
	cli_json_string(f, dev->backend);
	fprintf(f, ", \"time_s\": ");
	cli_json_number(f, s->time_s);
	fprintf(f, ", \"time_kind\": \"%s\", \"wall_s\": ",
		!acc ? "wall" : dev->simulated ? "device+host" : "wall");
	cli_json_number(f, s->wall_s);
	fprintf(f, ", \"energy_j\": ");
	cli_json_number(f, s->energy_j);
	fprintf(f, ", \"energy_source\": \"%s\", \"energy_method\": ", cmp_source_name(s->source));
	cli_json_string(f, s->method);
	fprintf(f, ", \"energy_detail\": ");
	cli_json_string(f, s->detail);
	fprintf(f, ", \"carbon_operational_g\": ");
	cli_json_number(f, s->op_g);
	fprintf(f, ", \"carbon_embodied_g\": ");
	cli_json_number(f, s->emb_g);
	fprintf(f, ", \"sci_g_per_unit\": ");
	cli_json_number(f, s->sci_g);
	fprintf(f, ", \"cycles\": %llu,\n       \"chip\": {\"time_s\": ", (unsigned long long)s->cycles);
	cli_json_number(f, s->chip_time_s);
	fprintf(f, ", \"energy_j\": ");
	cli_json_number(f, s->chip_j);
	fprintf(f, ", \"carbon_operational_g\": ");
	cli_json_number(f, s->chip_op_g);
	fprintf(f, ", \"carbon_embodied_g\": ");
	cli_json_number(f, s->chip_emb_g);
	fprintf(f, "},\n       \"host_share\": {\"energy_j\": ");
	cli_json_number(f, s->host_j);
	fprintf(f, ", \"energy_source\": \"%s\", \"cpu_s\": ", cmp_source_name(s->host_source));
	cli_json_number(f, s->host_cpu_s);
	fprintf(f, ", \"thread_held_s\": ");
	cli_json_number(f, s->held_s);
	fprintf(f, ", \"carbon_embodied_g\": ");
	cli_json_number(f, s->emb_g - s->chip_emb_g);
	fprintf(f, "},\n       \"simulation\": {\"wall_s\": ");
	cli_json_number(f, s->sim_wall_s);
	fprintf(f, ", \"cpu_s\": ");
	cli_json_number(f, s->sim_cpu_s);
	fprintf(f, ", \"counted\": false},\n       ");
	json_acct(f, &s->total);
	fprintf(f, ",\n       \"per_gemm\": [");
	for (int l = 0; l < w->n_layers; l++) {
		fprintf(f, "%s\n         {\"m\": %lld, \"n\": %lld, \"k\": %lld, ", l ? "," : "",
			(long long)w->layers[l].m, (long long)w->layers[l].n,
			(long long)w->layers[l].k);
		json_acct(f, &s->gemm[l]);
		fputc('}', f);
	}
	fprintf(f, "]}");
}

int report_write_json(const struct cmp_report *rep, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\n  \"tool\": \"qmx compare\",\n  \"qmx_version\": \"%d.%d.%d\",\n",
		QMX_VERSION_MAJOR, QMX_VERSION_MINOR, QMX_VERSION_PATCH);
	fprintf(f, "  \"timestamp\": \"%s\",\n  \"run_id\": \"%s\",\n  \"workload_set\": ",
		rep->timestamp, rep->run_id);
	cli_json_string(f, rep->set);
	fprintf(f, ",\n  \"grid\": {\"g_per_kwh\": ");
	cli_json_number(f, rep->grid);
	fprintf(f, ", \"region\": ");
	cli_json_string(f, rep->region);
	fprintf(f, ", \"source\": ");
	cli_json_string(f, rep->grid_source);
	fprintf(f, "},\n  \"pue\": {\"value\": ");
	cli_json_number(f, rep->pue);
	fprintf(f, ", \"source\": ");
	cli_json_string(f, rep->pue_source);
	fprintf(f, ", \"typical\": ");
	cli_json_number(f, rep->pue_typical);
	fprintf(f, ", \"typical_source\": \"Uptime Institute Global Data Center Survey 2023 (hw/energy/grid.ini)\"},\n  \"boundary\": ");
	cli_json_string(f, cmp_boundary);
	fprintf(f, ",\n  \"host\": {\"cpu_model\": ");
	cli_json_string(f, rep->cpu_model);
	fprintf(f, ", \"cpu_power_model\": ");
	cli_json_string(f, rep->cpu_power);
	fprintf(f, ", \"cpu_count\": %d, \"os\": ", rep->cpu_count);
	cli_json_string(f, rep->os);
	fprintf(f, "},\n  \"sci\": \"SCI = (E*PUE*I + M) / R, M = TE * (TiR/EL) * (RR/ToR)\",\n");
	const struct {
		const char *key;
		const struct cmp_side *dev;
		const qmx_embodied *emb;
	} devs[] = { { "baseline", &rep->cpu_dev, &rep->cpu_emb },
		     { "accelerator", &rep->acc_dev, &rep->acc_emb } };
	for (int i = 0; i < 2; i++) {
		fprintf(f, "  \"%s\": {\"device\": ", devs[i].key);
		cli_json_string(f, devs[i].dev->uri);
		fprintf(f, ", \"name\": ");
		cli_json_string(f, devs[i].dev->name);
		fprintf(f, ", \"simulated\": %s, \"embodied_total_g\": ",
			devs[i].dev->simulated ? "true" : "false");
		cli_json_number(f, devs[i].emb->total_g);
		fprintf(f, ", \"lifetime_s\": ");
		cli_json_number(f, devs[i].emb->lifetime_s);
		fprintf(f, ", \"resources\": ");
		cli_json_number(f, devs[i].emb->resources);
		fprintf(f, ", \"area_mm2\": ");
		cli_json_number(f, devs[i].emb->area_mm2);
		fprintf(f, ", \"embodied_detail\": ");
		cli_json_string(f, devs[i].emb->detail);
		const qmx_profile_info *p = &rep->acc_profile;
		if (i == 1 && p->name[0]) { /* the chip the accelerator stands for */
			fprintf(f, ", \"profile\": {\"name\": ");
			cli_json_string(f, p->name);
			fprintf(f, ", \"kind\": ");
			cli_json_string(f, p->kind);
			fprintf(f, ", \"node_nm\": %d, \"clock_mhz\": %u, \"dram\": ", p->node_nm,
				p->clock_mhz);
			cli_json_string(f, p->dram);
			fprintf(f, ", \"dram_pj_per_bit\": ");
			cli_json_number(f, p->dram_pj_per_bit);
			fprintf(f, ", \"source\": \"hw/energy/profiles.ini\"}");
		}
		fprintf(f, "},\n");
	}
	fprintf(f, "  \"workloads\": [");
	for (int i = 0; i < rep->n; i++) {
		const struct cmp_result *r = &rep->r[i];
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		cli_json_string(f, r->w->name);
		fprintf(f, ", \"description\": ");
		cli_json_string(f, r->w->what);
		fprintf(f, ", \"functional_unit\": ");
		cli_json_string(f, r->w->unit);
		fprintf(f, ", \"units\": ");
		cli_json_number(f, r->w->units);
		if (r->w->source[0]) {
			/* A workload file's: where the model's dimensions come from. */
			fprintf(f, ", \"source\": ");
			cli_json_string(f, r->w->source);
		}
		fprintf(f, ", \"gemms\": [");
		for (int l = 0; l < r->w->n_layers; l++)
			fprintf(f, "%s{\"m\": %lld, \"n\": %lld, \"k\": %lld}", l ? ", " : "",
				(long long)r->w->layers[l].m, (long long)r->w->layers[l].n,
				(long long)r->w->layers[l].k);
		fprintf(f, "], \"macs\": ");
		cli_json_number(f, cmp_workload_macs(r->w));
		fprintf(f, ", \"bit_exact\": %s, \"error\": ", r->exact ? "true" : "false");
		if (r->error[0])
			cli_json_string(f, r->error);
		else
			fputs("null", f);
		fprintf(f, ",\n     \"cpu\": ");
		json_side(f, r->w, &rep->cpu_dev, &r->cpu, false);
		fprintf(f, ",\n     \"accelerator\": ");
		json_side(f, r->w, &rep->acc_dev, &r->acc, true);
		fprintf(f, ",\n     \"speedup\": ");
		cli_json_number(f, r->speedup);
		fprintf(f, ", \"speedup_chip\": ");
		cli_json_number(f, r->speedup_chip);
		fprintf(f, ", \"energy_ratio\": ");
		cli_json_number(f, r->energy_ratio);
		fprintf(f, ", \"energy_ratio_chip\": ");
		cli_json_number(f, r->energy_ratio_chip);
		fprintf(f, ", \"breakeven_jobs_per_day\": ");
		cli_json_number(f, r->breakeven >= 0 ? r->breakeven : NAN);
		fprintf(f, ", \"capacity_jobs_per_day\": ");
		cli_json_number(f, r->capacity);
		fprintf(f, "}");
	}
	fprintf(f, "\n  ]\n}\n");
	return fclose(f);
}

/* CSV field: quoted when it holds a comma, quote or newline. */
static void csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* CodeCarbon 2.4.2's emissions.csv columns, in its order (the list and its
 * source: tests/energy/data/codecarbon_2.4.2_columns.txt). */
#define CODECARBON_COLUMNS                                                                     \
	"timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"   \
	"ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,"               \
	"country_iso_code,region,cloud_provider,cloud_region,os,python_version,"                \
	"codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"        \
	"ram_total_size,tracking_mode,on_cloud,pue"

const char *const report_codecarbon_columns = CODECARBON_COLUMNS;

/* Stable header: tests check it.  CodeCarbon's columns, then qmx's. */
const char *const report_csv_header =
	CODECARBON_COLUMNS ",emissions_embodied,duration_kind,simulation_wall_s,workload,"
	"functional_unit,units,device,backend,role,energy_source,energy_method,energy_j,"
	"chip_energy_j,host_energy_j,emissions_operational_g,emissions_embodied_g,sci_g_per_unit,"
	"grid_g_per_kwh,speedup,speedup_chip,energy_ratio,energy_ratio_chip,"
	"breakeven_jobs_per_day,bit_exact";

/* One row in CodeCarbon's columns.  As CodeCarbon: emissions is operational
 * only (kg, energy x PUE x grid), energies in kWh, powers in W.  The host's
 * CPU (package and its share) is cpu_energy, the host's DRAM ram_energy, an
 * accelerator gpu_energy (where CodeCarbon puts accelerators), its DRAM
 * inside it.  duration: wall time for the CPU; for an accelerator the
 * system's time (device time at the chip's clock + host time outside any
 * simulator) - report.csv's duration_kind says which. */
static void codecarbon_row(FILE *f, const struct cmp_report *rep, const struct cmp_side *dev,
			   const struct cmp_side *s, bool cpu)
{
	/* A CPU standing in for the accelerator (cpu-ref) is CPU energy. */
	bool host = cpu || !strncmp(dev->backend, "cpu", 3);
	double cpu_j = host ? s->chip_j - s->dram_j : s->host_j;
	double ram_j = host ? s->dram_j : 0, gpu_j = host ? 0 : s->chip_j;
	double kg = s->op_g / 1000.0, t = s->time_s;
	fprintf(f, "%s,qmx,%s,%.6g,%.6g,%.6g,", rep->timestamp, rep->run_id, t, kg,
		t > 0 ? kg / t : 0.0);
	fprintf(f, "%.6g,%.6g,%.6g,", t > 0 ? cpu_j / t : 0.0, t > 0 ? gpu_j / t : 0.0,
		t > 0 ? ram_j / t : 0.0);
	fprintf(f, "%.6g,%.6g,%.6g,%.6g,", cpu_j / 3.6e6, gpu_j / 3.6e6, ram_j / 3.6e6,
		s->energy_j / 3.6e6);
	/* country unknown: region says where the grid figure is from */
	fprintf(f, ",,");
	csv_str(f, rep->region);
	fprintf(f, ",,,"); /* cloud_provider, cloud_region */
	csv_str(f, rep->os);
	fprintf(f, ",,,%d,", rep->cpu_count); /* python_version, codecarbon_version */
	csv_str(f, rep->cpu_model);
	fprintf(f, ",%d,", host ? 0 : 1);
	if (!host)
		csv_str(f, dev->name);
	fprintf(f, ",,,%.6g,process,N,%.6g", rep->ram_gb, rep->pue);
}

static void csv_row(FILE *f, const struct cmp_report *rep, const struct cmp_result *r,
		    const struct cmp_side *dev, const struct cmp_side *s, bool cpu)
{
	codecarbon_row(f, rep, dev, s, cpu);
	fprintf(f, ",%.6g,%s,%.6g,", s->emb_g / 1000.0,
		!cpu && dev->simulated ? "device+host" : "wall", s->sim_wall_s);
	csv_str(f, r->w->name);
	fputc(',', f);
	csv_str(f, r->w->unit);
	fprintf(f, ",%.6g,", r->w->units);
	csv_str(f, dev->uri);
	fprintf(f, ",%s,%s,%s,", dev->backend, cpu ? "baseline" : "accelerator",
		cmp_source_name(s->source));
	csv_str(f, s->method);
	fprintf(f, ",%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,", s->energy_j,
		s->chip_j, s->host_j, s->op_g, s->emb_g, s->sci_g, rep->grid,
		cpu ? 1.0 : r->speedup, cpu ? 1.0 : r->speedup_chip, cpu ? 1.0 : r->energy_ratio,
		cpu ? 1.0 : r->energy_ratio_chip);
	if (!cpu && r->breakeven >= 0)
		fprintf(f, "%.6g", r->breakeven);
	fprintf(f, ",%s\n", r->exact ? "true" : "false");
}

static int write_rows(const struct cmp_report *rep, const char *path, bool codecarbon_only)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", codecarbon_only ? report_codecarbon_columns : report_csv_header);
	for (int i = 0; i < rep->n; i++) {
		const struct cmp_result *r = &rep->r[i];
		if (r->error[0])
			continue; /* failed workloads have no figures: see report.json */
		for (int side = 0; side < 2; side++) {
			const struct cmp_side *dev = side ? &rep->acc_dev : &rep->cpu_dev;
			const struct cmp_side *s = side ? &r->acc : &r->cpu;
			if (codecarbon_only) {
				codecarbon_row(f, rep, dev, s, !side);
				fputc('\n', f);
			} else {
				csv_row(f, rep, r, dev, s, !side);
			}
		}
	}
	return fclose(f);
}

int report_write_csv(const struct cmp_report *rep, const char *path)
{
	return write_rows(rep, path, false);
}

/* emissions.csv: CodeCarbon's columns and nothing else, so CodeCarbon's
 * FileOutput appends to it and its tools read it. */
int report_write_emissions_csv(const struct cmp_report *rep, const char *path)
{
	return write_rows(rep, path, true);
}
