/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ini.c - the energy-table reader (runtime/energy/data.c) on arbitrary
 * text.  A file it accepts must hold only finite numbers, each entry with a
 * section, a key and a cited source; one it refuses must say why.
 */
#include <math.h>
#include <string.h>

#include "energy_internal.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmx_data d;
	FILE *f = fmemopen((void *)data, size ? size : 1, "r");

	if (!f)
		return 0;
	if (!size)
		(void)fgetc(f); /* fmemopen needs a size > 0: read it empty */
	int err = qmx_data_parse(&d, "fuzz.ini", f);
	fclose(f);
	if (err) {
		FUZZ_ASSERT(qmx_last_error()[0], "refused without a message (%d)", err);
		FUZZ_ASSERT(!d.e && !d.n, "a refused file kept %zu entries", d.n);
		return 0;
	}
	for (size_t i = 0; i < d.n; i++) {
		const struct qmx_data_entry *e = &d.e[i];
		double v;
		FUZZ_ASSERT(e->section[0] && e->key[0] && e->source[0],
			    "entry %zu: empty section, key or source", i);
		FUZZ_ASSERT(e->n >= 1 && e->n <= QMX_DATA_MAX_VALUES, "entry %zu: %d values", i,
			    e->n);
		for (int j = 0; j < e->n; j++)
			FUZZ_ASSERT(isfinite(e->v[j]), "[%s] %s value %d not finite", e->section,
				    e->key, j);
		/* Lookups find an entry of that section and key (the first). */
		FUZZ_ASSERT(qmx_data_value(&d, e->section, e->key, 0, &v) == 0, "%s",
			    qmx_last_error());
		FUZZ_ASSERT(qmx_data_value(&d, e->section, e->key, QMX_DATA_MAX_VALUES, &v) != 0,
			    "value past the end found");
	}
	qmx_data_free(&d);
	return 0;
}
