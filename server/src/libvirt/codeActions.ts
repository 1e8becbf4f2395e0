// Quick fixes for libvirt diagnostics: replace a wrong name/value with the closest allowed one,
// insert a missing required child or attribute, and fix define-time mistakes.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { CodeActionKind, type CodeAction, type Diagnostic, type Range, type TextEdit } from 'vscode-languageserver-types';
import { elementAt } from '../relaxng/xmlParser';
import type { LibvirtAnalyzer } from './analysis';
import { SOURCE } from './diagnostics';
import { child } from './xmlQuery';

/** Levenshtein distance, case-insensitive, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase(), y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length];
}

export function closest(got: string, candidates: string[], max = 3): string[] {
  return [...new Set(candidates)]
    .map((c) => ({ c, d: editDistance(got, c) - (c.toLowerCase().startsWith(got.toLowerCase()) || got.toLowerCase().startsWith(c.toLowerCase()) ? 1 : 0) }))
    .filter(({ c, d }) => d <= Math.max(2, Math.floor(Math.max(c.length, got.length) / 2)))
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, max)
    .map(({ c }) => c);
}

/** Deletes an element with its line when it is alone on it. */
function removeElement(doc: TextDocument, el: { start: number; end: number }): TextEdit {
  const text = doc.getText();
  let s = el.start;
  while (s > 0 && (text[s - 1] === ' ' || text[s - 1] === '\t')) s--;
  let e = el.end;
  const lineStart = s === 0 || text[s - 1] === '\n';
  if (lineStart && text[e] === '\n') e++;
  else s = el.start;
  return { range: { start: doc.positionAt(s), end: doc.positionAt(e) }, newText: '' };
}

interface DiagData { expected?: string[]; got?: string; element?: string; attribute?: string; missing?: string[]; fix?: string }

export function codeActions(an: LibvirtAnalyzer, doc: TextDocument, _range: Range, diagnostics: Diagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  const fix = (title: string, diagnostic: Diagnostic, edits: TextEdit[], preferred = false): void => {
    actions.push({ title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: preferred, edit: { changes: { [doc.uri]: edits } } });
  };
  for (const d of diagnostics) {
    if (d.source !== SOURCE) continue;
    const data = (d.data ?? {}) as DiagData;
    switch (d.code) {
      case 'rng-invalid-attribute-value':
      case 'rng-invalid-value':
      case 'rng-unknown-element':
      case 'rng-unknown-attribute': {
        if (data.fix) { fix(`Use ${data.fix}`, d, [{ range: d.range, newText: data.fix }], true); break; }
        const isElement = d.code === 'rng-unknown-element';
        if (isElement) {
          const el = elementAt(an.parse(doc).root, doc.offsetAt(d.range.start));
          if (el && el.parent) fix(`Remove <${el.name}>`, d, [removeElement(doc, el)]);
        }
        if (!data.got || !data.expected?.length) break;
        closest(data.got, data.expected).forEach((c, i) => {
          const edits: TextEdit[] = [{ range: d.range, newText: c }];
          if (isElement) {
            // Rename the end tag too.
            const xml = an.parse(doc);
            const el = elementAt(xml.root, doc.offsetAt(d.range.start));
            if (el && el.endTagStart !== undefined) {
              edits.push({ range: { start: doc.positionAt(el.endTagStart + 2), end: doc.positionAt(el.endTagStart + 2 + el.name.length) }, newText: c });
            }
          }
          fix(`Change '${data.got}' to '${c}'`, d, edits, i === 0);
        });
        break;
      }
      case 'rng-duplicate-element':
      case 'rng-element-not-allowed': {
        const el = elementAt(an.parse(doc).root, doc.offsetAt(d.range.start));
        if (el && el.parent) fix(`Remove <${el.name}>`, d, [removeElement(doc, el)]);
        break;
      }
      case 'rng-missing-element': {
        const xml = an.parse(doc);
        const el = elementAt(xml.root, doc.offsetAt(d.range.start));
        if (!el || !data.missing?.length) break;
        const indentOf = (off: number) => /[ \t]*$/.exec(doc.getText().slice(doc.getText().lastIndexOf('\n', off - 1) + 1, off))![0];
        const indent = indentOf(el.start);
        const inner = `${indent}  `;
        for (const m of data.missing) {
          if (el.selfClosing) {
            const slash = el.startTagEnd - 2;
            fix(`Insert <${m}>`, d, [{ range: { start: doc.positionAt(slash), end: doc.positionAt(el.startTagEnd) }, newText: `>\n${inner}<${m}></${m}>\n${indent}</${el.name}>` }]);
          } else {
            fix(`Insert <${m}>`, d, [{ range: { start: doc.positionAt(el.startTagEnd), end: doc.positionAt(el.startTagEnd) }, newText: `\n${inner}<${m}></${m}>` }]);
          }
        }
        break;
      }
      case 'rng-missing-attribute': {
        const xml = an.parse(doc);
        const el = elementAt(xml.root, doc.offsetAt(d.range.start));
        if (!el || !data.missing?.length) break;
        const at = doc.positionAt(el.nameEnd);
        fix(`Add ${data.missing.map((m) => `'${m}'`).join(', ')}`, d, [{ range: { start: at, end: at }, newText: data.missing.map((m) => ` ${m}=''`).join('') }], true);
        break;
      }
      case 'libvirt-multicast-mac':
        if (data.fix) fix(`Use unicast address ${data.fix}`, d, [{ range: d.range, newText: data.fix }], true);
        break;
      case 'libvirt-current-memory-clamped': {
        const xml = an.parse(doc);
        const memory = child(xml.root, 'memory');
        const current = child(xml.root, 'currentMemory');
        if (!memory || !current) break;
        const unit = memory.attributes.find((a) => a.name === 'unit')?.value ?? 'KiB';
        fix('Set <currentMemory> to <memory>', d, [{
          range: { start: doc.positionAt(current.start), end: doc.positionAt(current.end) },
          newText: `<currentMemory unit='${unit}'>${memory.children.map((c) => (c.kind === 'text' ? c.value : '')).join('').trim()}</currentMemory>`,
        }], true);
        break;
      }
      case 'libvirt-boot-order-with-os-boot': {
        const osBoot = (data as { osBoot?: { start: number; end: number }[] }).osBoot;
        if (!osBoot?.length) break;
        fix('Remove <os><boot> elements (keep per-device boot order)', d, osBoot.map((b) => {
          const text = doc.getText();
          let s = b.start;
          while (s > 0 && (text[s - 1] === ' ' || text[s - 1] === '\t')) s--;
          const e = text[b.end] === '\n' ? b.end + 1 : b.end;
          return { range: { start: doc.positionAt(s), end: doc.positionAt(e) }, newText: '' };
        }));
        break;
      }
    }
  }
  return actions;
}
