/* SPDX-License-Identifier: MIT */
/*
 * qmx_kernel_args.h - the arguments of the qmx_top Vitis RTL kernel, by
 * index, for the backends that start it through a runtime (xrt, and opencl
 * on a Xilinx platform) instead of writing registers themselves.
 *
 * The index order is the order of the registers with an `arg` entry in
 * hw/regmap/qmx_regmap.toml (QMX_KARG_LIST, generated into qmx_regs.h), which
 * is also the order tools/gen_kernel_xml.py gives them in kernel.xml; the values are what qmx_jobprog_write_gemm()
 * would write, so every path programs the same registers with the same bits.
 */
#ifndef QMX_KERNEL_ARGS_H
#define QMX_KERNEL_ARGS_H

#include <stdint.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_jobprog.h"
#include "qmx_jobprog_params.h"

#define QMX_KERNEL_NAME "qmx_top"

/* Argument indices QMX_KARG_A ... QMX_KARG_FLAGS, generated from the map. */
enum {
#define QMX_KARG_ENUM(name, reg) QMX_KARG_##name,
	QMX_KARG_LIST(QMX_KARG_ENUM)
#undef QMX_KARG_ENUM
	QMX_KARG_COUNT,
	QMX_KARG_FIRST_SCALAR = QMX_KARG_POINTER_COUNT, /* the pointers come first */
};

/* Register (low word) of each argument, by index. */
static const uint32_t qmx_karg_reg[QMX_KARG_COUNT] = {
#define QMX_KARG_REG(name, reg) reg,
	QMX_KARG_LIST(QMX_KARG_REG)
#undef QMX_KARG_REG
};

struct qmx_karg_values {
	uint32_t regs[QMX_MAP_SIZE / 4];
};

static inline void qmx_karg_capture(void *ctx, uint32_t offset, uint32_t value)
{
	struct qmx_karg_values *v = ctx;
	if (offset < QMX_MAP_SIZE)
		v->regs[offset / 4] = value;
}

/* Register values of the scalar arguments of `p` (pointers are set apart). */
static inline void qmx_karg_fill(const qmx_gemm_params *p, struct qmx_karg_values *v)
{
	struct qmx_jobprog_gemm g;

	qmx_jobprog_from_params(p, &g);
	memset(v, 0, sizeof(*v));
	qmx_jobprog_write_gemm(&g, qmx_karg_capture, v);
}

static inline uint32_t qmx_karg_scalar(const struct qmx_karg_values *v, int index)
{
	return v->regs[qmx_karg_reg[index] / 4];
}

#endif /* QMX_KERNEL_ARGS_H */
