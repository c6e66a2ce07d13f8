# SPDX-License-Identifier: MIT
# vivado_stub.tcl - dry run of hw/fpga/package_xo.tcl under plain tclsh.
#
#   tclsh vivado_stub.tcl LOG PACKAGE_XO_TCL ARGS...
#
# Stands in for the Vivado commands the script uses: each call is logged to
# LOG (one line, command and arguments) and returns a token.  This checks the
# script's own logic (argument parsing, the kernel.xml width check, which
# files and parameters it hands to Vivado, the package_xo call); it does not
# check that Vivado accepts them.
set log [open [lindex $argv 0] w]
set script [lindex $argv 1]
set argv [lrange $argv 2 end]
set argc [llength $argv]

proc stub_log {args} {
	puts $::log [join $args " "]
	flush $::log
}

foreach cmd {create_project add_files set_property update_compile_order close_project
	     package_xo} {
	proc $cmd {args} "stub_log $cmd {*}\$args; return stub"
}
proc get_files {args} {
	stub_log get_files {*}$args
	return {qmx_defs.vh qmx_regs.vh}
}
proc current_fileset {args} { return sources_1 }
proc get_property {name obj} { return $obj }

namespace eval ipx {}
foreach cmd {package_project unload_core edit_ip_in_project remove_user_parameter
	     associate_bus_interfaces infer_bus_interface create_xgui_files update_checksums
	     check_integrity save_core} {
	proc ipx::$cmd {args} "stub_log ipx::$cmd {*}\$args; return stub"
}
proc ipx::current_core {args} { return core }
proc ipx::get_user_parameters {args} { return {ARRAY_ROWS AXI_DATA_WIDTH} }
proc ipx::get_bus_interfaces {args} { return {} }
proc ipx::get_hdl_parameters {name args} {
	# the parameters qmx_top declares
	if {$name in {ARRAY_ROWS ARRAY_COLS AXI_DATA_WIDTH AXI_ADDR_WIDTH CLOCK_KHZ}} {
		return hdl_$name
	}
	return {}
}

# Vivado's exit ends the dry run with the same code.
rename exit real_exit
proc exit {{code 0}} {
	stub_log exit $code
	close $::log
	real_exit $code
}
source $script
stub_log exit 0
close $log
