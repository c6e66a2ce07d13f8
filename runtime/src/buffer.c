/* SPDX-License-Identifier: MIT */
/* buffer.c - device buffers; host memory unless the backend allocates. */
#include <stdlib.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"

#define QMX_BUFFER_ALIGN 64

QMX_API int qmx_buffer_new(qmx_device *dev, size_t size, uint32_t flags,
			   qmx_buffer **out)
{
	if (!out)
		return qmx_fail(QMX_EINVAL, "qmx_buffer_new: out is NULL");
	*out = NULL;
	if (!dev)
		return qmx_fail(QMX_EINVAL, "qmx_buffer_new: dev is NULL");
	if (size == 0)
		return qmx_fail(QMX_EINVAL, "qmx_buffer_new: size (0) must be > 0");
	if (size > SIZE_MAX - QMX_BUFFER_ALIGN)
		return qmx_fail(QMX_EOVERFLOW, "qmx_buffer_new: size (%zu) too large", size);
	if (flags)
		return qmx_fail(QMX_EINVAL, "qmx_buffer_new: flags (0x%x) must be 0", flags);

	qmx_buffer *buf = calloc(1, sizeof(*buf));
	if (!buf)
		return qmx_fail(QMX_ENOMEM, "qmx_buffer_new: out of memory");
	buf->dev = dev;
	buf->size = size;
	buf->flags = flags;
	int err;
	if (dev->ops->buffer_alloc) {
		err = dev->ops->buffer_alloc(dev, buf);
	} else {
		size_t rounded = (size + QMX_BUFFER_ALIGN - 1) & ~(size_t)(QMX_BUFFER_ALIGN - 1);
		buf->host = aligned_alloc(QMX_BUFFER_ALIGN, rounded);
		err = buf->host ? 0 : qmx_fail(QMX_ENOMEM,
					       "qmx_buffer_new: cannot allocate %zu bytes", size);
		if (buf->host)
			memset(buf->host, 0, rounded);
	}
	if (err) {
		free(buf);
		return err;
	}
	qmx_device_ref(dev);
	*out = buf;
	return 0;
}

QMX_API int qmx_buffer_map(qmx_buffer *buf, void **ptr)
{
	if (!buf || !ptr)
		return qmx_fail(QMX_EINVAL, "qmx_buffer_map: %s is NULL", !buf ? "buf" : "ptr");
	if (buf->dev->ops->buffer_map) {
		int err = buf->dev->ops->buffer_map(buf, ptr);
		if (err)
			return err;
	} else {
		*ptr = buf->host;
	}
	buf->map_count++;
	return 0;
}

QMX_API int qmx_buffer_unmap(qmx_buffer *buf)
{
	if (!buf)
		return qmx_fail(QMX_EINVAL, "qmx_buffer_unmap: buf is NULL");
	if (buf->map_count == 0)
		return qmx_fail(QMX_EINVAL, "qmx_buffer_unmap: buffer is not mapped");
	buf->map_count--;
	if (buf->dev->ops->buffer_unmap)
		return buf->dev->ops->buffer_unmap(buf);
	return 0;
}

QMX_API int qmx_buffer_sync(qmx_buffer *buf, enum qmx_sync_dir dir,
			    size_t offset, size_t size)
{
	if (!buf)
		return qmx_fail(QMX_EINVAL, "qmx_buffer_sync: buf is NULL");
	if (dir != QMX_SYNC_TO_DEVICE && dir != QMX_SYNC_FROM_DEVICE)
		return qmx_fail(QMX_EINVAL, "qmx_buffer_sync: dir (%d) is not TO_DEVICE (1) or FROM_DEVICE (2)",
				(int)dir);
	if (offset > buf->size || size > buf->size - offset)
		return qmx_fail(QMX_EINVAL,
				"qmx_buffer_sync: offset (%zu) + size (%zu) > buffer size (%zu)",
				offset, size, buf->size);
	if (buf->dev->ops->buffer_sync)
		return buf->dev->ops->buffer_sync(buf, dir, offset, size);
	return 0;
}

QMX_API size_t qmx_buffer_size(const qmx_buffer *buf)
{
	return buf ? buf->size : 0;
}

QMX_API void qmx_buffer_del(qmx_buffer *buf)
{
	if (!buf)
		return;
	qmx_device *dev = buf->dev;
	if (dev->ops->buffer_free)
		dev->ops->buffer_free(dev, buf);
	else
		free(buf->host);
	free(buf);
	qmx_device_del(dev);
}
