/**
 * What discovery services say to each other and what scripts send them.
 * zod/mini keeps the discovery isolate small (it starts with every stack).
 */
import * as z from "zod/mini";

const cellId = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "cell_id must be 1-63 characters of a-z, 0-9, '.', '_', '-'"));
const url = z.string().check(z.maxLength(300), z.regex(/^https?:\/\/[^\s/]+$/, "must be http(s)://host:port with no path"));
const level = z.nullable(z.number().check(z.gte(0), z.lte(1)));
const services = z.array(z.string().check(z.maxLength(64))).check(z.maxLength(32));
const shortText = z.string().check(z.maxLength(128));

export const OfferSchema = z.object({
  cell_id: cellId,
  public_key: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,256}$/, "public_key must be base64url")),
  created: z.number().check(z.int()),
  proof: z.nullable(z.string().check(z.maxLength(128))),
});

export const PeerInfoSchema = z.object({
  cell_id: cellId,
  cell_url: url,
  discovery_url: url,
  services: z._default(services, []),
  branch: z.optional(z.nullable(shortText)),
  hostname: z.optional(z.nullable(shortText)),
  type: z._default(shortText, "cell"),
  consciousness_level: z._default(level, null),
});
export type PeerInfo = z.infer<typeof PeerInfoSchema>;

export const KnownPeerSchema = z.object({ cell_id: cellId, cell_url: url });
export type KnownPeer = z.infer<typeof KnownPeerSchema>;
const known = z._default(z.array(KnownPeerSchema).check(z.maxLength(256)), []);

/** First contact between two cells (signed with the presented key). */
export const HelloSchema = z.object({ offer: OfferSchema, info: PeerInfoSchema, known });
export type Hello = z.infer<typeof HelloSchema>;

/** A cell's periodic probe of another (signed with its pinned key); the answer has the same shape. */
export const CellHeartbeatSchema = z.object({ info: PeerInfoSchema, known });
export type CellHeartbeat = z.infer<typeof CellHeartbeatSchema>;

/** Legacy heartbeat from scripts. */
export const LegacyHeartbeatSchema = z.object({ cell_id: cellId, consciousness_level: z.optional(level) });

/** Legacy CellInfo registration, by hand (API token). */
export const RegisterSchema = z.object({
  cell_id: cellId,
  ip: z.string().check(z.minLength(1), z.maxLength(253)),
  port: z.number().check(z.int(), z.gte(1), z.lte(65535)),
  consciousness_level: z.optional(level),
  services: z.optional(services),
  branch: z.optional(z.nullable(shortText)),
  type: z.optional(shortText),
  hostname: z.optional(z.nullable(shortText)),
  discovery_port: z.optional(z.number().check(z.int(), z.gte(1), z.lte(65535))),
  public_key: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,256}$/, "public_key must be base64url"))),
});
export type Register = z.infer<typeof RegisterSchema>;

export const ScanRequestSchema = z.object({ ranges: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))) });

/** A cell address found by the launcher (mDNS), handed to discovery. */
export const CandidateSchema = z.object({ url });
