// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "qmx_debugfs.h"
#include "qmx_drv.h"
#include "qmx_hw.h"
#include "qmx_job.h"
#include "qmx_regs.h"
#include "qmx_transport.h"

static const struct {
	const char *name;
	u32 offset;
	u32 width;
} qmx_regs[] = {
#define QMX_REG_ENTRY(n, off, w) { #n, off, w },
	QMX_REG_LIST(QMX_REG_ENTRY)
#undef QMX_REG_ENTRY
};

/* Reading these has side effects (clear-on-read) or is not allowed. */
static bool qmx_reg_unreadable(u32 offset)
{
	return offset == QMX_REG_CTRL || offset == QMX_REG_SOFT_RESET;
}

static int qmx_regs_show(struct seq_file *m, void *unused)
{
	struct qmx_device *qdev = m->private;
	unsigned int i;
	u32 off;
	u64 v;

	/* job_lock: 64-bit counters latch HI on reading LO. */
	mutex_lock(&qdev->job_lock);
	for (i = 0; i < ARRAY_SIZE(qmx_regs); i++) {
		off = qmx_regs[i].offset;
		if (qmx_reg_unreadable(off)) {
			seq_printf(m, "0x%03x %-18s (not read)\n", off,
				   qmx_regs[i].name);
			continue;
		}
		v = qmx_hw_read32(qdev, off);
		if (qmx_regs[i].width == 64)
			v |= (u64)qmx_hw_read32(qdev, off + 4) << 32;
		seq_printf(m, "0x%03x %-18s 0x%0*llx\n", off, qmx_regs[i].name,
			   (int)qmx_regs[i].width / 4, v);
	}
	mutex_unlock(&qdev->job_lock);
	if (qmx_hw_lost(qdev))
		seq_puts(m, "device lost: values above are not valid\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(qmx_regs);

static int qmx_queue_show(struct seq_file *m, void *unused)
{
	struct qmx_device *qdev = m->private;
	struct qmx_job *job;

	mutex_lock(&qdev->job_lock);
	job = qdev->active_job;
	seq_printf(m, "transport:      %s\n", qdev->ops->name);
	if (!job && !list_empty(&qdev->ring.active))
		job = list_first_entry(&qdev->ring.active, struct qmx_job,
				       ring_node);
	seq_printf(m, "active job:     %d\n", job ? (int)job->id : -1);
#ifdef QMX_HAVE_SCHED_JOB_CREDITS
	seq_printf(m, "hw jobs queued: %d\n",
		   atomic_read(&qdev->sched.credit_count));
#else
	seq_printf(m, "hw jobs queued: %d\n",
		   atomic_read(&qdev->sched.hw_rq_count));
#endif
	seq_printf(m, "submitted:      %llu\n", qdev->jobs_submitted);
	seq_printf(m, "done:           %llu\n", qdev->jobs_done);
	seq_printf(m, "failed:         %llu\n", qdev->jobs_failed);
	seq_printf(m, "timed out:      %llu\n", qdev->jobs_timedout);
	seq_printf(m, "resets:         %llu\n", qdev->resets);
	seq_printf(m, "missed irqs:    %llu\n", qdev->missed_irqs);
	seq_printf(m, "interrupts:     %lld\n",
		   (long long)atomic64_read(&qdev->irq_count));
	seq_printf(m, "energy (model): %llu uJ\n",
		   div_u64(qdev->energy_fj, 1000000000));
	seq_printf(m, "device lost:    %s\n", qmx_hw_lost(qdev) ? "yes" : "no");
	seq_printf(m, "pinned:         %llu of %llu KiB (per file %llu KiB)\n",
		   (u64)atomic64_read(&qdev->pinned_bytes) >> 10,
		   qdev->pin_limit >> 10, qdev->file_pin_limit >> 10);
	if (qdev->ring.bo) {
		seq_printf(m, "command queue:  %u entries at 0x%llx, tail %u head %u (%u in flight)\n",
			   qdev->ring.size, qdev->ring.dev_addr, qdev->ring.tail,
			   qdev->ring.head, qdev->ring.tail - qdev->ring.head);
		seq_printf(m, "doorbells:      %llu, completion interrupts %llu\n",
			   qdev->ring.doorbells, qdev->ring.irqs);
		/* What the engine completed, records not yet consumed included. */
		seq_printf(m, "engine head:    %u\n", qmx_reg_read(qdev, CQ_HEAD));
	} else {
		seq_puts(m, "command queue:  none (jobs through registers)\n");
	}
	mutex_unlock(&qdev->job_lock);
	if (qdev->ops->debugfs_show)
		qdev->ops->debugfs_show(qdev, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(qmx_queue);

void qmx_debugfs_init(struct drm_minor *minor)
{
	struct qmx_device *qdev = to_qmx_device(minor->dev);

	debugfs_create_file("regs", 0444, minor->debugfs_root, qdev,
			    &qmx_regs_fops);
	debugfs_create_file("queue", 0444, minor->debugfs_root, qdev,
			    &qmx_queue_fops);
	/* Tests only: corrupt one descriptor (struct qmx_ring). */
	debugfs_create_u32("cq_inject_bad_desc", 0600, minor->debugfs_root,
			   &qdev->ring.inject_bad_desc);
}
