// The image-info webview: the facts `qemu-img info` gives, the backing chain, internal snapshots,
// and a picture of the allocation map (stored / compressed / zero / from the backing file / unallocated).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OpenedImage } from '../../../emulator/src/block/open';
import { allocationMap, CELL_KINDS, dominantKind } from './allocationMap';
import type { ImageLibrary } from './imageLibrary';

const COLORS: Record<string, string> = {
  data: '#3794ff', compressed: '#b180d7', zero: '#89d185', backing: '#cca700', unallocated: '#3c3c3c',
};

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function chainOf(image: OpenedImage): OpenedImage[] {
  const chain: OpenedImage[] = [];
  for (let i: OpenedImage | undefined = image; i; i = i.backing) chain.push(i);
  return chain;
}

export async function showImageInfo(library: ImageLibrary, imagePath: string): Promise<void> {
  const loaded = await library.open(imagePath);
  const image = loaded.image;
  const panel = vscode.window.createWebviewPanel('virtStudio.imageInfo', `Image: ${path.basename(imagePath)}`, vscode.ViewColumn.Active, { enableScripts: true });
  const nonce = Math.random().toString(36).slice(2);
  const rows: [string, string][] = [
    ['file', image.filename], ['format', image.format], ['virtual size', `${image.virtualSize.toLocaleString()} bytes`],
    ['disk size', `${image.actualSize.toLocaleString()} bytes`],
  ];
  if (image.clusterSize) rows.push(['cluster size', `${image.clusterSize} bytes`]);
  if (image.dirty !== undefined) rows.push(['dirty', String(image.dirty)]);
  if (image.formatSpecific) for (const [k, v] of Object.entries(image.formatSpecific.data)) rows.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  const chain = chainOf(image).map((i, n) => `<li>${n === 0 ? '<b>' : ''}${esc(i.filename)} <span class="dim">(${i.format}, ${i.virtualSize.toLocaleString()} bytes)</span>${n === 0 ? '</b>' : ''}</li>`).join('');
  const refused = chainOf(image).map((i) => i.backingRefused).filter(Boolean).map((r) => `<p class="warn">${esc(r!)}</p>`).join('');
  const snapshots = image.snapshots.length
    ? `<table><tr><th>id</th><th>name</th><th>date</th><th>VM state</th></tr>${image.snapshots.map((s) => `<tr><td>${esc(s.id)}</td><td>${esc(s.name)}</td><td>${new Date(s['date-sec'] * 1000).toISOString()}</td><td>${s['vm-state-size']}</td></tr>`).join('')}</table>`
    : '<p class="dim">none</p>';
  panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px; }
  table { border-collapse: collapse; } td, th { padding: 2px 12px 2px 0; text-align: left; vertical-align: top; }
  .dim { opacity: .7; } .warn { color: var(--vscode-editorWarning-foreground); }
  canvas { image-rendering: pixelated; border: 1px solid var(--vscode-panel-border); width: 100%; }
  .legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: middle; }
</style></head><body>
<h2>${esc(path.basename(imagePath))}</h2>
<table>${rows.map(([k, v]) => `<tr><td class="dim">${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>
<h3>Backing chain</h3><ol>${chain}</ol>${refused}
<h3>Snapshots</h3>${snapshots}
<h3>Allocation map <span id="status" class="dim">computing…</span></h3>
<canvas id="map" width="512" height="64"></canvas>
<div class="legend">${CELL_KINDS.map((k) => `<span style="background:${COLORS[k]}"></span>${k} <b id="t-${k}"></b>`).join('')}</div>
<script nonce="${nonce}">
  const colors = ${JSON.stringify(COLORS)};
  window.addEventListener('message', (e) => {
    const m = e.data;
    if (m.type !== 'map') return;
    const canvas = document.getElementById('map');
    const cols = 512, rows = Math.ceil(m.cells.length / cols);
    canvas.height = rows * 8; canvas.width = cols * 2;
    const g = canvas.getContext('2d');
    m.cells.forEach((k, i) => { g.fillStyle = colors[k]; g.fillRect((i % cols) * 2, Math.floor(i / cols) * 8, 2, 8); });
    for (const [k, v] of Object.entries(m.totals)) document.getElementById('t-' + k).textContent = v;
    document.getElementById('status').textContent = m.complete ? '(' + m.cellBytes + ' bytes per cell)' : '(stopped early: partial)';
  });
</script></body></html>`;

  let panelAlive = true;
  panel.onDidDispose(() => { panelAlive = false; });
  const fmt = (n: number) => (n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Mapping allocation of ${path.basename(imagePath)}`, cancellable: true },
    async (progress, token) => {
      let last = 0;
      const map = await allocationMap(image.device, {
        cells: 4096,
        progress: (f) => {
          progress.report({ increment: (f - last) * 100 });
          last = f;
          return token.isCancellationRequested || !panelAlive;
        },
      });
      const cells = Array.from({ length: map.cells }, (_, i) => dominantKind(map, i));
      void panel.webview.postMessage({
        type: 'map', cells, cellBytes: map.cellBytes, complete: map.complete,
        totals: Object.fromEntries(Object.entries(map.totals).map(([k, v]) => [k, fmt(v)])),
      });
    },
  );
}
