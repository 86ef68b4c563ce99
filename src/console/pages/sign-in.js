// sign-in.js — exchanges an API token for a session cookie. The token goes in a POST body
// only: never in the address, never in storage; the field is cleared as soon as it is read.
import { h, field, showError, checkRequired, busy, alertBox } from '../lib/dom.js';

export default function signInPage(ctx) {
  ctx.setTitle('Sign in');
  const tokenField = field({
    label: 'API token', name: 'token', type: 'password', required: true, autocomplete: 'off',
    hint: 'An organization token (owner or member), or the server-admin token printed by "agynd init".',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const form = h('form', { class: 'form', method: 'post', action: '/sign-in', novalidate: true }, tokenField, h('div', { class: 'form-actions' }, submit));
  let notice = null;
  if (ctx.query.get('ended')) notice = alertBox('Your session ended. Sign in again to continue.', 'warning');
  else if (ctx.query.get('signed_out')) notice = alertBox('You are signed out.', 'info');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!checkRequired(form)) return;
    const input = tokenField.control;
    const token = input.value.trim();
    const done = busy(submit, 'Signing in…');
    try {
      await ctx.signIn(token);
      input.value = '';
    } catch (error) {
      done();
      if (error.status === 401 && !error.field) error.field = 'token';
      if (error.status === 401) error.message = `${error.message}. Check the token and try again.`;
      showError(form, error);
    }
  });
  return h('div', { class: 'public-page' },
    h('div', { class: 'card auth-card' },
      h('div', { class: 'auth-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'a'), h('span', { class: 'brand-name' }, 'agyn'), h('span', { class: 'brand-sub' }, 'Console')),
      h('h1', { class: 'page-title' }, 'Sign in'),
      h('p', { class: 'muted' }, 'Manage agents, image pull secrets and workloads with an API token. The Console keeps you signed in for up to 12 hours with a session cookie that scripts cannot read (HttpOnly, SameSite=Strict, and Secure when agyn is served over HTTPS).'),
      notice,
      form));
}
