// Format detection by content (never by file name): magic numbers at fixed offsets, a VMDK text
// descriptor, or a VHD footer at the end of the file. Formats we cannot read are named in the
// error instead of being shown as raw bytes.
import { ImageError } from './blockDevice';
import { latin1 } from './bytes';
import type { FileDevice } from './fileDevice';
import type { ImageFormat } from './image';

const UNSUPPORTED: [number, string, string][] = [
  [0, 'QED\0', 'QED'],
  [0, 'LUKS\xba\xbe', 'LUKS-encrypted'],
  [0, 'WithoutFreeSpace', 'Parallels'],
  [0, 'WithouFreSpacExt', 'Parallels'],
  [0, 'COWD', 'VMware ESX (COWD) sparse'],
  [0, 'Bochs Virtual HD Image', 'Bochs'],
  [0, 'OOOM', 'QEMU qcow version 1'],
];

export async function detectFormat(file: FileDevice): Promise<ImageFormat> {
  const head = await file.read(0, Math.min(file.size, 1024));
  const text = latin1(head);
  if (text.startsWith('QFI\xfb')) {
    const version = head.length >= 8 ? (head[4] << 24 | head[5] << 16 | head[6] << 8 | head[7]) >>> 0 : 0;
    if (version === 1) throw new ImageError('qcow version 1 images are not supported', 'qcow header', 4);
    return 'qcow2';
  }
  if (text.startsWith('KDMV')) return 'vmdk';
  if (text.startsWith('vhdxfile')) return 'vhdx';
  if (text.startsWith('conectix')) return 'vpc';
  if (head.length >= 68 && (head[64] | head[65] << 8 | head[66] << 16 | head[67] << 24) >>> 0 === 0xbeda107f) return 'vdi';
  if (isVmdkDescriptor(text)) return 'vmdk';
  for (const [at, magic, name] of UNSUPPORTED) {
    if (text.startsWith(magic, at)) throw new ImageError(`${name} images are not supported`, 'image header', at);
  }
  // A fixed VHD is raw data followed by a 512-byte footer.
  if (file.size >= 1024 && file.size % 512 === 0) {
    const foot = latin1(await file.read(file.size - 512, 8));
    if (foot === 'conectix') return 'vpc';
  }
  return 'raw';
}

/** A VMDK text descriptor (monolithicFlat, twoGbMaxExtent*, vmfs): a small text file. */
export function isVmdkDescriptor(text: string): boolean {
  return /^\s*#\s*Disk DescriptorFile/.test(text) || /^\s*(#[^\n]*\n\s*)*version\s*=\s*\d+\s*\n/.test(text) && /createType\s*=/.test(text);
}
