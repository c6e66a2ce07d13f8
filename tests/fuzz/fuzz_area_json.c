/* SPDX-License-Identifier: MIT */
/*
 * fuzz_area_json.c - the synthesis-area reader (hw/synth/area.json, read by
 * runtime/energy/data.c) on arbitrary text.  The first byte picks the array
 * size asked for.  Accepted: transistors finite and > 0, cells and memory
 * bits finite and >= 0.  Refused: a message.
 */
#include <math.h>
#include <string.h>

#include "energy_internal.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const arrays[] = { "8x8", "16x16", "32x32", "4x4", "" };
	struct qmx_synth_area a;

	if (!size)
		return 0;
	const char *array = arrays[data[0] % (sizeof(arrays) / sizeof(arrays[0]))];
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	int err = qmx_area_json_parse(text, "fuzz.json", array, &a);
	if (err) {
		FUZZ_ASSERT(qmx_last_error()[0], "refused without a message (%d)", err);
	} else {
		FUZZ_ASSERT(isfinite(a.transistors) && a.transistors > 0, "transistors %g",
			    a.transistors);
		FUZZ_ASSERT(isfinite(a.cells) && a.cells >= 0, "cells %g", a.cells);
		FUZZ_ASSERT(isfinite(a.memory_bits) && a.memory_bits >= 0, "memory_bits %g",
			    a.memory_bits);
	}
	free(text);
	return 0;
}
