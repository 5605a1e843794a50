#!/bin/sh
# pcilab run q35-vtd: QEMU's q35 with intel-iommu boots Linux 6.1 with VT-d,
# printing the lines a real 6.1 prints under QEMU (tests/linux/captured/
# edu-vtd-ok.log), and the other versions' forms with --kernel.
. "$SRC/tests/lib/cli.inc"

run run 0 q35-vtd
has out "q35-vtd: QEMU q35 with intel-iommu"
has out "DMAR: IOMMU enabled"
has out "DMAR: Host address width 39"
has out "DMAR: DRHD base: 0x000000fed90000 flags: 0x0"
has out "DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap d2008c22260206 ecap f00f4a"
has out "DMAR-IR: IOAPIC id 0 under DRHD base  0xfed90000 IOMMU 0"
has out "DMAR-IR: Enabled IRQ remapping in xapic mode"
has out "DMAR: No RMRR found"
has out "DMAR: No ATSR found"
has out "DMAR: No SATC found"
has out "DMAR: dmar0: Using Queued invalidation"
has out "pci 0000:00:1f.2: Adding to iommu group 1"
has out "DMAR: Intel(R) Virtualization Technology for Directed I/O"

# intel_iommu=off: the table is read, DMA remapping stays off
run run 0 q35-vtd --cmdline "intel_iommu=off"
has out "DMAR: IOMMU disabled"
has out "DMAR: DRHD base: 0x000000fed90000 flags: 0x0"
lacks out "DMAR: Intel(R) Virtualization Technology for Directed I/O"

# 4.9: no SATC, the LPC unity map, the group lines after the banner
run run 0 q35-vtd --kernel 4.9
has out "DMAR: Prepare 0-16MiB unity mapping for LPC"
has out "DMAR: Setting identity map for device 0000:00:1f.0 [0x0 - 0xffffff]"
has out "iommu: Adding device 0000:00:1f.2 to group 1"
lacks out "DMAR: No SATC found"

# 5.15 leaves DMA remapping off without intel_iommu=on (Debian's 6.1 turns it on)
run run 0 q35-vtd --kernel 5.15 --cmdline ""
lacks out "DMAR: Intel(R) Virtualization Technology for Directed I/O"
run run 0 q35-vtd --kernel 6.1 --cmdline ""
has out "DMAR: Intel(R) Virtualization Technology for Directed I/O"
finish
