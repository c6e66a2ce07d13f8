/* SPDX-License-Identifier: MIT */
/*
 * report_files.c - report.json and report.csv of `qmx compare`.  The CSV
 * reuses CodeCarbon's emissions.csv column names (and units: seconds, kg
 * CO2e, kWh, W) where they mean the same thing, then adds qmx's own columns.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "compare.h"

/* JSON number, or null for a value that has none (never, infinite). */
static void jnum(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

static void json_side(FILE *f, const struct cmp_side *dev, const struct cmp_side *s)
{
	fprintf(f, "{\"device\": ");
	cli_json_string(f, dev->uri);
	fprintf(f, ", \"backend\": ");
	cli_json_string(f, dev->backend);
	fprintf(f, ", \"time_s\": ");
	jnum(f, s->time_s);
	fprintf(f, ", \"wall_s\": ");
	jnum(f, s->wall_s);
	fprintf(f, ", \"energy_j\": ");
	jnum(f, s->energy_j);
	fprintf(f, ", \"energy_source\": \"%s\", \"energy_method\": ", cmp_source_name(s->source));
	cli_json_string(f, s->method);
	fprintf(f, ", \"energy_detail\": ");
	cli_json_string(f, s->detail);
	fprintf(f, ", \"carbon_operational_g\": ");
	jnum(f, s->op_g);
	fprintf(f, ", \"carbon_embodied_g\": ");
	jnum(f, s->emb_g);
	fprintf(f, ", \"sci_g_per_unit\": ");
	jnum(f, s->sci_g);
	fprintf(f, ", \"cycles\": %llu}", (unsigned long long)s->cycles);
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
	jnum(f, rep->grid);
	fprintf(f, ", \"region\": ");
	cli_json_string(f, rep->region);
	fprintf(f, ", \"source\": ");
	cli_json_string(f, rep->grid_source);
	fprintf(f, "},\n  \"host\": {\"cpu_model\": ");
	cli_json_string(f, rep->cpu_model);
	fprintf(f, ", \"cpu_count\": %d, \"os\": ", rep->cpu_count);
	cli_json_string(f, rep->os);
	fprintf(f, "},\n  \"sci\": \"SCI = (E*I + M) / R, M = TE * (TiR/EL) * (RR/ToR)\",\n");
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
		jnum(f, devs[i].emb->total_g);
		fprintf(f, ", \"lifetime_s\": ");
		jnum(f, devs[i].emb->lifetime_s);
		fprintf(f, ", \"resources\": ");
		jnum(f, devs[i].emb->resources);
		fprintf(f, ", \"area_mm2\": ");
		jnum(f, devs[i].emb->area_mm2);
		fprintf(f, ", \"embodied_detail\": ");
		cli_json_string(f, devs[i].emb->detail);
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
		jnum(f, r->w->units);
		fprintf(f, ", \"gemms\": [");
		for (int l = 0; l < r->w->n_layers; l++)
			fprintf(f, "%s{\"m\": %lld, \"n\": %lld, \"k\": %lld}", l ? ", " : "",
				(long long)r->w->layers[l].m, (long long)r->w->layers[l].n,
				(long long)r->w->layers[l].k);
		fprintf(f, "], \"macs\": ");
		jnum(f, cmp_workload_macs(r->w));
		fprintf(f, ", \"bit_exact\": %s, \"error\": ", r->exact ? "true" : "false");
		if (r->error[0])
			cli_json_string(f, r->error);
		else
			fputs("null", f);
		fprintf(f, ",\n     \"cpu\": ");
		json_side(f, &rep->cpu_dev, &r->cpu);
		fprintf(f, ",\n     \"accelerator\": ");
		json_side(f, &rep->acc_dev, &r->acc);
		fprintf(f, ",\n     \"speedup\": ");
		jnum(f, r->speedup);
		fprintf(f, ", \"energy_ratio\": ");
		jnum(f, r->energy_ratio);
		fprintf(f, ", \"breakeven_jobs_per_day\": ");
		jnum(f, r->breakeven >= 0 ? r->breakeven : NAN);
		fprintf(f, ", \"capacity_jobs_per_day\": ");
		jnum(f, r->capacity);
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

/* Stable header: tests check it.  Columns up to tracking_mode are
 * CodeCarbon's emissions.csv names and units. */
const char *const report_csv_header =
	"timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,"
	"cpu_energy,energy_consumed,country_iso_code,region,os,cpu_count,cpu_model,"
	"tracking_mode,workload,functional_unit,units,device,backend,role,energy_source,"
	"energy_method,energy_j,emissions_operational_g,emissions_embodied_g,sci_g_per_unit,"
	"grid_g_per_kwh,speedup,energy_ratio,breakeven_jobs_per_day,bit_exact";

static void csv_row(FILE *f, const struct cmp_report *rep, const struct cmp_result *r,
		    const struct cmp_side *dev, const struct cmp_side *s, bool cpu)
{
	double kwh = s->energy_j / 3.6e6;
	double kg = (s->op_g + s->emb_g) / 1000.0;
	fprintf(f, "%s,qmx,%s,%.6g,%.6g,%.6g,", rep->timestamp, rep->run_id, s->time_s, kg,
		s->time_s > 0 ? kg / s->time_s : 0.0);
	/* cpu_power / cpu_energy only for the CPU row; an accelerator is not a
	 * CodeCarbon component, its energy is in energy_consumed and energy_j. */
	if (cpu)
		fprintf(f, "%.6g,%.6g,", s->time_s > 0 ? s->energy_j / s->time_s : 0.0, kwh);
	else
		fprintf(f, "0,0,");
	fprintf(f, "%.6g,,", kwh); /* country_iso_code unknown: region says where */
	csv_str(f, rep->region);
	fputc(',', f);
	csv_str(f, rep->os);
	fprintf(f, ",%d,", rep->cpu_count);
	csv_str(f, rep->cpu_model);
	fprintf(f, ",process,");
	csv_str(f, r->w->name);
	fputc(',', f);
	csv_str(f, r->w->unit);
	fprintf(f, ",%.6g,", r->w->units);
	csv_str(f, dev->uri);
	fprintf(f, ",%s,%s,%s,", dev->backend, cpu ? "baseline" : "accelerator",
		cmp_source_name(s->source));
	csv_str(f, s->method);
	fprintf(f, ",%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,", s->energy_j, s->op_g, s->emb_g,
		s->sci_g, rep->grid, cpu ? 1.0 : r->speedup, cpu ? 1.0 : r->energy_ratio);
	if (!cpu && r->breakeven >= 0)
		fprintf(f, "%.6g", r->breakeven);
	fprintf(f, ",%s\n", r->exact ? "true" : "false");
}

int report_write_csv(const struct cmp_report *rep, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", report_csv_header);
	for (int i = 0; i < rep->n; i++) {
		if (rep->r[i].error[0])
			continue; /* failed workloads have no figures: see report.json */
		csv_row(f, rep, &rep->r[i], &rep->cpu_dev, &rep->r[i].cpu, true);
		csv_row(f, rep, &rep->r[i], &rep->acc_dev, &rep->r[i].acc, false);
	}
	return fclose(f);
}
