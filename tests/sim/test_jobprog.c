/* SPDX-License-Identifier: MIT */
/*
 * test_jobprog.c - hw/include/qmx_jobprog.h against the generated register
 * map: the writes a descriptor turns into, starting and acknowledging a job
 * on a toggle-on-write ISR, CTRL/ERROR decoding, LO-then-HI counter reads,
 * identity checks.  A fake register file stands in for the device.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qmx_jobprog.h"

struct fake {
	uint32_t reg[QMX_MAP_SIZE / 4];
	uint32_t written[QMX_MAP_SIZE / 4]; /* times each word was written */
	uint32_t log_off[256], log_val[256];
	unsigned nlog;
	uint32_t reads[256];
	unsigned nreads;
};

static void fake_write(void *ctx, uint32_t off, uint32_t v)
{
	struct fake *f = ctx;
	assert_true(off < QMX_MAP_SIZE && off % 4 == 0);
	f->written[off / 4]++;
	if (f->nlog < 256) {
		f->log_off[f->nlog] = off;
		f->log_val[f->nlog++] = v;
	}
	if (off == QMX_REG_ISR)
		f->reg[off / 4] ^= v; /* Vitis toggle-on-write */
	else
		f->reg[off / 4] = v;
}

static uint32_t fake_read(void *ctx, uint32_t off)
{
	struct fake *f = ctx;
	assert_true(off < QMX_MAP_SIZE && off % 4 == 0);
	if (f->nreads < 256)
		f->reads[f->nreads++] = off;
	return f->reg[off / 4];
}

static void test_write_gemm(void **state)
{
	static struct fake f;
	struct qmx_jobprog_gemm g = {
		.a_addr = 0x123456789A0ull, .b_addr = 0xFFFFFFFF00000010ull, .c_addr = 0x40,
		.bias_addr = 0x5000, .mult_addr = 0x6000, .shift_addr = 0x7000,
		.m = 100, .n = 7, .k = 300, .lda = 301, .ldb = 9, .ldc = 8,
		.a_zero_point = -128, .b_zero_point = 5, .c_zero_point = -3,
		.out_int8 = 1, .per_channel = 1, .has_bias = 1,
		.multiplier = 1319413953, .shift = -11, .qmin = -100, .qmax = 127,
	};

	(void)state;
	memset(&f, 0, sizeof(f));
	qmx_jobprog_write_gemm(&g, fake_write, &f);
	assert_int_equal(f.reg[QMX_REG_A_ADDR_LO / 4], 0x456789A0u);
	assert_int_equal(f.reg[QMX_REG_A_ADDR_HI / 4], 0x123u);
	assert_int_equal(f.reg[QMX_REG_B_ADDR_LO / 4], 0x10u);
	assert_int_equal(f.reg[QMX_REG_B_ADDR_HI / 4], 0xFFFFFFFFu);
	assert_int_equal(f.reg[QMX_REG_C_ADDR_LO / 4], 0x40u);
	assert_int_equal(f.reg[QMX_REG_BIAS_ADDR_LO / 4], 0x5000u);
	assert_int_equal(f.reg[QMX_REG_MULT_ADDR_LO / 4], 0x6000u);
	assert_int_equal(f.reg[QMX_REG_SHIFT_ADDR_LO / 4], 0x7000u);
	assert_int_equal(f.reg[QMX_REG_M / 4], 100);
	assert_int_equal(f.reg[QMX_REG_N / 4], 7);
	assert_int_equal(f.reg[QMX_REG_K / 4], 300);
	assert_int_equal(f.reg[QMX_REG_LDA / 4], 301);
	assert_int_equal(f.reg[QMX_REG_LDB / 4], 9);
	assert_int_equal(f.reg[QMX_REG_LDC / 4], 8);
	assert_int_equal(f.reg[QMX_REG_A_ZP / 4], 0xFFFFFF80u); /* two's complement */
	assert_int_equal(f.reg[QMX_REG_B_ZP / 4], 5);
	assert_int_equal(f.reg[QMX_REG_C_ZP / 4], 0xFFFFFFFDu);
	assert_int_equal(f.reg[QMX_REG_QMIN / 4], (uint32_t)-100);
	assert_int_equal(f.reg[QMX_REG_QMAX / 4], 127);
	assert_int_equal(f.reg[QMX_REG_MULT / 4], 1319413953u);
	assert_int_equal(f.reg[QMX_REG_SHIFT / 4], (uint32_t)-11);
	assert_int_equal(f.reg[QMX_REG_FLAGS / 4],
			 QMX_FLAGS_OUT_INT8 | QMX_FLAGS_PER_CHANNEL | QMX_FLAGS_HAS_BIAS);
	/* 64-bit pairs LO before HI; every argument exactly once; never CTRL */
	for (unsigned i = 0; i + 1 < f.nlog; i++)
		if (f.log_off[i] % 8 == 0 && f.log_off[i] >= QMX_REG_A_ADDR_LO &&
		    f.log_off[i] <= QMX_REG_SHIFT_ADDR_LO)
			assert_int_equal(f.log_off[i + 1], f.log_off[i] + 4);
	for (uint32_t off = QMX_REG_A_ADDR_LO; off <= QMX_REG_FLAGS; off += 4)
		assert_int_equal(f.written[off / 4], 1);
	assert_int_equal(f.nlog, (QMX_REG_FLAGS - QMX_REG_A_ADDR_LO) / 4 + 1);
	assert_int_equal(f.written[QMX_REG_CTRL / 4], 0);

	/* unused addresses are written as 0, flags follow the descriptor */
	g.out_int8 = 0;
	g.per_channel = 0;
	g.has_bias = 0;
	memset(&f, 0, sizeof(f));
	qmx_jobprog_write_gemm(&g, fake_write, &f);
	assert_int_equal(f.reg[QMX_REG_FLAGS / 4], 0);
	assert_int_equal(f.reg[QMX_REG_BIAS_ADDR_LO / 4], 0);
	assert_int_equal(f.reg[QMX_REG_MULT_ADDR_LO / 4], 0);
	assert_int_equal(f.reg[QMX_REG_SHIFT_ADDR_HI / 4], 0);
	g.has_bias = 1;
	assert_int_equal(qmx_jobprog_flags(&g), QMX_FLAGS_HAS_BIAS);
}

static void test_start_and_ack(void **state)
{
	static struct fake f;

	(void)state;
	memset(&f, 0, sizeof(f));
	/* no stale status: ISR must not be written (it would toggle on) */
	qmx_jobprog_start(fake_read, fake_write, &f, 1);
	assert_int_equal(f.written[QMX_REG_ISR / 4], 0);
	assert_int_equal(f.reg[QMX_REG_ISR / 4], 0);
	assert_int_equal(f.reg[QMX_REG_IER / 4], QMX_IER_DONE);
	assert_int_equal(f.reg[QMX_REG_GIE / 4], QMX_GIE_ENABLE);
	assert_int_equal(f.log_off[f.nlog - 1], QMX_REG_CTRL); /* start is last */
	assert_int_equal(f.log_val[f.nlog - 1], QMX_CTRL_AP_START);

	/* stale DONE|READY: cleared exactly */
	memset(&f, 0, sizeof(f));
	f.reg[QMX_REG_ISR / 4] = QMX_ISR_DONE | QMX_ISR_READY;
	qmx_jobprog_start(fake_read, fake_write, &f, 0);
	assert_int_equal(f.reg[QMX_REG_ISR / 4], 0);
	assert_int_equal(f.reg[QMX_REG_IER / 4], 0);
	assert_int_equal(f.reg[QMX_REG_GIE / 4], 0);

	f.reg[QMX_REG_ISR / 4] = QMX_ISR_DONE;
	qmx_jobprog_ack(fake_read, fake_write, &f);
	assert_int_equal(f.reg[QMX_REG_ISR / 4], 0);
	qmx_jobprog_ack(fake_read, fake_write, &f); /* nothing pending: stays 0 */
	assert_int_equal(f.reg[QMX_REG_ISR / 4], 0);
	assert_true(qmx_jobprog_isr_done(QMX_ISR_DONE));
	assert_false(qmx_jobprog_isr_done(QMX_ISR_READY));

	qmx_jobprog_soft_reset(fake_write, &f);
	assert_int_equal(f.reg[QMX_REG_SOFT_RESET / 4], 0x52535421u); /* "RST!" */
}

static void test_decode(void **state)
{
	(void)state;
	struct qmx_jobprog_ctrl c = qmx_jobprog_decode_ctrl(QMX_CTRL_AP_DONE | QMX_CTRL_AP_IDLE);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.idle, 1);
	assert_int_equal(c.start, 0);
	assert_int_equal(c.ready, 0);
	c = qmx_jobprog_decode_ctrl(QMX_CTRL_AP_START | QMX_CTRL_AP_READY);
	assert_int_equal(c.start, 1);
	assert_int_equal(c.ready, 1);
	assert_int_equal(c.done, 0);

	assert_string_equal(qmx_jobprog_error_name(QMX_ERROR_NONE), "NONE");
	assert_string_equal(qmx_jobprog_error_name(QMX_ERROR_AXI_READ), "AXI_READ");
	assert_string_equal(qmx_jobprog_error_name(QMX_ERROR_BAD_QUANT), "BAD_QUANT");
	assert_string_equal(qmx_jobprog_error_name(0xDEAD), "UNKNOWN");
	assert_non_null(strstr(qmx_jobprog_error_text(QMX_ERROR_BAD_STRIDE), "LDA < K"));
	assert_string_equal(qmx_jobprog_error_text(999), "unknown hardware error code");
}

static void test_counters(void **state)
{
	static struct fake f;
	struct qmx_jobprog_counters a, b, d;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.reg[QMX_REG_CNT_MACS_LO / 4] = 0xFFFFFFF0u;
	f.reg[QMX_REG_CNT_MACS_HI / 4] = 0x2;
	f.reg[QMX_REG_CNT_BUSY_CYCLES_LO / 4] = 5;
	assert_int_equal(qmx_jobprog_read64(fake_read, &f, QMX_REG_CNT_MACS_LO),
			 0x2FFFFFFF0ull);
	assert_int_equal(f.reads[0], QMX_REG_CNT_MACS_LO); /* LO latches HI */
	assert_int_equal(f.reads[1], QMX_REG_CNT_MACS_HI);
	qmx_jobprog_read_counters(fake_read, &f, &a);
	assert_int_equal(a.macs, 0x2FFFFFFF0ull);
	assert_int_equal(a.busy_cycles, 5);
	f.reg[QMX_REG_CNT_MACS_LO / 4] = 0x10; /* carried into HI */
	f.reg[QMX_REG_CNT_MACS_HI / 4] = 0x3;
	f.reg[QMX_REG_CNT_JOBS_LO / 4] = 1;
	qmx_jobprog_read_counters(fake_read, &f, &b);
	qmx_jobprog_counters_delta(&a, &b, &d);
	assert_int_equal(d.macs, 0x20);
	assert_int_equal(d.jobs, 1);
	assert_int_equal(d.busy_cycles, 0);
}

static void test_identify(void **state)
{
	static struct fake f;
	struct qmx_jobprog_ident id;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(qmx_jobprog_identify(fake_read, &f, &id), QMX_JOBPROG_IDENT_BAD_MAGIC);
	f.reg[QMX_REG_MAGIC / 4] = QMX_MAP_MAGIC;
	f.reg[QMX_REG_VERSION / 4] = (QMX_MAP_VERSION_MAJOR + 1) << 16;
	assert_int_equal(qmx_jobprog_identify(fake_read, &f, &id), QMX_JOBPROG_IDENT_BAD_VERSION);
	f.reg[QMX_REG_VERSION / 4] = QMX_MAP_VERSION | 7; /* newer minor is fine */
	f.reg[QMX_REG_ARRAY / 4] = (16u << QMX_ARRAY_COLS_SHIFT) | (8u << QMX_ARRAY_ROWS_SHIFT);
	f.reg[QMX_REG_BUS / 4] = (64u << QMX_BUS_ADDR_BITS_SHIFT) | 128u;
	f.reg[QMX_REG_CLOCK_KHZ / 4] = 250000;
	f.reg[QMX_REG_FEATURES / 4] = QMX_FEATURES_INT8_OUT;
	f.reg[QMX_REG_MAX_DIM / 4] = 4096;
	assert_int_equal(qmx_jobprog_identify(fake_read, &f, &id), QMX_JOBPROG_IDENT_OK);
	assert_int_equal(id.array_rows, 8);
	assert_int_equal(id.array_cols, 16);
	assert_int_equal(id.bus_data_bits, 128);
	assert_int_equal(id.bus_addr_bits, 64);
	assert_int_equal(id.clock_khz, 250000);
	assert_int_equal(id.features, QMX_FEATURES_INT8_OUT);
	assert_int_equal(id.max_dim, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_gemm),  cmocka_unit_test(test_start_and_ack),
		cmocka_unit_test(test_decode),      cmocka_unit_test(test_counters),
		cmocka_unit_test(test_identify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
