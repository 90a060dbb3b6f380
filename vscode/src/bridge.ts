/** The bridge's REST side (GET /health, GET /network-peers, PUT /context) and its /mcp, behind one object. */
import { DEFAULT_TIMEOUT_MS, normaliseBaseUrl, requestJson, type FetchLike } from "./http";
import { McpClient } from "./mcp";
import type { SharedContext } from "./context";

export interface BridgeHealth {
  status: string;
  cell_id?: string;
  /** The cell's own address (its dashboard is GET /); older bridges do not say. */
  cell_url?: string;
  services?: Record<string, string>;
  cell_info?: { cell_id: string; branch?: string; consciousness_level?: number } | null;
}

export interface PeerInfo {
  cell_id: string;
  url?: string;
  status: string;
  consciousness_level?: number | null;
  last_seen?: string;
  hostname?: string | null;
  rtt_ms?: number | null;
}

export class BridgeClient {
  readonly baseUrl: string;
  readonly mcp: McpClient;

  constructor(
    baseUrl: string,
    private readonly fetchImpl: FetchLike = fetch,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.baseUrl = normaliseBaseUrl(baseUrl);
    this.mcp = new McpClient(`${this.baseUrl}/mcp`, fetchImpl, 15_000);
  }

  get mcpUrl(): string {
    return this.mcp.url;
  }

  async health(): Promise<BridgeHealth> {
    return (await requestJson(this.fetchImpl, `${this.baseUrl}/health`, {}, this.timeoutMs)) as BridgeHealth;
  }

  async peers(): Promise<PeerInfo[]> {
    const body = (await requestJson(this.fetchImpl, `${this.baseUrl}/network-peers`, {}, this.timeoutMs)) as {
      peers?: PeerInfo[];
    };
    return Array.isArray(body.peers) ? body.peers : [];
  }

  /** Replaces this machine's shared editing context. */
  async putContext(context: SharedContext | Record<string, never>): Promise<void> {
    await requestJson(
      this.fetchImpl,
      `${this.baseUrl}/context`,
      { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(context) },
      this.timeoutMs,
    );
  }
}

/** Where the dashboard is: the setting if given, else what the bridge reports, else the bridge's host on the cell's default port. */
export function dashboardUrl(setting: string, health: BridgeHealth | undefined, bridgeUrl: string): string {
  if (setting.trim()) return setting.trim();
  if (health?.cell_url) return health.cell_url;
  const u = new URL(bridgeUrl);
  return `${u.protocol}//${u.hostname}:8000/`; // an IPv6 hostname keeps its brackets
}
