/* SPDX-License-Identifier: MIT */
/* kmod_nodes.h - the device nodes of qmx.ko, found through sysfs driver links. */
#ifndef QMX_CLI_KMOD_NODES_H
#define QMX_CLI_KMOD_NODES_H

#include <stddef.h>

#define KMOD_NODES_MAX 64

struct kmod_node {
	char name[32];      /* "renderD128", "accel0" */
	char path[64];      /* "/dev/dri/renderD128", "/dev/accel/accel0" */
	char sysdev[512];   /* the parent device's sysfs path, links resolved */
	int major, minor;   /* from the class entry's "dev", -1 when unreadable */
};

/* $QMX_SYSFS_ROOT, else "/sys"; $QMX_PROCFS_ROOT, else "/proc" (fixture
 * trees in the tests, as the energy code reads them). */
const char *kmod_sysfs_root(void);
const char *kmod_procfs_root(void);

/* Every accel node (<sys>/class/accel/accelN) and render node
 * (<sys>/class/drm/renderDN) whose device is bound to a driver of the module
 * qmx (the driver's "module" link; a driver named "qmx" when it has none),
 * accel nodes first, each class by number.  Fills at most cap entries and
 * returns how many were found. */
size_t kmod_nodes_find(const char *sysroot, struct kmod_node *out, size_t cap);

/* Read a small text file whole (NUL-terminated, trailing newline cut); 0 or -1. */
int kmod_read_text(const char *path, char *buf, size_t len);

#endif
