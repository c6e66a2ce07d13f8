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
/* Print a JSON string (with quotes and escapes). */
void cli_json_string(FILE *f, const char *s);
/* Print a JSON number, or null for one that has none (never, infinite). */
void cli_json_number(FILE *f, double v);

#endif
