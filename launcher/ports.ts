/** Checks, before starting the runtime, that every port is free, so the error names the port. */
import net from "node:net";
import { portVariable, type StackConfig } from "../lib/config";

export async function portFree(host: string, port: number): Promise<true | string> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface Listener {
  service: "cell" | "discovery" | "bridge" | "metrics";
  host: string;
  port: number;
}

export function listeners(cfg: StackConfig): Listener[] {
  return [
    { service: "cell", host: cfg.host, port: cfg.ports.cell },
    { service: "discovery", host: cfg.host, port: cfg.ports.discovery },
    { service: "bridge", host: cfg.bridgeHost, port: cfg.ports.bridge },
    { service: "metrics", host: cfg.host, port: cfg.ports.metrics },
  ];
}

/** Returns a one-line error for the first port that cannot be bound, or undefined. */
export async function checkPorts(cfg: StackConfig): Promise<string | undefined> {
  for (const l of listeners(cfg)) {
    const result = await portFree(l.host, l.port);
    if (result === true) continue;
    if (result === "EADDRNOTAVAIL") {
      return `${l.service === "bridge" ? "AIOS_BRIDGE_HOST" : "AIOS_HOST"}: ${l.host} is not an address of this machine`;
    }
    const why = result === "EADDRINUSE" ? "is already in use" : `cannot be bound (${result})`;
    return `${portVariable(l.service)}: port ${l.port} on ${l.host} ${why} (${l.service})`;
  }
  return undefined;
}
