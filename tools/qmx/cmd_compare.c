/* SPDX-License-Identifier: MIT */
/* cmd_compare.c - `qmx compare` (the energy and carbon work fills this in). */
#include "commands.h"

int cmd_compare(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "qmx compare: not built yet\n");
	return 1;
}
