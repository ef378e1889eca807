/** The small HTML page the browser shows after the redirect back to the loopback callback. */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export const CALLBACK_PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
};

export function callbackPage(ok: boolean, title: string, detail: string): string {
  const color = ok ? '#1a7f37' : '#cf222e';
  const mark = ok ? '&#10003;' : '&#10007;';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bastion – ${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f8fa;color:#1f2328;display:flex;min-height:100vh;margin:0;align-items:center;justify-content:center}
main{background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:2rem 2.5rem;max-width:30rem;text-align:center;box-shadow:0 1px 3px rgba(0,0,0,.06)}
.mark{font-size:2.5rem;color:${color};line-height:1}
h1{font-size:1.25rem;margin:.75rem 0 .5rem}
p{margin:0;color:#59636e}
</style></head>
<body><main><div class="mark">${mark}</div><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></main></body></html>
`;
}
