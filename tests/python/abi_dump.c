/* SPDX-License-Identifier: MIT */
/*
 * abi_dump.c - print the size and field offsets of every C structure the
 * Python package mirrors with ctypes, one "struct field offset" line each
 * ("struct - size" for the size), so test_abi.py can catch any drift.
 */
#include <stddef.h>
#include <stdio.h>

#include <qmx/qmx.h>

#define SIZE(s) printf("%s - %zu\n", #s, sizeof(s))
#define FIELD(s, f) printf("%s %s %zu\n", #s, #f, offsetof(s, f))

int main(void)
{
	SIZE(qmx_device_info);
	FIELD(qmx_device_info, uri);
	FIELD(qmx_device_info, backend);
	FIELD(qmx_device_info, name);
	FIELD(qmx_device_info, detail);
	FIELD(qmx_device_info, array_rows);
	FIELD(qmx_device_info, features);
	FIELD(qmx_device_info, max_dim);
	FIELD(qmx_device_info, max_k);
	SIZE(qmx_gemm_params);
	FIELD(qmx_gemm_params, lda);
	FIELD(qmx_gemm_params, a_zero_point);
	FIELD(qmx_gemm_params, out_type);
	FIELD(qmx_gemm_params, multiplier);
	FIELD(qmx_gemm_params, has_bias);
	SIZE(qmx_gemm_host_operands);
	FIELD(qmx_gemm_host_operands, bias);
	FIELD(qmx_gemm_host_operands, c);
	SIZE(qmx_gemm_desc);
	FIELD(qmx_gemm_desc, a);
	FIELD(qmx_gemm_desc, shifts);
	SIZE(qmx_job_stats);
	FIELD(qmx_job_stats, macs);
	FIELD(qmx_job_stats, threads);
	FIELD(qmx_job_stats, energy_source);
	FIELD(qmx_job_stats, energy_j);
	FIELD(qmx_job_stats, carbon_embodied_g);
	FIELD(qmx_job_stats, flags);
	FIELD(qmx_job_stats, sim_wall_ns);
	FIELD(qmx_job_stats, sim_cpu_ns);
	SIZE(qmx_group_member_stats);
	FIELD(qmx_group_member_stats, weight);
	FIELD(qmx_group_member_stats, weight_source);
	FIELD(qmx_group_member_stats, jobs);
	FIELD(qmx_group_member_stats, total);
	FIELD(qmx_group_member_stats, last);
	SIZE(qmx_qparams);
	FIELD(qmx_qparams, zero_point);
	SIZE(qmx_qgemm_args);
	FIELD(qmx_qgemm_args, a);
	FIELD(qmx_qgemm_args, lda);
	FIELD(qmx_qgemm_args, bias);
	FIELD(qmx_qgemm_args, ldc);
	FIELD(qmx_qgemm_args, relu);
	FIELD(qmx_qgemm_args, a_qparams);
	FIELD(qmx_qgemm_args, c_qparams);
	SIZE(qmx_energy_reading);
	FIELD(qmx_energy_reading, source);
	FIELD(qmx_energy_reading, method);
	FIELD(qmx_energy_reading, detail);
	FIELD(qmx_energy_reading, grid_g_per_kwh);
	FIELD(qmx_energy_reading, carbon_embodied_g);
	FIELD(qmx_energy_reading, pue);
	FIELD(qmx_energy_reading, held_seconds);
	SIZE(qmx_grid_trace_info);
	FIELD(qmx_grid_trace_info, n);
	FIELD(qmx_grid_trace_info, kind);
	FIELD(qmx_grid_trace_info, format);
	FIELD(qmx_grid_trace_info, source);
	SIZE(qmx_grid_sample);
	FIELD(qmx_grid_sample, forecast);
	SIZE(qmx_grid_used);
	FIELD(qmx_grid_used, forecast_windows);
	FIELD(qmx_grid_used, source);
	SIZE(qmx_shift_request);
	FIELD(qmx_shift_request, duration_s);
	FIELD(qmx_shift_request, step_s);
	SIZE(qmx_shift_plan);
	FIELD(qmx_shift_plan, best_start_s);
	FIELD(qmx_shift_plan, candidates);
	FIELD(qmx_shift_plan, horizon_s);
	FIELD(qmx_shift_plan, note);
	SIZE(qmx_place_option);
	FIELD(qmx_place_option, share);
	SIZE(qmx_place_result);
	FIELD(qmx_place_result, total_g);
	SIZE(qmx_shape_tier);
	FIELD(qmx_shape_tier, max_g_per_kwh);
	SIZE(qmx_shape_choice);
	FIELD(qmx_shape_choice, g_per_kwh);
	FIELD(qmx_shape_choice, quality_cost);
	/* Constants the package mirrors (python/qmx/_lib.py). */
	printf("const QMX_ETIMEDOUT %d\n", QMX_ETIMEDOUT);
	printf("const QMX_GROUP_MAX_MEMBERS %d\n", QMX_GROUP_MAX_MEMBERS);
	return 0;
}
