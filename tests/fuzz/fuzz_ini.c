/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ini.c - the energy-table reader (runtime/energy/data.c) on arbitrary
 * text.  A file it accepts must hold only finite numbers or one quoted text
 * per entry, each entry with a section, a key and a cited source; one it
 * refuses must say why.
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
		const char *text;
		FUZZ_ASSERT(e->section[0] && e->key[0] && e->source[0],
			    "entry %zu: empty section, key or source", i);
		/* Numbers, or one "quoted" text (n = 0), never both or neither. */
		FUZZ_ASSERT(e->text[0] ? e->n == 0 : e->n >= 1 && e->n <= QMX_DATA_MAX_VALUES,
			    "entry %zu: %d values, text '%s'", i, e->n, e->text);
		for (int j = 0; j < e->n; j++)
			FUZZ_ASSERT(isfinite(e->v[j]), "[%s] %s value %d not finite", e->section,
				    e->key, j);
		/* Lookups find an entry of that section and key (the first), and
		 * read it as what it holds. */
		const struct qmx_data_entry *first = qmx_data_find(&d, e->section, e->key);
		FUZZ_ASSERT(first && first <= e, "entry %zu not found", i);
		if (first->text[0]) {
			FUZZ_ASSERT(qmx_data_text(&d, e->section, e->key, &text) == 0, "%s",
				    qmx_last_error());
			FUZZ_ASSERT(qmx_data_value(&d, e->section, e->key, 0, &v) != 0,
				    "a text read as a number");
		} else {
			FUZZ_ASSERT(qmx_data_value(&d, e->section, e->key, 0, &v) == 0, "%s",
				    qmx_last_error());
			FUZZ_ASSERT(qmx_data_text(&d, e->section, e->key, &text) != 0,
				    "numbers read as a text");
		}
		FUZZ_ASSERT(qmx_data_value(&d, e->section, e->key, QMX_DATA_MAX_VALUES, &v) != 0,
			    "value past the end found");
	}
	qmx_data_free(&d);
	return 0;
}
