#!/usr/bin/env python3
"""Regenerates the committed fuzz seeds under fuzz/seeds/<target>/.

Sources: the reference ZVHD2 fixtures, the first and last parts of
fixtures/sample/disk.raw, and small files made by the real tools
(qemu-img, sfdisk, mkfs.*, mkswap, gzip, xz, tar) when they are installed;
a missing tool only means fewer seeds. Run from anywhere: python3 fuzz/make_seeds.py
"""

import json
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
ZVHD2 = os.path.join(ROOT, "fixtures", "zvhd2")
SAMPLE = os.path.join(ROOT, "fixtures", "sample", "disk.raw")
PROBE_MAX = 256 * 1024


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path, start=0, length=None):
    with open(path, "rb") as f:
        f.seek(start)
        return f.read() if length is None else f.read(length)


def patches(data):
    """The patch encoding of fuzz/src/lib.rs: length, then non-zero runs."""
    # Top bit: the harness reseals the footer checksums after patching.
    out = bytearray(struct.pack("<I", len(data) | 1 << 31))
    i, n = 0, len(data)
    while i < n:
        if data[i] == 0:
            i += 1
            continue
        j = i
        zeros = 0
        # Runs end at 16 zero bytes in a row or 65535 bytes.
        while j < n and j - i < 65535:
            zeros = zeros + 1 if data[j] == 0 else 0
            j += 1
            if zeros == 16:
                break
        run = data[i:j].rstrip(b"\0")
        out += struct.pack("<IH", i, len(run)) + run
        i = j
    return bytes(out)


def zvhd2_seeds():
    for name in sorted(os.listdir(ZVHD2)):
        if not name.endswith(".zvhd2"):
            continue
        data = read(os.path.join(ZVHD2, name))
        stem = name[: -len(".zvhd2")]
        head, tail = data[:512], data[-4096:-3584]
        put("zvhd2_footer", stem + "-head", head + struct.pack("<Q", len(data)))
        put("zvhd2_footer", stem + "-tail", tail + struct.pack("<Q", len(data)))
        p = patches(data)
        # Keep the committed seeds small: the big mixed files stay out.
        if len(p) <= 64 * 1024:
            put("zvhd2_file", stem, p)


def mf(granularity, image_size, bits, crc=None):
    blocks = -(-image_size // granularity)
    payload = bytearray(-(-blocks // 8))
    for b in bits:
        if b < blocks:
            payload[b // 8] |= 1 << (b % 8)
    count = sum(bin(x).count("1") for x in payload)
    h = bytearray(64)
    h[0:8] = b"\x89IMSPMF\n"
    struct.pack_into("<HHI", h, 8, 1, 64, 1 if crc is not None else 0)
    struct.pack_into("<QQQQ", h, 16, granularity, image_size, blocks, count)
    struct.pack_into("<II", h, 48, crc or 0, zlib.crc32(bytes(payload)))
    struct.pack_into("<I", h, 60, zlib.crc32(bytes(h[:60])))
    return bytes(h + payload)


def bitmap_seeds():
    put("scan_bitmap", "empty", mf(2 << 20, 0, []))
    put("scan_bitmap", "two-blocks", mf(2 << 20, 4 << 20, [1]))
    put("scan_bitmap", "partial-tail", mf(4096, 4096 * 13 + 7, [0, 5, 13], crc=0xDEADBEEF))
    put("scan_bitmap", "sample-48mib", mf(1 << 20, 48 << 20, [0, 1, 2, 8, 9, 40, 47]))


def run(cmd, cwd):
    try:
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        return True
    except (OSError, subprocess.CalledProcessError):
        return False


def partitioned(disk, size, script):
    """A sparse file of SIZE bytes partitioned by sfdisk from SCRIPT."""
    with open(disk, "wb") as f:
        f.truncate(size)
    try:
        subprocess.run(["sfdisk", "-q", disk], input=script.encode(), check=True,
                       capture_output=True)
        return True
    except (OSError, subprocess.CalledProcessError):
        return False


def probe_seeds():
    # The first byte of a probe input picks the file name; 0 = disk.raw.
    def probe(name, data, pick=0):
        put("probe", name, bytes([pick]) + data[: PROBE_MAX - 1])

    probe("sample-head", read(SAMPLE, 0, 64 * 1024))
    size = os.path.getsize(SAMPLE)
    probe("sample-tail", read(SAMPLE, size - 64 * 1024))
    for name in ("zeros", "gib-plus-one"):
        probe("zvhd2-" + name, read(os.path.join(ZVHD2, name + ".zvhd2"), 0, 16384), pick=7)
    with tempfile.TemporaryDirectory() as tmp:
        formats = {
            "qcow2": ["-o", "cluster_size=4096"],
            "vmdk": [],
            "vpc": [],
            "vhdx": [],
            "vdi": [],
            "qed": [],
        }
        picks = {"qcow2": 2, "vmdk": 3, "vpc": 4, "vhdx": 5, "vdi": 6, "qed": 10}
        for fmt, opts in formats.items():
            out = os.path.join(tmp, "d." + fmt)
            if run(["qemu-img", "create", "-q", "-f", fmt, *opts, out, "4M"], tmp):
                # VHDX keeps its region table at 192 KiB: keep all that fits.
                keep = PROBE_MAX if fmt == "vhdx" else 64 * 1024
                probe("qemu-" + fmt, read(out, 0, keep), pick=picks[fmt])
        out = os.path.join(tmp, "fixed.vhd")
        if run(["qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", out, "128K"], tmp):
            probe("qemu-vpc-fixed", read(out), pick=4)
        back = os.path.join(tmp, "back.qcow2")
        out = os.path.join(tmp, "child.qcow2")
        if run(["qemu-img", "create", "-q", "-f", "qcow2", back, "1M"], tmp) and run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-b", back, "-F", "qcow2", out], tmp
        ):
            probe("qemu-qcow2-backing", read(out, 0, 64 * 1024), pick=2)
        for label, script in (
            ("gpt", "label: gpt\nstart=40, size=100, type=uefi\nstart=140, size=200\n"),
            ("mbr", "label: dos\nstart=1, size=100, type=83\nstart=101, size=300, type=5\n"
                    "start=102, size=50, type=83\nstart=160, size=50, type=82\n"),
        ):
            disk = os.path.join(tmp, label + ".img")
            if partitioned(disk, 256 * 1024, script):
                probe("sfdisk-" + label, read(disk))
        filesystem_seeds(probe, tmp)
        plain = os.path.join(tmp, "plain.bin")
        with open(plain, "wb") as f:
            f.write(read(SAMPLE, 0, 8192))
        if run(["gzip", "-k", "-9", plain], tmp):
            probe("gzip", read(plain + ".gz"), pick=11)
        if run(["xz", "-k", plain], tmp):
            probe("xz", read(plain + ".xz"))
        tpath = os.path.join(tmp, "a.tar")
        with tarfile.open(tpath, "w") as t:
            t.add(plain, arcname="disk.raw")
        probe("tar", read(tpath))


def filesystem_seeds(probe, tmp):
    """File systems made by their own tools, so the probe's superblock checks
    start from real superblocks: 34 M executions from the other seeds never
    produced an ext2/3/4 one (a 16-bit magic 1 KiB into the input)."""
    # (name, tool and options, image size, bytes kept). The probe reads 4 KiB
    # at the start, swap's signature at the end of the first page, btrfs's at
    # 64 KiB + 64; tools refuse images below their minimum size, and the
    # image files are sparse.
    whole = (
        ("ext2", ["mkfs.ext2", "-q", "-F"], "4M", 8192),
        ("ext3", ["mkfs.ext3", "-q", "-F"], "4M", 8192),
        ("ext4", ["mkfs.ext4", "-q", "-F"], "4M", 8192),
        ("xfs", ["mkfs.xfs", "-q", "-f"], "300M", 8192),
        ("fat12", ["mkfs.vfat", "-F", "12"], "1M", 8192),
        ("fat16", ["mkfs.vfat", "-F", "16"], "16M", 8192),
        ("fat32", ["mkfs.vfat", "-F", "32"], "64M", 8192),
        ("swap", ["mkswap"], "1M", 8192),
        ("btrfs", ["mkfs.btrfs", "-q", "-f"], "128M", 68 * 1024),
    )
    for name, cmd, size, keep in whole:
        img = os.path.join(tmp, name + ".img")
        if run(["truncate", "-s", size, img], tmp) and run([*cmd, img], tmp):
            probe("fs-" + name, read(img, 0, keep))
    # Whole small disks (backup GPT included) with a file system inside a
    # partition, so the path from partition table to superblock is seeded.
    inside = (
        ("mbr-ext4", "label: dos\nstart=64, size=384, type=83\n", 224 * 1024,
         ["mkfs.ext4", "-q", "-F", "-E", "offset=32768"], ["192k"]),
        ("gpt-fat12", "label: gpt\nstart=40, size=180, type=uefi\n", 128 * 1024,
         ["mkfs.vfat", "-F", "12", "--offset", "40"], ["90"]),
    )
    for name, script, size, mkfs, fs_size in inside:
        disk = os.path.join(tmp, name + ".img")
        if partitioned(disk, size, script) and run([*mkfs, disk, *fs_size], tmp):
            probe("disk-" + name, read(disk))


def lint_seeds():
    base = {"name": "web", "image_url": "bkt:web.zvhd2", "os_version": "CentOS 7.0 64bit",
            "min_disk": 40}
    put("ims_lint", "clean.json", json.dumps(base).encode())
    full = dict(base, description="d", tags=["a.b", "c.d"], hw_firmware_type="uefi",
                architecture="arm", type="ECS", is_quick_import=True, data_images=[
                    {"name": "d1", "image_url": "bkt:d1.zvhd2", "min_disk": 10}])
    put("ims_lint", "full.json", json.dumps(full, indent=2).encode())
    put("ims_lint", "typos.json", b'{"name": "x", "imageUrl": 3, "min_disk_gb": "40", "tag": [1]}')
    put("ims_lint", "syntax.json", b'{"name": "x",, }')
    put("ims_lint", "bom.json", "\ufeff[]".encode())
    put("ims_lint", "image_tags.json", b'{"name": "win-2019", "image_url": "my-bucket:images/win 2019.raw", "os_version": "Windows Server 2019 Standard 64bit", "os_type": "Windows", "min_disk": 1025, "license_type": "byol", "hw_firmware_type": "bios", "architecture": "x86", "enterprise_project_id": "8d4b7f59-2b8c-4f0e-9d8a-1f2a3b4c5d6e", "image_tags": [{"key": " env ", "value": "prod"}, {"key": "env", "value": "\\u4e2d\\u6587"}, {"key": "k", "extra": 1}], "tags": ["a.b", "nodot"]}\n')
    put("ims_lint", "data_image.json", b'{"name": "data-1", "image_url": "https://bkt.obs.example.com/d1.qcow2", "type": "DataImage", "os_type": "Linux", "min_disk": "40", "description": "a\\tb", "is_quick_import": true}\n')


# The disk_open target's first byte picks the backend, in this order.
DISK_KINDS = ["qcow2", "vmdk", "ova", "vhd", "vhdx", "vdi"]


def disk_seeds():
    """Small images made by qemu-img (and tar for OVA) from a 2 MiB disk
    with data in a few places, each behind its backend's pick byte."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "d.raw")
        with open(raw, "wb") as f:
            f.truncate(2 << 20)
            for at in (0, 700_000, (2 << 20) - 4096):
                f.seek(at)
                f.write(bytes(range(256)) * 16)
        made = [
            ("qcow2", "qcow2-v3", ["-O", "qcow2", "-o", "cluster_size=4096"]),
            ("qcow2", "qcow2-v2-zlib", ["-c", "-O", "qcow2", "-o", "compat=0.10,cluster_size=4096"]),
            ("qcow2", "qcow2-zstd-extl2", ["-c", "-O", "qcow2", "-o", "compression_type=zstd,extended_l2=on,cluster_size=16384"]),
            ("vmdk", "vmdk-sparse", ["-O", "vmdk", "-o", "subformat=monolithicSparse"]),
            ("vmdk", "vmdk-stream", ["-O", "vmdk", "-o", "subformat=streamOptimized"]),
            ("vhd", "vhd-dynamic", ["-O", "vpc", "-o", "subformat=dynamic,force_size=on"]),
            ("vhdx", "vhdx-dynamic", ["-O", "vhdx", "-o", "subformat=dynamic,block_size=1M,log_size=1M"]),
            ("vdi", "vdi-dynamic", ["-O", "vdi"]),
        ]
        for kind, name, args in made:
            out = os.path.join(tmp, name)
            if run(["qemu-img", "convert", "-f", "raw", raw, *args, out], tmp):
                # run.sh caps inputs at 1 MiB; a cut image still reaches
                # every header and most tables.
                put("disk_open", name, (bytes([DISK_KINDS.index(kind)]) + read(out))[: 1 << 20])
        stream = os.path.join(tmp, "vmdk-stream")
        if os.path.exists(stream):
            with open(os.path.join(tmp, "x.ovf"), "w") as f:
                f.write("<Envelope><References><File ovf:href=\"disk1.vmdk\"/></References></Envelope>\n")
            shutil.copy(stream, os.path.join(tmp, "disk1.vmdk"))
            ova = os.path.join(tmp, "x.ova")
            if run(["tar", "--format=ustar", "-cf", ova, "x.ovf", "disk1.vmdk"], tmp):
                put("disk_open", "ova-stream", bytes([DISK_KINDS.index("ova")]) + read(ova))


def fs_seeds():
    """Small file systems with a few files, links and directories, made by
    their own tools (XFS and Btrfs have minimum sizes far past a seed)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(os.path.join(src, "etc", "deep", "er"))
        with open(os.path.join(src, "etc", "fstab"), "w") as f:
            f.write("UUID=1234 / ext4 defaults 0 1\n")
        with open(os.path.join(src, "etc", "deep", "er", "file.bin"), "wb") as f:
            f.write(bytes(range(256)) * 64)
        for i in range(40):
            open(os.path.join(src, "etc", f"entry-{i:03}-with-a-long-name"), "w").close()
        os.symlink("etc/fstab", os.path.join(src, "fast-link"))
        os.symlink("etc/deep/er/" + "x" * 80, os.path.join(src, "slow-link"))
        for kind, extra in (("ext2", []), ("ext4", []), ("ext4-inline", ["-O", "inline_data"])):
            img = os.path.join(tmp, kind)
            fstype = kind.split("-")[0]
            if run(["mke2fs", "-q", "-F", "-t", fstype, *extra, "-d", src, img, "1024"], tmp):
                put("fs_walk", kind, read(img))
        # XFS and Btrfs cannot be made small enough for a seed; their first
        # 4 MiB (superblocks, AG headers, the root inode and directory, the
        # first tree blocks) are what a reader parses first.
        for name, mkfs, size in (("xfs", ["mkfs.xfs", "-q", "-f"], 300 << 20),
                                 ("btrfs", ["mkfs.btrfs", "-q", "-f", "--rootdir", src], 128 << 20)):
            img = os.path.join(tmp, name)
            with open(img, "wb") as f:
                f.truncate(size)
            if run([*mkfs, img], tmp):
                put("fs_walk", name, read(img, 0, 4 << 20))
        img = os.path.join(tmp, "ntfs")
        with open(img, "wb") as f:
            f.truncate(2 << 20)
        if run(["mkntfs", "-F", "-f", "-Q", "-L", "seed", img], tmp):
            put("fs_walk", "ntfs", read(img))
        for bits in ("12", "16"):
            img = os.path.join(tmp, f"fat{bits}")
            size = "1024" if bits == "12" else "4200"
            if run(["mkfs.vfat", "-C", "-F", bits, img, size], tmp) and \
                    run(["mcopy", "-s", "-i", img, os.path.join(src, "etc"), "::"], tmp):
                put("fs_walk", f"fat{bits}", read(img))


def empty_hive():
    """The smallest hive hivex accepts (as crates/regf/tests/common/mod.rs
    writes it): base block with checksum, one hbin, the root key and one
    security cell, the rest of the bin free."""
    h = bytearray(8192)
    p32 = lambda at, v: struct.pack_into("<I", h, at, v & 0xFFFFFFFF)
    h[0:4] = b"regf"
    p32(4, 1); p32(8, 1)
    h[12:20] = (0x01DA000000000000).to_bytes(8, "little")
    p32(20, 1); p32(24, 5); p32(28, 0); p32(32, 1); p32(36, 32); p32(40, 4096); p32(44, 1)
    xor = 0
    for i in range(0, 508, 4):
        xor ^= struct.unpack_from("<I", h, i)[0]
    p32(508, xor if xor not in (0, 0xFFFFFFFF) else 1)
    b = 4096
    h[b:b + 4] = b"hbin"; p32(b + 4, 0); p32(b + 8, 4096)
    nk, sk_off = b + 32, 32 + 88
    p32(nk, -88)
    c = nk + 4
    h[c:c + 2] = b"nk"; h[c + 2:c + 4] = (0x2C).to_bytes(2, "little")
    h[c + 4:c + 12] = (0x01DA000000000000).to_bytes(8, "little")
    for off in (16, 28, 32, 40, 48):
        p32(c + off, 0xFFFFFFFF)
    p32(c + 44, sk_off)
    h[c + 72:c + 74] = (4).to_bytes(2, "little"); h[c + 76:c + 80] = b"ROOT"
    sk = b + sk_off
    p32(sk, -48)
    c = sk + 4
    h[c:c + 2] = b"sk"; p32(c + 4, sk_off); p32(c + 8, sk_off); p32(c + 12, 1); p32(c + 16, 20)
    h[c + 20] = 1; h[c + 22:c + 24] = (0x8004).to_bytes(2, "little")
    p32(b + sk_off + 48, 4096 - (sk_off + 48))
    return bytes(h)


def regf_seeds():
    """A SYSTEM-like hive filled by hivexsh, starting from empty_hive()."""
    with tempfile.TemporaryDirectory() as tmp:
        hive = os.path.join(tmp, "SYSTEM")
        with open(hive, "wb") as f:
            f.write(empty_hive())
        script = "\n".join([
            "add Select", "cd Select", "setval 1", "Current", "dword:1",
            "cd \\", "add ControlSet001", "cd ControlSet001", "add Services",
            "cd Services", "add viostor", "cd viostor", "setval 2", "Start", "dword:0",
            "ImagePath", "string:System32\\drivers\\viostor.sys", "commit", ""])
        try:
            subprocess.run(["hivexsh", "-w", hive], input=script.encode(), check=True,
                           capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            return
        put("regf_walk", "system", b"\x00" + read(hive))


def main():
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)
    zvhd2_seeds()
    bitmap_seeds()
    probe_seeds()
    lint_seeds()
    disk_seeds()
    fs_seeds()
    regf_seeds()
    total = 0
    for d, _, files in os.walk(SEEDS):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    print(f"seeds: {total} bytes")


if __name__ == "__main__":
    main()
