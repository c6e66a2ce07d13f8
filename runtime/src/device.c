/* SPDX-License-Identifier: MIT */
/* device.c - the backend registry, device URIs, open/ref/del, enumeration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"
#include "qmx_group.h"

static const struct qmx_backend_ops *const backends[] = {
	&qmx_backend_cpu_ops,
	&qmx_backend_cpu_ref_ops,
#ifdef QMX_HAVE_SIM
	&qmx_backend_sim_ops,
#endif
	&qmx_backend_model_ops,
#ifdef QMX_HAVE_KMOD
	&qmx_backend_kmod_ops,
#endif
#ifdef QMX_HAVE_XRT
	&qmx_backend_xrt_ops,
#endif
#ifdef QMX_HAVE_OPENCL
	&qmx_backend_opencl_ops,
#endif
#ifdef QMX_HAVE_ONEDNN
	&qmx_backend_onednn_ops,
#endif
};
#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

QMX_API const char *const *qmx_backend_names(void)
{
	static const char *names[N_BACKENDS + 1];
	for (size_t i = 0; i < N_BACKENDS; i++)
		names[i] = backends[i]->name;
	names[N_BACKENDS] = NULL;
	return names;
}

QMX_API const char *qmx_default_device_uri(void)
{
	const char *env = getenv("QMX_DEVICE");
	if (env && *env)
		return env;
#ifdef QMX_HAVE_SIM
	return "sim";
#else
	return "cpu";
#endif
}

static void list_backends(char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < N_BACKENDS && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 i ? ", " : "", backends[i]->name);
}

static int device_new(const struct qmx_backend_ops *ops, const char *uri, const char *scheme,
		      const char *arg, qmx_device **out)
{
	qmx_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return qmx_fail(QMX_ENOMEM, "qmx_device_open: out of memory");
	dev->refs = 1;
	dev->ops = ops;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->acct_lock, NULL);
	snprintf(dev->info.uri, sizeof(dev->info.uri), "%s", uri);
	snprintf(dev->info.backend, sizeof(dev->info.backend), "%.15s", scheme);
	int err = dev->ops->open(dev, arg);
	if (err) {
		pthread_mutex_destroy(&dev->lock);
		pthread_mutex_destroy(&dev->acct_lock);
		free(dev);
		return err; /* the backend set the message */
	}
	*out = dev;
	return 0;
}

QMX_API int qmx_device_open(const char *uri, qmx_device **out)
{
	char scheme[32], built[160];
	const char *arg;
	size_t len;

	if (!out)
		return qmx_fail(QMX_EINVAL, "qmx_device_open: out is NULL");
	*out = NULL;
	if (!uri || !*uri)
		uri = qmx_default_device_uri();
	if ((arg = qmx_group_uri(uri)))
		return device_new(&qmx_backend_group_ops, uri, "group", arg, out);
	arg = strchr(uri, ':');
	len = arg ? (size_t)(arg - uri) : strlen(uri);
	arg = arg ? arg + 1 : "";
	list_backends(built, sizeof(built));
	if (len == 0 || len >= sizeof(scheme))
		return qmx_fail(QMX_ENODEV, "unknown device URI '%s' (backends built: %s)",
				uri, built);
	memcpy(scheme, uri, len);
	scheme[len] = '\0';

	for (size_t i = 0; i < N_BACKENDS; i++)
		if (!strcmp(backends[i]->name, scheme))
			return device_new(backends[i], uri, scheme, arg, out);
	return qmx_fail(QMX_ENODEV, "unknown device URI '%s' (backends built: %s)",
			uri, built);
}

QMX_API qmx_device *qmx_device_ref(qmx_device *dev)
{
	if (dev)
		__atomic_fetch_add(&dev->refs, 1, __ATOMIC_RELAXED);
	return dev;
}

QMX_API void qmx_device_del(qmx_device *dev)
{
	if (!dev || __atomic_sub_fetch(&dev->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (dev->ops->close)
		dev->ops->close(dev);
	qmx_account_device_free(dev);
	pthread_mutex_destroy(&dev->lock);
	pthread_mutex_destroy(&dev->acct_lock);
	free(dev);
}

QMX_API int qmx_device_query(const qmx_device *dev, qmx_device_info *info)
{
	if (!dev || !info)
		return qmx_fail(QMX_EINVAL, "qmx_device_query: %s is NULL",
				!dev ? "dev" : "info");
	*info = dev->info;
	return 0;
}

QMX_API int qmx_device_list(qmx_device_info *infos, size_t cap, size_t *count)
{
	size_t total = 0;

	if (!count)
		return qmx_fail(QMX_EINVAL, "qmx_device_list: count is NULL");
	if (cap && !infos)
		return qmx_fail(QMX_EINVAL, "qmx_device_list: infos is NULL with cap (%zu) > 0",
				cap);
	for (size_t i = 0; i < N_BACKENDS; i++) {
		size_t found = 0, room = total < cap ? cap - total : 0;
		if (!backends[i]->enumerate)
			continue;
		if (backends[i]->enumerate(room ? infos + total : NULL, room, &found))
			continue; /* a backend that cannot look lists nothing */
		total += found;
	}
	*count = total;
	return 0;
}
