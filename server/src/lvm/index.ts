// The LVM language service: lvm.conf, lvmlocal.conf, lvm_<tag>.conf, profiles (lvm-conf) and
// text metadata backups/archives (lvm-metadata), told apart by detectKind.
//
// Diagnostic codes (stable): syntax.* from the parser (syntax.unclosed-section, syntax.missing-value,
// syntax.invalid-number, ...; syntax.multiline-string, a warning on a string spanning lines that
// precedes the first syntax error); lvm.setting.unknown, lvm.section.unknown, lvm.setting.too-new,
// lvm.setting.outside-section, lvm.type.mismatch, lvm.type.bool, lvm.type.section-for-setting,
// lvm.type.setting-for-section, lvm.value.empty, lvm.value.rejected, lvm.value.unknown,
// lvm.profile.not-profilable, lvm.profile.metadata-only, lvm.profile.command-only,
// lvm.setting.deprecated, lvm.setting.removed, lvm.setting.duplicate; metadata: lvm.meta.*.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionKind, CompletionItemKind, CompletionItemTag, DiagnosticSeverity, InsertTextFormat, SymbolKind,
  type CodeAction, type CompletionItem, type Diagnostic, type DocumentSymbol, type FoldingRange, type Hover,
  type Position, type Range,
} from 'vscode-languageserver-types';
import { URI } from 'vscode-uri';
import { detectKind } from '../documentKind';
import type { LanguageService, ServiceSettings } from '../service';
import type { ItemNode, SectionNode, Span } from './ast';
import { describe, shortDetail } from './describe';
import type { LvmDiagnostic } from './diagnostic';
import { effectiveTree } from './effective';
import { ENUMERATIONS } from './enumerations';
import { describeMetadataField, vgExtentSize } from './metadataHover';
import { parse } from './parser';
import { newestModel, settingsModel, type SettingDef, type SettingsModel } from './settings';
import { installedLvmVersion, lvmDescriptions } from './system';
import { checkConfig, detectProfileKind, type ProfileKind } from './validateConfig';
import { checkMetadata } from './validateMetadata';

export { parse } from './parser';
export { effectiveTree, toPlain } from './effective';

function fileName(uri: string): string {
  const path = uri.startsWith('file:') ? URI.parse(uri).fsPath : uri;
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function pathOf(uri: string): string {
  return uri.startsWith('file:') ? URI.parse(uri).fsPath : uri;
}

export interface DiagnoseOptions {
  /** Target lvm2 version, e.g. '2.03.16'. */
  version: string;
  /** Force the profile kind (otherwise from the file name and content). */
  profile?: ProfileKind;
}

/** All findings for one LVM text file (pure; the CLI and the tests call this directly). */
export function diagnoseLvmText(text: string, path: string, opts: DiagnoseOptions): LvmDiagnostic[] {
  const kind = detectKind(path, text);
  const parsed = parse(text);
  if (kind === 'lvm-metadata') return checkMetadata(parsed, text);
  const model = settingsModel(opts.version);
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  let profile = opts.profile;
  if (!profile && name.endsWith('.profile')) profile = detectProfileKind(name, effectiveTree(parsed.root), model);
  return checkConfig(parsed, text, { model, newest: newestModel(), profile });
}

function toRange(span: Span): Range {
  return { start: { line: span.start.line, character: span.start.character }, end: { line: span.end.line, character: span.end.character } };
}

const SEVERITY = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information };

export function toDiagnostic(d: LvmDiagnostic): Diagnostic {
  return {
    range: toRange(d.span), severity: SEVERITY[d.severity], code: d.code, source: 'lvm', message: d.message,
    data: d.fix,
  };
}

function contains(span: Span, offset: number): boolean {
  return span.start.offset <= offset && offset <= span.end.offset;
}

/** The chain of sections (outermost first) whose braces enclose the offset. */
function enclosingSections(root: SectionNode, offset: number): SectionNode[] {
  const chain: SectionNode[] = [];
  let cur: SectionNode = root;
  for (;;) {
    const next = cur.children.find((c): c is SectionNode => c.kind === 'section' && !!c.openBrace
      && c.openBrace.end.offset <= offset && (c.closeBrace ? offset <= c.closeBrace.start.offset : offset >= c.openBrace.end.offset));
    if (!next) return chain;
    chain.push(next);
    cur = next;
  }
}

/** Section path for lookups ('#' for variable names such as tags). */
function vpathFor(model: SettingsModel, keys: string[]): string {
  let vp = '';
  for (const k of keys.flatMap((x) => x.split('/').filter(Boolean))) {
    const direct = vp ? `${vp}/${k}` : k;
    vp = model.get(direct) ? direct : (model.get(vp ? `${vp}/#` : '#') ? (vp ? `${vp}/#` : '#') : direct);
  }
  return vp;
}

function findItemAt(items: ItemNode[], offset: number, chain: string[]): { item: ItemNode; keys: string[] } | undefined {
  for (const item of items) {
    if (!contains(item.span, offset)) continue;
    if (item.kind === 'section' && !contains(item.keySpan, offset)) {
      const inner = findItemAt(item.children, offset, [...chain, item.key]);
      if (inner) return inner;
    }
    return { item, keys: [...chain, item.key] };
  }
  return undefined;
}

export function createLvmService(settings: ServiceSettings): LanguageService {
  const versionNow = async (): Promise<string> => {
    const v = settings.lvmVersion;
    if (v && v !== 'auto') return v;
    return (await installedLvmVersion()) ?? newestModel().version;
  };
  const lvmText = async (def: SettingDef): Promise<string | undefined> => (await lvmDescriptions()).get(def.vpath);

  const completeConfig = async (doc: TextDocument, pos: Position): Promise<CompletionItem[]> => {
    const text = doc.getText();
    const offset = doc.offsetAt(pos);
    const model = settingsModel(await versionNow());
    const parsed = parse(text);
    const sections = enclosingSections(parsed.root, offset).map((s) => s.key);
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    const prefix = text.slice(lineStart, offset);
    const valueMatch = /([^\s={}]+)\s*=\s*(\[[^\]]*)?([^\s=\]]*)$/.exec(prefix);
    if (valueMatch) {
      const keys = [...sections, valueMatch[1]];
      const def = model.get(vpathFor(model, keys));
      if (!def || def.kind !== 'setting') return [];
      // Replace only the value being typed, so the client filters on it.
      const range = { start: doc.positionAt(offset - /[^\s[,=]*$/.exec(prefix)![0].length), end: pos };
      return valueItems(def).map((i) => ({ ...i, textEdit: { range, newText: i.label } }));
    }
    const keyMatch = /(?:^|[\s{}])([^\s={}]*)$/.exec(prefix);
    const typed = keyMatch ? keyMatch[1] : '';
    const slash = typed.lastIndexOf('/');
    const parentKeys = slash >= 0 ? [...sections, typed.slice(0, slash)] : sections;
    const parentVp = parentKeys.length ? vpathFor(model, parentKeys) : '';
    const descriptions = await lvmDescriptions();
    // After `devices/` only the part after the last '/' is replaced (and filtered on).
    const range = { start: doc.positionAt(offset - (typed.length - slash - 1)), end: pos };
    // In a profile, offer only what a profile may set.
    const profile = pathOf(doc.uri).endsWith('.profile');
    const offered = model.childrenOf(parentVp).filter((d) => !d.flags.has('CFG_NAME_VARIABLE') && (!profile || d.flags.has('CFG_PROFILABLE')));
    return offered.map((def): CompletionItem => {
      const deprecated = model.isDeprecated(def);
      const item: CompletionItem = {
        label: def.name,
        kind: def.kind === 'section' ? CompletionItemKind.Module : CompletionItemKind.Property,
        detail: shortDetail(def),
        documentation: { kind: 'markdown', value: describe(def, model, descriptions.get(def.vpath)) },
        tags: deprecated ? [CompletionItemTag.Deprecated] : undefined,
        sortText: `${deprecated ? '1' : '0'}${def.name}`,
        insertTextFormat: InsertTextFormat.Snippet,
        textEdit: {
          range,
          newText: def.kind === 'section' ? `${def.name} {\n\t$0\n}` : `${def.name} = \${1:${(def.defaultText ?? '').replace(/[$}\\]/g, '\\$&')}}`,
        },
      };
      return item;
    });
  };

  const service: LanguageService = {
    async validate(doc) {
      const version = await versionNow();
      return diagnoseLvmText(doc.getText(), pathOf(doc.uri), { version }).map(toDiagnostic);
    },

    async complete(doc, pos) {
      if (detectKind(pathOf(doc.uri), doc.getText()) === 'lvm-metadata') return [];
      return completeConfig(doc, pos);
    },

    async hover(doc, pos): Promise<Hover | null> {
      const text = doc.getText();
      const offset = doc.offsetAt(pos);
      const parsed = parse(text);
      const found = findItemAt(parsed.root.children, offset, []);
      if (!found) return null;
      if (detectKind(pathOf(doc.uri), text) === 'lvm-metadata') {
        const item = found.item;
        if (item.kind !== 'setting' || item.value?.kind !== 'int') return null;
        const md = describeMetadataField(item.key, item.value.value as number, vgExtentSize(parsed.root));
        return md ? { contents: { kind: 'markdown', value: md }, range: toRange(item.span) } : null;
      }
      const model = settingsModel(await versionNow());
      const onKey = contains(found.item.keySpan, offset);
      if (!onKey && !(found.item.kind === 'setting' && found.item.value && contains(found.item.value.span, offset))) return null;
      let keys = found.keys;
      // On a path key such as devices/scan_lvs, describe the segment under the cursor.
      if (onKey && found.item.key.includes('/') && !found.item.quotedKey) {
        const rel = offset - found.item.keySpan.start.offset;
        const upTo = found.item.key.indexOf('/', rel);
        keys = [...keys.slice(0, -1), upTo < 0 ? found.item.key : found.item.key.slice(0, upTo)];
      }
      const def = model.get(vpathFor(model, keys)) ?? newestModel().get(vpathFor(newestModel(), keys));
      if (!def) return null;
      const range = toRange(onKey ? found.item.keySpan : (found.item as { value: { span: Span } }).value.span);
      const body = describe(def, model, await lvmText(def));
      const note = model.get(def.vpath) ? '' : `\n\n**Not in lvm2 ${model.version}** (added in ${def.since})`;
      return { contents: { kind: 'markdown', value: body + note }, range };
    },

    symbols(doc): DocumentSymbol[] {
      const parsed = parse(doc.getText());
      const meta = detectKind(pathOf(doc.uri), doc.getText()) === 'lvm-metadata';
      const convert = (item: ItemNode, depth: number): DocumentSymbol => {
        if (item.kind === 'section') {
          return {
            name: item.key || '""', kind: meta && depth === 0 ? SymbolKind.Package : SymbolKind.Namespace,
            range: toRange(item.span), selectionRange: toRange(item.keySpan),
            children: item.children.map((c) => convert(c, depth + 1)),
          };
        }
        const v = item.value;
        const detail = v ? (v.kind === 'array' ? `[${v.items.map((i) => i.raw).join(', ')}]` : v.raw) : '';
        return {
          name: item.key || '""', detail: detail.length > 60 ? `${detail.slice(0, 60)}…` : detail, kind: SymbolKind.Property,
          range: toRange(item.span), selectionRange: toRange(item.keySpan),
        };
      };
      return parsed.root.children.map((c) => convert(c, 0));
    },

    folding(doc): FoldingRange[] {
      const out: FoldingRange[] = [];
      const walk = (items: ItemNode[]): void => {
        for (const item of items) {
          if (item.kind === 'section') {
            const end = item.closeBrace ?? item.span.end;
            const endLine = 'line' in end ? end.line : end.start.line;
            if (endLine > item.keySpan.start.line) out.push({ startLine: item.keySpan.start.line, endLine: Math.max(item.keySpan.start.line, endLine - 1) });
            walk(item.children);
          } else if (item.value?.kind === 'array' && item.value.span.end.line > item.value.span.start.line) {
            out.push({ startLine: item.value.span.start.line, endLine: item.value.span.end.line - 1 });
          }
        }
      };
      walk(parse(doc.getText()).root.children);
      return out;
    },

    codeActions(doc, _range, diagnostics): CodeAction[] {
      const actions: CodeAction[] = [];
      for (const d of diagnostics) {
        const fix = d.data as LvmDiagnostic['fix'] | undefined;
        if (!fix || d.source !== 'lvm') continue;
        if (fix.kind === 'rename') {
          actions.push({
            title: `Change to '${fix.name}'`, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true,
            edit: { changes: { [doc.uri]: [{ range: d.range, newText: fix.name }] } },
          });
        } else {
          const line = d.range.start.line;
          const text = doc.getText();
          const parsed = parse(text);
          const offset = doc.offsetAt(d.range.start);
          const found = findItemAt(parsed.root.children, offset, []);
          if (!found || found.item.kind !== 'setting') continue;
          const start = found.item.span.start;
          const end = found.item.span.end;
          // Remove the whole line when the setting is alone on it.
          const lineText = text.split('\n')[line] ?? '';
          const alone = lineText.trim().startsWith(found.item.key) && start.line === end.line
            && text.slice(end.offset, text.indexOf('\n', end.offset) < 0 ? text.length : text.indexOf('\n', end.offset)).trim().replace(/^#.*/, '') === '';
          const range: Range = alone
            ? { start: { line: start.line, character: 0 }, end: { line: start.line + 1, character: 0 } }
            : toRange(found.item.span);
          actions.push({
            title: `Remove '${found.item.key}'`, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true,
            edit: { changes: { [doc.uri]: [{ range, newText: '' }] } },
          });
        }
      }
      return actions;
    },
  };
  return service;
}

function valueItems(def: SettingDef): CompletionItem[] {
  const items: CompletionItem[] = [];
  const add = (label: string, detail: string): void => {
    if (!items.some((i) => i.label === label)) items.push({ label, kind: CompletionItemKind.Value, detail });
  };
  if (def.defaultText !== undefined) add(def.defaultText, 'default');
  if (def.types.includes('bool')) {
    add('1', 'enabled');
    add('0', 'disabled');
  }
  const e = ENUMERATIONS[def.path];
  if (e) for (const v of e.values) add(`"${v}"`, def.path);
  return items;
}
