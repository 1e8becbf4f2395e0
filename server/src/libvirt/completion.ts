// Completion from the schema at the cursor: element names, attribute names, attribute values
// (choices that select a branch, like <disk type='...'>, included), text values, end tags, and
// device snippets.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CompletionItemKind, InsertTextFormat, type CompletionItem, type Position, type Range,
} from 'vscode-languageserver-types';
import { attributeValues, expectedAttributes, expectedElements, expectedValues, requiredAttributes } from '../relaxng/expect';
import { K, type Pattern } from '../relaxng/patterns';
import type { CompiledSchema } from '../relaxng/schema';
import type { XmlDocument, XmlElement } from '../relaxng/xmlParser';
import type { LibvirtAnalyzer } from './analysis';
import { cursorContext, stateAt } from './cursor';
import { ROOT_SCHEMAS } from './schemaSource';
import { DEVICE_SNIPPETS } from './snippets';

export function complete(an: LibvirtAnalyzer, doc: TextDocument, pos: Position): CompletionItem[] {
  const xml = an.parse(doc);
  const offset = doc.offsetAt(pos);
  const ctx = cursorContext(xml, offset);
  const range = (start: number, end = offset): Range => ({ start: doc.positionAt(start), end: doc.positionAt(end) });
  const rootName = xml.root?.local;
  const schema = safeSchema(an, rootName);

  switch (ctx.kind) {
    case 'endTag': {
      if (!ctx.open) return [];
      const name = ctx.open.name;
      const closeEnd = doc.getText().charAt(offset) === '>' ? offset + 1 : offset;
      return [{ label: `/${name}`, filterText: name, kind: CompletionItemKind.Property, textEdit: { range: range(ctx.start, closeEnd), newText: `${name}>` } }];
    }
    case 'elementName': {
      if (!ctx.parent) {
        return Object.keys(ROOT_SCHEMAS).map((r) => ({ label: r, kind: CompletionItemKind.Class, detail: `libvirt ${r} document`, textEdit: { range: range(ctx.start), newText: r } }));
      }
      if (!schema) return [];
      const state = stateAt(schema, xml, ctx.parent, ctx.start - 1);
      return elementItems(schema, state.content ?? fallbackContent(schema, ctx.parent), range(ctx.start), false, ctx.parent);
    }
    case 'content': {
      if (!schema) return [];
      const state = stateAt(schema, xml, ctx.element, offset);
      const content = state.content ?? fallbackContent(schema, ctx.element);
      const items = elementItems(schema, content, range(offset), true, ctx.element);
      if (content) items.push(...valueItems(expectedValues(contentOf(schema, content)).values, range(offset), 'text'));
      if (!ctx.element.closed) {
        items.push({ label: `</${ctx.element.name}>`, kind: CompletionItemKind.Property, sortText: '~', textEdit: { range: range(offset), newText: `</${ctx.element.name}>` } });
      }
      return items;
    }
    case 'attributeName': {
      if (!schema) return [];
      const state = stateAt(schema, xml, ctx.element, offset);
      if (!state.attributes) return [];
      const present = new Set(ctx.element.attributes.map((a) => a.name));
      const required = new Set(requiredAttributes(state.attributes));
      const byName = new Map<string, Pattern[]>();
      for (const a of expectedAttributes(state.attributes)) {
        if (present.has(a.local)) continue;
        let list = byName.get(a.local);
        if (!list) byName.set(a.local, (list = []));
        list.push(a.pattern);
      }
      const items: CompletionItem[] = [];
      for (const [name, patterns] of byName) {
        const values = new Set<string>();
        const types = new Set<string>();
        for (const p of patterns) {
          const v = expectedValues(p.a!);
          v.values.forEach((x) => values.add(x));
          v.types.forEach((x) => types.add(x));
        }
        const vals = [...values];
        items.push({
          label: name, kind: CompletionItemKind.Property,
          detail: vals.length ? vals.slice(0, 8).join(' | ') + (vals.length > 8 ? ' | …' : '') : [...types].join(' | ') || undefined,
          sortText: required.has(name) ? `0${name}` : `1${name}`,
          insertTextFormat: InsertTextFormat.Snippet,
          textEdit: { range: range(ctx.start), newText: `${name}='$1'` },
          command: { title: 'Suggest values', command: 'editor.action.triggerSuggest' },
        });
      }
      return items;
    }
    case 'attributeValue': {
      if (!schema) return [];
      const state = stateAt(schema, xml, ctx.element, offset, ctx.attribute);
      if (!state.attributes) return [];
      const colon = ctx.attribute.indexOf(':');
      const local = colon >= 0 ? ctx.attribute.slice(colon + 1) : ctx.attribute;
      const vals = attributeValues(state.attributes, '', local);
      const r = range(ctx.start, ctx.end);
      return valueItems(vals.values, r, ctx.attribute);
    }
    default:
      return [];
  }
}

function safeSchema(an: LibvirtAnalyzer, root: string | undefined): CompiledSchema | undefined {
  if (!root) return undefined;
  try { return an.schema(root); } catch { return undefined; }
}

function contentOf(schema: CompiledSchema, p: Pattern): Pattern {
  return schema.derivatives.contentOf(p);
}

/** Content of an element that the validator never reached (inside an unknown element, say). */
function fallbackContent(schema: CompiledSchema, el: XmlElement): Pattern | undefined {
  const d = schema.derivatives;
  const f = d.f;
  const candidates = schema.elementsByName.get(el.local) ?? [];
  const p = candidates.reduce<Pattern>((acc, e) => f.choice(acc, f.after(d.startTagClose(d.dropAttributes(e.content!)), f.empty)), f.notAllowed);
  return p.kind === K.NotAllowed ? undefined : p;
}

/** "name attr='$1'>$0</name>" from the element's own definition (required attributes, empty or not). */
function elementSnippet(schema: CompiledSchema, el: Pattern, name: string): string {
  if (el.memoSnippet !== undefined) return el.memoSnippet;
  const d = schema.derivatives;
  const content = el.content!;
  const attrs = requiredAttributes(content).map((a, i) => ` ${a}='$${i + 1}'`).join('');
  const inner = d.startTagClose(d.dropAttributes(content));
  const v = expectedValues(inner);
  const empty = inner.kind === K.Empty || (inner.nullable && expectedElements(inner).length === 0 && !v.text && v.values.length === 0 && v.types.length === 0);
  el.memoSnippet = empty ? `${name}${attrs}/>` : `${name}${attrs}>$0</${name}>`;
  return el.memoSnippet;
}

function valueItems(values: string[], range: Range, what: string): CompletionItem[] {
  return values.map((v, i) => ({
    label: v, kind: CompletionItemKind.EnumMember, detail: what === 'text' ? 'value' : `${what} value`,
    sortText: String(i).padStart(4, '0'), textEdit: { range, newText: v },
  }));
}

function elementItems(schema: CompiledSchema, content: Pattern | undefined, range: Range, withBracket: boolean, parent: XmlElement): CompletionItem[] {
  if (!content) return [];
  const d = schema.derivatives;
  const items: CompletionItem[] = [];
  const seen = new Set<string>();
  for (const e of expectedElements(content).sort((x, y) => x.local.localeCompare(y.local))) {
    if (seen.has(e.local)) continue;
    seen.add(e.local);
    const body = elementSnippet(schema, e.pattern, e.local);
    items.push({
      label: e.local, kind: CompletionItemKind.Class, detail: `<${e.local}> in <${parent.name}>`,
      insertTextFormat: InsertTextFormat.Snippet,
      textEdit: { range, newText: withBracket ? `<${body}` : body },
      sortText: `1${e.local}`,
    });
  }
  // Device snippets belong in <devices> (a <disk> also has a <serial>, but not a serial port).
  for (const s of parent.local === 'devices' ? DEVICE_SNIPPETS : []) {
    if (!seen.has(s.element)) continue;
    items.push({
      label: s.label, kind: CompletionItemKind.Snippet, detail: s.detail, insertTextFormat: InsertTextFormat.Snippet,
      filterText: withBracket ? `<${s.element} ${s.label}` : `${s.element} ${s.label}`,
      textEdit: { range, newText: withBracket ? s.body : s.body.slice(1) }, sortText: `2${s.label}`,
    });
  }
  return items;
}

export type { XmlDocument };
