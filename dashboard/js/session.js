/* global FormData, Event */
// Login: GET /v1/session says who is logged in (`auth: false` when auth is off: no login
// at all); POST /v1/session {key} sets an HttpOnly cookie; DELETE /v1/session logs out. Operate
// buttons are hidden for roles without the right (the server refuses them anyway).
import { $ } from './dom.js';
import { api } from './api.js';

export const session = { auth: false, principal: null };

function apply(principal, auth) {
  session.auth = auth;
  session.principal = principal;
  $('#session').hidden = !auth || !principal;
  $('#who').textContent = principal ? `${principal.id} (${principal.role})` : '';
  document.body.dataset.canOperate = String(!auth || principal?.role === 'operator');
  document.body.dataset.role = principal?.role ?? '';
}

/** Resolves true when the API can be used now (auth off, or a valid session). */
export async function initSession() {
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  try {
    const res = await api('/v1/session', { quiet401: true });
    apply(res.principal ?? null, res.auth !== false);
    return true;
  } catch (err) {
    if (err.status === 401) {
      showLogin();
      return false;
    }
    // An older gaffer without sessions: behave as with auth off.
    if (err.status === 404) {
      apply(null, false);
      return true;
    }
    throw err;
  }
}

export function showLogin() {
  if (!$('#login').hidden) return;
  $('#login').hidden = false;
  $('#login-error').textContent = '';
  $('#login-form input[name=key]').focus();
}

async function login(event) {
  event.preventDefault();
  const key = new FormData(event.target).get('key');
  try {
    const res = await api('/v1/session', { method: 'POST', json: { key }, quiet401: true });
    event.target.reset();
    $('#login').hidden = true;
    apply(res.principal, true);
    window.dispatchEvent(new Event('gaffer:login'));
  } catch (err) {
    $('#login-error').textContent =
      err.status === 401 ? 'That key was not accepted.' : `Login failed: ${err.message}`;
  }
}

async function logout() {
  await api('/v1/session', { method: 'DELETE', quiet401: true }).catch(() => {});
  apply(null, true);
  showLogin();
}
