#!/bin/sh
# check_exports.sh LIB - every symbol libqmx.so exports is a qmx_ name, and
# the core API is all there (hidden by default, exported by QMX_API).
set -eu
lib=$1
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sort)
bad=$(printf '%s\n' "$exported" | grep -v '^qmx_' || true)
if [ -n "$bad" ]; then
	echo "symbols exported without the qmx_ prefix:"; echo "$bad"; exit 1
fi
for sym in qmx_strerror qmx_error_name qmx_last_error qmx_device_open qmx_device_ref \
	qmx_device_del qmx_device_query qmx_device_list qmx_default_device_uri qmx_device_group_stats \
	qmx_backend_names qmx_buffer_new qmx_buffer_map qmx_buffer_unmap qmx_buffer_sync \
	qmx_buffer_size qmx_buffer_del qmx_gemm_params_init qmx_gemm_params_check \
	qmx_gemm_reference qmx_gemm_submit qmx_job_wait qmx_job_get_stats qmx_job_del \
	qmx_gemm qmx_weights_new qmx_weights_invalidate qmx_weights_del qmx_weights_gemm \
	qmx_quantize_multiplier qmx_srdhm qmx_rdbpot \
	qmx_multiply_by_quantized_multiplier \
	qmx_qparams_from_minmax qmx_qparams_choose qmx_qparams_choose_per_channel qmx_quantize \
	qmx_dequantize qmx_fake_quantize qmx_quantize_per_channel qmx_dequantize_per_channel \
	qmx_qgemm_args_init qmx_qgemm_new qmx_qgemm_del qmx_qgemm_submit qmx_qgemm_wait \
	qmx_qgemm_run qmx_qgemm_last_qparams qmx_qgemm_fake_quantized \
	qmx_meter_new qmx_meter_start qmx_meter_stop qmx_meter_del qmx_sci qmx_sci_embodied \
	qmx_act_cpa qmx_act_chip qmx_carbon_config_get qmx_grid_intensity qmx_device_embodied \
	qmx_accel_energy qmx_accel_energy_breakdown qmx_energy_model_name qmx_profile_list \
	qmx_profile_get qmx_batch_create qmx_batch_add_gemm qmx_batch_size qmx_batch_submit \
	qmx_batch_wait qmx_batch_entry_status qmx_batch_entry_message qmx_batch_destroy \
	qmx_gemm_tiled qmx_job_stats_add \
	qmx_model_config_default qmx_model_config_check qmx_model_memory qmx_model_predict \
	qmx_model_predict_unfolded \
	qmx_design_fit_get qmx_design_die_get qmx_design_energy qmx_design_embodied \
	qmx_time_parse qmx_time_format qmx_grid_trace_load qmx_grid_trace_parse \
	qmx_grid_trace_del qmx_grid_trace_get_info qmx_grid_trace_get_sample qmx_grid_trace_at \
	qmx_grid_trace_carbon qmx_shift_request_init qmx_shift_choose qmx_place_option_from_job \
	qmx_place_choose qmx_shaper_new qmx_shaper_add_tier qmx_shaper_choose qmx_shaper_del; do
	printf '%s\n' "$exported" | grep -qx "$sym" || { echo "missing export: $sym"; exit 1; }
done
# Internal helpers must stay hidden.
for sym in qmx_fail qmx_job_complete qmx_job_wait_deadline qmx_batch_entry_skip qmx_gemm_desc_check qmx_now_ns qmx_backend_cpu_ops qmx_group_split qmx_group_uri qmx_rapl_open qmx_data_load \
	qmx_grid_kind_name qmx_grid_trace_env qmx_grid_parse_json qmx_grid_perr; do
	if printf '%s\n' "$exported" | grep -qx "$sym"; then echo "internal symbol exported: $sym"; exit 1; fi
done
echo "exports ok: $(printf '%s\n' "$exported" | wc -l) qmx_ symbols"
