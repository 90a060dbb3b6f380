/** Prometheus text exposition format 0.0.4, built family by family. */
export type Labels = Record<string, string>;
type MetricType = "counter" | "gauge" | "histogram" | "untyped";

interface Family {
  type: MetricType;
  help: string;
  lines: string[];
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export class Exposition {
  private families = new Map<string, Family>();

  private family(name: string, type: MetricType, help: string): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { type, help, lines: [] };
      this.families.set(name, f);
    }
    return f;
  }

  /** Declares a family so it is listed (HELP/TYPE) even with no samples yet. */
  declare(name: string, type: MetricType, help: string): this {
    this.family(name, type, help);
    return this;
  }

  sample(name: string, type: MetricType, help: string, labels: Labels, value: number): this {
    this.family(name, type, help).lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  gauge(name: string, help: string, labels: Labels, value: number): this {
    return this.sample(name, "gauge", help, labels, value);
  }

  counter(name: string, help: string, labels: Labels, value: number): this {
    return this.sample(name, "counter", help, labels, value);
  }

  /** `buckets` are non-cumulative counts per upper bound, the last one for +Inf. */
  histogram(name: string, help: string, labels: Labels, bounds: readonly number[], buckets: number[], sum: number): this {
    const f = this.family(name, "histogram", help);
    // The series' labels are formatted once, not once per bucket: histograms are most of a scrape.
    const own = formatLabels(labels);
    const bucket = `${name}_bucket{${own ? `${own.slice(1, -1)},` : ""}le="`;
    let cumulative = 0;
    bounds.forEach((le, i) => {
      cumulative += buckets[i] ?? 0;
      f.lines.push(`${bucket}${formatValue(le)}"} ${cumulative}`);
    });
    cumulative += buckets[bounds.length] ?? 0;
    f.lines.push(`${bucket}+Inf"} ${cumulative}`);
    f.lines.push(`${name}_sum${own} ${formatValue(sum)}`);
    f.lines.push(`${name}_count${own} ${cumulative}`);
    return this;
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      out.push(`# TYPE ${name} ${f.type}`);
      out.push(...f.lines);
    }
    return out.join("\n") + "\n";
  }
}
