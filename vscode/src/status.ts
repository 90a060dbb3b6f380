/** What the status bar item says: the cell, its level and its peers; or, plainly, that the stack is not running. */
import type { BridgeHealth, PeerInfo } from "./bridge";

export type StackState =
  | { kind: "checking" }
  | { kind: "down"; reason: string; since: number }
  | { kind: "up"; health: BridgeHealth; peers: PeerInfo[] | undefined; at: number };

export interface StatusView {
  text: string;
  /** Markdown. */
  tooltip: string;
  severity: "ok" | "warning" | "error";
}

export function peerCounts(peers: PeerInfo[]): { alive: number; known: number } {
  return { alive: peers.filter((p) => p.status === "alive").length, known: peers.length };
}

export function formatLevel(level: number | undefined | null): string {
  return typeof level === "number" && Number.isFinite(level) ? level.toFixed(2) : "–";
}

const ICON: Record<string, string> = { alive: "$(pass-filled)", suspect: "$(warning)", dead: "$(error)" };

/** Markdown special characters in names coming from the network must not format the tooltip. */
function md(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

export function peerLine(p: PeerInfo): string {
  const bits = [p.status];
  if (typeof p.consciousness_level === "number") bits.push(`level ${formatLevel(p.consciousness_level)}`);
  if (typeof p.rtt_ms === "number") bits.push(`${Math.round(p.rtt_ms)} ms`);
  return `${ICON[p.status] ?? "$(circle-outline)"} **${md(p.cell_id)}** ${md(bits.join(" · "))}`;
}

export function statusView(state: StackState): StatusView {
  if (state.kind === "checking") {
    return { text: "$(sync~spin) AIOS", tooltip: "AIOS: looking for the stack…", severity: "ok" };
  }
  if (state.kind === "down") {
    return {
      text: "$(debug-disconnect) AIOS: stack not running",
      tooltip: [
        "**AIOS: the stack is not running**",
        "",
        md(state.reason),
        "",
        "Start it with `npm start` in the stack's folder; this item recovers by itself when the stack answers.",
      ].join("\n"),
      severity: "error",
    };
  }
  const h = state.health;
  const cellId = h.cell_info?.cell_id ?? h.cell_id ?? "?";
  const level = formatLevel(h.cell_info?.consciousness_level);
  if (!h.cell_info) {
    return {
      text: `$(warning) AIOS ${cellId}: cell not answering`,
      tooltip: `**AIOS ${md(cellId)}**: the bridge answers, but its cell does not (status ${md(h.status)}).`,
      severity: "warning",
    };
  }
  const lines = [`**AIOS cell ${md(cellId)}** · level ${level}`, ""];
  let peerText: string;
  if (!state.peers) {
    peerText = "peers ?";
    lines.push("Discovery does not answer: peers unknown.");
  } else {
    const { alive, known } = peerCounts(state.peers);
    peerText = `${alive}/${known} peers`;
    if (known === 0) lines.push("No peers known: this machine is on its own.");
    else {
      lines.push(`Peers: ${alive} alive of ${known} known`, "");
      for (const p of [...state.peers].sort((a, b) => a.cell_id.localeCompare(b.cell_id))) lines.push(`- ${peerLine(p)}`);
    }
  }
  lines.push("", "Click to open the dashboard.");
  const degraded = h.status !== "healthy" || !state.peers;
  return {
    text: `${degraded ? "$(warning)" : "$(pulse)"} AIOS ${cellId} · ${level} · ${peerText}`,
    tooltip: lines.join("\n"),
    severity: degraded ? "warning" : "ok",
  };
}
