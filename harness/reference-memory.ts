/**
 * Drives @modelcontextprotocol/server-memory (the reference) over stdio with the official MCP client.
 * The benchmarks load their client libraries when they run: the launcher that `npm start` runs
 * includes the bench command, and should not load them (nor pay for them in time and memory).
 */
import path from "node:path";

export interface ToolCaller {
  call(tool: string, args: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

export async function startReferenceMemory(root: string, memoryFile: string): Promise<ToolCaller> {
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.join(root, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js")],
    env: { ...(process.env as Record<string, string>), MEMORY_FILE_PATH: memoryFile },
    stderr: "ignore",
  });
  const client = new Client({ name: "aios-bench", version: "1" });
  await client.connect(transport);
  return {
    async call(tool, args) {
      const r = await client.callTool({ name: tool, arguments: args });
      if (r.isError) throw new Error(`${tool} failed: ${JSON.stringify(r.content)}`);
      return r.structuredContent ?? r.content;
    },
    close: () => client.close(),
  };
}
