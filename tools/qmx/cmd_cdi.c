/* SPDX-License-Identifier: MIT */
/*
 * cmd_cdi.c - `qmx cdi`: a Container Device Interface spec (kind
 * qmx.dev/gemm) for the accel or render nodes of qmx.ko, so a container
 * engine with CDI (Podman, Docker >= 25, containerd) passes one card with
 * `--device qmx.dev/gemm=0`, or every card with `=all`.  cdiVersion 0.5.0:
 * the newest that Debian 12's Podman (CDI library 0.5) reads; the spec uses
 * nothing later versions added.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "kmod_nodes.h"

static void node_json(FILE *f, const struct kmod_node *k)
{
	fprintf(f, "{\"path\": ");
	cli_json_string(f, k->path);
	if (k->major >= 0)
		fprintf(f, ", \"type\": \"c\", \"major\": %d, \"minor\": %d", k->major, k->minor);
	fprintf(f, ", \"permissions\": \"rw\"}");
}

static void spec_json(FILE *f, const struct kmod_node *nodes, size_t n)
{
	fprintf(f, "{\n  \"cdiVersion\": \"0.5.0\",\n  \"kind\": \"qmx.dev/gemm\",\n  \"devices\": [\n");
	for (size_t i = 0; i < n; i++) {
		/* The device's own URI in the container, so libqmx's default
		 * device is the card it was given. */
		char env[128];
		snprintf(env, sizeof(env), "QMX_DEVICE=kmod:%s", nodes[i].path);
		fprintf(f, "    {\n      \"name\": \"%zu\",\n      \"containerEdits\": {\n        \"env\": [",
			i);
		cli_json_string(f, env);
		fprintf(f, "],\n        \"deviceNodes\": [");
		node_json(f, &nodes[i]);
		fprintf(f, "]\n      }\n    },\n");
	}
	fprintf(f, "    {\n      \"name\": \"all\",\n      \"containerEdits\": {\n        \"deviceNodes\": [");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s\n          ", i ? "," : "");
		node_json(f, &nodes[i]);
	}
	fprintf(f, "\n        ]\n      }\n    }\n  ]\n}\n");
}

int cmd_cdi(int argc, char **argv)
{
	static const struct option opts[] = { { "output", required_argument, 0, 'o' },
					      { "help", no_argument, 0, 'h' },
					      { 0, 0, 0, 0 } };
	const char *output = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (c == 'o') {
			if (!*optarg) {
				fprintf(stderr, "qmx cdi: --output needs a file name (e.g. /etc/cdi/qmx.json)\n");
				return 2;
			}
			output = optarg;
		} else if (c != 'h') {
			return cli_bad_option("cdi", argv, c);
		} else {
			printf("usage: qmx cdi [--output FILE]\n\n"
			       "Write a Container Device Interface spec (cdiVersion 0.5.0, kind\n"
			       "qmx.dev/gemm) for the accel (/dev/accel/accelN) or render\n"
			       "(/dev/dri/renderDN) nodes bound to qmx.ko, found through the\n"
			       "sysfs driver links ($QMX_SYSFS_ROOT, default /sys).  Devices are\n"
			       "named 0, 1, ... in node order, plus 'all'; each sets QMX_DEVICE in\n"
			       "the container to its node.  Install it where the engine looks:\n\n"
			       "  qmx cdi --output /etc/cdi/qmx.json\n"
			       "  podman run --device qmx.dev/gemm=0 IMAGE qmx devices\n\n"
			       "  --output FILE   write FILE (replaced atomically) instead of stdout\n");
			return 0;
		}
	}
	if (cli_no_operands("cdi", argc, argv))
		return 2;
	struct kmod_node nodes[KMOD_NODES_MAX];
	const char *sys = kmod_sysfs_root();
	size_t n = kmod_nodes_find(sys, nodes, KMOD_NODES_MAX);
	if (!n) {
		fprintf(stderr, "qmx cdi: no accel or render node bound to qmx.ko under %s/class/{accel,drm} (is the module loaded?)\n",
			sys);
		return 1;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		fprintf(stderr, "qmx cdi: out of memory\n");
		return 1;
	}
	spec_json(f, nodes, n);
	fclose(f);
	int status = 0;
	if (!output) {
		fwrite(buf, 1, len, stdout);
	} else if (cli_write_buffer_atomic(output, buf, len)) {
		fprintf(stderr, "qmx cdi: --output '%s': %s\n", output, strerror(errno));
		status = 1;
	} else {
		fprintf(stderr, "qmx cdi: %zu device%s written to %s\n", n, n == 1 ? "" : "s",
			output);
	}
	free(buf);
	return status;
}
