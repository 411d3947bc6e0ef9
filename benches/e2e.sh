#!/usr/bin/env bash
# End-to-end speed of imsprep against the tools a user would otherwise run,
# on the same files, in the same run. Prints a table of times and ratios and
# the peak resident memory of every imsprep command.
#
#   benches/e2e.sh                 # 4 GiB disk image, 64 GiB sparse file
#   DISK_GIB=8 RUNS=5 benches/e2e.sh
#
# Needs: hyperfine, qemu-img, zstd, sfdisk, mkfs.vfat, mkfs.ext4, /usr/bin/time
# (Debian: hyperfine qemu-utils zstd fdisk dosfstools e2fsprogs time).
set -euo pipefail

DISK_GIB=${DISK_GIB:-4}
SPARSE_GIB=${SPARSE_GIB:-64}
RUNS=${RUNS:-3}
FILL_FROM=${FILL_FROM:-/usr/share}
WORK=${WORK:-${TMPDIR:-/tmp}/imsprep-e2e}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

for tool in hyperfine qemu-img zstd sfdisk mkfs.vfat mkfs.ext4 python3; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "e2e: /usr/bin/time is missing (package time)" >&2; exit 2; }

echo "== building the release binary"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" -p imsprep-cli
IMSPREP="$CARGO_TARGET_DIR/release/imsprep"
mkdir -p "$WORK"
cd "$WORK"

# A realistic system disk: GPT, a 256 MiB ESP (FAT32), an ext4 root filled
# from the machine's own files, a written-zero region and holes.
make_disk() {
  local disk=disk.raw mib=$((DISK_GIB * 1024))
  [ -f "$disk" ] && [ "$(stat -c %s "$disk")" -eq $((mib << 20)) ] && return
  echo "== making a ${DISK_GIB} GiB disk image from $FILL_FROM"
  rm -f "$disk" esp.img root.img
  truncate -s "${mib}M" "$disk"
  printf 'label: gpt\nstart=2048, size=524288, type=uefi\nstart=526336, type=linux\n' |
    sfdisk --quiet "$disk"
  truncate -s 256M esp.img && mkfs.vfat -F 32 -n ESP esp.img >/dev/null
  local root_mib=$((mib - 257 - 1))
  # The root keeps a third of its space for written zeros and holes.
  truncate -s "$((root_mib * 2 / 3))M" root.img
  mkfs.ext4 -q -F -d "$FILL_FROM" root.img 2>/dev/null ||
    mkfs.ext4 -q -F root.img
  dd if=esp.img of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if=root.img of="$disk" bs=1M seek=257 conv=notrunc,sparse status=none
  # Allocated zeros: a region a scanner must read to learn it is empty.
  dd if=/dev/zero of="$disk" bs=1M seek=$((257 + root_mib * 2 / 3)) count=$((root_mib / 6)) \
    conv=notrunc status=none
  rm -f esp.img root.img
}

# A large sparse file: 1 GiB of data in 64 MiB pieces spread over SPARSE_GIB.
make_sparse() {
  local f=sparse.raw
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -eq $((SPARSE_GIB << 30)) ] && return
  echo "== making a ${SPARSE_GIB} GiB sparse file with 1 GiB of data"
  rm -f "$f" && truncate -s "${SPARSE_GIB}G" "$f"
  local step=$((SPARSE_GIB * 1024 / 16))
  for i in $(seq 0 15); do
    head -c 64M /dev/urandom | dd of="$f" bs=1M seek=$((i * step)) conv=notrunc status=none
  done
}

# The same disk with every byte allocated: the scan's worst case, since
# nothing can be skipped as a hole. And 1 GiB of written zeros, to show
# what a zero block costs the converter (its read and zero test only).
make_dense() {
  [ -f dense.raw ] && [ "$(stat -c %s dense.raw)" -eq "$(stat -c %s disk.raw)" ] && return
  echo "== making a fully allocated copy of the disk image"
  cp --sparse=never disk.raw dense.raw
}
make_zeros() {
  [ -f zeros.raw ] && [ "$(stat -c %s zeros.raw)" -eq $((1 << 30)) ] && return
  dd if=/dev/zero of=zeros.raw bs=1M count=1024 status=none
}

make_disk
make_sparse
make_dense
make_zeros
echo "== converting the inputs the decompression benchmarks read"
"$IMSPREP" --quiet convert disk.raw disk.zvhd2 --force >/dev/null
zstd -q -3 -T0 -f disk.raw -o disk.raw.zst
echo "== warming the page cache"
cat disk.raw dense.raw zeros.raw disk.zvhd2 disk.raw.zst > /dev/null
# Other work on the machine skews wall-clock figures; say so in the output.
echo "load average before timing: $(cut -d' ' -f1-3 /proc/loadavg)" | tee load.txt
if pgrep -f 'fuzz run|libfuzzer|-artifact_prefix=' >/dev/null; then
  echo "note: a fuzzer is running during these timings" | tee -a load.txt
fi

bench() { # name, then hyperfine options and commands (first is imsprep's)
  local name=$1; shift
  hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$name.json" "$@" >/dev/null 2>&1 ||
    hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$name.json" "$@"
}
# Commands that write a file start from the same state: no old output to
# delete (unlinking a 4 GiB file costs a tenth of a second) and no dirty
# pages of the previous run still being written back.
CLEAN="rm -f out.zvhd2 out.zst out.qcow2 out.raw out.zstd.raw out.mf; sync"
# A VM with free page reporting (Firecracker, some clouds) hands freed
# memory back to the host; the next run that touches it waits for the host
# to back it again, and timings turn bimodal (0.3 s or 1.2 s for the same
# command). Touching 4 GiB of tmpfs and freeing it right before each run
# leaves backed pages at the head of the free lists, for either tool.
if [ -e /sys/module/page_reporting ] && [ -d /dev/shm ]; then
  CLEAN="$CLEAN; dd if=/dev/zero of=/dev/shm/imsprep-warm bs=1M count=4096 status=none; rm -f /dev/shm/imsprep-warm"
  echo "note: free page reporting is on; memory is warmed before each timed run" | tee -a load.txt
fi

echo "== timing (hyperfine, $RUNS runs each)"
bench bitmap --prepare "$CLEAN" "$IMSPREP --quiet bitmap disk.raw -o out.mf --force" "cat disk.raw > /dev/null"
bench bitmap_dense --prepare "$CLEAN" "$IMSPREP --quiet bitmap dense.raw -o out.mf --force" \
  "cat dense.raw > /dev/null"
bench map "$IMSPREP --quiet map sparse.raw --json > /dev/null" \
  "qemu-img map --output=json sparse.raw > /dev/null"
bench compress --prepare "$CLEAN" "$IMSPREP --quiet convert disk.raw out.zvhd2 --force" \
  "zstd -q -3 -T0 -f disk.raw -o out.zst" \
  "zstd -q -3 -T0 -f disk.raw -o out.zst && sync out.zst" \
  "qemu-img convert -c -O qcow2 disk.raw out.qcow2"
bench zeros --prepare "$CLEAN" "$IMSPREP --quiet convert zeros.raw out.zvhd2 --force" \
  "cat zeros.raw > /dev/null"
bench decompress --prepare "$CLEAN" "$IMSPREP --quiet convert disk.zvhd2 out.raw --force" \
  "$IMSPREP --quiet verify disk.zvhd2" \
  "zstd -q -d -T0 -f disk.raw.zst -o out.zstd.raw" \
  "zstd -q -d -T0 -f disk.raw.zst -o out.zstd.raw && sync out.zstd.raw"
# The read bound of the sparse map: its 1 GiB of data read once.
[ -f data1g.bin ] || head -c 1G /dev/urandom > data1g.bin
cat data1g.bin > /dev/null
bench read1g "cat data1g.bin > /dev/null"

# Other formats, read by imsprep itself, against qemu-img on the same files:
# to RAW, and straight to ZVHD2 against the two-step path (qemu-img to RAW,
# then imsprep convert).
make_formats() {
  echo "== making the disk image in every format"
  local spec
  for spec in "qcow2:-O qcow2" "zlib.qcow2:-c -O qcow2" "zstd.qcow2:-c -O qcow2 -o compression_type=zstd" \
              "stream.vmdk:-O vmdk -o subformat=streamOptimized" "vhdx:-O vhdx" \
              "vhd:-O vpc -o subformat=dynamic,force_size=on" "vdi:-O vdi" "vmdk:-O vmdk"; do
    local ext=${spec%%:*} args=${spec#*:}
    [ -f "disk.$ext" ] || qemu-img convert -f raw $args disk.raw "disk.$ext"
  done
  cat disk.qcow2 disk.zlib.qcow2 disk.zstd.qcow2 disk.stream.vmdk disk.vhdx disk.vhd disk.vdi \
    disk.vmdk > /dev/null
}
make_formats
FORMATS="qcow2 zlib.qcow2 zstd.qcow2 vmdk stream.vmdk vhdx vhd vdi"
for ext in $FORMATS; do
  # imsprep syncs what it writes (an output is whole or absent); qemu-img
  # by default (cache=unsafe) exits with the file still in the page cache,
  # so it is timed that way and with -t writeback, which flushes the file
  # before exiting as imsprep does.
  bench "to_raw_$ext" --prepare "$CLEAN" "$IMSPREP --quiet convert disk.$ext out.raw --force" \
    "qemu-img convert -O raw disk.$ext out.raw" \
    "qemu-img convert -t writeback -O raw disk.$ext out.raw"
  bench "to_zvhd2_$ext" --prepare "$CLEAN" "$IMSPREP --quiet convert disk.$ext out.zvhd2 --force" \
    "qemu-img convert -O raw disk.$ext out.raw && $IMSPREP --quiet convert out.raw out.zvhd2 --force"
done

# Reading inside the image: a whole-tree listing and one small file of the
# ext4 root (filled from $FILL_FROM), through the guest's view.
bench fs_ls --prepare "true" "$IMSPREP ls -R --fs /dev/vda2 disk.raw / > /dev/null"
bench fs_cat --prepare "true" "$IMSPREP ls --fs /dev/vda2 disk.raw / > /dev/null"

# A block device: the scan reads and zero-tests every byte (a device has no
# holes to ask for); against the same bytes as a file without holes.
LOOP=
if LOOP=$(losetup --find --show --read-only dense.raw 2>/dev/null); then
  cat "$LOOP" > /dev/null
  bench device --prepare "$CLEAN" "$IMSPREP --quiet bitmap $LOOP -o out.mf --force" \
    "$IMSPREP --quiet bitmap dense.raw -o out.mf --force" "cat $LOOP > /dev/null"
else
  echo "note: no loop device here; the device benchmark is skipped" | tee -a load.txt
fi

echo "== peak resident memory (/usr/bin/time -v)"
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
{
  rm -f out.mf out.zvhd2 out.raw sparse.mf sparse.zvhd2
  echo "bitmap $(rss "$IMSPREP" --quiet bitmap disk.raw -o out.mf --force)"
  echo "bitmap_dense $(rss "$IMSPREP" --quiet bitmap dense.raw -o out.mf --force)"
  echo "map_sparse_${SPARSE_GIB}GiB $(rss "$IMSPREP" --quiet map sparse.raw --json)"
  echo "bitmap_sparse_${SPARSE_GIB}GiB $(rss "$IMSPREP" --quiet bitmap sparse.raw -o sparse.mf --force)"
  echo "convert_to_zvhd2 $(rss "$IMSPREP" --quiet convert disk.raw out.zvhd2 --force)"
  echo "convert_sparse_${SPARSE_GIB}GiB_to_zvhd2 $(rss "$IMSPREP" --quiet convert sparse.raw sparse.zvhd2 --force)"
  echo "convert_to_raw $(rss "$IMSPREP" --quiet convert disk.zvhd2 out.raw --force)"
  echo "verify $(rss "$IMSPREP" --quiet verify disk.zvhd2)"
  echo "inspect $(rss "$IMSPREP" --quiet inspect disk.raw)"
  for ext in $FORMATS; do
    echo "convert_${ext}_to_zvhd2 $(rss "$IMSPREP" --quiet convert "disk.$ext" out.zvhd2 --force)"
  done
  # Table caches stay bounded whatever the virtual size.
  rm -f huge.qcow2 && qemu-img create -q -f qcow2 huge.qcow2 1T
  qemu-img convert -n -f raw -O qcow2 --target-image-opts disk.raw \
    "driver=qcow2,file.filename=huge.qcow2" 2>/dev/null || true
  echo "map_1TiB_qcow2 $(rss "$IMSPREP" --quiet map huge.qcow2 --json)"
  echo "convert_1TiB_qcow2_to_raw_stream $(rss sh -c "$IMSPREP --quiet convert huge.qcow2 - --to raw | head -c 8G > /dev/null")"
  rm -f sparse.zvhd2 huge.qcow2
} > rss.txt

[ -n "$LOOP" ] && losetup -d "$LOOP"
FORMATS="$FORMATS" python3 - "$DISK_GIB" <<'PY'
import json, os, sys
# The median: on a VM a run now and then waits for the host (see CLEAN),
# and one such run moves a mean of a few runs more than any change does.
def median(name, i): return json.load(open(f"{name}.json"))["results"][i]["median"]
def row(label, a, b, note=""):
    print(f"| {label} | {a:.3f} s | {b:.3f} s | {a / b:.2f}x | {note} |")
size = os.path.getsize("disk.raw") / 1e6
print(f"\nDisk image: {size:.0f} MB ({os.path.getsize('disk.zvhd2') / 1e6:.0f} MB as ZVHD2); "
      f"sparse file: {os.path.getsize('sparse.raw') / 2**30:.0f} GiB, 1 GiB of data.\n")
print("Times are medians. Ratio: imsprep's time over the baseline's "
      "(below 1: imsprep is faster).\n")
print("| imsprep command | imsprep | baseline | ratio | baseline |")
print("|---|---|---|---|---|")
row("bitmap disk.raw", median("bitmap", 0), median("bitmap", 1), "cat > /dev/null")
row("bitmap dense.raw", median("bitmap_dense", 0), median("bitmap_dense", 1),
    "cat > /dev/null (no holes)")
row("map sparse.raw", median("map", 0), median("map", 1) + median("read1g", 0),
    "qemu-img map + reading 1 GiB")
row("convert RAW->ZVHD2", median("compress", 0), median("compress", 1), "zstd -3 -T0")
row("convert RAW->ZVHD2", median("compress", 0), median("compress", 2), "zstd -3 -T0, then sync")
row("convert RAW->ZVHD2", median("compress", 0), median("compress", 3), "qemu-img convert -c -O qcow2")
row("convert 1 GiB of zeros", median("zeros", 0), median("zeros", 1), "cat > /dev/null")
row("convert ZVHD2->RAW", median("decompress", 0), median("decompress", 2), "zstd -d -T0")
row("convert ZVHD2->RAW", median("decompress", 0), median("decompress", 3), "zstd -d -T0, then sync")
row("verify ZVHD2", median("decompress", 1), median("decompress", 2), "zstd -d -T0")
for ext in os.environ.get("FORMATS", "").split():
    row(f"convert {ext} -> RAW", median(f"to_raw_{ext}", 0), median(f"to_raw_{ext}", 1),
        "qemu-img convert -O raw")
    row(f"convert {ext} -> RAW", median(f"to_raw_{ext}", 0), median(f"to_raw_{ext}", 2),
        "qemu-img convert -t writeback -O raw (flushes)")
    row(f"convert {ext} -> ZVHD2", median(f"to_zvhd2_{ext}", 0), median(f"to_zvhd2_{ext}", 1),
        "qemu-img to RAW, then imsprep convert")
print(f"| ls -R of the ext4 root | {median('fs_ls', 0):.3f} s | | | |")
print(f"| ls of its top folder | {median('fs_cat', 0):.3f} s | | | |")
if os.path.exists("device.json"):
    row("bitmap of a loop device", median("device", 0), median("device", 1),
        "bitmap of the same bytes as a file without holes")
    row("bitmap of a loop device", median("device", 0), median("device", 2), "cat of the device")
c = median("compress", 0)
print(f"\nRAW->ZVHD2 throughput: {size / c:.0f} MB/s of disk image.\n")
print(open("load.txt").read())
print("| command | peak RSS |")
print("|---|---|")
for line in open("rss.txt"):
    name, kib = line.split()
    print(f"| {name} | {int(kib) / 1024:.0f} MiB |")
PY
