/* SPDX-License-Identifier: MIT */
/* cmd_gemm.c - `qmx gemm`: one quantized GEMM on a chosen device. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "qmx/qmx.h"
#include "qmx_util.h"

static void gemm_usage(FILE *f)
{
	fprintf(f,
		"usage: qmx gemm [options]\n\n"
		"Run C = A*B (int8 x int8 -> int8 or int32) on a device, print its time,\n"
		"GOP/s and a checksum of C; --check verifies it bit for bit against the\n"
		"CPU reference.  Operands are random, from --seed.\n\n"
		"  --device URI        device to run on (default $QMX_DEVICE, else %s); a comma\n"
		"                      list (sim,sim:16x16) is a device group: each GEMM split\n"
		"                      across its members, their parts printed (docs/distributed.md)\n"
		"  --m M --n N --k K   shape (default 256 each); or --shape MxNxK\n"
		"  --lda/--ldb/--ldc   leading dimensions (default K, N, N)\n"
		"  --out int8|int32    output type (default int8)\n"
		"  --per-channel       per-output-channel multipliers and shifts\n"
		"  --bias              add a random int32 bias per column\n"
		"  --a-zp/--b-zp/--c-zp Z  zero points in [-128, 127] (default 0)\n"
		"  --relu              clamp at the output zero point (qmin = c-zp)\n"
		"  --repeat R          timed runs (default 1); the median is reported\n"
		"  --seed S            random seed (default 1)\n"
		"  --check             verify against the reference, exit 1 on mismatch\n"
		"  --json              print the result as JSON\n",
		qmx_default_device_uri());
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The members' parts of the latest GEMM on a device group (nothing for one
 * device): its share, where the share comes from, and the part's figures. */
static void print_group_members(qmx_device *dev, bool json)
{
	qmx_group_member_stats ms[QMX_GROUP_MAX_MEMBERS];
	size_t n = 0;
	qmx_device_info info;
	qmx_device_query(dev, &info);
	if (strcmp(info.backend, "group") ||
	    qmx_device_group_stats(dev, ms, QMX_GROUP_MAX_MEMBERS, &n))
		return;
	if (json)
		printf(", \"members\": [");
	for (size_t i = 0; i < n; i++) {
		const qmx_job_stats *l = &ms[i].last;
		if (json) {
			printf("%s{\"device\": ", i ? ", " : "");
			cli_json_string(stdout, ms[i].info.uri);
			printf(", \"share\": %.6g, \"share_source\": ", ms[i].weight);
			cli_json_string(stdout, ms[i].weight_source);
			printf(", \"macs\": %" PRIu64 ", \"device_ns\": %" PRIu64
			       ", \"energy_j\": %.6g, \"carbon_g\": %.6g}",
			       l->macs, l->device_ns, l->energy_j,
			       l->carbon_operational_g + l->carbon_embodied_g);
			continue;
		}
		printf("member %zu  %s: share %.3f (%s), %" PRIu64 " MACs, %.3f ms device, %.6g J\n",
		       i + 1, ms[i].info.uri, ms[i].weight, ms[i].weight_source, l->macs,
		       l->device_ns / 1e6, l->energy_j);
	}
	if (json)
		printf("]");
}

int cmd_gemm(int argc, char **argv)
{
	enum { O_M = 256, O_N, O_K, O_LDA, O_LDB, O_LDC, O_OUT, O_PC, O_BIAS, O_AZ, O_BZ,
	       O_CZ, O_REPEAT, O_SEED, O_CHECK, O_JSON, O_SHAPE, O_RELU, O_DEVICE };
	static const struct option opts[] = {
		{ "device", required_argument, 0, O_DEVICE }, { "m", required_argument, 0, O_M },
		{ "n", required_argument, 0, O_N },           { "k", required_argument, 0, O_K },
		{ "shape", required_argument, 0, O_SHAPE },   { "lda", required_argument, 0, O_LDA },
		{ "ldb", required_argument, 0, O_LDB },       { "ldc", required_argument, 0, O_LDC },
		{ "out", required_argument, 0, O_OUT },       { "per-channel", no_argument, 0, O_PC },
		{ "bias", no_argument, 0, O_BIAS },           { "a-zp", required_argument, 0, O_AZ },
		{ "b-zp", required_argument, 0, O_BZ },       { "c-zp", required_argument, 0, O_CZ },
		{ "relu", no_argument, 0, O_RELU },           { "repeat", required_argument, 0, O_REPEAT },
		{ "seed", required_argument, 0, O_SEED },     { "check", no_argument, 0, O_CHECK },
		{ "json", no_argument, 0, O_JSON },           { "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *uri = NULL;
	long long m = 256, n = 256, k = 256, lda = 0, ldb = 0, ldc = 0, az = 0, bz = 0, cz = 0;
	long long repeat = 1, seed = 1;
	int out8 = 1, per_channel = 0, bias = 0, check = 0, json = 0, relu = 0, c;
	const long long dim_max = 0x7FFFFFFF;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case O_DEVICE: uri = optarg; bad = cli_device_arg("gemm", "device", optarg); break;
		case O_M: bad = cli_parse_i64("gemm", "m", optarg, 1, dim_max, &m); break;
		case O_N: bad = cli_parse_i64("gemm", "n", optarg, 1, dim_max, &n); break;
		case O_K: bad = cli_parse_i64("gemm", "k", optarg, 1, dim_max, &k); break;
		case O_SHAPE: {
			int64_t a, b, cc;
			if (qmx_parse_shape(optarg, &a, &b, &cc) || a < 1 || b < 1 || cc < 1) {
				fprintf(stderr, "qmx gemm: --shape '%s' must be MxNxK with positive integers\n",
					optarg);
				return 2;
			}
			m = a, n = b, k = cc;
			break;
		}
		case O_LDA: bad = cli_parse_i64("gemm", "lda", optarg, 1, dim_max, &lda); break;
		case O_LDB: bad = cli_parse_i64("gemm", "ldb", optarg, 1, dim_max, &ldb); break;
		case O_LDC: bad = cli_parse_i64("gemm", "ldc", optarg, 1, dim_max, &ldc); break;
		case O_AZ: bad = cli_parse_i64("gemm", "a-zp", optarg, -128, 127, &az); break;
		case O_BZ: bad = cli_parse_i64("gemm", "b-zp", optarg, -128, 127, &bz); break;
		case O_CZ: bad = cli_parse_i64("gemm", "c-zp", optarg, -128, 127, &cz); break;
		case O_REPEAT: bad = cli_parse_i64("gemm", "repeat", optarg, 1, 1000, &repeat); break;
		case O_SEED: bad = cli_parse_i64("gemm", "seed", optarg, 0, INT64_MAX, &seed); break;
		case O_OUT:
			if (!strcmp(optarg, "int8"))
				out8 = 1;
			else if (!strcmp(optarg, "int32"))
				out8 = 0;
			else {
				fprintf(stderr, "qmx gemm: --out '%s' must be int8 or int32\n", optarg);
				return 2;
			}
			break;
		case O_PC: per_channel = 1; break;
		case O_BIAS: bias = 1; break;
		case O_RELU: relu = 1; break;
		case O_CHECK: check = 1; break;
		case O_JSON: json = 1; break;
		case 'h': gemm_usage(stdout); return 0;
		default: return cli_bad_option("gemm", argv, c);
		}
		if (bad)
			return 2;
	}
	if (cli_no_operands("gemm", argc, argv))
		return 2;

	qmx_gemm_params p;
	qmx_gemm_params_init(&p, m, n, k);
	p.lda = lda ? lda : k;
	p.ldb = ldb ? ldb : n;
	p.ldc = ldc ? ldc : n;
	p.a_zero_point = (int32_t)az;
	p.b_zero_point = (int32_t)bz;
	p.c_zero_point = (int32_t)cz;
	p.has_bias = bias;
	p.out_type = out8 ? QMX_OUT_INT8 : QMX_OUT_INT32;
	p.quant_mode = per_channel ? QMX_QUANT_PER_CHANNEL : QMX_QUANT_PER_TENSOR;
	if (relu)
		p.qmin = p.c_zero_point;
	/* Output scale so int8 results spread over the range: ~1/(16*sqrt(K)). */
	qmx_quantize_multiplier(1.0 / (16.0 * (double)k), &p.multiplier, &p.shift);
	int err = qmx_gemm_params_check(&p);
	if (err)
		return cli_error("gemm", "parameters", err);

	qmx_rng rng = { (uint64_t)seed };
	qmx_problem pb;
	if ((err = qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM)))
		return cli_error("gemm", "allocating operands", err);

	qmx_device *dev = NULL;
	if ((err = qmx_device_open(uri, &dev))) {
		qmx_problem_free(&pb);
		return cli_error("gemm", "opening device", err);
	}
	qmx_device_info info;
	qmx_device_query(dev, &info);

	qmx_gemm_host_operands ops;
	qmx_problem_operands(&pb, &ops, false);
	uint64_t *walls = calloc((size_t)repeat, sizeof(uint64_t));
	qmx_job_stats st, last;
	memset(&last, 0, sizeof(last));
	for (long long r = 0; r < repeat && !err; r++) {
		err = qmx_gemm(dev, &p, &ops, &st);
		walls[r] = st.wall_ns;
		last = st;
	}
	int status = 0;
	if (err) {
		status = cli_error("gemm", "running", err);
		goto out;
	}
	qsort(walls, (size_t)repeat, sizeof(uint64_t), cmp_u64);
	uint64_t wall = walls[repeat / 2];
	double ops_count = 2.0 * (double)m * (double)n * (double)k;
	double gops = wall ? ops_count / (double)wall : 0.0;
	uint64_t sum = qmx_output_checksum(&p, pb.c);
	const char *verdict = "not checked";
	char msg[160] = "";
	if (check) {
		if ((err = qmx_problem_compute_reference(&pb))) {
			status = cli_error("gemm", "reference", err);
			goto out;
		}
		if (qmx_problem_matches(&pb, msg, sizeof(msg))) {
			verdict = "PASS (bit-exact vs the CPU reference)";
		} else {
			verdict = "FAIL";
			status = 1;
		}
	}
	const char *esrc = last.energy_source == QMX_ENERGY_MEASURED   ? "measured"
			   : last.energy_source == QMX_ENERGY_MODELLED ? "modelled"
								       : "none";
	if (json) {
		printf("{\"device\": ");
		cli_json_string(stdout, info.uri);
		printf(", \"m\": %lld, \"n\": %lld, \"k\": %lld, \"out\": \"%s\", \"per_channel\": %d, "
		       "\"bias\": %d, \"seed\": %lld, \"repeat\": %lld, \"wall_ns\": %" PRIu64
		       ", \"device_ns\": %" PRIu64 ", \"cycles\": %" PRIu64 ", \"macs\": %" PRIu64
		       ", \"gops\": %.3f, \"checksum\": \"%016" PRIx64 "\", \"energy_j\": %.6g, "
		       "\"energy_source\": \"%s\", \"ext_bytes\": %" PRIu64
		       ", \"compulsory_bytes\": %" PRIu64 ", \"check\": ",
		       m, n, k, out8 ? "int8" : "int32", per_channel, bias, seed, repeat, wall,
		       last.device_ns, last.cycles, last.macs, gops, sum, last.energy_j, esrc,
		       last.ext_bytes_read + last.ext_bytes_written, qmx_compulsory_bytes(&p));
		if (check)
			printf("%s", status ? "false" : "true");
		else
			printf("null");
		printf(", \"profile\": ");
		cli_json_string(stdout, info.profile);
		printf(", \"energy_by_action_j\": {\"mac\": %.6g, \"sram\": %.6g, \"dram\": %.6g, "
		       "\"clock\": %.6g, \"leakage\": %.6g, \"static\": %.6g}",
		       last.energy_mac_j, last.energy_sram_j, last.energy_dram_j, last.energy_clock_j,
		       last.energy_leakage_j, last.energy_static_j);
		/* The last run's stats in full precision (what the job journal
		 * and `qmx exporter` count). */
		printf(", \"stats\": {\"device_ns\": %" PRIu64 ", \"cycles\": %" PRIu64
		       ", \"macs\": %" PRIu64 ", \"ext_bytes_read\": %" PRIu64
		       ", \"ext_bytes_written\": %" PRIu64 ", \"sram_bytes_read\": %" PRIu64
		       ", \"sram_bytes_written\": %" PRIu64 ", \"energy_j\": %.17g"
		       ", \"carbon_operational_g\": %.17g, \"carbon_embodied_g\": %.17g}",
		       last.device_ns, last.cycles, last.macs, last.ext_bytes_read,
		       last.ext_bytes_written, last.sram_bytes_read, last.sram_bytes_written,
		       last.energy_j, last.carbon_operational_g, last.carbon_embodied_g);
		print_group_members(dev, true);
		printf("}\n");
	} else {
		printf("device    %s (%s)\n", info.uri, info.name);
		printf("shape     M=%lld N=%lld K=%lld  out=%s%s%s  seed=%lld\n", m, n, k,
		       out8 ? "int8" : "int32", per_channel ? " per-channel" : "",
		       bias ? " +bias" : "", seed);
		printf("time      %.3f ms wall (median of %lld), %.3f ms device\n", wall / 1e6,
		       repeat, last.device_ns / 1e6);
		if (last.cycles)
			printf("cycles    %" PRIu64 " (%" PRIu64 " stalled), utilisation %.1f%%%s\n",
			       last.cycles, last.stall_cycles,
			       info.array_rows ? 100.0 * (double)last.macs /
							 ((double)last.cycles * info.array_rows *
							  info.array_cols)
					       : 0.0,
			       !strcmp(info.backend, "model") ? ", modelled (analytical)" : "");
		uint64_t dram = last.ext_bytes_read + last.ext_bytes_written;
		if (dram) {
			uint64_t comp = qmx_compulsory_bytes(&p);
			printf("dram      %" PRIu64 " B read, %" PRIu64 " B written: %.2fx the "
			       "compulsory %" PRIu64 " B (A, B, C once + vectors)\n",
			       last.ext_bytes_read, last.ext_bytes_written,
			       (double)dram / (double)comp, comp);
		}
		printf("rate      %.2f GOP/s (2*M*N*K / wall)\n", gops);
		if (last.energy_source != QMX_ENERGY_NONE)
			printf("energy    %.6g J (%s%s%s), %.3g pJ/op\n", last.energy_j, esrc,
			       info.profile[0] ? ", profile " : "", info.profile,
			       last.macs ? last.energy_j / (2.0 * (double)last.macs) * 1e12 : 0.0);
		double by = last.energy_mac_j + last.energy_sram_j + last.energy_dram_j +
			    last.energy_clock_j + last.energy_leakage_j + last.energy_static_j;
		if (by > 0)
			printf("by action MAC %.3g J, SRAM %.3g J, DRAM %.3g J, clock %.3g J, leakage %.3g J, static %.3g J\n",
			       last.energy_mac_j, last.energy_sram_j, last.energy_dram_j,
			       last.energy_clock_j, last.energy_leakage_j, last.energy_static_j);
		printf("checksum  %016" PRIx64 "\n", sum);
		printf("check     %s%s%s\n", verdict, msg[0] ? ": " : "", msg);
		print_group_members(dev, false);
	}
out:
	free(walls);
	qmx_device_del(dev);
	qmx_problem_free(&pb);
	return status;
}
