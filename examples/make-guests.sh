#!/bin/sh
# Builds the guests the example domain XMLs boot, into /var/lib/libvirt/images/virt-studio/ (or $1) — the
# absolute paths the examples name, in libvirt's image folder:
#   bootsector.raw / bootsector.qcow2  a nasm boot sector that prints on COM1 and the screen
#   vmlinuz-686                        Debian's i386 kernel (linux-image-686's dependency)
#   vmlinuz-686.release                its `uname -r` and Debian version, two lines (what
#                                      `uname -a` in the guest must show)
#   initramfs.cpio.gz                  busybox-static (i386) with an /init that starts a shell
# Needs: nasm, qemu-img, cpio, gzip, apt-get/dpkg with the i386 architecture enabled
# (dpkg --add-architecture i386 && apt-get update). Re-running reuses what is already there.
set -eu
out=${1:-/var/lib/libvirt/images/virt-studio}
mkdir -p "$out" 2>/dev/null && [ -w "$out" ] || { echo "make-guests.sh: cannot write $out: run as root, or name a folder (then point the examples' paths at it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- boot sector ---------------------------------------------------------------------------
if [ ! -f "$out/bootsector.qcow2" ]; then
  cat > "$tmp/boot.asm" <<'ASM'
; Loaded by the BIOS at 0000:7C00. Prints a line on COM1 (polled 16550) and via INT 10h, halts.
bits 16
org 0x7c00
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov dx, 0x3fb          ; LCR: 8N1, DLAB for 115200 baud
    mov al, 0x83
    out dx, al
    mov dx, 0x3f8
    mov al, 1
    out dx, al
    inc dx
    xor al, al
    out dx, al
    mov dx, 0x3fb
    mov al, 0x03
    out dx, al
    mov si, msg
.next:
    lodsb
    test al, al
    jz .done
    mov bl, al
    mov dx, 0x3fd          ; wait for THRE
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, 0x3f8
    mov al, bl
    out dx, al
    mov ah, 0x0e           ; teletype output on the screen too
    mov bh, 0
    int 0x10
    jmp .next
.done:
    hlt
    jmp .done
msg: db "Hello from the Virt Studio boot sector", 13, 10, 0
times 510 - ($ - $$) db 0
dw 0xaa55
ASM
  nasm -f bin -o "$tmp/boot.bin" "$tmp/boot.asm"
  qemu-img create -q -f raw "$out/bootsector.raw" 1M
  dd if="$tmp/boot.bin" of="$out/bootsector.raw" conv=notrunc status=none
  qemu-img convert -f raw -O qcow2 "$out/bootsector.raw" "$out/bootsector.qcow2"
fi

# --- packages -----------------------------------------------------------------------------
fetch() { # fetch PKG DIR: apt-get download + dpkg -x; the package version goes to DIR.version
  mkdir -p "$2"
  ( cd "$tmp" && apt-get download "$1" >/dev/null )
  deb=$(ls "$tmp"/$(echo "$1" | sed 's/:.*//')_*.deb)
  dpkg -x "$deb" "$2"
  dpkg-deb -f "$deb" Version > "$2.version"
  rm -f "$tmp"/*.deb
}

if [ ! -f "$out/vmlinuz-686" ] || [ ! -f "$out/vmlinuz-686.release" ]; then
  pkg=$(apt-cache depends linux-image-686:i386 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1)
  [ -n "$pkg" ] || { echo "make-guests: cannot resolve linux-image-686:i386 (enable i386: dpkg --add-architecture i386 && apt-get update)" >&2; exit 1; }
  fetch "$pkg" "$tmp/kernel"
  image=$(ls "$tmp"/kernel/boot/vmlinuz-*)
  printf '%s\n%s\n' "${image##*/vmlinuz-}" "$(cat "$tmp/kernel.version")" > "$out/vmlinuz-686.release"
  cp "$image" "$out/vmlinuz-686"
fi

if [ ! -f "$out/initramfs.cpio.gz" ]; then
  fetch busybox-static:i386 "$tmp/bb"
  root=$tmp/root
  mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root"
  cp "$tmp/bb/bin/busybox" "$root/bin/busybox"
  for app in sh mount uname echo cat ls mkdir setsid cttyhack poweroff reboot dmesg; do ln -s busybox "$root/bin/$app"; done
  cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "Virt Studio busybox initramfs ready"
export HOME=/root PS1='~ # '
cd /root
exec setsid cttyhack /bin/sh
INIT
  chmod +x "$root/init"
  ( cd "$root" && find . | cpio -o -H newc --quiet ) | gzip -9 > "$out/initramfs.cpio.gz"
fi
echo "guests ready in $out"
