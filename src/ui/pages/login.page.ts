import { html } from '../html';
import { bare } from './layout';

export function loginPage(message?: string) {
  return bare(
    'Log in',
    html`<h1>Hourbridge</h1>
<form method="post" action="/ui/login" class="login">
  ${message ? html`<p class="err" role="alert">${message}</p>` : ''}
  <label for="token">Access token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required>
  <p class="sub">A finance token (read-only) or an operator token (the API tokens). <code>hourbridge ui</code> prints a link that logs you in once.</p>
  <button type="submit">Log in</button>
</form>`,
  );
}
