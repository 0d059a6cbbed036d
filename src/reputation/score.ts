/**
 * Peer reputation as Beta reputation (Jøsang & Ismail 2002) with exponential forgetting: decayed
 * positive evidence a and negative evidence b (halved every `halfLife` ms), score = (a + 1) /
 * (a + b + 2). Two additions keep busy peers accountable: a + b is capped (ratio kept), and proof
 * of malice forfeits earned positive evidence. Pure functions; time is the caller's `now` in ms.
 */
import { hour } from '../util/index.js';

/** The outcome of one interaction with a peer, as the layers that saw it report it. */
export type ReputationEvent =
  | 'rpc_ok' | 'rpc_timeout'
  | 'audit_pass' | 'audit_fail'
  | 'store_ok' | 'store_refused'
  | 'store_full'
  | 'invalid_value'
  | 'protocol_violation'
  | 'contract_audit_fail';

/** Every event, in a fixed order (counters and tests iterate it). */
export const REPUTATION_EVENTS: readonly ReputationEvent[] = Object.freeze([
  'rpc_ok', 'rpc_timeout', 'audit_pass', 'audit_fail', 'store_ok', 'store_refused', 'store_full',
  'invalid_value', 'protocol_violation', 'contract_audit_fail',
] as const);

/** Score of a peer without evidence: the Beta(1, 1) mean. */
export const NEUTRAL_SCORE = 0.5;
/**
 * At or above this a peer is trusted (preferred for placement). Once evidence is plentiful the
 * score tends to the peer's success ratio, so trust means "at least 70 % of outcomes good". A
 * fresh peer reaches it after 2 answered requests (3 / 4), so trust ranks peers but is no Sybil
 * defence on its own: the routing table's admission limits bound Sybils.
 */
export const TRUST_THRESHOLD = 0.7;
/**
 * Below this a peer is bad: routing and placement skip it. 0.2 is a success ratio of 1 in 5,
 * worse than any honest peer on a lossy link; it takes 4 net negative units on a fresh peer
 * (1 / 6 < 0.2), so a couple of lost UDP packets never exclude anyone, but one failed audit or
 * one poisoned value does.
 */
export const BAD_THRESHOLD = 0.2;

/** Default half-life of evidence: one hour, the bucket-refresh interval (Kademlia §2.3). */
export const DEFAULT_HALF_LIFE = 1 * hour;
/** Default bound on peers remembered (least recently updated evicted first). */
export const DEFAULT_MAX_PEERS = 10_000;
/**
 * Default cap on a peer's total evidence a + b. At the cap, k units of fresh evidence still
 * move the score by about k / 100, so a busy peer (1 request/s saturates an hour's window many
 * times over) stays responsive to what it does now; the ratio, hence the score, is kept.
 */
export const DEFAULT_MAX_EVIDENCE = 100;

/** How one event moves a peer's evidence. */
export interface EventWeight {
  /** Added to positive evidence `a`. */
  readonly positive: number;
  /** Added to negative evidence `b`. */
  readonly negative: number;
  /** Fraction of positive evidence lost before adding (0 keeps all, 1 loses all). */
  readonly forfeit: number;
  /** Why this weight. */
  readonly reason: string;
}

/**
 * Weights per event, in units of one answered request. With them a fresh peer scores 1/10
 * after one failed audit and 1/22 after one invalid value (both bad), and 100 answered
 * requests followed by one timeout score 0.98 (still trusted).
 */
export const EVENT_WEIGHTS: Readonly<Record<ReputationEvent, EventWeight>> = Object.freeze({
  rpc_ok: w(1, 0, 0, 'the unit: one answered request'),
  rpc_timeout: w(0, 1, 0, 'symmetric with rpc_ok so the score tends to the answer ratio; UDP loss and churn make timeouts common for honest peers'),
  audit_pass: w(3, 0, 0, 'a keyed-BLAKE3 challenge proves the data is held, stronger than liveness; audits are rare, so each counts more'),
  audit_fail: w(0, 8, 0.9, 'a fresh-key challenge cannot be answered without the data: lost or never stored. Fresh peer -> 0.1 (bad); a long-good peer loses trust; a second failure makes it bad'),
  store_ok: w(1, 0, 0, 'an acknowledged STORE is one answered request'),
  store_refused: w(0, 1, 0, 'a refusal that is not "full" is an unreliable store target, as bad as a timeout'),
  store_full: w(0, 0, 0, 'neutral: honest back-pressure; penalising it would push load away from small nodes for being honest'),
  invalid_value: w(0, 20, 1, 'poisoning: honest nodes verify before storing, so a value failing its hash or signature is proof of malice; all standing is forfeited and recovery takes ~2.7 half-lives'),
  contract_audit_fail: w(0, 8, 0.9, 'a contract holder executed a call again on its own state and got another outcome than the primary reported; like a failed storage audit it cannot tell which side is wrong, so one failure makes a fresh peer bad and a second a trusted one'),
  protocol_violation: w(0, 20, 1, 'forged or malformed packets on an authenticated channel: proof of a malicious or broken peer, treated like poisoning'),
});

function w(positive: number, negative: number, forfeit: number, reason: string): EventWeight {
  return Object.freeze({ positive, negative, forfeit, reason });
}

/** True when `x` names a reputation event. */
export function isReputationEvent(x: unknown): x is ReputationEvent {
  return typeof x === 'string' && Object.hasOwn(EVENT_WEIGHTS, x);
}

/** A peer's evidence as of time `at` (ms). */
export interface Evidence {
  /** Decayed positive evidence. */
  readonly a: number;
  /** Decayed negative evidence. */
  readonly b: number;
  /** When `a` and `b` were last decayed: the latest `now` applied. */
  readonly at: number;
}

/** No evidence, at time `now`. */
export function emptyEvidence(now: number): Evidence {
  return { a: 0, b: 0, at: now };
}

/**
 * `e` decayed to `now`: both sides multiplied by 2^(-(now - at) / halfLife). A `now` earlier
 * than `e.at` (clocks of different layers) decays nothing and leaves `at` where it was.
 */
export function decayEvidence(e: Evidence, now: number, halfLife: number): Evidence {
  const dt = now - e.at;
  if (!(dt > 0)) return e;
  const f = Math.pow(2, -dt / halfLife);
  return { a: e.a * f, b: e.b * f, at: now };
}

/**
 * `e` after `event` at `now`: decay, forfeit, add the weights, then scale a and b down together
 * when their sum exceeds `maxEvidence`. Never raises the score for an event with only negative
 * weight or forfeit, never lowers it for one with only positive weight (scaling toward the cap
 * moves the score toward 0.5 without crossing it, and the ratio a / (a + b) moved the right way).
 */
export function applyEvent(e: Evidence, event: ReputationEvent, now: number, halfLife: number, maxEvidence: number): Evidence {
  const d = decayEvidence(e, now, halfLife);
  const weight = EVENT_WEIGHTS[event];
  let a = d.a * (1 - weight.forfeit) + weight.positive;
  let b = d.b + weight.negative;
  const total = a + b;
  if (total > maxEvidence) {
    a = (a / total) * maxEvidence;
    b = (b / total) * maxEvidence;
  }
  return { a, b, at: d.at };
}

/** The Beta-mean score (a + 1) / (a + b + 2), in (0, 1); 0.5 without evidence. */
export function betaScore(a: number, b: number): number {
  return (a + 1) / (a + b + 2);
}

/** The score of evidence `e` as seen at `now`. */
export function evidenceScore(e: Evidence, now: number, halfLife: number): number {
  const d = decayEvidence(e, now, halfLife);
  return betaScore(d.a, d.b);
}
