// The "workbench probe": a loopback HTTP endpoint, served by the code-server shim, through which
// tests running in the extension host read what the browser rendered. The extension API has no
// view of the editor's tokens (and code-server lacks `_workbench.captureSyntaxTokens`), so the
// only honest way to see whether a file is coloured is to look at the rendered DOM, as a person
// looking at the screen would.
//
//   GET /rendered-lines?path=/abs/file
//     → { found: true, theme, foreground, lines: [{ text, tokens: [{ text, className, color,
//          fontStyle, fontWeight }] }] }  for the visible editor showing that file, lines in
//          screen order (only the lines in the viewport are rendered);
//     → { found: false, editors: [uri, ...] }  when no visible editor shows it.
//   GET /texts?selector=CSS
//     → { texts: [innerText, ...] }  of the visible elements that match (e.g. the suggest
//          widget's rows), in document order.
import { createServer } from 'node:http';

/**
 * Starts the probe on 127.0.0.1 (an ephemeral port). `getPage` returns the playwright page that
 * shows the workbench, or undefined while there is none yet.
 */
export async function startWorkbenchProbe(getPage) {
  const server = createServer(async (req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://probe');
      const page = getPage();
      if (!page) return reply(503, { error: 'the workbench is not open yet' });
      if (url.pathname === '/rendered-lines') {
        const path = url.searchParams.get('path');
        if (!path) return reply(400, { error: 'needs ?path=' });
        return reply(200, await page.evaluate(renderedLines, path));
      }
      if (url.pathname === '/texts') {
        const selector = url.searchParams.get('selector');
        if (!selector) return reply(400, { error: 'needs ?selector=' });
        return reply(200, await page.evaluate(visibleTexts, selector));
      }
      return reply(404, { error: `no such probe: ${url.pathname}` });
    } catch (err) {
      return reply(500, { error: String(err?.message ?? err) });
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/**
 * Runs in the page. Every editor view carries its model's URI in `data-uri`; in code-server the
 * URI is vscode-remote://host/abs/path, so views are matched by their decoded path. The
 * rendered text uses U+00A0 for spaces, given back as plain spaces.
 */
function renderedLines(path) {
  const pathOf = (uri) => {
    try { return decodeURIComponent(new URL(uri).pathname); } catch { return ''; }
  };
  const views = [...document.querySelectorAll('[data-uri]')];
  const view = views.find((v) => pathOf(v.getAttribute('data-uri')) === path && v.getClientRects().length > 0 && v.querySelector('.view-lines'));
  if (!view) return { found: false, editors: views.map((v) => v.getAttribute('data-uri')) };
  const viewLines = view.querySelector('.view-lines');
  const lines = [...viewLines.querySelectorAll(':scope > .view-line')]
    .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
    .map((line) => {
      const tokens = [...line.querySelectorAll(':scope > span > span')].map((span) => {
        const style = getComputedStyle(span);
        return {
          text: span.textContent.replace(/\u00a0/g, ' '),
          className: span.className,
          color: style.color,
          fontStyle: style.fontStyle,
          fontWeight: style.fontWeight,
        };
      });
      return { text: tokens.map((t) => t.text).join(''), tokens };
    });
  const workbench = document.querySelector('.monaco-workbench');
  return {
    found: true,
    theme: [...(workbench?.classList ?? [])].filter((c) => /^(vs|vs-dark|hc-black|hc-light)$/.test(c)).join(' '),
    foreground: getComputedStyle(viewLines).color,
    lines,
  };
}

/** Runs in the page: the innerText of every visible element matching `selector`. */
function visibleTexts(selector) {
  const texts = [...document.querySelectorAll(selector)].filter((e) => e.getClientRects().length > 0).map((e) => e.innerText);
  return { texts };
}
