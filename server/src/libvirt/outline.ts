// Document symbols (devices grouped by kind) and folding ranges for libvirt XML.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { FoldingRangeKind, SymbolKind, type DocumentSymbol, type FoldingRange } from 'vscode-languageserver-types';
import type { XmlElement } from '../relaxng/xmlParser';
import type { LibvirtAnalyzer } from './analysis';
import { attrValue, child, textContent } from './xmlQuery';

const KIND: Record<string, SymbolKind> = {
  devices: SymbolKind.Package, disk: SymbolKind.File, interface: SymbolKind.Interface, controller: SymbolKind.Module,
  memory: SymbolKind.Number, currentMemory: SymbolKind.Number, vcpu: SymbolKind.Number, name: SymbolKind.String,
  uuid: SymbolKind.Key, os: SymbolKind.Module, cpu: SymbolKind.Module, features: SymbolKind.Module,
};

/** A short description of an element: its key attributes or text. */
function detailOf(el: XmlElement): string {
  switch (el.local) {
    case 'disk': {
      const src = child(el, 'source');
      const source = attrValue(src, 'file') ?? attrValue(src, 'dev') ?? attrValue(src, 'name') ?? attrValue(src, 'volume') ?? '';
      return [attrValue(el, 'device'), attrValue(child(el, 'target'), 'dev'), source].filter(Boolean).join(' ');
    }
    case 'interface': {
      const src = child(el, 'source');
      return [attrValue(el, 'type'), attrValue(src, 'network') ?? attrValue(src, 'bridge') ?? attrValue(src, 'dev'), attrValue(child(el, 'mac'), 'address')].filter(Boolean).join(' ');
    }
    case 'controller': return [attrValue(el, 'type'), attrValue(el, 'index'), attrValue(el, 'model')].filter(Boolean).join(' ');
  }
  const texts = el.children.every((c) => c.kind === 'text') ? textContent(el).trim() : '';
  if (texts) return texts.length > 60 ? `${texts.slice(0, 57)}…` : texts + (attrValue(el, 'unit') ? ` ${attrValue(el, 'unit')}` : '');
  const type = attrValue(el, 'type') ?? attrValue(el, 'name') ?? attrValue(el, 'model') ?? attrValue(el, 'mode');
  return type ?? '';
}

export function symbols(an: LibvirtAnalyzer, doc: TextDocument): DocumentSymbol[] {
  const root = an.parse(doc).root;
  if (!root) return [];
  const range = (el: XmlElement) => ({ start: doc.positionAt(el.start), end: doc.positionAt(el.end) });
  const sel = (el: XmlElement) => ({ start: doc.positionAt(el.nameStart), end: doc.positionAt(el.nameEnd) });
  const sym = (el: XmlElement, depth: number): DocumentSymbol => {
    const kids = el.children.filter((c): c is XmlElement => c.kind === 'element');
    let children: DocumentSymbol[] | undefined;
    if (el.local === 'devices' && el.parent === root) {
      // Group devices by kind: "disk (3)" > each disk.
      const groups = new Map<string, XmlElement[]>();
      for (const k of kids) {
        let g = groups.get(k.local);
        if (!g) groups.set(k.local, (g = []));
        g.push(k);
      }
      children = [...groups].map(([kind, els]) => els.length === 1
        ? sym(els[0], depth + 1)
        : {
          name: `${kind} (${els.length})`, kind: KIND[kind] ?? SymbolKind.Object,
          range: { start: doc.positionAt(els[0].start), end: doc.positionAt(els[els.length - 1].end) },
          selectionRange: sel(els[0]), children: els.map((e) => sym(e, depth + 2)),
        });
    } else if (depth < 4) {
      children = kids.map((k) => sym(k, depth + 1));
    }
    const detail = detailOf(el);
    const name = el === root ? `${el.name}${child(el, 'name') ? ` ${textContent(child(el, 'name')!).trim()}` : ''}` : el.name;
    return { name, detail: detail || undefined, kind: KIND[el.local] ?? SymbolKind.Object, range: range(el), selectionRange: sel(el), children };
  };
  return [sym(root, 0)];
}

export function folding(an: LibvirtAnalyzer, doc: TextDocument): FoldingRange[] {
  const xml = an.parse(doc);
  const out: FoldingRange[] = [];
  const walk = (el: XmlElement) => {
    const startLine = doc.positionAt(el.start).line;
    const endLine = doc.positionAt(el.end).line;
    if (endLine > startLine) out.push({ startLine, endLine: el.closed && !el.selfClosing ? endLine - 1 : endLine });
    for (const c of el.children) if (c.kind === 'element') walk(c);
  };
  if (xml.root) walk(xml.root);
  const text = xml.text;
  for (let i = text.indexOf('<!--'); i >= 0; i = text.indexOf('<!--', i + 4)) {
    const end = text.indexOf('-->', i + 4);
    if (end < 0) break;
    const s = doc.positionAt(i).line, e = doc.positionAt(end).line;
    if (e > s) out.push({ startLine: s, endLine: e, kind: FoldingRangeKind.Comment });
    i = end;
  }
  return out;
}
