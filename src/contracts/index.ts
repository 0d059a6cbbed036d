/**
 * WASM smart contracts (docs/contracts.md): ABI v1, deploy-time validation and deterministic gas
 * metering (binaryen 132.0.0, METER_VERSION), the execution engine with its worker pools and
 * LMDB state, receipts, the argument encoding (and its JSON form), signed manifests, and the DHT
 * keys and tag entries of discovery. Signed calls, receipts by call id and the replica
 * store of part 2b (execution across an instance's holders) are here too; src/node drives them.
 */
export * from './limits.js';
export { type ModuleFault, InvalidContractError, isInvalidContract } from './errors.js';
export { type StateWrite, codeHashOf, instanceIdOf, genesisStateHash, nextStateHash, INSTANCE_DOMAIN, STATE_DOMAIN } from './ids.js';
export { type CallStatus, type CallRequest, type ContractEvent, type Receipt, CALL_STATUSES } from './receipt.js';
export type { CodeRecord, InstanceMeta } from './records.js';
export { type AbiType, type AbiValue, ABI_TYPES, encodeArgs, decodeArgs } from './encoding.js';
export * from './manifest.js';
export { type ContractEngineInit, type ContractEngineStats, type DeployedCode, ContractEngine, DEFAULT_CONTRACT_BATCH, DEFAULT_CONTRACT_QUEUE } from './engine.js';
export { type MeterPoolInit, DEFAULT_METER_QUEUE, DEFAULT_METER_TIMEOUT } from './pools.js';
export { MAX_CONFLICT_RETRIES } from './scheduler.js';
export { exampleContract, EXAMPLE_CONTRACTS, type ExampleContract } from './examples.js';
export {
  type ContractDropReason, CONTRACT_DROP_REASONS, decodeTagEntry, encodeTagEntry, manifestKey, MAX_TAG_ENTRY_BYTES, MAX_TAG_ENTRY_NAMES, tagKey,
} from './discovery.js';
export { type JsonAbiValue, argsFromJson, argsToJson, parseAbiTypes } from './json.js';
export {
  type CallEnvelope, type SignedCall, CALL_DOMAIN, CALL_ID_DOMAIN, MAX_RECEIPT_BYTES, MAX_SIGNED_CALL_BYTES, callIdOf, callIdPayload, callerOf,
  callSignatureCheck, callSigningPayload, callTaskOf, decodeReceipt, decodeSignedCall, decodeWrites, encodeCallBody, encodeReceipt, encodeSignedCall,
  signCall,
} from './call.js';
export { type UpdateCheck, type UpdateVerdict, sameOutcome } from './audit.js';
export {
  type ReceiptRetention, type ReplicaOutcome, type SnapshotPage, type StoredReceipt, DEFAULT_RECEIPT_MAX_AGE, DEFAULT_RECEIPTS_PER_INSTANCE,
} from './replica.js';
