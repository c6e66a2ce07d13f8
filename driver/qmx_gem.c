// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "qmx_accel.h"
#include "qmx_drv.h"
#include "qmx_gem.h"
#include "qmx_job.h"
#include "qmx_transport.h"

/*
 * Pinned memory is bounded: a job pins (and maps for the device) the BOs it
 * names from SUBMIT until it finishes, and the pages it holds count against a
 * per-file and a per-device limit, so one unprivileged process cannot pin
 * most of RAM by queueing jobs on large BOs.  A SUBMIT over a limit fails
 * with -ENOSPC.  The BOs a file creates are bounded too: on 6.1 the shmem
 * helper populates (and holds) every page of a BO that is mmapped, so a
 * 4 GiB BO mapped is 4 GiB of RAM; BO_CREATE past the limit fails with
 * -ENOSPC.  The limits are read at bind.
 */
static unsigned int qmx_pin_limit_mb;
module_param_named(pin_limit_mb, qmx_pin_limit_mb, uint, 0444);
MODULE_PARM_DESC(pin_limit_mb,
		 "MiB of BO memory the device's unfinished jobs may pin (default 0: a quarter of RAM)");
static unsigned int qmx_file_pin_limit_mb;
module_param_named(file_pin_limit_mb, qmx_file_pin_limit_mb, uint, 0444);
MODULE_PARM_DESC(file_pin_limit_mb,
		 "MiB of BO memory one open file's unfinished jobs may pin (default 0: half of pin_limit_mb)");
static unsigned int qmx_file_bo_limit_mb;
module_param_named(file_bo_limit_mb, qmx_file_bo_limit_mb, uint, 0444);
MODULE_PARM_DESC(file_bo_limit_mb,
		 "MiB of live BOs one open file may create (default 0: half of RAM)");

void qmx_gem_pin_limits_init(struct qmx_device *qdev)
{
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;

	qdev->pin_limit = qmx_pin_limit_mb ? (u64)qmx_pin_limit_mb << 20 : ram / 4;
	qdev->file_pin_limit = qmx_file_pin_limit_mb ?
		(u64)qmx_file_pin_limit_mb << 20 : qdev->pin_limit / 2;
	qdev->file_pin_limit = min(qdev->file_pin_limit, qdev->pin_limit);
	qdev->file_bo_limit = qmx_file_bo_limit_mb ?
		(u64)qmx_file_bo_limit_mb << 20 : ram / 2;
}

static int qmx_gem_pin_charge(struct qmx_device *qdev,
			      struct qmx_file_stats *fstats, u64 size)
{
	if (atomic64_add_return(size, &fstats->pinned_bytes) >
	    qdev->file_pin_limit) {
		atomic64_sub(size, &fstats->pinned_bytes);
		drm_dbg(&qdev->drm, "submit: pinning %llu more bytes exceeds the file's limit of %llu (qmx.file_pin_limit_mb)\n",
			size, qdev->file_pin_limit);
		return -ENOSPC;
	}
	if (atomic64_add_return(size, &qdev->pinned_bytes) > qdev->pin_limit) {
		atomic64_sub(size, &qdev->pinned_bytes);
		atomic64_sub(size, &fstats->pinned_bytes);
		drm_dbg(&qdev->drm, "submit: pinning %llu more bytes exceeds the device's limit of %llu (qmx.pin_limit_mb)\n",
			size, qdev->pin_limit);
		return -ENOSPC;
	}
	return 0;
}

static void qmx_gem_pin_uncharge(struct qmx_device *qdev,
				 struct qmx_file_stats *fstats, u64 size)
{
	atomic64_sub(size, &fstats->pinned_bytes);
	atomic64_sub(size, &qdev->pinned_bytes);
}

static void qmx_gem_free(struct drm_gem_object *obj)
{
	struct qmx_gem_object *bo = to_qmx_bo(obj);
	struct qmx_device *qdev = to_qmx_device(obj->dev);

	/* Jobs hold BO references and pins: none is left here. */
	drm_WARN_ON(&qdev->drm, bo->pin_count);
	if (bo->creator) {
		atomic64_sub(obj->size, &bo->creator->bo_bytes);
		qmx_file_stats_put(bo->creator);
	}
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

/*
 * Pin a BO's pages and map them for the device, for one job; the first pin
 * charges the pages to @fstats' file.  Undone by qmx_gem_unpin().
 */
int qmx_gem_pin(struct qmx_device *qdev, struct qmx_gem_object *bo,
		struct qmx_file_stats *fstats, u64 *dev_addr)
{
	u64 size = bo->base.base.size;
	struct sg_table *sgt;
	int ret;

	mutex_lock(&bo->map_lock);
	if (bo->pin_count) {
		bo->pin_count++;
		*dev_addr = bo->dev_addr;
		mutex_unlock(&bo->map_lock);
		return 0;
	}

	ret = qmx_gem_pin_charge(qdev, fstats, size);
	if (ret)
		goto err_unlock;
	ret = drm_gem_shmem_pin(&bo->base);
	if (ret)
		goto err_uncharge;
	sgt = drm_gem_shmem_get_sg_table(&bo->base);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_unpin;
	}
	ret = dma_map_sgtable(qdev->drm.dev, sgt, DMA_BIDIRECTIONAL, 0);
	if (ret)
		goto err_free_sgt;
	bo->sgt = sgt;
	ret = qdev->ops->map_bo(qdev, bo, &bo->dev_addr);
	if (ret)
		goto err_dma_unmap;

	kref_get(&fstats->refcount);
	bo->pin_owner = fstats;
	bo->pin_count = 1;
	*dev_addr = bo->dev_addr;
	mutex_unlock(&bo->map_lock);
	return 0;

err_dma_unmap:
	bo->sgt = NULL;
	dma_unmap_sgtable(qdev->drm.dev, sgt, DMA_BIDIRECTIONAL, 0);
err_free_sgt:
	sg_free_table(sgt);
	kfree(sgt);
err_unpin:
	drm_gem_shmem_unpin(&bo->base);
err_uncharge:
	qmx_gem_pin_uncharge(qdev, fstats, size);
err_unlock:
	mutex_unlock(&bo->map_lock);
	return ret;
}

void qmx_gem_unpin(struct qmx_device *qdev, struct qmx_gem_object *bo)
{
	struct qmx_file_stats *owner;

	mutex_lock(&bo->map_lock);
	if (drm_WARN_ON(&qdev->drm, !bo->pin_count) || --bo->pin_count) {
		mutex_unlock(&bo->map_lock);
		return;
	}
	qdev->ops->unmap_bo(qdev, bo);
	dma_unmap_sgtable(qdev->drm.dev, bo->sgt, DMA_BIDIRECTIONAL, 0);
	sg_free_table(bo->sgt);
	kfree(bo->sgt);
	bo->sgt = NULL;
	drm_gem_shmem_unpin(&bo->base);
	owner = bo->pin_owner;
	bo->pin_owner = NULL;
	qmx_gem_pin_uncharge(qdev, owner, bo->base.base.size);
	mutex_unlock(&bo->map_lock);
	qmx_file_stats_put(owner);
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
	struct qmx_device *qdev = to_qmx_device(dev);
	struct qmx_file_priv *fpriv = file->driver_priv;
	struct qmx_file_stats *fstats = fpriv->fstats;
	struct drm_qmx_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	u64 size;
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

	size = PAGE_ALIGN(args->size);
	if (atomic64_add_return(size, &fstats->bo_bytes) > qdev->file_bo_limit) {
		atomic64_sub(size, &fstats->bo_bytes);
		drm_dbg(dev, "bo_create: %llu more bytes exceed the file's limit of %llu (qmx.file_bo_limit_mb)\n",
			size, qdev->file_bo_limit);
		return -ENOSPC;
	}
	shmem = drm_gem_shmem_create(dev, size);
	if (IS_ERR(shmem)) {
		atomic64_sub(size, &fstats->bo_bytes);
		return PTR_ERR(shmem);
	}
	kref_get(&fstats->refcount);
	to_qmx_bo(&shmem->base)->creator = fstats;

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
