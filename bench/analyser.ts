/**
 * Built-in analyser speed: median time to analyse 1,000 lines of realistic
 * TypeScript and Python, against a reference measured in the same run on the
 * same text: splitting it into lines and running one regex over each line
 * (the least any line-based analyser must do).
 */
import { analyze } from "../workers/cell/analysis";
import { report, type Figure } from "./stats";
import { median } from "../harness/measure";

const LINES = 1000;
const RUNS = 200;
const WARMUP = 20;

/** A TypeScript module of about `n` lines: interfaces, a class with methods, functions, comments, strings, regexes. */
export function typescriptSample(n: number): string {
  const out: string[] = ['import { readFile } from "./fs";', 'import type { Config } from "./config";', ""];
  for (let i = 0; out.length < n; i++) {
    out.push(
      `/** Options for the ${i}th handler; see the README. */`,
      `export interface Options${i} {`,
      "  name: string;",
      "  retries?: number;",
      "  onError?: (err: Error) => void;",
      "}",
      "",
      `export class Handler${i} {`,
      "  private readonly cache = new Map<string, number>();",
      "",
      `  constructor(private readonly opts: Options${i}, private readonly config: Config) {}`,
      "",
      "  async handle(request: Request, attempt = 0): Promise<Response> {",
      "    const url = new URL(request.url);",
      "    // TODO: move the routing table out of the handler",
      '    if (url.pathname === "/health" && request.method === "GET") {',
      "      return new Response(JSON.stringify({ ok: true, name: this.opts.name }));",
      "    }",
      "    for (const [key, value] of this.cache) {",
      '      if (value > 10 || key.startsWith("tmp")) this.cache.delete(key);',
      "    }",
      "    try {",
      `      const body = await readFile(\`/data/\${url.pathname}/${i}.json\`);`,
      '      return new Response(body, { headers: { "content-type": "application/json" } });',
      "    } catch (err) {",
      "      this.opts.onError?.(err as Error);",
      '      return attempt < (this.opts.retries ?? 3) ? this.handle(request, attempt + 1) : new Response("{}", { status: 500 });',
      "    }",
      "  }",
      "",
      "  size(): number {",
      "    return this.cache.size;",
      "  }",
      "}",
      "",
      `export function parse${i}(line: string, strict: boolean): string[] {`,
      '  const parts = line.split(/[,;]\\s*/).filter((p) => p !== "");',
      "  if (strict && parts.length === 0) {",
      "    throw new Error(`empty line: ${line}`);",
      "  }",
      "  return parts.map((p) => p.trim());",
      "}",
      "",
      `export const double${i} = (n: number) => n * 2;`,
      "",
    );
  }
  return out.slice(0, n).join("\n") + "\n";
}

/** A Python module of about `n` lines: classes, methods, functions, docstrings, comprehensions. */
export function pythonSample(n: number): string {
  const out: string[] = ["import json", "import os", "from typing import Optional", ""];
  for (let i = 0; out.length < n; i++) {
    out.push(
      `class Store${i}:`,
      `    """Keeps records for tenant ${i}.`,
      "",
      "    Records are JSON files under the data folder.",
      '    """',
      "",
      "    def __init__(self, root: str, limit: int = 100):",
      "        self.root = root",
      "        self.limit = limit",
      "        self.cache = {}",
      "",
      "    def load(self, key: str) -> Optional[dict]:",
      "        # TODO: evict old entries",
      "        if key in self.cache and self.cache[key] is not None:",
      "            return self.cache[key]",
      '        path = os.path.join(self.root, f"{key}.json")',
      "        try:",
      "            with open(path) as fh:",
      "                data = json.load(fh)",
      "        except (OSError, ValueError) as err:",
      '            print(f"cannot load {key}: {err}")',
      "            return None",
      "        self.cache[key] = data",
      "        return data",
      "",
      "    def keys(self):",
      "        return [k for k in self.cache if not k.startswith('tmp') or self.limit > 10]",
      "",
      "",
      `def summarise${i}(records, strict=False):`,
      "    total = 0",
      "    for record in records:",
      "        if strict and 'value' not in record:",
      "            raise KeyError('value')",
      "        total += record.get('value', 0)",
      "    return total",
      "",
      "",
    );
  }
  return out.slice(0, n).join("\n") + "\n";
}

function timeRuns(fn: () => void): number {
  for (let i = 0; i < WARMUP; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

// The reference: split into lines and test one regex on each (the floor of any line-based scan).
// Its count goes into the figure's text so the work cannot be optimised away.
const REFERENCE_RE = /\b(?:TODO|FIXME)\b|\bif\b|&&/;
let matched = 0;
function reference(code: string): void {
  let n = 0;
  for (const line of code.split("\n")) if (REFERENCE_RE.test(line)) n++;
  matched = n;
}

function figure(language: string, code: string, file: string): Figure {
  const lines = code.split("\n").length - 1;
  const per1000 = 1000 / lines;
  const ms = timeRuns(() => void analyze(code, { file })) * per1000;
  const refMs = timeRuns(() => reference(code)) * per1000;
  return {
    figure: `analyse 1,000 lines of ${language} (median of ${RUNS})`,
    value: ms,
    unit: "ms",
    reference: `split into lines + one regex per line, same text (${matched} lines matched)`,
    referenceValue: refMs,
    ratio: ms / refMs,
    target: "< 50 ms",
    met: ms < 50,
  };
}

export async function benchAnalyser(root: string): Promise<Figure[]> {
  const figures = [figure("TypeScript", typescriptSample(LINES), "bench.ts"), figure("Python", pythonSample(LINES), "bench.py")];
  report("analyser", figures, root);
  return figures;
}
