/**
 * The state object stores its clock (sequence number and hybrid clock) with
 * the batch shortly after writes, not with each write. A crash in between must
 * never make it reuse a sequence number or a timestamp: a restarted object
 * finds the ones it used in its own rows.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConsciousnessState } from "../../durable-objects/consciousness-state";
import { decodeHlc } from "../../lib/hlc";

interface Clock {
  oseq: number;
  hlc: { last: { wall: number; counter: number } };
}
const clockOf = (o: unknown) => o as Clock;

describe("the state object's clock", () => {
  it("is recovered from its own rows when the stored clock lags (a crash before the batch)", async () => {
    const stub = env.STATE.get(env.STATE.idFromName("clock-recovery"));
    await runInDurableObject(stub, async (object, state) => {
      const instance = object as ConsciousnessState;
      const ns = "clock";
      instance.createEntities({ namespace: ns, entities: [{ name: "A", entityType: "t", observations: ["one", "two"] }] });
      instance.postMessage({ content: "hello", message_type: "note", priority: "normal", metadata: {} });
      const before = clockOf(instance);
      const stored = new Map(
        state.storage.sql
          .exec<{ key: string; value: string }>("SELECT key, value FROM meta")
          .toArray()
          .map((r) => [r.key, r.value]),
      );
      // Not stored yet: this is the window a crash could fall in.
      expect(Number(stored.get("oseq") ?? "0")).toBeLessThan(before.oseq);

      // A restart on the same storage, as after the crash.
      const restarted = clockOf(new ConsciousnessState(state, env as never));
      await new Promise((r) => setTimeout(r, 0));
      expect(restarted.oseq).toBe(before.oseq);
      expect(restarted.hlc.last).toEqual(before.hlc.last);

      // And the batch stores it shortly after.
      await new Promise((r) => setTimeout(r, 300));
      const after = state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'oseq'").one();
      expect(Number(after.value)).toBe(before.oseq);
      const hlc = state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'hlc'").one();
      expect(decodeHlc(hlc.value)).toEqual(before.hlc.last);
    });
  });
});
