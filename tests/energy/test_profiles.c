/* SPDX-License-Identifier: MIT */
/*
 * test_profiles.c - target profiles (hw/energy/profiles.ini): the reader
 * refuses every bad line with file, line and field; the shipped profiles
 * resolve to the per-action energies of their node; the energy of a small
 * counter set per profile, by hand; the die area with memory bits and its
 * embodied carbon at the profile's node.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "energy_internal.h"
#include "qmx/qmx.h"

#define NEAR(a, b, rel) \
	assert_true(fabs((double)(a) - (double)(b)) <= (rel) * fabs((double)(b)) + 1e-300)

/* Stillmaker & Baas energy fits at the table's Vdd (actions.ini), by hand:
 * E45 = 1.103*0.81 - 0.362*0.9 + 0.2767 = 0.84433;
 * E28 = E32 + 4/12 (E20 - E32) with E32 = 0.541209, E20 = 0.200730 -> 0.427736;
 * E7  = 0.1776*0.5625 - 0.09097*0.75 + 0.02447 = 0.0561425. */
#define S28 (0.427736 / 0.84433)
#define S7 (0.0561425 / 0.84433)

static void expect_msg(const char *needle)
{
	if (!strstr(qmx_last_error(), needle))
		fail_msg("message '%s' lacks '%s'", qmx_last_error(), needle);
}

static char tmpdir[] = "/tmp/qmx-profiles-XXXXXX";
static char tmpfile_path[300];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/profiles.ini", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(tmpfile_path);
	rmdir(tmpdir);
	return 0;
}

/* A valid ASIC profile; each case replaces one line of it. */
static const char *const good[] = {
	"[p]",
	"kind = \"asic\"        # text; test",
	"node_nm = 28           # nm; test",
	"clock_mhz = 700        # MHz; test",
	"dram = \"DDR3\"         # text; test",
	"dram_gb_s = 34         # GB/s; test",
	"dram_latency_ns = 40   # ns; test",
	"sram_leak_pw_per_bit = 50 # pW; test",
};
#define N_GOOD (sizeof(good) / sizeof(good[0]))

/* Write `good` with line `at` (1-based) replaced by `line` (NULL: dropped),
 * then read profile [p]. */
static int load_with(int at, const char *line, qmx_profile_info *p)
{
	FILE *f = fopen(tmpfile_path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < N_GOOD; i++) {
		if ((int)i + 1 == at) {
			if (line)
				fprintf(f, "%s\n", line);
			continue;
		}
		fprintf(f, "%s\n", good[i]);
	}
	fclose(f);
	return qmx_profile_from_file(tmpfile_path, "p", p);
}

static void reader_rejects_bad_lines(void **state)
{
	(void)state;
	qmx_profile_info p;
	assert_int_equal(load_with(0, NULL, &p), 0);
	assert_int_equal(p.clock_mhz, 700);
	assert_string_equal(p.dram, "DDR3");

	static const struct {
		int at;
		const char *line, *msg1, *msg2;
	} bad[] = {
		{ 4, "clock_mhz = 700", "profiles.ini:4: value without a source", NULL },
		{ 4, "clok_mhz = 700 # MHz; typo", "profiles.ini:4: [p] unknown key 'clok_mhz'", "clock_mhz" },
		{ 2, "kind = \"gpu\" # text; x", "profiles.ini:2: [p] kind \"gpu\"", "\"asic\" or \"fpga\"" },
		{ 4, "clock_mhz = 0 # MHz; x", "profiles.ini:4: [p] clock_mhz = 0", "(0, 10000]" },
		{ 4, "clock_mhz = 700.5 # MHz; x", "[p] node_nm (28) and clock_mhz (700.5)", "whole" },
		{ 3, "node_nm = 22 # nm; x", "profiles.ini:3: [p] node_nm", "45, 28, 16, 7 or 5" },
		{ 3, "node_nm = \"28\" # nm; x", "profiles.ini:3: [p] node_nm: one number wanted", NULL },
		{ 5, "dram = 5 # text; x", "profiles.ini:5: [p] dram: \"text\" wanted", NULL },
		{ 5, "dram = \"DDR3 # text; x", "profiles.ini:5: dram: text must be one \"quoted\" string", NULL },
		{ 6, "dram_gb_s = -1 # GB/s; x", "profiles.ini:6: [p] dram_gb_s = -1", NULL },
		{ 7, "dram_latency_ns = 1, 2 # ns; x", "profiles.ini:7: [p] dram_latency_ns: one number wanted", NULL },
		{ 8, NULL, "profile [p] has no sram_leak_pw_per_bit", NULL },
		{ 6, NULL, "profile [p] has no dram_gb_s", NULL },
		{ 2, "kind = \"fpga\" # text; x", "profile [p] has no card_w", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = load_with(bad[i].at, bad[i].line, &p);
		if (err != QMX_EINVAL)
			fail_msg("case %zu ('%s'): %d, expected QMX_EINVAL (%s)", i,
				 bad[i].line ? bad[i].line : "(dropped)", err, qmx_last_error());
		expect_msg(bad[i].msg1);
		if (bad[i].msg2)
			expect_msg(bad[i].msg2);
	}
	assert_int_equal(qmx_profile_from_file(tmpfile_path, "nosuch", &p), QMX_EINVAL);
	expect_msg("no profile [nosuch]");
}

static void shipped_profiles(void **state)
{
	(void)state;
	size_t n = 0;
	assert_int_equal(qmx_profile_list(NULL, 0, &n), 0);
	assert_true(n >= 3);
	qmx_profile_info *all = calloc(n, sizeof(*all));
	assert_non_null(all);
	assert_int_equal(qmx_profile_list(all, n, &n), 0);
	bool seen28 = false, seen7 = false, seen_u55c = false;
	for (size_t i = 0; i < n; i++) {
		seen28 = seen28 || !strcmp(all[i].name, "asic-28nm");
		seen7 = seen7 || !strcmp(all[i].name, "asic-7nm");
		seen_u55c = seen_u55c || !strcmp(all[i].name, "fpga-u55c");
		assert_true(all[i].clock_mhz > 0 && all[i].dram_gb_s > 0 && all[i].dram[0]);
	}
	assert_true(seen28 && seen7 && seen_u55c);
	free(all);

	qmx_profile_info p;
	assert_int_equal(qmx_profile_get("asic-28nm", &p), 0);
	assert_string_equal(p.kind, "asic");
	assert_int_equal(p.node_nm, 28);
	assert_int_equal(p.clock_mhz, 700);       /* TPU v1 */
	NEAR(p.mac_pj, 0.3 * S28, 1e-5);          /* (0.2 + 0.1) pJ at 45 nm, scaled */
	NEAR(p.sram_byte_pj, 1.25 * S28, 1e-5);   /* 10 pJ / 64 bit */
	NEAR(p.ff_bit_cycle_pj, 0.009 * S28, 1e-5);
	NEAR(p.dram_pj_per_bit, 1300.0 / 64, 1e-12); /* Horowitz's DRAM: no dram_pj_per_bit */
	NEAR(p.sram_bitcell_um2, 0.127, 0);
	NEAR(p.sram_leak_pw_per_bit, 50, 0);
	assert_int_equal(qmx_profile_get("asic-7nm", &p), 0);
	assert_int_equal(p.clock_mhz, 1050);
	NEAR(p.mac_pj, 0.3 * S7, 1e-5);
	NEAR(p.dram_byte_pj, 3.9 * 8, 1e-12);     /* HBM2, O'Connor MICRO 2017 */
	NEAR(p.sram_bitcell_um2, 0.027, 0);
	assert_int_equal(qmx_profile_get("fpga-u55c", &p), 0);
	assert_string_equal(p.kind, "fpga");
	NEAR(p.card_w, 150, 0);
	NEAR(p.dram_gb_s, 460, 0);

	assert_int_equal(qmx_profile_get("asic-3nm", &p), QMX_EINVAL);
	expect_msg("profile 'asic-3nm' not in");
	expect_msg("asic-28nm, asic-7nm, fpga-u55c");
	assert_int_equal(qmx_profile_get(NULL, &p), QMX_EINVAL);
	expect_msg("name is NULL");
}

static void set_sim(qmx_device_info *info, const char *profile, uint32_t clock)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->backend, sizeof(info->backend), "sim");
	snprintf(info->profile, sizeof(info->profile), "%s", profile);
	info->array_rows = info->array_cols = 8;
	info->clock_mhz = clock;
}

/* 1e6 MACs, 1e5 SRAM bytes, 1e4 DRAM bytes, 20000 busy cycles on the 8x8
 * fixture (10000 flip-flop bits, 65536 memory bits). */
static void energy_by_hand(void **state)
{
	(void)state;
	qmx_device_info info;
	qmx_job_stats st;
	struct qmx_energy_split sp;
	double j;
	memset(&st, 0, sizeof(st));
	st.macs = 1000000;
	st.sram_bytes_read = 60000;
	st.sram_bytes_written = 40000;
	st.ext_bytes_read = 8000;
	st.ext_bytes_written = 2000;
	st.cycles = 20000;
	char area[600];
	snprintf(area, sizeof(area), "%s/area.json", QMX_TEST_FIXTURES);
	setenv("QMX_AREA_JSON", area, 1);

	/* asic-28nm at 700 MHz: t = 20000 / 700 MHz = 28.571 us.
	 * MAC     1e6 x 0.3 pJ x S28                    = 0.151979 uJ
	 * SRAM    1e5 x 1.25 pJ x S28                   = 0.063325 uJ
	 * DRAM    1e4 x 162.5 pJ                        = 1.625 uJ
	 * clock   1e4 bits x 2e4 cycles x 0.009 pJ x S28 = 0.911877 uJ
	 * leakage 65536 bits x 50 pW x t                = 93.623 pJ
	 * static  0.1 x 64 x 0.3 pJ x S28 x 700 MHz x t = 19.453 nJ */
	set_sim(&info, "asic-28nm", 700);
	st.device_ns = 28571;
	assert_int_equal(qmx_accel_model(&info, &st, &j, &sp, NULL, 0), 0);
	NEAR(sp.mac, 0.151979e-6, 1e-5);
	NEAR(sp.sram, 0.0633248e-6, 1e-5);
	NEAR(sp.dram, 1.625e-6, 1e-9);
	NEAR(sp.clock, 0.911877e-6, 1e-5);
	NEAR(sp.leakage, 93.623e-12, 1e-4);
	NEAR(sp.stat, 19.4534e-9, 1e-4);
	NEAR(j, 2.77173e-6, 1e-5);
	NEAR(j, sp.mac + sp.sram + sp.dram + sp.clock + sp.leakage + sp.stat, 1e-12);
	char detail[512];
	assert_int_equal(qmx_accel_energy(&info, &st, &j, detail, sizeof(detail)), 0);
	assert_non_null(strstr(detail, "profile asic-28nm"));

	/* asic-7nm at 1050 MHz: t = 19.048 us; HBM2 31.2 pJ/byte.
	 * MAC 19.948 nJ, SRAM 8.3117 nJ, DRAM 0.312 uJ, clock 0.119688 uJ,
	 * leakage 65536 x 10 pW x t = 12.483 pJ, static 2.5534 nJ. */
	set_sim(&info, "asic-7nm", 1050);
	st.device_ns = 19048;
	assert_int_equal(qmx_accel_model(&info, &st, &j, &sp, NULL, 0), 0);
	NEAR(sp.mac, 19.9481e-9, 1e-5);
	NEAR(sp.dram, 0.312e-6, 1e-9);
	NEAR(sp.clock, 0.119688e-6, 1e-5);
	NEAR(sp.leakage, 12.483e-12, 1e-3);
	NEAR(sp.stat, 2.55335e-9, 1e-4);
	NEAR(j, 0.462514e-6, 1e-4);

	/* fpga-u55c: the card's 150 W for 20000 cycles at 300 MHz = 10 mJ,
	 * all of it static. */
	set_sim(&info, "fpga-u55c", 300);
	st.device_ns = 20000ull * 1000 / 300; /* 66.666 us */
	assert_int_equal(qmx_accel_model(&info, &st, &j, &sp, NULL, 0), 0);
	NEAR(j, 150 * 66.666e-6, 1e-6);
	NEAR(sp.stat, j, 0);
	assert_true(sp.mac == 0 && sp.dram == 0 && sp.clock == 0);
	assert_string_equal(qmx_energy_model_name(&info), "model:card");

	/* A bad profile name on a device is refused, naming the valid ones. */
	set_sim(&info, "asic-3nm", 700);
	assert_int_equal(qmx_accel_energy(&info, &st, &j, NULL, 0), QMX_EINVAL);
	expect_msg("profile 'asic-3nm' not in");
	expect_msg("asic-28nm");
	unsetenv("QMX_AREA_JSON");
}

/* Die area = synthesised logic + memory bits x the profile's bit cell; the
 * embodied carbon is ACT at the profile's node. */
static void area_with_memory_bits(void **state)
{
	(void)state;
	char path[600];
	qmx_device_info info;
	qmx_profile_info p;
	struct qmx_die die;
	qmx_embodied emb;
	snprintf(path, sizeof(path), "%s/area.json", QMX_TEST_FIXTURES);
	setenv("QMX_AREA_JSON", path, 1);

	set_sim(&info, "asic-7nm", 1050);
	assert_int_equal(qmx_profile_get("asic-7nm", &p), 0);
	assert_int_equal(qmx_device_die(&info, &p, &die), 0);
	assert_true(die.synthesised);
	assert_int_equal(die.node_nm, 7);
	/* logic 1.148e6 / (91.2 MTr/mm^2 x 0.7) = 0.0179825 mm^2;
	 * SRAM 65536 x 0.027 um^2 / 0.5 = 0.00353894 mm^2. */
	NEAR(die.logic_mm2, 0.0179825, 1e-5);
	NEAR(die.sram_mm2, 0.00353894, 1e-5);
	NEAR(die.area_mm2, 0.0215214, 1e-5);
	NEAR(die.flipflop_bits, 10000, 0);
	double cpa7;
	assert_int_equal(qmx_act_cpa(7, &cpa7), 0);
	assert_int_equal(qmx_device_embodied(&info, &emb), 0);
	NEAR(emb.area_mm2, 0.0215214, 1e-5);
	/* ACT: a package for the die and one for the DRAM, DRAM / yield. */
	NEAR(emb.total_g, 0.0215214 / 100 * cpa7 + 2 * 150 + 65 / 0.875, 1e-6);
	assert_non_null(strstr(emb.detail, "asic-7nm at 7 nm"));

	/* More memory bits, more area and more carbon: buffers are not free. */
	set_sim(&info, "asic-28nm", 700);
	assert_int_equal(qmx_profile_get("asic-28nm", &p), 0);
	assert_int_equal(qmx_device_die(&info, &p, &die), 0);
	double small = die.area_mm2;
	info.array_rows = info.array_cols = 16; /* fixture: 131072 memory bits */
	assert_int_equal(qmx_device_die(&info, &p, &die), 0);
	NEAR(die.sram_mm2, 131072 * 0.127e-6 / 0.5, 1e-9);
	assert_true(die.area_mm2 > small);
	assert_true(!die.flipflop_bits); /* the fixture gives none at 16x16 */

	/* No synthesis entry: an assumed transistor count, said so. */
	info.array_rows = info.array_cols = 4;
	assert_int_equal(qmx_device_die(&info, &p, &die), 0);
	assert_false(die.synthesised);
	assert_non_null(strstr(die.from, "no 4x4 entry"));
	unsetenv("QMX_AREA_JSON");
}

int main(void)
{
	setenv("QMX_DATA_DIR", QMX_TEST_DATA_DIR, 1);
	unsetenv("QMX_ACCEL_NODE_NM");
	unsetenv("QMX_AREA_JSON");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reader_rejects_bad_lines),
		cmocka_unit_test(shipped_profiles),
		cmocka_unit_test(energy_by_hand),
		cmocka_unit_test(area_with_memory_bits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
