/**
 * The dashboard's access to the API: JSON requests and the live stream (server-sent events read
 * with fetch, since an EventSource cannot send the Authorization header).
 */

/** The server sends stats every second: this long without a byte means the stream is dead. */
const STREAM_STALL_MS = 10000;

/** Thrown when the API answers 401: the token is wrong, ask for another. */
export class Unauthorized extends Error {}

let token = null;

/** The bearer token every request carries (null when signed out). */
export function setToken(value) {
  token = value;
}


export async function api(path, signal) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store', signal });
  if (res.status === 401) throw new Unauthorized();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/**
 * Splits a text/event-stream into events (the WHATWG server-sent events rules that matter here:
 * `event:` and `data:` fields, comments, lines ended by LF or CRLF, a blank line ends an event).
 * Returns a function that takes the next chunk of text.
 */
export function sseParser(onEvent) {
  let partial = '';
  let name = '';
  let data = [];
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (let line of lines) {
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data.length > 0) onEvent(name || 'message', data.join('\n'));
        name = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
  };
}

/** Reads the live stream until it ends, fails, stalls or `signal` aborts. */
export async function readStream(signal, onEvent) {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  let stallTimer = setTimeout(abort, STREAM_STALL_MS);
  try {
    const res = await fetch('/api/v1/events', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store', signal: controller.signal });
    if (res.status === 401) throw new Unauthorized();
    if (!res.ok || res.body === null) throw new Error(`events: HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parse = sseParser(onEvent);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      clearTimeout(stallTimer);
      stallTimer = setTimeout(abort, STREAM_STALL_MS);
      parse(value);
    }
  } finally {
    clearTimeout(stallTimer);
    signal.removeEventListener('abort', abort);
  }
}
