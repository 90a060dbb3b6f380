import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("cell /health", () => {
  it("answers with measured fields", async () => {
    const res = await SELF.fetch("http://cell.test/health");
    const body = await res.json<Record<string, unknown>>();
    expect(body["cell_id"]).toBe("unit-cell");
  });
});
