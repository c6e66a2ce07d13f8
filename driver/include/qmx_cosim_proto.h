/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * qmx_cosim_proto.h - the cosim transport: how qmx.ko in a QEMU guest talks to
 * the device server sim/qmx-simd (the Verilator model) through QEMU's
 * ivshmem-doorbell PCI device (1af4:1110).  Kernel-safe: no libc; the user
 * of this header provides u32/u64-compatible types through the macros below.
 *
 * ivshmem-doorbell BARs:
 *   BAR0  ivshmem registers: IntrMask 0x00, IntrStatus 0x04, IVPosition 0x08,
 *         Doorbell 0x0C (write (peer_id << 16) | vector)
 *   BAR1  MSI-X table
 *   BAR2  the shared memory below, QMX_COSIM_SHM_SIZE bytes, laid out as
 *         [ struct qmx_cosim_ctrl | pad to 4 KiB | page table ]
 *
 * Register access (guest -> device), one request in flight:
 *   guest:  req_op, req_offset, req_value; then req_seq += 1 (release);
 *           ring Doorbell (device_peer_id << 16 | QMX_COSIM_VEC_MAILBOX)
 *   device: performs it on the model; ack_value, ack_status; then
 *           ack_seq = req_seq (release)
 *   guest:  polls ack_seq == req_seq with a bounded (ktime) wait
 * Interrupt (device -> guest): the device sets irq_pending = 1, increments
 * irq_count, and signals the guest's vector QMX_COSIM_VEC_IRQ (MSI-X 0).  The
 * guest's handler clears irq_pending and reads ISR through the mailbox.
 *
 * DMA: guest RAM is shared with the server (memory-backend-memfd/file,
 * share=on; with <= 2 GiB RAM on q35, file offset = guest-physical address).
 * The device's addresses are device-virtual: page i of the device address
 * space starts at QMX_COSIM_VA_BASE + i * QMX_COSIM_PAGE_SIZE and is
 * translated through page-table entry i (u64 at QMX_COSIM_PT_OFFSET + 8 * i),
 * written by the driver when it maps a GEM object (an IOMMU-like translation
 * that lets scattered shmem pages look contiguous to the device).  A device
 * access to an invalid or read-only entry ends the job with an AXI error.
 * After changing entries the driver issues QMX_COSIM_OP_TLB_FLUSH.
 */
#ifndef QMX_COSIM_PROTO_H
#define QMX_COSIM_PROTO_H

#define QMX_COSIM_MAGIC 0x43584D51u /* "QMXC" little-endian */
#define QMX_COSIM_VERSION 1u

#define QMX_COSIM_SHM_SIZE (16u << 20)       /* BAR2 size: 16 MiB */
#define QMX_COSIM_PT_OFFSET 0x1000u          /* page table after the control page */
#define QMX_COSIM_PT_ENTRIES ((QMX_COSIM_SHM_SIZE - QMX_COSIM_PT_OFFSET) / 8u)
#define QMX_COSIM_PAGE_SHIFT 12u
#define QMX_COSIM_PAGE_SIZE (1u << QMX_COSIM_PAGE_SHIFT)
#define QMX_COSIM_VA_BASE 0x10000000ull      /* device VA of page-table entry 0 */

/* Page-table entry: guest-physical page address | flags. */
#define QMX_COSIM_PTE_VALID 0x1ull
#define QMX_COSIM_PTE_WRITE 0x2ull
#define QMX_COSIM_PTE_ADDR_MASK 0x000FFFFFFFFFF000ull

/* ivshmem vectors. */
#define QMX_COSIM_VEC_MAILBOX 0u /* guest -> device doorbell vector */
#define QMX_COSIM_VEC_IRQ 0u     /* device -> guest interrupt (MSI-X vector 0) */

/* ivshmem BAR0 registers. */
#define QMX_IVSHMEM_INTR_MASK 0x00u
#define QMX_IVSHMEM_INTR_STATUS 0x04u
#define QMX_IVSHMEM_IV_POSITION 0x08u
#define QMX_IVSHMEM_DOORBELL 0x0Cu

/* Mailbox operations. */
#define QMX_COSIM_OP_READ32 1u    /* ack_value = register[req_offset] */
#define QMX_COSIM_OP_WRITE32 2u   /* register[req_offset] = req_value */
#define QMX_COSIM_OP_TLB_FLUSH 3u /* page-table entries changed */
#define QMX_COSIM_OP_PING 4u      /* ack_value = QMX_COSIM_MAGIC */

/* ack_status values. */
#define QMX_COSIM_OK 0u
#define QMX_COSIM_EBADOP 1u     /* unknown req_op */
#define QMX_COSIM_EBADOFFSET 2u /* offset outside the register window or unaligned */

/* Byte offsets of the control block's 32-bit fields in BAR2 (use these with
 * ioread32/iowrite32 or volatile accesses; no struct layout is assumed). */
#define QMX_COSIM_MAGIC_OFF 0x00u          /* device writes QMX_COSIM_MAGIC */
#define QMX_COSIM_VERSION_OFF 0x04u        /* device writes QMX_COSIM_VERSION */
#define QMX_COSIM_SERVER_READY_OFF 0x08u   /* device: 1 while serving */
#define QMX_COSIM_DEVICE_PEER_OFF 0x0Cu    /* device: its ivshmem peer id */
#define QMX_COSIM_REQ_SEQ_OFF 0x10u        /* guest */
#define QMX_COSIM_REQ_OP_OFF 0x14u         /* guest */
#define QMX_COSIM_REQ_OFFSET_OFF 0x18u     /* guest */
#define QMX_COSIM_REQ_VALUE_OFF 0x1Cu      /* guest */
#define QMX_COSIM_ACK_SEQ_OFF 0x20u        /* device */
#define QMX_COSIM_ACK_VALUE_OFF 0x24u      /* device */
#define QMX_COSIM_ACK_STATUS_OFF 0x28u     /* device */
#define QMX_COSIM_IRQ_PENDING_OFF 0x2Cu    /* device sets, guest clears */
#define QMX_COSIM_IRQ_COUNT_OFF 0x30u      /* device: interrupts raised */
#define QMX_COSIM_CLOCK_KHZ_OFF 0x34u      /* device: model clock, for hwmon/fdinfo */
/* device: READ32/WRITE32 mailbox requests served since the server started
 * (the guest's register MMIO, wrapping u32; PING and TLB_FLUSH are not
 * counted).  Benchmarks read it before and after a run for register
 * accesses per job; also in the control socket's "stats" reply (reg_ops). */
#define QMX_COSIM_REG_OPS_OFF 0x38u

#endif /* QMX_COSIM_PROTO_H */
