/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The qmx authors */

#ifndef __QMX_GEM_H__
#define __QMX_GEM_H__

#include <linux/mutex.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_mm.h>

struct qmx_device;

/* Largest BO: device VA spans and 32-bit strides make more useless. */
#define QMX_BO_MAX_SIZE (4ull << 30)

/**
 * struct qmx_gem_object - a shmem-backed buffer object
 */
struct qmx_gem_object {
	struct drm_gem_shmem_object base;

	/** @map_lock: protects the pin and device mapping below */
	struct mutex map_lock;
	/** @pin_count: unfinished jobs using the BO; pinned and mapped while > 0 */
	unsigned int pin_count;
	/** @pin_owner: the file charged for the pinned pages */
	struct qmx_file_stats *pin_owner;
	/** @creator: the file charged for the BO's size until it is freed */
	struct qmx_file_stats *creator;
	/** @dev_addr: device address of byte 0 while pinned */
	u64 dev_addr;
	/** @sgt: the pages, DMA-mapped for the parent device */
	struct sg_table *sgt;
	/** @va: device-VA range (cosim page table) */
	struct drm_mm_node va;
};

static inline struct qmx_gem_object *to_qmx_bo(struct drm_gem_object *obj)
{
	return container_of(to_drm_gem_shmem_obj(obj), struct qmx_gem_object,
			    base);
}

struct drm_gem_object *qmx_gem_create_object(struct drm_device *dev,
					     size_t size);
int qmx_gem_pin(struct qmx_device *qdev, struct qmx_gem_object *bo,
		struct qmx_file_stats *fstats, u64 *dev_addr);
void qmx_gem_unpin(struct qmx_device *qdev, struct qmx_gem_object *bo);
void qmx_gem_pin_limits_init(struct qmx_device *qdev);
void qmx_gem_sync_for_device(struct qmx_device *qdev,
			     struct qmx_gem_object *bo);
void qmx_gem_sync_for_cpu(struct qmx_device *qdev, struct qmx_gem_object *bo);

int qmx_ioctl_bo_create(struct drm_device *dev, void *data,
			struct drm_file *file);
int qmx_ioctl_bo_mmap_offset(struct drm_device *dev, void *data,
			     struct drm_file *file);

#endif /* __QMX_GEM_H__ */
