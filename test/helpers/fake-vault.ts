/**
 * Vault as its API documentation describes it, for sys/health and KV v2 reads: GET /v1/sys/health
 * (200 active, 429 standby, 472/473 secondaries, 501 not initialised, 503 sealed) and the KV v2 read
 * GET /v1/<mount>/data/<path> with X-Vault-Token ({"data":{"data":{…},"metadata":{…}}}; 403
 * {"errors":["permission denied"]} for a bad token; 404 {"errors":[]} for no secret).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Health = "active" | "standby" | "dr_secondary" | "perf_standby" | "uninitialised" | "sealed" | "hang";
const HEALTH_STATUS: Record<Exclude<Health, "hang">, number> = {
  active: 200,
  standby: 429,
  dr_secondary: 472,
  perf_standby: 473,
  uninitialised: 501,
  sealed: 503,
};

interface Seen {
  url: string;
  token: string | undefined;
}

/** Vault as its API documentation describes it, for sys/health and KV v2 reads. */
export class FakeVault {
  health: Health = "active";
  /** API path (below /v1/) → the secret's key/value data. */
  secrets = new Map<string, Record<string, unknown>>();
  seen: Seen[] = [];
  private server: Server;
  private hanging = new Set<ServerResponse>();

  constructor(readonly token: string) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  /** Listens on ip:port (0: any free port) and resolves to the port. */
  listen(ip: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, ip, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://vault");
    const token = req.headers["x-vault-token"];
    this.seen.push({ url: url.pathname, token: typeof token === "string" ? token : undefined });
    if (req.method !== "GET") return this.send(res, 405, { errors: [] });
    if (url.pathname === "/v1/sys/health") {
      if (this.health === "hang") {
        this.hanging.add(res);
        return;
      }
      const sealed = this.health === "sealed";
      return this.send(res, HEALTH_STATUS[this.health], {
        initialized: this.health !== "uninitialised",
        sealed,
        standby: this.health === "standby" || this.health === "perf_standby",
        performance_standby: this.health === "perf_standby",
        replication_performance_mode: "disabled",
        replication_dr_mode: this.health === "dr_secondary" ? "secondary" : "disabled",
        server_time_utc: Math.floor(Date.now() / 1000),
        version: "1.17.2",
        cluster_name: "vault-cluster-e2e",
        cluster_id: "5f1c2c1e-0000-4000-8000-000000000001",
      });
    }
    if (this.health === "sealed") return this.send(res, 503, { errors: ["Vault is sealed"] });
    if (token !== this.token) return this.send(res, 403, { errors: ["permission denied"] });
    const data = this.secrets.get(url.pathname.replace(/^\/v1\//, ""));
    if (!data) return this.send(res, 404, { errors: [] });
    this.send(res, 200, {
      request_id: "8b7a6c5d-0000-4000-8000-000000000002",
      lease_id: "",
      renewable: false,
      lease_duration: 0,
      data: {
        data,
        metadata: {
          created_time: "2026-11-20T09:15:02.123456Z",
          custom_metadata: null,
          deletion_time: "",
          destroyed: false,
          version: 3,
        },
      },
      wrap_info: null,
      warnings: null,
      auth: null,
    });
  }
}
