/* SPDX-License-Identifier: MIT */
/*
 * xrt_capi.h - the part of XRT's native C API (xrt/xrt_device.h,
 * xrt/xrt_kernel.h, xrt/xrt_bo.h, xrt/detail/ert.h) that qmx uses, declared
 * here with XRT's signatures so qmx builds without XRT and loads it at run
 * time with dlopen.  Also implemented by tests/fpga's emulation library.
 */
#ifndef QMX_XRT_CAPI_H
#define QMX_XRT_CAPI_H

#include <stddef.h>
#include <stdint.h>

typedef void *xrtDeviceHandle;
typedef void *xrtKernelHandle;
typedef void *xrtRunHandle;
typedef void *xrtBufferHandle;
typedef uint64_t xrtBufferFlags;
typedef uint32_t xrtMemoryGroup;
typedef unsigned char xuid_t[16];

enum xclBOSyncDirection {
	XCL_BO_SYNC_BO_TO_DEVICE = 0,
	XCL_BO_SYNC_BO_FROM_DEVICE = 1,
};

enum ert_cmd_state {
	ERT_CMD_STATE_NEW = 1,
	ERT_CMD_STATE_QUEUED = 2,
	ERT_CMD_STATE_RUNNING = 3,
	ERT_CMD_STATE_COMPLETED = 4,
	ERT_CMD_STATE_ERROR = 5,
	ERT_CMD_STATE_ABORT = 6,
	ERT_CMD_STATE_SUBMITTED = 7,
	ERT_CMD_STATE_TIMEOUT = 8,
	ERT_CMD_STATE_NORESPONSE = 9,
};

/* X(return type, name, parameters): one list for the function-pointer table
 * of the backend and the prototypes of the emulation. */
#define QMX_XRT_CAPI(X)                                                              \
	X(xrtDeviceHandle, xrtDeviceOpen, (unsigned int index))                      \
	X(int, xrtDeviceClose, (xrtDeviceHandle dhdl))                               \
	X(int, xrtDeviceLoadXclbinFile, (xrtDeviceHandle dhdl, const char *xclbin_fnm)) \
	X(int, xrtDeviceGetXclbinUUID, (xrtDeviceHandle dhdl, xuid_t out))           \
	X(xrtKernelHandle, xrtPLKernelOpenExclusive,                                 \
	  (xrtDeviceHandle dhdl, const xuid_t xclbin_id, const char *name))          \
	X(int, xrtKernelClose, (xrtKernelHandle khdl))                               \
	X(int, xrtKernelArgGroupId, (xrtKernelHandle khdl, int argno))               \
	X(int, xrtKernelReadRegister, (xrtKernelHandle khdl, uint32_t offset, uint32_t *datap)) \
	X(xrtRunHandle, xrtRunOpen, (xrtKernelHandle khdl))                          \
	X(int, xrtRunSetArg, (xrtRunHandle rhdl, int index, ...))                    \
	X(int, xrtRunStart, (xrtRunHandle rhdl))                                     \
	X(enum ert_cmd_state, xrtRunWaitFor, (xrtRunHandle rhdl, unsigned int timeout_ms)) \
	X(enum ert_cmd_state, xrtRunState, (xrtRunHandle rhdl))                      \
	X(int, xrtRunClose, (xrtRunHandle rhdl))                                     \
	X(xrtBufferHandle, xrtBOAlloc,                                               \
	  (xrtDeviceHandle dhdl, size_t size, xrtBufferFlags flags, xrtMemoryGroup grp)) \
	X(xrtBufferHandle, xrtBOSubAlloc, (xrtBufferHandle parent, size_t size, size_t offset)) \
	X(int, xrtBOFree, (xrtBufferHandle bhdl))                                    \
	X(void *, xrtBOMap, (xrtBufferHandle bhdl))                                  \
	X(int, xrtBOSync,                                                            \
	  (xrtBufferHandle bhdl, enum xclBOSyncDirection dir, size_t size, size_t offset)) \
	X(uint64_t, xrtBOAddress, (xrtBufferHandle bhdl))

#endif /* QMX_XRT_CAPI_H */
