/* SPDX-License-Identifier: MIT */
/*
 * kmod_nodes.c - find the device nodes of qmx.ko: a class entry's "device"
 * link leads to the bound device, whose "driver" link leads to the driver and
 * its "module" link to the module: qmx.ko registers several drivers (qmx,
 * qmx-platform, qmx_cosim), all with the module qmx.
 * Shared by `qmx exporter` (fdinfo, hwmon) and `qmx cdi`.
 */
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmod_nodes.h"

const char *kmod_sysfs_root(void)
{
	const char *r = getenv("QMX_SYSFS_ROOT");
	return r && *r ? r : "/sys";
}

const char *kmod_procfs_root(void)
{
	const char *r = getenv("QMX_PROCFS_ROOT");
	return r && *r ? r : "/proc";
}

int kmod_read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static const struct {
	const char *cls, *prefix, *dev_dir;
} classes[] = {
	{ "accel", "accel", "/dev/accel" },
	{ "drm", "renderD", "/dev/dri" },
};

/* Whether <dir>/<name>/<rel> is a link whose last component is "qmx". */
static bool link_named(const char *dir, const char *name, const char *rel, char *buf,
		       size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, rel);
	ssize_t l = readlink(path, buf, len - 1);
	if (l <= 0)
		return false;
	buf[l] = '\0';
	const char *base = strrchr(buf, '/');
	return !strcmp(base ? base + 1 : buf, "qmx");
}

static int node_cmp(const void *a, const void *b)
{
	const struct kmod_node *x = a, *y = b;
	/* accelN before renderDN, then by number */
	int cx = x->name[0] == 'r', cy = y->name[0] == 'r';
	if (cx != cy)
		return cx - cy;
	long nx = strtol(x->name + strcspn(x->name, "0123456789"), NULL, 10);
	long ny = strtol(y->name + strcspn(y->name, "0123456789"), NULL, 10);
	return (nx > ny) - (nx < ny);
}

size_t kmod_nodes_find(const char *sysroot, struct kmod_node *out, size_t cap)
{
	size_t n = 0;
	for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
		char dir[2048], path[PATH_MAX], link[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/class/%s", sysroot, classes[c].cls);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *de;
		size_t plen = strlen(classes[c].prefix);
		while ((de = readdir(d)) && n < cap) {
			const char *num = de->d_name + plen;
			if (strncmp(de->d_name, classes[c].prefix, plen) || !*num ||
			    strspn(num, "0123456789") != strlen(num) ||
			    strlen(de->d_name) >= sizeof(out[n].name))
				continue;
			if (!link_named(dir, de->d_name, "device/driver/module", link, sizeof(link)) &&
			    !link_named(dir, de->d_name, "device/driver", link, sizeof(link)))
				continue;
			struct kmod_node *k = &out[n];
			memset(k, 0, sizeof(*k));
			snprintf(k->name, sizeof(k->name), "%s", de->d_name);
			snprintf(k->path, sizeof(k->path), "%s/%s", classes[c].dev_dir, de->d_name);
			snprintf(path, sizeof(path), "%s/%s/device", dir, de->d_name);
			if (!realpath(path, k->sysdev))
				k->sysdev[0] = '\0';
			char dev[32];
			k->major = k->minor = -1;
			snprintf(path, sizeof(path), "%s/%s/dev", dir, de->d_name);
			if (kmod_read_text(path, dev, sizeof(dev)) == 0 &&
			    sscanf(dev, "%d:%d", &k->major, &k->minor) != 2)
				k->major = k->minor = -1;
			n++;
		}
		closedir(d);
	}
	qsort(out, n, sizeof(*out), node_cmp);
	return n;
}
