// URIs of files inside disk images, for the read-only FileSystemProvider:
//   virt-image:/<volume>/<path inside the volume>?image=<absolute image path>
// The volume name may contain a slash (VG/LV), so it is percent-encoded as one segment.
export const IMAGE_SCHEME = 'virt-image';

export interface ImageLocation { image: string; volume: string; path: string }

export function formatImageUri(loc: ImageLocation): { scheme: string; path: string; query: string } {
  const inner = loc.path.startsWith('/') ? loc.path : `/${loc.path}`;
  return { scheme: IMAGE_SCHEME, path: `/${encodeURIComponent(loc.volume)}${inner === '/' ? '' : inner}`, query: `image=${encodeURIComponent(loc.image)}` };
}

export function parseImageUri(uri: { path: string; query: string }): ImageLocation {
  const image = new URLSearchParams(uri.query).get('image');
  if (!image) throw new Error('disk-image URI without an image');
  const m = /^\/([^/]+)(\/.*)?$/.exec(uri.path);
  if (!m) throw new Error(`disk-image URI without a volume: ${uri.path}`);
  return { image, volume: decodeURIComponent(m[1]), path: m[2] ?? '/' };
}
