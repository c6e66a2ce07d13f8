/* SPDX-License-Identifier: MIT */
/* consumer.c - a program built against an installed libqmx: C = A*B on "cpu". */
#include <stdio.h>

#include <qmx/qmx.h>

int main(void)
{
	const int8_t a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 };
	int32_t c[4];
	qmx_gemm_params p;
	qmx_gemm_host_operands ops = { .a = a, .b = b, .c = c };
	qmx_device *dev;

	qmx_gemm_params_init(&p, 2, 2, 2);
	if (qmx_device_open("cpu", &dev) || qmx_gemm(dev, &p, &ops, NULL)) {
		fprintf(stderr, "consumer: %s\n", qmx_last_error());
		return 1;
	}
	qmx_device_del(dev);
	printf("%d %d %d %d\n", c[0], c[1], c[2], c[3]);
	return !(c[0] == 19 && c[1] == 22 && c[2] == 43 && c[3] == 50);
}
