/* SPDX-License-Identifier: MIT */
/*
 * fpga_expect_error.c - open a device that must not open, and check the
 * error word for word.
 *
 *   fpga_expect_error URI QMX_E<NAME> MESSAGE [--prefix]
 *
 * Passes when qmx_device_open(URI) fails with that code and qmx_last_error()
 * equals MESSAGE (or, with --prefix, starts with it, for messages that end
 * in a compiler's build log).  The environment (set by ctest) creates the
 * situation: no ICD vendors, no XRT library, no xclbin, a wrong version.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "qmx/qmx.h"

int main(int argc, char **argv)
{
	qmx_device *dev = NULL;

	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "--prefix"))) {
		fprintf(stderr, "usage: %s URI QMX_E<NAME> MESSAGE [--prefix]\n", argv[0]);
		return 2;
	}
	int err = qmx_device_open(argv[1], &dev);
	const char *msg = qmx_last_error();
	if (!err) {
		fprintf(stderr, "FAIL: %s opened, expected %s\n", argv[1], argv[2]);
		qmx_device_del(dev);
		return 1;
	}
	bool same = argc == 5 ? !strncmp(msg, argv[3], strlen(argv[3])) : !strcmp(msg, argv[3]);
	if (strcmp(qmx_error_name(err), argv[2]) || !same) {
		fprintf(stderr, "FAIL: %s\n  got      %s: %s\n  expected %s: %s%s\n", argv[1],
			qmx_error_name(err), msg, argv[2], argv[3], argc == 5 ? "..." : "");
		return 1;
	}
	printf("ok: %s: %s: %s\n", argv[1], argv[2], msg);
	return 0;
}
