/* SPDX-License-Identifier: MIT */
/*
 * fuzz_device_uri.c - qmx_device_open() on arbitrary URIs: the scheme
 * dispatch and each built backend's argument parser.  The fuzz tree builds
 * cpu and cpu-ref only (kmod would open paths named by the input; oneDNN's
 * OpenMP runtime keeps allocations LeakSanitizer reports).  Every
 * refusal must carry a message; every device opened must describe itself.
 */
#include <string.h>

#include "fuzz_common.h"
#include "qmx/qmx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char uri[600];
	qmx_device *dev = NULL;
	qmx_device_info info;

	if (size >= sizeof(uri))
		size = sizeof(uri) - 1;
	memcpy(uri, data, size);
	uri[size] = '\0';
	int err = qmx_device_open(uri, &dev);
	if (err) {
		FUZZ_ASSERT(!dev, "failed open left a device");
		FUZZ_ASSERT(err < 0 && qmx_last_error()[0], "refused '%s' without a message (%d)",
			    uri, err);
		return 0;
	}
	FUZZ_ASSERT(qmx_device_query(dev, &info) == 0, "%s", qmx_last_error());
	FUZZ_ASSERT(info.uri[0] && info.max_dim > 0, "device '%s' without uri or max_dim", uri);
	qmx_device_del(dev);
	return 0;
}
