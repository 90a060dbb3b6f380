/** The launcher's JSON-lines log files: one per day, rolled by size within a day. */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LogFiles } from "../../launcher/logs";

describe("log files", () => {
  it("rotate by day, and by size within a day", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aios-logs-"));
    const files = new LogFiles(dir, 1000);
    const day1 = new Date("2026-11-23T10:00:00Z");
    const day2 = new Date("2026-11-24T10:00:00Z");
    for (let i = 0; i < 30; i++) files.write(JSON.stringify({ i, pad: "x".repeat(80) }), day1);
    files.write(JSON.stringify({ i: "next day" }), day2);
    const names = readdirSync(dir).sort();
    expect(names).toContain("aios-2026-11-23.log");
    expect(names).toContain("aios-2026-11-23.log.1");
    expect(names).toContain("aios-2026-11-24.log");
    for (const n of names) {
      const text = readFileSync(path.join(dir, n), "utf8");
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1000);
      for (const line of text.trim().split("\n")) JSON.parse(line);
    }
  });
});
