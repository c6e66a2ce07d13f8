/* SPDX-License-Identifier: MIT */
/* commands.h - subcommands of the qmx tool; each lives in cmd_<name>.c. */
#ifndef QMX_CLI_COMMANDS_H
#define QMX_CLI_COMMANDS_H

#include <stdio.h>

struct qmx_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

int cmd_devices(int argc, char **argv);
int cmd_gemm(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_explore(int argc, char **argv);
int cmd_exporter(int argc, char **argv);
int cmd_cdi(int argc, char **argv);

/* Print "qmx <cmd>: <what>: <qmx_last_error() or strerror>" to stderr and
 * return the exit status for that error (1). */
int cli_error(const char *cmd, const char *what, int err);
/* Parse a signed integer option value in [lo, hi]; prints and returns -1 on error. */
int cli_parse_i64(const char *cmd, const char *opt, const char *s, long long lo,
		  long long hi, long long *out);
/* getopt_long() returned '?' or ':' (optstring starting with ':'): print
 * one line naming the option and pointing to --help; returns 2. */
int cli_bad_option(const char *cmd, char **argv, int c);
/* Reject an empty --device/--base value (the library would take it as the
 * default device); prints and returns -1. */
int cli_device_arg(const char *cmd, const char *opt, const char *value);
/* Reject arguments left after the options; prints and returns -1. */
int cli_no_operands(const char *cmd, int argc, char **argv);
/* Write a file whole or not at all: write(ctx, tmp) fills a temporary file
 * beside `path`, which is then renamed over it, so a reader (a textfile
 * collector, a container engine) or a full disk never sees it truncated.
 * 0, or -1 with errno. */
int cli_write_atomic(const char *path, int (*write)(void *ctx, const char *tmp), void *ctx);
struct cli_buffer {
	const char *data;
	size_t len;
};
/* cli_write_atomic() of one buffer. */
int cli_write_buffer_atomic(const char *path, const char *data, size_t len);
/* Print a JSON string (with quotes and escapes). */
void cli_json_string(FILE *f, const char *s);
/* Print a JSON number, or null for one that has none (never, infinite). */
void cli_json_number(FILE *f, double v);

#endif
