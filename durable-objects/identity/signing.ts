/**
 * Inter-cell request signing (DESIGN.md section 7), on web-standard APIs only.
 *
 * Profile: RFC 9421 HTTP Message Signatures, label `aios`, Ed25519, with an RFC 9530 sha-256
 * `Content-Digest` of the body (of the empty body too). Covered: "@method" "@path" "@query"
 * "content-digest" "x-aios-cell" [+ "x-aios-target"]; parameters created, nonce, keyid,
 * alg="ed25519", tag="aios-v1". Keys are base64url text: raw 32-byte public keys, PKCS #8 private keys.
 * Admission of a new cell is an HMAC over its id and public key with AIOS_CLUSTER_SECRET.
 */
export { admissionProof, verifyAdmissionProof, type AdmissionOptions, type AdmissionResult } from "./signing/admission";
export { componentValue, serializeSignatureParams, signatureBase, SignatureBaseError, type SignatureInput } from "./signing/base";
export { checkContentDigest, contentDigest, sha256, type DigestCheck } from "./signing/digest";
export { bytesEqual, fromBase64, fromBase64Url, toBase64, toBase64Url } from "../../lib/encoding";
export { generateKeyPair, importPrivateKey, importPublicKey, signBytes, verifyBytes, type KeyPair } from "./signing/keys";
export { MemoryReplayGuard, type MemoryReplayGuardOptions, type ReplayGuard } from "./signing/replay";
export {
  ALG,
  CELL_HEADER,
  DEFAULT_MAX_BODY_BYTES,
  LABEL,
  parseSignatureHeaders,
  type ParsedSignature,
  REQUIRED_COMPONENTS,
  signRequest,
  TAG,
  TARGET_HEADER,
  verifyRequest,
  type KeyLookup,
  type SignOptions,
  type SigningKey,
  type VerifyOptions,
  type VerifyResult,
} from "./signing/request";
export {
  Decimal,
  isInnerList,
  parseDictionary,
  serializeBareItem,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  serializeParams,
  Token,
  type BareItem,
  type Dictionary,
  type InnerList,
  type Item,
  type Member,
  type Params,
} from "./signing/sf";
