// RelaxNG name classes: which (namespace, local name) pairs an element or attribute pattern accepts.

export type NameClass =
  | { kind: 'name'; ns: string; local: string }
  | { kind: 'anyName'; except?: NameClass }
  | { kind: 'nsName'; ns: string; except?: NameClass }
  | { kind: 'choice'; a: NameClass; b: NameClass };

export function nameMatches(nc: NameClass, ns: string, local: string): boolean {
  switch (nc.kind) {
    case 'name': return nc.local === local && nc.ns === ns;
    case 'anyName': return !nc.except || !nameMatches(nc.except, ns, local);
    case 'nsName': return nc.ns === ns && (!nc.except || !nameMatches(nc.except, ns, local));
    case 'choice': return nameMatches(nc.a, ns, local) || nameMatches(nc.b, ns, local);
  }
}

/** The explicit names a class lists (for messages and completion); wildcards are skipped. */
export function listNames(nc: NameClass, out: { ns: string; local: string }[] = []): { ns: string; local: string }[] {
  if (nc.kind === 'name') out.push({ ns: nc.ns, local: nc.local });
  else if (nc.kind === 'choice') { listNames(nc.a, out); listNames(nc.b, out); }
  return out;
}

export function hasWildcard(nc: NameClass): boolean {
  if (nc.kind === 'anyName' || nc.kind === 'nsName') return true;
  if (nc.kind === 'choice') return hasWildcard(nc.a) || hasWildcard(nc.b);
  return false;
}

export function describeNameClass(nc: NameClass): string {
  switch (nc.kind) {
    case 'name': return nc.local;
    case 'anyName': return 'any name';
    case 'nsName': return `any name in ${nc.ns || 'no namespace'}`;
    case 'choice': return `${describeNameClass(nc.a)} | ${describeNameClass(nc.b)}`;
  }
}
