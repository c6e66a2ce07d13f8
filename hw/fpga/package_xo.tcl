# SPDX-License-Identifier: MIT
# package_xo.tcl - package hw/rtl's qmx_top as a Vitis RTL kernel (.xo).
#
#   vivado -mode batch -source hw/fpga/package_xo.tcl -tclargs \
#       OUT_DIR KERNEL_XML RTL_DIR GEN_INCLUDE_DIR [NAME=VALUE ...]
#
# OUT_DIR receives qmx_top.xo (and the scratch project and IP folders);
# KERNEL_XML is the one tools/gen_kernel_xml.py generated from the register
# map; GEN_INCLUDE_DIR holds the generated qmx_regs.vh.  NAME=VALUE pairs set
# qmx_top's parameters in the packaged IP, e.g. AXI_DATA_WIDTH=512
# ARRAY_ROWS=16 ARRAY_COLS=16 CLOCK_KHZ=250000; AXI_DATA_WIDTH must equal the
# kernel.xml's m_axi_gmem dataWidth (gen_kernel_xml.py --gmem-data-bits),
# which is checked here.  $QMX_XO_PART names the scratch project's part
# (v++ -l re-synthesises for the platform's device anyway).
#
# The kernel interface Vitis needs: ap_clk, ap_rst_n, interrupt, the
# s_axi_control AXI4-Lite slave (ap_ctrl_hs at 0x00, arguments from 0x10 as
# in kernel.xml) and the m_axi_gmem AXI4 master.
if {$argc < 4} {
	puts "usage: vivado -mode batch -source package_xo.tcl -tclargs OUT_DIR KERNEL_XML RTL_DIR GEN_INCLUDE_DIR \[NAME=VALUE ...\]"
	exit 2
}
set out_dir    [file normalize [lindex $argv 0]]
set kernel_xml [file normalize [lindex $argv 1]]
set rtl_dir    [file normalize [lindex $argv 2]]
set gen_inc    [file normalize [lindex $argv 3]]
set params     [dict create AXI_DATA_WIDTH 64]
foreach kv [lrange $argv 4 end] {
	if {![regexp {^([A-Z_][A-Z0-9_]*)=(.+)$} $kv -> name value]} {
		puts "ERROR: '$kv' is not NAME=VALUE"
		exit 2
	}
	dict set params $name $value
}
set part [expr {[info exists ::env(QMX_XO_PART)] ? $::env(QMX_XO_PART) : "xcu55c-fsvh2892-2L-e"}]
set kernel     qmx_top
set ip_dir     $out_dir/ip_$kernel
set prj_dir    $out_dir/prj_$kernel
set xo         $out_dir/$kernel.xo

foreach f [list $kernel_xml $gen_inc/qmx_regs.vh $rtl_dir/$kernel.v] {
	if {![file exists $f]} {
		puts "ERROR: $f not found (build the project first: cmake --build BUILD --target qmx_kernel_xml qmx_regmap_gen)"
		exit 1
	}
}
# The kernel.xml and the RTL must agree on the AXI master's width.
set fh [open $kernel_xml]
set xml [read $fh]
close $fh
if {![regexp {<port name="m_axi_gmem"[^>]*dataWidth="([0-9]+)"} $xml -> xml_bits]} {
	puts "ERROR: $kernel_xml declares no m_axi_gmem port"
	exit 1
}
if {$xml_bits != [dict get $params AXI_DATA_WIDTH]} {
	puts "ERROR: $kernel_xml has m_axi_gmem dataWidth=$xml_bits but AXI_DATA_WIDTH=[dict get $params AXI_DATA_WIDTH]: regenerate it with gen_kernel_xml.py --gmem-data-bits [dict get $params AXI_DATA_WIDTH]"
	exit 1
}
file mkdir $out_dir
file delete -force $ip_dir $prj_dir $xo

create_project -force ${kernel}_pack $prj_dir -part $part
set rtl [glob -nocomplain $rtl_dir/qmx_*.v $rtl_dir/qmx_*.sv]
set rtl [lsearch -all -inline -not -regexp $rtl {_tb\.s?v$}]
add_files -norecurse $rtl
add_files -norecurse [glob -nocomplain $rtl_dir/*.vh] $gen_inc/qmx_regs.vh
foreach vh [get_files *.vh] {
	set_property file_type {Verilog Header} $vh
}
set_property include_dirs [list $rtl_dir $gen_inc] [current_fileset]
set_property top $kernel [current_fileset]
update_compile_order -fileset sources_1

ipx::package_project -root_dir $ip_dir -vendor qmx.dev -library kernel \
	-taxonomy /KernelIP -import_files -set_current false
ipx::unload_core $ip_dir/component.xml
ipx::edit_ip_in_project -upgrade true -name ${kernel}_edit -directory $ip_dir $ip_dir/component.xml
set core [ipx::current_core]
set_property core_revision 1 $core

# Fix the requested RTL parameters in the packaged IP, then drop the user
# parameters (a Vitis kernel has none to set).
dict for {name value} $params {
	set p [ipx::get_hdl_parameters $name -of_objects $core]
	if {$p eq ""} {
		puts "ERROR: $kernel has no parameter $name"
		exit 1
	}
	set_property value $value $p
}
foreach up [ipx::get_user_parameters -of_objects $core] {
	ipx::remove_user_parameter [get_property NAME $up] $core
}

# Vivado infers s_axi_control/m_axi_gmem from the port names; tie them and
# the interrupt to ap_clk, whose reset is ap_rst_n.
ipx::associate_bus_interfaces -busif s_axi_control -clock ap_clk $core
ipx::associate_bus_interfaces -busif m_axi_gmem -clock ap_clk $core
if {[ipx::get_bus_interfaces interrupt -of_objects $core] eq ""} {
	ipx::infer_bus_interface interrupt xilinx.com:signal:interrupt_rtl:1.0 $core
}
set_property sdx_kernel true $core
set_property sdx_kernel_type rtl $core
set_property supported_families { } $core
set_property auto_family_support_level level_2 $core
ipx::create_xgui_files $core
ipx::update_checksums $core
if {[catch {ipx::check_integrity -kernel $core} msg]} {
	puts "ERROR: the packaged IP is not a valid Vitis kernel: $msg"
	exit 1
}
ipx::save_core $core
close_project -delete

package_xo -xo_path $xo -kernel_name $kernel -ip_directory $ip_dir -kernel_xml $kernel_xml
puts "INFO: wrote $xo"
