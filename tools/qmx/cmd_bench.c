/* SPDX-License-Identifier: MIT */
/* cmd_bench.c - `qmx bench` (the CPU baseline work fills this in). */
#include "commands.h"

int cmd_bench(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "qmx bench: not built yet\n");
	return 1;
}
