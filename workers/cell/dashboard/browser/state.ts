/** What the dashboard's script keeps between polls, and the shapes of the answers it reads. */
export type SeriesKey = "level" | "awareness" | "coherence" | "adaptation" | "momentum";
export interface Series {
  key: SeriesKey;
  label: string;
  width: number;
  weight?: number;
}

export const SERIES: readonly Series[] = [
  { key: "level", label: "level", width: 2.6 },
  { key: "awareness", label: "awareness", width: 1.6, weight: 0.3 },
  { key: "coherence", label: "coherence", width: 1.6, weight: 0.3 },
  { key: "adaptation", label: "adaptation", width: 1.6, weight: 0.25 },
  { key: "momentum", label: "momentum", width: 1.6, weight: 0.15 },
];

export const MINUTES = 60;

/** One point of the chart: a time (ms) and the value of each series it has. */
export type Point = { t: number } & Partial<Record<SeriesKey, number | null>>;

export interface HistoryPoint extends Partial<Record<SeriesKey, number | null>> {
  t: string;
}

export interface State {
  cellId: string | null;
  history: HistoryPoint[];
  live: Point[];
  source: string | null;
  hidden: Partial<Record<SeriesKey, boolean>>;
  lastOk: number;
  failures: number;
  token: string | null;
  /** What the private panels last drew (their JSON), so an unchanged answer is not drawn again. */
  privateKey: { messages: string; contexts: string };
  namespaces: string;
}

export const S: State = {
  cellId: null,
  history: [],
  live: [],
  source: null,
  hidden: {},
  lastOk: 0,
  failures: 0,
  token: null,
  privateKey: { messages: "", contexts: "" },
  namespaces: "",
};

export interface Health {
  cell_id: string;
  status: string;
  version?: string;
  branch?: string;
  hostname?: string;
  uptime_seconds?: number;
}

export interface Inputs {
  peers_alive?: number;
  peers_known?: number;
  peers_in_sync?: number;
  recent_writes?: number;
  messages?: number;
  graph?: { entities?: number; observations?: number };
}

export interface Consciousness {
  level: number | null;
  primitives?: Partial<Record<SeriesKey, number>>;
  inputs?: Inputs;
  last_sync?: string | null;
  formula?: { level?: string };
}

export interface Peer {
  cell_id: string;
  ip: string;
  port: number;
  status: string;
  rtt_ms?: number | null;
  last_seen?: string | null;
  consciousness_level?: number | null;
  sync?: {
    lag_seconds?: number | null;
    in_sync?: boolean;
    last_error?: string | null;
    rows_sent?: number;
    rows_received?: number;
  } | null;
}

export interface ErrorBody {
  error?: string;
}
