/* SPDX-License-Identifier: MIT */
/* cmd_devices.c - `qmx devices`: every device the built backends can see. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "qmx/qmx.h"

static const struct {
	uint32_t bit;
	const char *name;
} feature_names[] = {
	{ QMX_FEATURE_INT32_OUT, "int32-out" },   { QMX_FEATURE_INT8_OUT, "int8-out" },
	{ QMX_FEATURE_PER_CHANNEL, "per-channel" }, { QMX_FEATURE_BIAS, "bias" },
	{ QMX_FEATURE_DEVICE_MEMORY, "device-memory" }, { QMX_FEATURE_SIMULATED, "simulated" },
	{ QMX_FEATURE_COUNTERS, "counters" },     { QMX_FEATURE_POWER_SENSOR, "power-sensor" },
};

static void features_text(uint32_t f, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if ((f & feature_names[i].bit) && used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "",
						 feature_names[i].name);
}

static void profile_json(const qmx_profile_info *p)
{
	printf("\n  {\"name\": ");
	cli_json_string(stdout, p->name);
	printf(", \"kind\": ");
	cli_json_string(stdout, p->kind);
	printf(", \"node_nm\": %d, \"clock_mhz\": %u, \"dram\": ", p->node_nm, p->clock_mhz);
	cli_json_string(stdout, p->dram);
	printf(", \"dram_pj_per_bit\": %.6g, \"dram_gb_s\": %.6g, \"dram_latency_ns\": %.6g, "
	       "\"mac_pj\": %.6g, \"sram_byte_pj\": %.6g, \"ff_bit_cycle_pj\": %.6g, "
	       "\"dram_byte_pj\": %.6g, \"sram_bitcell_um2\": %.6g, \"sram_leak_pw_per_bit\": %.6g, "
	       "\"static_fraction\": %.6g, \"card_w\": %.6g}",
	       p->dram_pj_per_bit, p->dram_gb_s, p->dram_latency_ns, p->mac_pj, p->sram_byte_pj,
	       p->ff_bit_cycle_pj, p->dram_byte_pj, p->sram_bitcell_um2, p->sram_leak_pw_per_bit,
	       p->static_fraction, p->card_w);
}

static void profile_text(const qmx_profile_info *p)
{
	printf("%s\n  %s at %d nm, %u MHz; DRAM %s: %.3g pJ/bit, %.4g GB/s, %.3g ns\n", p->name,
	       p->kind, p->node_nm, p->clock_mhz, p->dram, p->dram_pj_per_bit, p->dram_gb_s,
	       p->dram_latency_ns);
	if (!strcmp(p->kind, "fpga")) {
		printf("  energy    card board power %.0f W x device time (upper bound)\n", p->card_w);
		return;
	}
	printf("  per action  MAC %.3g pJ, SRAM %.3g pJ/byte, flip-flop %.3g fJ/bit-cycle, DRAM %.3g pJ/byte\n",
	       p->mac_pj, p->sram_byte_pj, p->ff_bit_cycle_pj * 1e3, p->dram_byte_pj);
	printf("  SRAM      bit cell %.3g um^2, leakage %.3g pW/bit; other static %.0f%% of peak MAC power\n",
	       p->sram_bitcell_um2, p->sram_leak_pw_per_bit, p->static_fraction * 100);
}

int cmd_devices(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, 0, 'j' },
					      { "help", no_argument, 0, 'h' },
					      { 0, 0, 0, 0 } };
	int json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c != 'h') {
			return cli_bad_option("devices", argv, c);
		} else {
			printf("usage: qmx devices [--json]\n\n"
			       "List the devices every built backend can see, with their capabilities\n"
			       "(array size, clock, features, target profile), then the target profiles\n"
			       "a model can stand for (hw/energy/profiles.ini; pick one with a URI such as\n"
			       "sim:16x16,profile=asic-7nm).  Backends built: ");
			for (const char *const *b = qmx_backend_names(); *b; b++)
				printf("%s%s", b == qmx_backend_names() ? "" : ", ", *b);
			printf("\n");
			return 0;
		}
	}
	if (cli_no_operands("devices", argc, argv))
		return 2;
	size_t n = 0;
	int err = qmx_device_list(NULL, 0, &n);
	if (err)
		return cli_error("devices", "listing devices", err);
	qmx_device_info *infos = calloc(n ? n : 1, sizeof(*infos));
	if (!infos)
		return cli_error("devices", "listing devices", QMX_ENOMEM);
	size_t cap = n;
	if ((err = qmx_device_list(infos, cap, &n))) {
		free(infos);
		return cli_error("devices", "listing devices", err);
	}
	if (n > cap)
		n = cap;
	size_t np = 0;
	qmx_profile_info *profs = NULL;
	if ((err = qmx_profile_list(NULL, 0, &np)) ||
	    !(profs = calloc(np ? np : 1, sizeof(*profs))) ||
	    (err = qmx_profile_list(profs, np, &np))) {
		free(profs);
		free(infos);
		return cli_error("devices", "reading the target profiles", err ? err : QMX_ENOMEM);
	}
	char feats[256];
	if (json)
		printf("{\"devices\": [");
	for (size_t i = 0; i < n; i++) {
		const qmx_device_info *d = &infos[i];
		features_text(d->features, feats, sizeof(feats));
		if (json) {
			printf("%s\n  {\"uri\": ", i ? "," : "");
			cli_json_string(stdout, d->uri);
			printf(", \"backend\": ");
			cli_json_string(stdout, d->backend);
			printf(", \"name\": ");
			cli_json_string(stdout, d->name);
			printf(", \"detail\": ");
			cli_json_string(stdout, d->detail);
			printf(", \"array_rows\": %u, \"array_cols\": %u, \"clock_mhz\": %u, "
			       "\"compute_units\": %u, \"hw_version\": %u, \"max_dim\": %" PRIu64
			       ", \"max_k\": %" PRIu64 ", \"features\": ",
			       d->array_rows, d->array_cols, d->clock_mhz, d->compute_units,
			       d->hw_version, d->max_dim, d->max_k);
			cli_json_string(stdout, feats);
			printf(", \"profile\": ");
			cli_json_string(stdout, d->profile);
			printf("}");
			continue;
		}
		printf("%s\n", d->uri);
		printf("  backend   %s\n  name      %s\n", d->backend, d->name);
		if (d->detail[0])
			printf("  detail    %s\n", d->detail);
		if (d->array_rows)
			printf("  array     %u x %u MACs @ %u MHz\n", d->array_rows, d->array_cols,
			       d->clock_mhz);
		if (d->hw_version)
			printf("  regmap    v%u.%u\n", d->hw_version >> 16, d->hw_version & 0xffff);
		if (d->profile[0])
			printf("  profile   %s\n", d->profile);
		printf("  units     %u\n  features  %s\n", d->compute_units, feats);
	}
	if (json) {
		printf("\n], \"profiles\": [");
		for (size_t i = 0; i < np; i++) {
			printf("%s", i ? "," : "");
			profile_json(&profs[i]);
		}
		printf("\n]}\n");
	} else {
		if (!n)
			printf("no devices found\n");
		printf("\ntarget profiles (hw/energy/profiles.ini; URI key profile=NAME):\n");
		for (size_t i = 0; i < np; i++)
			profile_text(&profs[i]);
	}
	free(profs);
	free(infos);
	return 0;
}
