/**
 * McpSessions: MCP sessions, resource subscriptions, and the event stream on which a subscribed
 * session hears that a namespace's graph changed.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const sessions = () => env.MCP_SESSIONS!.get(env.MCP_SESSIONS!.idFromName(`sessions-${crypto.randomUUID()}`));

async function nextEvent(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value } = await reader.read();
  return new TextDecoder().decode(value);
}

describe("MCP sessions", () => {
  it("knows the sessions it opened until they end", async () => {
    const s = sessions();
    const id = await s.open();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await s.touch(id)).toBe(true);
    expect(await s.touch("never-opened")).toBe(false);
    expect(await s.end(id)).toBe(true);
    expect(await s.touch(id)).toBe(false);
    expect(await s.end(id)).toBe(false);
  });

  it("refuses subscriptions of unknown sessions, and a second stream for one session", async () => {
    const s = sessions();
    expect(await s.subscribe("never-opened", "memory://knowledge-graph")).toEqual({
      ok: false,
      error: "unknown session; initialize again",
    });
    const unknown = await s.fetch("http://bridge/mcp", { headers: { "mcp-session-id": "never-opened" } });
    expect(unknown.status).toBe(404);
    const id = await s.open();
    const first = await s.fetch("http://bridge/mcp", { headers: { "mcp-session-id": id } });
    expect(first.headers.get("content-type")).toBe("text/event-stream");
    expect((await s.fetch("http://bridge/mcp", { headers: { "mcp-session-id": id } })).status).toBe(409);
    await first.body!.cancel();
  });

  it("tells an open stream about the resources it subscribed to, and only those", async () => {
    const s = sessions();
    expect(await s.changed(["default"])).toBe(false);
    const id = await s.open();
    const res = await s.fetch("http://bridge/mcp", { headers: { "mcp-session-id": id } });
    const reader = res.body!.getReader();
    expect(await nextEvent(reader)).toBe(": stream open\n\n");
    expect(await s.subscribe(id, "memory://knowledge-graph/alpha")).toEqual({ ok: true });
    expect(await s.subscribe(id, "memory://knowledge-graph")).toEqual({ ok: true });

    // Another namespace changed: the session listens, but hears nothing.
    expect(await s.changed(["beta"])).toBe(true);
    expect(await s.changed(["alpha"])).toBe(true);
    const event = await nextEvent(reader);
    expect(event).toMatch(/^event: message\ndata: /);
    expect(JSON.parse(event.split("data: ")[1]!)).toEqual({
      jsonrpc: "2.0",
      method: "notifications/resources/updated",
      params: { uri: "memory://knowledge-graph/alpha" },
    });
    // The default namespace is both the plain resource and its namespaced name.
    await s.changed(["default"]);
    expect(await nextEvent(reader)).toContain('"uri":"memory://knowledge-graph"');

    await s.unsubscribe(id, "memory://knowledge-graph/alpha");
    await s.unsubscribe(id, "memory://knowledge-graph");
    expect(await s.changed(["alpha"])).toBe(false);
    await reader.cancel();
  });
});
