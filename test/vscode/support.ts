// Helpers shared by the suites that run inside the extension host.
import * as assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const EXTENSION_ID = process.env.VIRT_STUDIO_TEST_EXTENSION_ID ?? 'virt-studio.virt-studio';

/** The workspace folder the run opened (a copy of examples/ plus test/vscode/fixtures/). */
export function workspaceFile(...parts: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test run opens a workspace folder');
  return vscode.Uri.file(path.join(folder.uri.fsPath, ...parts));
}

export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  return ext;
}

export async function open(uri: vscode.Uri): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

/** Polls until `probe` returns (or resolves to) a truthy value; fails with `what` after `ms`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves with the first value `event` fires that matches, or fails after `ms`. */
export function nextEvent<T>(what: string, event: vscode.Event<T>, match: (value: T) => boolean, ms = 30_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)); }, ms);
    const sub = event((value) => {
      if (!match(value)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(value);
    });
  });
}

/** The document's language once the extension has had its say (it moves libvirt XML off `xml`). */
export async function languageOf(uri: vscode.Uri, expected: string, ms = 15_000): Promise<string> {
  const current = () => vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.languageId;
  try {
    await waitFor(`${path.basename(uri.fsPath)} to get language ${expected}`, () => current() === expected, ms);
  } catch {
    // fall through: the caller's assertion shows what it got instead
  }
  return current() ?? '(not open)';
}

/** One token span as the browser rendered it: its text, Monaco's class (mtkN) and computed style. */
export interface RenderedToken { text: string; className: string; color: string; fontStyle: string; fontWeight: string }
export interface RenderedEditor { theme: string; foreground: string; lines: { text: string; tokens: RenderedToken[] }[] }

/**
 * What the workbench shows for the visible editor of `uri`: asks the code-server shim's workbench
 * probe (host/workbenchProbe.mjs), which reads the rendered lines in the browser. Fails when the
 * run has no probe, or when no visible editor shows the file.
 */
export async function renderedEditor(uri: vscode.Uri): Promise<RenderedEditor> {
  const probe = process.env.VIRT_STUDIO_WORKBENCH_PROBE;
  assert.ok(probe, 'VIRT_STUDIO_WORKBENCH_PROBE is set (the code-server shim serves it)');
  const res = await fetch(`${probe}/rendered-lines?path=${encodeURIComponent(uri.fsPath)}`);
  const body = await res.json() as { error?: string; found?: boolean; editors?: string[] } & RenderedEditor;
  assert.equal(res.status, 200, `workbench probe: ${body.error ?? res.statusText}`);
  assert.ok(body.found, `no visible editor shows ${uri.fsPath}; visible: ${(body.editors ?? []).join(', ')}`);
  return body;
}

/** A line for the run's log (the figures a test measured), shown with the test results. */
export function note(line: string): void {
  console.log(line);
  if (process.env.VIRT_STUDIO_TEST_LOG) appendFileSync(process.env.VIRT_STUDIO_TEST_LOG, `${line}\n`);
}

/** The text of every visible workbench element matching a CSS selector (through the workbench probe). */
export async function visibleTexts(selector: string): Promise<string[]> {
  const probe = process.env.VIRT_STUDIO_WORKBENCH_PROBE;
  assert.ok(probe, 'VIRT_STUDIO_WORKBENCH_PROBE is set (the code-server shim serves it)');
  const res = await fetch(`${probe}/texts?selector=${encodeURIComponent(selector)}`);
  const body = await res.json() as { error?: string; texts: string[] };
  assert.equal(res.status, 200, `workbench probe: ${body.error ?? res.statusText}`);
  return body.texts;
}
