// Ready-made device definitions offered where the schema allows the device element.
// Bodies use LSP snippet syntax; each is valid against libvirt's schema once placeholders are kept.

export interface DeviceSnippet { element: string; label: string; detail: string; body: string }

export const DEVICE_SNIPPETS: DeviceSnippet[] = [
  {
    element: 'disk', label: 'disk (qcow2 file, virtio)', detail: 'A disk image file on a virtio bus',
    body: [
      "<disk type='file' device='disk'>",
      "  <driver name='qemu' type='${1|qcow2,raw|}'/>",
      "  <source file='${2:/var/lib/libvirt/images/disk.qcow2}'/>",
      "  <target dev='${3:vda}' bus='virtio'/>",
      '</disk>',
    ].join('\n'),
  },
  {
    element: 'disk', label: 'disk (CD-ROM, SATA)', detail: 'A read-only ISO image on a SATA CD-ROM drive',
    body: [
      "<disk type='file' device='cdrom'>",
      "  <driver name='qemu' type='raw'/>",
      "  <source file='${1:/var/lib/libvirt/images/install.iso}'/>",
      "  <target dev='${2:sda}' bus='sata'/>",
      '  <readonly/>',
      '</disk>',
    ].join('\n'),
  },
  {
    element: 'disk', label: 'disk (block device)', detail: 'A host block device (LV, partition) as a virtio disk',
    body: [
      "<disk type='block' device='disk'>",
      "  <driver name='qemu' type='raw' cache='none' io='native'/>",
      "  <source dev='${1:/dev/vg0/guest}'/>",
      "  <target dev='${2:vdb}' bus='virtio'/>",
      '</disk>',
    ].join('\n'),
  },
  {
    element: 'interface', label: 'interface (libvirt network, virtio)', detail: 'A NIC on a libvirt virtual network',
    body: [
      "<interface type='network'>",
      "  <source network='${1:default}'/>",
      "  <model type='virtio'/>",
      '</interface>',
    ].join('\n'),
  },
  {
    element: 'interface', label: 'interface (host bridge)', detail: 'A NIC attached to a host bridge',
    body: [
      "<interface type='bridge'>",
      "  <source bridge='${1:br0}'/>",
      "  <model type='virtio'/>",
      '</interface>',
    ].join('\n'),
  },
  {
    element: 'serial', label: 'serial console (pty)', detail: 'A serial port on a pseudo-terminal, with its console',
    body: [
      "<serial type='pty'>",
      "  <target port='0'/>",
      '</serial>',
      "<console type='pty'>",
      "  <target type='serial' port='0'/>",
      '</console>',
    ].join('\n'),
  },
  {
    element: 'console', label: 'console (pty, serial)', detail: 'A text console on the first serial port',
    body: ["<console type='pty'>", "  <target type='${1|serial,virtio|}' port='0'/>", '</console>'].join('\n'),
  },
  {
    element: 'graphics', label: 'graphics (VNC)', detail: 'A VNC display listening on localhost',
    body: ["<graphics type='vnc' port='-1' autoport='yes'>", "  <listen type='address' address='${1:127.0.0.1}'/>", '</graphics>'].join('\n'),
  },
  {
    element: 'graphics', label: 'graphics (SPICE)', detail: 'A SPICE display with automatic port',
    body: ["<graphics type='spice' autoport='yes'>", "  <listen type='address' address='${1:127.0.0.1}'/>", '</graphics>'].join('\n'),
  },
  {
    element: 'controller', label: 'controller (virtio-scsi)', detail: 'A virtio SCSI controller',
    body: "<controller type='scsi' index='${1:0}' model='virtio-scsi'/>",
  },
  {
    element: 'controller', label: 'controller (USB qemu-xhci)', detail: 'A USB 3 controller',
    body: "<controller type='usb' index='${1:0}' model='qemu-xhci'/>",
  },
];
