/**
 * /mcp: MCP over Streamable HTTP with the SDK's web-standard transport, stateless: any request may
 * reach any isolate. Servers with their tools are built once and reused (one per request in flight;
 * building one per request cost more than the tool call it served), and a plain tools/call takes
 * the fast path (fast-call.ts). A client that initializes gets
 * a session id, which it needs only to subscribe to the graph's resources and to hold a GET stream
 * for their `notifications/resources/updated` (durable-objects/mcp-sessions.ts); calls without one
 * work as before.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { ErrorCode, McpError, SubscribeRequestSchema, UnsubscribeRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { McpSessions } from "../../../durable-objects/mcp-sessions";
import type { CellBinding } from "../../../lib/rpc";
import { VERSION } from "../../../lib/version";
import { fastToolCall, TOOL_SPECS } from "./fast-call";
import { registerGraphResources, isGraphUri } from "./resources";
import { registerTools } from "./tools";

export interface McpEnv {
  CELL?: CellBinding;
  MCP_SESSIONS?: DurableObjectNamespace<McpSessions>;
}

/** A server with every tool and resource, and the request it serves while connected. */
class Pooled {
  readonly mcp: McpServer;
  env: McpEnv = {};
  session: string | undefined;

  constructor() {
    this.mcp = new McpServer(
      { name: "aios-cell", version: VERSION },
      {
        capabilities: { resources: { subscribe: true, listChanged: false } },
        instructions:
          "Shared memory and context of the developer's machines. Memory tools work like the reference memory server; use a namespace per project. For questions in natural language use recall (by meaning), not search_nodes (exact substring).",
      },
    );
    registerTools(this.mcp, TOOL_SPECS, () => this.env.CELL);
    registerGraphResources(this.mcp, () => this.env.CELL);
    this.mcp.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
      const uri = request.params.uri;
      if (!isGraphUri(uri)) throw new McpError(ErrorCode.InvalidParams, `no such resource: ${uri}`);
      const { sessions, id } = this.sessionOrThrow();
      const done = await sessions.get(sessions.idFromName("mcp")).subscribe(id, uri);
      if (!done.ok) throw new McpError(ErrorCode.InvalidRequest, done.error);
      return {};
    });
    this.mcp.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
      const { sessions, id } = this.sessionOrThrow();
      await sessions.get(sessions.idFromName("mcp")).unsubscribe(id, request.params.uri);
      return {};
    });
  }

  private sessionOrThrow() {
    const sessions = this.env.MCP_SESSIONS;
    if (!sessions) throw new McpError(ErrorCode.InvalidRequest, "this bridge keeps no sessions");
    if (!this.session)
      throw new McpError(ErrorCode.InvalidRequest, "subscriptions need a session: send the Mcp-Session-Id of your initialize");
    return { sessions, id: this.session };
  }
}

const idle: Pooled[] = [];

/** Answers one request with a pooled server and a fresh stateless transport. */
async function serve(request: Request, env: McpEnv, session: string | undefined, parsedBody?: unknown): Promise<Response> {
  const server = idle.pop() ?? new Pooled();
  server.env = env;
  server.session = session;
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  try {
    await server.mcp.connect(transport);
    return await transport.handleRequest(request, parsedBody === undefined ? undefined : { parsedBody });
  } finally {
    await server.mcp.close();
    server.env = {};
    server.session = undefined;
    idle.push(server);
  }
}

function sessionsOf(env: McpEnv): DurableObjectStub<McpSessions> | undefined {
  const ns = env.MCP_SESSIONS;
  return ns ? ns.get(ns.idFromName("mcp")) : undefined;
}

function rpcError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

const isInitialize = (body: unknown) =>
  (Array.isArray(body) ? body : [body]).some(
    (m) => typeof m === "object" && m !== null && (m as { method?: unknown }).method === "initialize",
  );

/** Sessions known to exist, checked with the sessions object at most once a minute per isolate. */
const known = new Map<string, number>();
async function sessionExists(sessions: DurableObjectStub<McpSessions>, id: string): Promise<boolean> {
  const now = Date.now();
  if ((known.get(id) ?? 0) > now) return true;
  if (!(await sessions.touch(id))) return false;
  if (known.size > 10_000) known.clear();
  known.set(id, now + 60_000);
  return true;
}

export async function handleMcp(request: Request, env: McpEnv): Promise<Response> {
  const session = request.headers.get("mcp-session-id") ?? undefined;
  const sessions = sessionsOf(env);
  if (request.method === "GET") {
    if (!session || !sessions) return rpcError(405, "GET needs an Mcp-Session-Id (initialize first)", { allow: "POST, DELETE" });
    return sessions.fetch(request);
  }
  if (request.method === "DELETE") {
    if (!session || !sessions) return rpcError(400, "DELETE ends a session: send its Mcp-Session-Id");
    known.delete(session);
    return (await sessions.end(session)) ? new Response(null, { status: 200 }) : rpcError(404, "unknown session");
  }
  if (session && sessions && !(await sessionExists(sessions, session))) {
    return rpcError(404, "unknown session; initialize again");
  }
  // Anything but JSON is the SDK's to refuse.
  if (!(request.headers.get("content-type") ?? "").includes("json")) return serve(request, env, session);
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch (e) {
    return new Response(
      JSON.stringify({ jsonrpc: "2.0", error: { code: -32700, message: `Parse error: ${(e as Error).message}` }, id: null }),
      { status: 400, headers: { "content-type": "application/json" } },
    );
  }
  const fast = fastToolCall(request, body, env.CELL);
  if (fast) return fast;
  // An initialize gets a session (when this bridge keeps them).
  if (session || !sessions || !isInitialize(body)) return serve(request, env, session, body);
  const response = await serve(request, env, undefined, body);
  if (response.status !== 200) return response;
  const withId = new Response(response.body, response);
  withId.headers.set("mcp-session-id", await sessions.open());
  return withId;
}
