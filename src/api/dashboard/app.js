/**
 * The node dashboard (docs/api.md): asks once for the API token, then follows the live stream
 * GET /api/v1/events (server-sent events read with fetch, since an EventSource cannot send the
 * Authorization header) and polls /api/v1/routing and /api/v1/peers every few seconds.
 * Plain browser JavaScript, no build step. Under the page's CSP every value goes in with
 * textContent (never innerHTML) and every bar is sized through the CSSOM.
 */

import { byId, sleep } from './dom.js';
import { resetView, renderNode, renderStats, renderRouting, renderPeers, renderEventList, addEvent } from './render.js';
import { Unauthorized, api, readStream, setToken } from './stream.js';

/** sessionStorage key of the token: it lives as long as the tab. */
const TOKEN_KEY = 'zhtp-token';
/** How often the routing table and the peers are fetched again. */
const ROUTING_REFRESH_MS = 3000;
/** Reconnection backoff of the stream: doubles from the first value up to the second. */
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 15000;

// ---------------------------------------------------------------------------------------------
// Status and sign-in

function setStatus(state, text) {
  const status = byId('status');
  status.dataset.state = state;
  status.textContent = text;
}

function showTokenForm(message) {
  byId('dashboard').hidden = true;
  byId('sign-out').hidden = true;
  byId('token-form').hidden = false;
  const error = byId('token-error');
  error.hidden = !message;
  error.textContent = message || '';
  setStatus('idle', 'not connected');
  byId('token-input').focus();
}

/** Forgets the token and stops the session; `message` says why on the form. */
function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  setToken(null);
  stopSession();
  showTokenForm(message);
}

function onTokenSubmit(event) {
  event.preventDefault();
  const input = byId('token-input');
  const value = input.value.trim();
  if (value === '') return;
  input.value = '';
  sessionStorage.setItem(TOKEN_KEY, value);
  startSession(value);
}

// ---------------------------------------------------------------------------------------------
// Session: the stream and the routing poll, stopped together

let session = null;

function startSession(value) {
  stopSession();
  setToken(value);
  const controller = new AbortController();
  session = controller;
  resetView();
  byId('token-form').hidden = true;
  byId('dashboard').hidden = false;
  byId('sign-out').hidden = false;
  void followStream(controller.signal);
  void pollRouting(controller.signal);
}

function stopSession() {
  if (session !== null) session.abort();
  session = null;
}

/** Runs on an auth failure anywhere: one place decides to ask again. */
function failed(err, signal) {
  if (signal.aborted) return true;
  if (err instanceof Unauthorized) {
    signOut('The node refused this token (401). Enter the token from its api-token file.');
    return true;
  }
  return false;
}

/** Keeps the stream open: reconnects after an error with a doubling, bounded delay. */
async function followStream(signal) {
  let backoff = BACKOFF_FIRST_MS;
  while (!signal.aborted) {
    setStatus('connecting', 'connecting…');
    try {
      await readStream(signal, (name, data) => {
        if (name === 'hello') {
          backoff = BACKOFF_FIRST_MS;
          setStatus('live', 'live');
        }
        onStreamEvent(name, data);
      });
    } catch (err) {
      if (failed(err, signal)) return;
      console.warn('dashboard: stream interrupted:', err);
    }
    if (signal.aborted) return;
    setStatus('offline', `reconnecting in ${Math.round(backoff / 1000)} s`);
    await sleep(backoff, signal);
    backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
  }
}

function onStreamEvent(name, data) {
  let body;
  try {
    body = JSON.parse(data);
  } catch {
    console.warn('dashboard: unreadable stream event', name);
    return;
  }
  if (name === 'hello') {
    renderNode(body.node);
    renderEventList(body.events);
  } else if (name === 'stats') {
    renderStats(body);
  } else if (name === 'node') {
    addEvent(body);
  }
}

async function pollRouting(signal) {
  while (!signal.aborted) {
    try {
      const [routing, peers] = await Promise.all([api('/api/v1/routing', signal), api('/api/v1/peers', signal)]);
      renderRouting(routing);
      renderPeers(peers.peers);
      byId('routing-error').hidden = true;
    } catch (err) {
      if (failed(err, signal)) return;
      const error = byId('routing-error');
      error.hidden = false;
      error.textContent = `Could not refresh: ${err.message}`;
    }
    await sleep(ROUTING_REFRESH_MS, signal);
  }
}


// ---------------------------------------------------------------------------------------------
// Start

byId('token-form').addEventListener('submit', onTokenSubmit);
byId('sign-out').addEventListener('click', () => signOut(''));
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) startSession(saved);
else showTokenForm('');
