/**
 * The codec server's sign-in page: an operator pastes the codec server token once, and the browser keeps a
 * session cookie that the Web UI's codec requests carry (with "include cross-origin credentials" on). Static
 * text only: nothing from the request is echoed into the page.
 */
export type LoginPageState =
  | { readonly state: 'form' }
  | { readonly state: 'refused' }
  | { readonly state: 'signed-out' }
  | { readonly state: 'signed-in'; readonly hours: number; readonly origins: readonly string[] };

const FORM = `<form method="post" action="/login">
  <label>Codec server token <input type="password" name="token" autocomplete="off" autofocus required></label>
  <button type="submit">Sign in</button>
</form>`;

export function loginPage(page: LoginPageState): string {
  const body = (() => {
    switch (page.state) {
      case 'form':
        return `<p>Sign in to let the Temporal Web UI in this browser show decrypted payloads.</p>${FORM}`;
      case 'refused':
        return `<p role="alert">That is not the codec server token.</p>${FORM}`;
      case 'signed-out':
        return `<p>Signed out: the Web UI in this browser no longer gets decrypted payloads.</p>${FORM}`;
      case 'signed-in':
        return [
          `<p id="signed-in">Signed in for ${page.hours} hours. Reload the Web UI page to see decrypted payloads.</p>`,
          page.origins.length === 0
            ? '<p>No Web UI origin is allowed yet (TicketConnector.Encryption.CodecServer.AllowedOrigins).</p>'
            : `<p>Web UI: ${page.origins.map((origin) => `<a href="${escapeHtml(origin)}">${escapeHtml(origin)}</a>`).join(', ')}</p>`,
          '<form method="post" action="/logout"><button type="submit">Sign out</button></form>',
        ].join('\n');
    }
  })();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Codec server sign-in</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>ServiceNow ticket connector: codec server</h1>
${body}
</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string,
  );
}
