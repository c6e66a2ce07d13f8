// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "qmx_accel.h"
#include "qmx_drv.h"
#include "qmx_gem.h"
#include "qmx_transport.h"

static void qmx_gem_free(struct drm_gem_object *obj)
{
	struct qmx_gem_object *bo = to_qmx_bo(obj);
	struct qmx_device *qdev = to_qmx_device(obj->dev);

	/* Jobs hold BO references, so the device is done with it here. */
	if (bo->mapped)
		qdev->ops->unmap_bo(qdev, bo);
	mutex_destroy(&bo->map_lock);
	drm_gem_shmem_free(&bo->base);
}

static const struct drm_gem_object_funcs qmx_gem_funcs = {
	.free = qmx_gem_free,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

struct drm_gem_object *qmx_gem_create_object(struct drm_device *dev,
					     size_t size)
{
	struct qmx_gem_object *bo;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	mutex_init(&bo->map_lock);
	bo->base.base.funcs = &qmx_gem_funcs;
	/* Cached CPU mappings; DMA syncs around each job keep them coherent. */
	bo->base.map_wc = false;
	return &bo->base.base;
}

/* Map a BO for the device once; later jobs reuse the mapping. */
int qmx_gem_map(struct qmx_device *qdev, struct qmx_gem_object *bo,
		u64 *dev_addr)
{
	struct sg_table *sgt;
	int ret = 0;

	mutex_lock(&bo->map_lock);
	if (bo->mapped)
		goto out_addr;

	/* Pins the pages and DMA-maps them for the parent device. */
	sgt = drm_gem_shmem_get_pages_sgt(&bo->base);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_unlock;
	}
	bo->sgt = sgt;

	ret = qdev->ops->map_bo(qdev, bo, &bo->dev_addr);
	if (ret)
		goto out_unlock;
	bo->mapped = true;

out_addr:
	*dev_addr = bo->dev_addr;
out_unlock:
	mutex_unlock(&bo->map_lock);
	return ret;
}

void qmx_gem_sync_for_device(struct qmx_device *qdev,
			     struct qmx_gem_object *bo)
{
	dma_sync_sgtable_for_device(qdev->drm.dev, bo->sgt, DMA_BIDIRECTIONAL);
}

void qmx_gem_sync_for_cpu(struct qmx_device *qdev, struct qmx_gem_object *bo)
{
	dma_sync_sgtable_for_cpu(qdev->drm.dev, bo->sgt, DMA_BIDIRECTIONAL);
}

/*
 * PCI and platform transports: the device has no MMU of its own, so a BO
 * must be one range in its address space - an IOMMU makes that so, or the
 * pages happen to be physically contiguous.
 */
void qmx_dma_unmap_bo_shmem(struct qmx_device *qdev, struct qmx_gem_object *bo)
{
	/* The DMA mapping belongs to the shmem helper and goes with the BO. */
}

int qmx_dma_map_bo_contig(struct qmx_device *qdev, struct qmx_gem_object *bo,
			  u64 *dev_addr)
{
	struct scatterlist *sg;
	dma_addr_t start = 0, next = 0;
	u64 limit, size = bo->base.base.size;
	unsigned int i;

	for_each_sgtable_dma_sg(bo->sgt, sg, i) {
		if (i == 0) {
			start = sg_dma_address(sg);
			next = start;
		}
		if (sg_dma_address(sg) != next) {
			drm_warn_once(&qdev->drm,
				      "BO of %llu bytes is not contiguous in device address space: enable the IOMMU or use smaller buffers\n",
				      size);
			return -EINVAL;
		}
		next += sg_dma_len(sg);
	}
	if (next - start < size)
		return -EINVAL;

	limit = qdev->info.bus_addr_bits >= 64 ? U64_MAX :
		(1ull << qdev->info.bus_addr_bits) - 1;
	if (start > limit || size - 1 > limit - start) {
		drm_dbg(&qdev->drm, "BO at %pad beyond the device's %u address bits\n",
			&start, qdev->info.bus_addr_bits);
		return -EINVAL;
	}
	*dev_addr = start;
	return 0;
}

int qmx_ioctl_bo_create(struct drm_device *dev, void *data,
			struct drm_file *file)
{
	struct drm_qmx_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	int ret;

	if (args->flags) {
		drm_dbg(dev, "bo_create: flags 0x%x must be 0\n", args->flags);
		return -EINVAL;
	}
	if (!args->size || args->size > QMX_BO_MAX_SIZE) {
		drm_dbg(dev, "bo_create: size %llu not in 1..%llu\n",
			args->size, QMX_BO_MAX_SIZE);
		return -EINVAL;
	}

	shmem = drm_gem_shmem_create(dev, PAGE_ALIGN(args->size));
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);

	ret = drm_gem_handle_create(file, &shmem->base, &args->handle);
	/* The handle (if any) holds the reference now. */
	drm_gem_object_put(&shmem->base);
	return ret;
}

int qmx_ioctl_bo_mmap_offset(struct drm_device *dev, void *data,
			     struct drm_file *file)
{
	struct drm_qmx_bo_mmap_offset *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->pad) {
		drm_dbg(dev, "bo_mmap_offset: pad must be 0\n");
		return -EINVAL;
	}
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj) {
		drm_dbg(dev, "bo_mmap_offset: handle %u not found\n",
			args->handle);
		return -ENOENT;
	}
	ret = drm_gem_create_mmap_offset(obj);
	if (!ret)
		args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	drm_gem_object_put(obj);
	return ret;
}
