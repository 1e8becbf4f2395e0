#!/usr/bin/env bash
# Makes a small sample disk image for the Disk Images view: a 64 MiB qcow2 holding
#   GPT
#   ├─ partition 1 "boot"  (Linux filesystem): ext4 with a GRUB config and a kernel command line
#   └─ partition 2 "lvm"   (Linux LVM): PV → VG vg_sample → LV root: ext4 with /etc, /home, /var/log
# built with the real tools (sgdisk, pvcreate/vgcreate/lvcreate, mke2fs -d, qemu-img).
#
# LVM needs a block device for pvcreate: a loop device (root only). Without one the second
# partition holds the root ext4 directly (GPT → ext4) and the script says so.
#
#   examples/make-sample-image.sh [OUT.qcow2]     default: examples/sample.qcow2
# Does nothing when OUT is newer than this script (delete it to rebuild).
set -euo pipefail
export LC_ALL=C LVM_SUPPRESS_FD_WARNINGS=1

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/sample.qcow2}
if [ -f "$out" ] && [ "$out" -nt "$0" ]; then
  echo "make-sample-image: $out is up to date"
  exit 0
fi
for tool in sgdisk mke2fs qemu-img truncate; do
  command -v "$tool" >/dev/null || { echo "make-sample-image: $tool is missing (Debian packages gdisk, e2fsprogs, qemu-utils)" >&2; exit 1; }
done

work=$(mktemp -d)
loop=""
cleanup() {
  if [ -n "$loop" ]; then losetup -d "$loop" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

MiB=$((1024 * 1024))
disk_mib=64
boot_start_mib=1   # GPT partitions aligned to 1 MiB, as installers do
boot_mib=16
lvm_start_mib=$((boot_start_mib + boot_mib))
lvm_mib=$((disk_mib - lvm_start_mib - 1))   # the last MiB keeps the backup GPT
raw=$work/disk.raw

truncate -s "${disk_mib}M" "$raw"
sgdisk --clear \
  --new=1:${boot_start_mib}M:+${boot_mib}M --typecode=1:8300 --change-name=1:boot \
  --new=2:${lvm_start_mib}M:+${lvm_mib}M --typecode=2:8e00 --change-name=2:lvm \
  --disk-guid=5f0c9a1e-2b3d-4c5e-8f90-a1b2c3d4e5f6 \
  "$raw" >/dev/null

# ---- the files -------------------------------------------------------------------------------
boot=$work/boot
root=$work/root
mkdir -p "$boot/grub" "$root/etc" "$root/home/alice" "$root/var/log" "$root/root"
cat >"$boot/grub/grub.cfg" <<'EOF'
set timeout=3
set default=0
menuentry 'Debian GNU/Linux' {
	linux /vmlinuz root=/dev/mapper/vg_sample-root ro console=ttyS0,115200n8
	initrd /initrd.img
}
EOF
echo 'root=/dev/mapper/vg_sample-root ro console=ttyS0,115200n8' >"$boot/cmdline.txt"
echo web01 >"$root/etc/hostname"
cat >"$root/etc/fstab" <<'EOF'
# <file system>                 <mount point>  <type>  <options>          <dump>  <pass>
/dev/mapper/vg_sample-root      /              ext4    errors=remount-ro  0       1
PARTLABEL=boot                  /boot          ext4    defaults           0       2
EOF
cat >"$root/etc/os-release" <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
EOF
printf 'Hello from the sample image.\nThis file lives on an ext4 filesystem inside an LVM logical volume.\n' >"$root/home/alice/README.txt"
ln -s README.txt "$root/home/alice/notes.txt"
# A file spanning many blocks (extents), with content that is easy to check: line N is "line N".
seq -f 'line %g' 1 20000 >"$root/var/log/syslog"
chmod 700 "$root/root"

mkfs_ext4() { # DIR LABEL UUID OFFSET_BYTES SIZE_KIB
  mke2fs -q -F -t ext4 -L "$2" -U "$3" -d "$1" -E "offset=$4" "$raw" "$5"
}

mkfs_ext4 "$boot" boot 0b0071e5-0000-4000-8000-000000000001 $((boot_start_mib * MiB)) $((boot_mib * 1024))

# ---- partition 2: LVM when a loop device can be had, else ext4 directly --------------------------
layout="GPT -> ext4 (boot), LVM vg_sample/root -> ext4"
if [ "$(id -u)" = 0 ] && command -v pvcreate >/dev/null && loop=$(losetup --find --show \
    --offset $((lvm_start_mib * MiB)) --sizelimit $((lvm_mib * MiB)) "$raw" 2>/dev/null); then
  # A private LVM configuration: see only our loop device, no udev, no backups in /etc/lvm, and
  # no device-mapper (global/activation = 0): nothing is activated, so nothing needs the kernel driver.
  export LVM_SYSTEM_DIR=$work/lvm
  mkdir -p "$LVM_SYSTEM_DIR" "$work/lock"
  cat >"$LVM_SYSTEM_DIR/lvm.conf" <<EOF
devices { filter = [ "a|^$loop\$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
global { locking_dir = "$work/lock" activation = 0 }
EOF
  quiet() { "$@" >"$work/lvm.log" 2>&1 || { cat "$work/lvm.log" >&2; exit 1; }; }
  quiet pvcreate --uuid 5Amp1e-PV00-0000-0000-0000-0000-000001 --norestorefile "$loop"
  quiet vgcreate --physicalextentsize 4M vg_sample "$loop"
  # The LV is never activated: the filesystem is written straight into the extents it owns,
  # found from LVM's own report.
  quiet lvcreate -an -Zn -L 36M -n root vg_sample
  pe_start=$(pvs --noheadings --nosuffix --units b -o pe_start "$loop" 2>/dev/null | tr -d ' ')
  ranges=$(lvs --noheadings -o seg_pe_ranges vg_sample/root 2>/dev/null | tr -d ' ')   # e.g. /dev/loop0:0-8
  first_pe=${ranges##*:}; first_pe=${first_pe%-*}
  last_pe=${ranges##*-}
  lv_bytes=$(lvs --noheadings --nosuffix --units b -o lv_size vg_sample/root 2>/dev/null | tr -d ' ')
  [ $(((last_pe - first_pe + 1) * 4 * MiB)) = "$lv_bytes" ] || { echo "make-sample-image: LV root is not one contiguous segment ($ranges)" >&2; exit 1; }
  losetup -d "$loop"; loop=""
  mkfs_ext4 "$root" root 0b0071e5-0000-4000-8000-000000000002 $((lvm_start_mib * MiB + pe_start + first_pe * 4 * MiB)) $((lv_bytes / 1024))
else
  layout="GPT -> ext4 (boot), ext4 (root) (no loop device: LVM skipped)"
  echo "make-sample-image: no loop device (needs root); partition 2 gets ext4 without LVM" >&2
  sgdisk --typecode=2:8300 --change-name=2:root "$raw" >/dev/null
  mkfs_ext4 "$root" root 0b0071e5-0000-4000-8000-000000000002 $((lvm_start_mib * MiB)) $((lvm_mib * 1024))
fi

mkdir -p "$(dirname "$out")"
qemu-img convert -q -f raw -O qcow2 -c "$raw" "$out.tmp"
mv "$out.tmp" "$out"
echo "make-sample-image: wrote $out ($layout)"
