/** Wire shapes of messages, contexts and the legacy level report. */
import { z } from "zod";

/** JSON values: what can cross Durable Object RPC and be stored as JSON text. */
/** The name of the one state object of a cell (ConsciousnessState; it holds every namespace). */
export const STATE_OBJECT = "consciousness";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;

const shortText = (max: number, what: string) => z.string().max(max, `${what} is longer than ${max} characters`);

export const MessageSchema = z
  .object({
    from_cell: shortText(128, "from_cell").min(1).optional(),
    to_cell: shortText(128, "to_cell").min(1).optional().describe("The cell it is meant for, if one"),
    content: z
      .union([shortText(65536, "content").min(1, "content must not be empty"), z.record(z.string(), z.unknown())])
      .describe("The message: text, or a JSON object"),
    message_type: shortText(64, "message_type").min(1).optional(),
    type: shortText(64, "type").min(1).optional().describe("A message type, e.g. note, status, question"),
    priority: z.union([z.enum(PRIORITIES), z.number().int().min(0).max(10)]).default("normal"),
    metadata: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((m) => JSON.stringify(m.metadata).length <= 16384, {
    message: "metadata is larger than 16384 bytes",
    path: ["metadata"],
  })
  .refine((m) => typeof m.content === "string" || JSON.stringify(m.content).length <= 65536, {
    message: "content is larger than 65536 bytes",
    path: ["content"],
  });
/** The validated message, typed as JSON so it can cross Durable Object RPC. */
export type MessageInput = Omit<z.infer<typeof MessageSchema>, "content" | "metadata"> & {
  content: string | { [key: string]: JsonValue };
  metadata: { [key: string]: JsonValue };
};

export interface Message {
  message_id: string;
  from_cell: string;
  to_cell: string | null;
  message_type: string;
  content: JsonValue;
  priority: string | number;
  metadata: Record<string, JsonValue>;
  timestamp: string;
}

/** Where a page of messages ended: the last message's clock and id. Clients see it only as an opaque string. */
export interface MessageCursor {
  hlc: string;
  id: string;
}

export function encodeMessageCursor(c: MessageCursor): string {
  const bytes = new TextEncoder().encode(`${c.hlc}/${c.id}`);
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function decodeMessageCursor(text: string): MessageCursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const raw = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (ch) => ch.charCodeAt(0)),
    );
    const m = /^(\d{15}-\d{6})\/([^]{1,256})$/.exec(raw);
    return m ? { hlc: m[1]!, id: m[2]! } : undefined;
  } catch {
    return undefined;
  }
}

export const MessageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe("How many messages, newest first (1-500, default 50)"),
  from_cell: z.string().min(1).max(128).optional().describe("Only messages from this cell"),
  /** The `next_cursor` of the page before: the messages older than that page's last one. */
  before: z
    .string()
    .max(1024, "before is longer than 1024 characters")
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      const cursor = decodeMessageCursor(text);
      if (!cursor) ctx.addIssue({ code: "custom", message: "before is not a next_cursor this cell answered" });
      return cursor;
    }),
});
export type MessageQuery = z.infer<typeof MessageQuerySchema>;

const Selection = z.union([
  shortText(65536, "selection"),
  z.object({
    start_line: z.number().int().min(0),
    end_line: z.number().int().min(0),
    start_character: z.number().int().min(0).optional(),
    end_character: z.number().int().min(0).optional(),
    text: shortText(65536, "selection.text").optional(),
  }),
]);

export const ContextSchema = z
  .object({
    workspace: shortText(1024, "workspace").optional(),
    file: shortText(4096, "file").optional(),
    language: shortText(64, "language").optional(),
    selection: Selection.optional(),
    note: shortText(8192, "note").optional(),
  })
  .catchall(z.union([z.string().max(4096), z.number(), z.boolean(), z.null()]))
  .refine((c) => Object.keys(c).length <= 32, { message: "at most 32 context fields" });
export type ContextInput = z.infer<typeof ContextSchema>;

/** Rows as the store keeps them; `toMessage` / `toContext` shape them for the API. */
export interface MessageRow extends Record<string, string | number | null> {
  id: string;
  from_cell: string;
  to_cell: string | null;
  message_type: string;
  content: string;
  priority: string;
  metadata: string;
  created_at: string;
  /** The clock of the write that created it: messages are listed newest first by it. */
  hlc: string;
}

export interface ContextRow extends Record<string, string | number | null> {
  cell_id: string;
  data: string;
  updated_at: string;
}

export function toMessage(r: MessageRow): Message {
  return {
    message_id: r.id,
    from_cell: r.from_cell,
    to_cell: r.to_cell,
    message_type: r.message_type,
    content: JSON.parse(r.content) as JsonValue,
    priority: JSON.parse(r.priority) as string | number,
    metadata: JSON.parse(r.metadata) as Record<string, JsonValue>,
    timestamp: r.created_at,
  };
}

export function toContext(r: ContextRow): CellContext {
  return { cell_id: r.cell_id, context: JSON.parse(r.data) as Record<string, JsonValue>, updated_at: r.updated_at };
}

export interface CellContext {
  cell_id: string;
  context: Record<string, JsonValue>;
  updated_at: string;
}

/** The largest context or level report accepted (selections may carry text). */
export const STATE_BODY_LIMIT = 256 * 1024;

export const LevelReportSchema = z.object({
  level: z.number({ error: "level must be a number" }).min(0, "level must be in [0, 1]").max(1, "level must be in [0, 1]"),
  context: ContextSchema.optional(),
  cell_id: z.string().min(1).max(128).optional(),
  source: z.string().min(1).max(64).optional(),
});
export type LevelReport = z.infer<typeof LevelReportSchema>;
