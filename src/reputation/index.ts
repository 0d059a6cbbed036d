/**
 * Per-peer reputation (Beta reputation with exponential forgetting, score.ts): the public face
 * of src/reputation, read by routing and placement and exposed in the API for the economic layer.
 */
export { ReputationBook } from './book.js';
export type { PeerReputation, ReputationInit, ReputationStats } from './book.js';
export {
  BAD_THRESHOLD, DEFAULT_HALF_LIFE, DEFAULT_MAX_EVIDENCE, DEFAULT_MAX_PEERS, EVENT_WEIGHTS, NEUTRAL_SCORE, REPUTATION_EVENTS,
  TRUST_THRESHOLD, applyEvent, betaScore, decayEvidence, emptyEvidence, evidenceScore, isReputationEvent,
} from './score.js';
export type { EventWeight, Evidence, ReputationEvent } from './score.js';
