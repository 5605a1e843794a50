#!/bin/sh
# Every variation the seed mentions, through pcilab run: the kernel log shows
# what happened and the Configuration section says why (src/diag/setup.h,
# docs/variations.md). Module parameters come from copies of the seed's file.
. "$SRC/tests/lib/cli.inc"
seed="$SRC/src/scenario/builtin/seed.yaml"
mod() { # FILE PARAMS: the seed with the ecp5_dma module's parameters replaced
    sed "s/{name: ecp5_dma, at: 0.1s, params: {dma_bits: 32}}/{name: ecp5_dma, at: 0.1s, params: {$2}}/" \
        "$seed" >"$1"
    grep -qF "$2" "$1" || { echo "FAIL: could not set $2 in $1"; fails=$((fails + 1)); }
}

# kernels 4.9.80 and 4.20.17: the same fault, each in its own format
run run 0 --kernel 4.9 --until 0.11s
has out "Configuration:"
has out "[iommu] IOMMU on: translated DMA domains"
has out "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x"
has out "[msi-vectors] 01:00.0: 2 MSI vectors, through interrupt remapping"
run run 0 --kernel 4.20 --until 0.11s
has out "] AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000"
has out "arch/x86/kernel/apic/msi.c:108"

# iommu=off: no fault, data, one vector; our driver serves the UART by status
run run 0 --cmdline "iommu=off" --until 0.201s
has out "[iommu=off] iommu=off: no IOMMU translation and no interrupt remapping"
has out "1 MSI vector of the 2 asked for: DMA done and UART share IRQ"
has out "[msi-vectors] 01:00.0: 1 of 2 MSI vectors; 0 of 10 UART interrupts lost"
has out "] ecp5_dma 0000:01:00.0: DMA done: ec5d0001 00010001"
lacks out "] IO_PAGE_FAULT device="
# ... and the seed's own driver loses them
mod "$tmp/none.yaml" "dma_bits: 32, irq_sharing: none"
run run 0 "$tmp/none.yaml" --cmdline "iommu=off" --until 0.201s
has out "no UART handler (irq_sharing=none)"
has out "[msi-vectors] 01:00.0: 1 of 2 MSI vectors; 10 of 10 UART interrupts lost"
has out "instead: one vector, one handler that tells the sources apart"
has out "instead: MSI-X"
run run 0 "$tmp/none.yaml" --cmdline "iommu=off" --until 0.201s --json
has out '"uart_lost": 10'
has out '"irq_sharing": "none"'

# iommu=soft: 4.9 never starts AMD-Vi, so the seed's faults contradict it
run run 0 --kernel 4.9 --cmdline "iommu=soft" --until 0.11s
has out "[iommu=soft] iommu=soft on 4.9.80: AMD-Vi is never initialised"
has out "contradicts 4.9.80's code"
has out "/proc/cmdline"
lacks out "] IO_PAGE_FAULT device="
lacks out "AMD-Vi: Found IOMMU"
run run 0 --kernel 6.1 --cmdline "iommu=soft" --until 0.11s
has out "[iommu=soft] iommu=soft on 6.1: swiotlb is enabled but AMD-Vi still translates"
has out "IO_PAGE_FAULT"

# iommu=force: as without it; iommu=pt: 00:00.0's DTE still blocks writes
run run 0 --cmdline "iommu=force" --until 0.11s
has out "[iommu=force] iommu=force: the same as no option for AMD-Vi"
has out "IO_PAGE_FAULT device=00:00.0"
run run 0 --cmdline "iommu=pt" --until 0.11s
has out "[iommu=pt] iommu=pt: identity domains for listed devices; interrupt remapping stays on"
has out "read from the device table in memory"
has out "IO_PAGE_FAULT device=00:00.0"
run run 0 --cmdline "iommu=pt" --set ecp5.requester_id=captured --until 0.11s
lacks out "] IO_PAGE_FAULT device="
has out "] ecp5_dma 0000:01:00.0: DMA done: ec5d0001 00010001"

# DMA masks 32 and 64: an IOVA below 4 GiB either way behind the IOMMU
mod "$tmp/m64.yaml" "dma_bits: 64"
run run 0 "$tmp/m64.yaml" --until 0.11s
has out "] ecp5_dma 0000:01:00.0: DMA mask: 64 bits"
has out "[dma-mask] 64-bit DMA mask: buffer at 0xffbf8000"
has out "IO_PAGE_FAULT device=00:00.0"

# payload beyond MPS and beyond the page
run run 0 --set ecp5.payload=512 --until 0.1026s
has out "[payload-mps] payload 512 B > Max_Payload_Size 128 B: 4 write TLPs per cycle"
run run 0 --set ecp5.payload=8192 --set ecp5.requester_id=captured --until 0.1026s
has out "[payload-page] payload 8192 B runs 4096 B past the buffer's page"
has out "(0xffbf9000..0xffbf9fff)"
has out "silently overwrite that buffer"
lacks out "] IO_PAGE_FAULT device="
has out "] ecp5_dma 0000:01:00.0: DMA done: ec5d0001 00010001"
finish
