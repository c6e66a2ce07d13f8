/* SPDX-License-Identifier: MIT */
/* main.c - `qmx <command> [options]`: dispatch and shared option helpers. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "qmx/qmx.h"

static const struct qmx_command commands[] = {
	{ "devices", "list devices and their capabilities", cmd_devices },
	{ "gemm", "run one quantized GEMM, time it, verify it", cmd_gemm },
	{ "compare", "time, energy and carbon of workloads vs the CPU baseline", cmd_compare },
	{ "bench", "CPU int8 GEMM against oneDNN and OpenBLAS", cmd_bench },
	{ "schedule", "replay deferrable jobs against a grid-intensity trace", cmd_schedule },
	{ "explore", "sweep accelerator designs: carbon per unit vs utilisation", cmd_explore },
	{ "exporter", "serve device telemetry to Prometheus (/metrics, textfile)", cmd_exporter },
	{ "cdi", "write a Container Device Interface spec for qmx.ko's nodes", cmd_cdi },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: qmx <command> [options]   (qmx <command> --help for more)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\ndevices are named by URI: cpu, cpu-ref, sim, kmod[:/dev/dri/renderDN], xrt:N, opencl:N;\n"
		   "the default is $QMX_DEVICE, else %s.\n", qmx_default_device_uri());
}

int cli_error(const char *cmd, const char *what, int err)
{
	const char *detail = qmx_last_error();
	fprintf(stderr, "qmx %s: %s: %s (%s)\n", cmd, what,
		*detail ? detail : qmx_strerror(err), qmx_error_name(err));
	return 1;
}

int cli_parse_i64(const char *cmd, const char *opt, const char *s, long long lo,
		  long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "qmx %s: --%s '%s' must be an integer in [%lld, %lld]\n", cmd,
			opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_bad_option(const char *cmd, char **argv, int c)
{
	/* getopt has moved past a long option; a short one is in optopt. */
	const char *last = optind > 0 ? argv[optind - 1] : "";
	char shortopt[3] = { '-', (char)optopt, 0 };
	const char *opt = strncmp(last, "--", 2) && optopt > 0 && optopt < 128 ? shortopt : last;

	if (c == ':')
		fprintf(stderr, "qmx %s: option '%s' needs a value (see qmx %s --help)\n", cmd,
			opt, cmd);
	else
		fprintf(stderr, "qmx %s: unknown option '%s' (see qmx %s --help)\n", cmd, opt,
			cmd);
	return 2;
}

int cli_device_arg(const char *cmd, const char *opt, const char *value)
{
	if (*value)
		return 0;
	fprintf(stderr, "qmx %s: --%s needs a device URI (e.g. cpu, sim, kmod); leave the option out for the default\n",
		cmd, opt);
	return -1;
}

int cli_no_operands(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	fprintf(stderr, "qmx %s: unexpected argument '%s' (see qmx %s --help)\n", cmd,
		argv[optind], cmd);
	return -1;
}

void cli_json_number(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.10g", v); /* enough digits to recompute from */
	else
		fputs("null", f);
}

int cli_write_atomic(const char *path, int (*write)(void *ctx, const char *tmp), void *ctx)
{
	char tmp[4096 + 16];
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(tmp)) < 0)
		return -1;
	/* mkstemp makes it 0600; the file is as readable as any new file. */
	mode_t mask = umask(0);
	umask(mask);
	int bad = fchmod(fd, 0666 & ~mask);
	if (close(fd))
		bad = -1;
	if (bad || write(ctx, tmp) || rename(tmp, path)) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

static int write_buffer(void *ctx, const char *tmp)
{
	const struct cli_buffer *b = ctx;
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -1;
	int bad = fwrite(b->data, 1, b->len, f) != b->len;
	if (fclose(f))
		bad = 1;
	return bad ? -1 : 0;
}

int cli_write_buffer_atomic(const char *path, const char *data, size_t len)
{
	struct cli_buffer b = { data, len };
	return cli_write_atomic(path, write_buffer, &b);
}

void cli_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("qmx %d.%d.%d\n", QMX_VERSION_MAJOR, QMX_VERSION_MINOR, QMX_VERSION_PATCH);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "qmx: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
