import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const health = async () => (await SELF.fetch("http://cell.test/health")).json<Record<string, unknown>>();

describe("cell /health", () => {
  it("answers with measured fields", async () => {
    const body = await health();
    expect(body["cell_id"]).toBe("unit-cell");
    expect(body["type"]).toBe("cell");
    expect(typeof body["consciousness_level"]).toBe("number");
  });

  it("never answers an old uptime (the answer is reused only within its second)", async () => {
    const first = await health();
    await new Promise((r) => setTimeout(r, 1100));
    const later = await health();
    expect(later["uptime_seconds"]).toBeGreaterThan(first["uptime_seconds"] as number);
  });
});
