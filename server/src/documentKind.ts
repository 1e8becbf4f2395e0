// Decides which language a document is in, from its name and its first element, the way the
// manifest's firstLine/filenamePatterns do, so the CLI and the server agree with VS Code.
export type LibvirtKind = 'domain' | 'network' | 'pool' | 'volume' | 'libvirt-other';
export type DocumentKind = LibvirtKind | 'lvm-conf' | 'lvm-metadata' | 'unknown';

const LIBVIRT_ROOTS: Record<string, LibvirtKind> = {
  domain: 'domain', network: 'network', pool: 'pool', volume: 'volume',
};
/** Other roots that libvirt's schemas describe; validated against the matching schema. */
const OTHER_LIBVIRT_ROOTS = new Set([
  'networkport', 'nwfilter', 'nwfilterbinding', 'secret', 'interface', 'device', 'capabilities',
  'domainsnapshot', 'domaincheckpoint', 'domainbackup', 'domainCapabilities', 'storagepoolCapabilities', 'cpu',
]);

/** The name of the first element, skipping the prolog, comments, doctype and PIs. */
export function rootElementName(text: string): string | undefined {
  const re = /<(?:\?[\s\S]*?\?>|!--[\s\S]*?-->|!DOCTYPE[^>]*>|([A-Za-z_][\w.:-]*))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1]) return m[1];
  }
  return undefined;
}

function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return path.slice(i + 1);
}

/** LVM text metadata always carries these top-level keys; configs never do. */
function looksLikeLvmMetadata(text: string): boolean {
  return /^\s*contents\s*=\s*"Text Format Volume Group"/m.test(text)
    || (/^\s*[\w.+-]+\s*\{/m.test(text) && /^\s*seqno\s*=/m.test(text) && /^\s*extent_size\s*=/m.test(text));
}

export function detectKind(path: string, text: string): DocumentKind {
  const name = baseName(path);
  const normalized = path.replace(/\\/g, '/');
  if (/\.vg$/.test(name) || /\/lvm\/(backup|archive)\//.test(normalized)) return 'lvm-metadata';
  if (name === 'lvm.conf' || name === 'lvmlocal.conf' || /^lvm_.*\.conf$/.test(name) || /\.profile$/.test(name)) {
    return 'lvm-conf';
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) {
    const root = rootElementName(text);
    if (root && LIBVIRT_ROOTS[root]) return LIBVIRT_ROOTS[root];
    if (root && OTHER_LIBVIRT_ROOTS.has(root)) return 'libvirt-other';
    return 'unknown';
  }
  if (looksLikeLvmMetadata(text)) return 'lvm-metadata';
  return 'unknown';
}

export function isLibvirtKind(kind: DocumentKind): kind is LibvirtKind {
  return kind === 'domain' || kind === 'network' || kind === 'pool' || kind === 'volume' || kind === 'libvirt-other';
}
