/**
 * Faults: kill -9 during writes, a launcher killed alone, and the runtime killed under load.
 * Short in CI; `npm run soak` sets AIOS_SOAK=1, which streams writes longer before the kill -9 and
 * crashes the runtime several times in a row.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { processTree } from "../../harness/measure";
import { TestStack, sleep, until } from "../../harness/stack";

const ENV = { AIOS_API_TOKEN: "fault-token" };
/** AIOS_SOAK=1 (set by `npm run soak`): the long form of these tests. */
const SOAK = process.env["AIOS_SOAK"] === "1";

/** What the launcher logged (restarts and their timing), for failure messages. */
const launcherLines = (s: TestStack) =>
  s.output
    .split("\n")
    .filter((l) => l.includes('"service":"launcher"'))
    .join("\n");

interface LauncherRecord {
  time: string;
  msg: string;
  restart_in_ms?: number;
}
/** The launcher's log records with the message `msg`, oldest first. */
const launcherRecords = (s: TestStack, msg: string): LauncherRecord[] =>
  launcherLines(s)
    .split("\n")
    .map((l) => {
      try {
        return JSON.parse(l.slice(l.indexOf("{"))) as LauncherRecord;
      } catch {
        return undefined;
      }
    })
    .filter((r): r is LauncherRecord => r?.msg === msg);

/** How long after the launcher says the new runtime is up the clients may still see errors (a write's own round trip, slowed by load). */
const SETTLE_MS = 5_000;

describe("faults", () => {
  it(
    "kill -9 of a stack during a stream of writes: after a restart every acknowledged write is there",
    { timeout: SOAK ? 120_000 : 60_000 },
    async () => {
      const s = await TestStack.start({ ip: "127.0.47.1", cellId: "crashy", env: ENV });
      await s.api("/memory/create_entities", {
        method: "POST",
        body: JSON.stringify({ entities: [{ name: "Log", entityType: "stream" }] }),
      });
      const acknowledged: string[] = [];
      let stop = false;
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; !stop && i < 5000; i++) {
          const content = `w${w}-${i}`;
          try {
            const r = await s.api("/memory/add_observations", {
              method: "POST",
              body: JSON.stringify({ observations: [{ entityName: "Log", contents: [content] }] }),
            });
            if (r.status === 200) acknowledged.push(content);
          } catch {
            return;
          }
        }
      });
      await sleep(SOAK ? 20_000 : 1500);
      await s.kill9();
      stop = true;
      await Promise.all(writers);
      expect(acknowledged.length).toBeGreaterThan(20);
      const again = await TestStack.start({ ip: "127.0.47.1", cellId: "crashy", dir: s.dir, env: ENV });
      try {
        const g = (await (await again.api("/memory/open_nodes?name=Log")).json()) as { entities: { observations: string[] }[] };
        const present = new Set(g.entities[0]!.observations);
        const lost = acknowledged.filter((c) => !present.has(c));
        expect(lost, `${lost.length} of ${acknowledged.length} acknowledged writes lost`).toEqual([]);
      } finally {
        await again.stop();
      }
    },
  );

  it("a launcher killed alone leaves its runtimes behind; the next start stops them and starts cleanly", async () => {
    // With the built-in embedder: its workerd is left behind too.
    const s = await TestStack.start({ ip: "127.0.47.2", cellId: "orphan", env: { ...ENV, AIOS_EMBED: "builtin" } });
    type Left = { runtime: number; embedder?: number };
    const recordFile = path.join(s.dir, "data", "runtime.json");
    const record = await until(async () => {
      const r = JSON.parse(readFileSync(recordFile, "utf8")) as Left;
      return r.embedder !== undefined && r;
    }, 10_000).catch(async (e: Error) => {
      await s.stop();
      throw e;
    });
    const isWorkerd = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd");
      } catch {
        return false;
      }
    };
    try {
      s.child.kill("SIGKILL");
      await s.exit();
      // The runtime still answers on the ports, without its launcher.
      expect((await fetch(s.url("cell", "/health"))).status).toBe(200);
      expect(isWorkerd(record.embedder!)).toBe(true);
      const next = await TestStack.start({ ip: "127.0.47.2", cellId: "orphan", dir: s.dir, env: ENV });
      try {
        expect(next.output).toContain("stopped the runtime a killed launcher left behind");
        expect(isWorkerd(record.runtime)).toBe(false);
        expect(isWorkerd(record.embedder!)).toBe(false);
        expect((await next.json("cell", "/health"))["status"]).toBe("healthy");
      } finally {
        await next.stop();
      }
    } finally {
      // Whatever happened above, never leave the runtime we started running.
      for (const pid of [record.runtime, record.embedder]) {
        if (pid !== undefined && isWorkerd(pid)) process.kill(pid, "SIGKILL");
      }
    }
  });
  it(
    "the runtime killed under load: the launcher restarts it, clients see a brief error window and no acknowledged write is lost",
    { timeout: SOAK ? 240_000 : 90_000 },
    async () => {
      const crashes = SOAK ? 3 : 1;
      const s = await TestStack.start({ ip: "127.0.47.3", cellId: "crash-load", env: ENV, waitReady: false });
      const runtimes = new Set<number>();
      try {
        await s.ready(60_000);
        expect(
          (
            await s.api("/memory/create_entities", {
              method: "POST",
              body: JSON.stringify({ entities: [{ name: "Log", entityType: "stream" }] }),
            })
          ).status,
        ).toBe(200);
        // Clients write steadily; each answer is kept with its send and answer times.
        type Outcome = { content: string; sent: number; at: number; ok: boolean };
        const outcomes: Outcome[] = [];
        let stop = false;
        const deadline = Date.now() + (SOAK ? 200_000 : 45_000);
        const writers = Array.from({ length: 4 }, async (_, w) => {
          for (let i = 0; !stop && Date.now() < deadline; i++) {
            const content = `w${w}-${i}`;
            const sent = Date.now();
            let ok = false;
            try {
              const r = await s.api("/memory/add_observations", {
                method: "POST",
                body: JSON.stringify({ observations: [{ entityName: "Log", contents: [content] }] }),
                signal: AbortSignal.timeout(10_000),
              });
              await r.arrayBuffer();
              ok = r.status === 200;
            } catch {
              // the runtime is gone: an error the client sees
            }
            outcomes.push({ content, sent, at: Date.now(), ok });
            // While the runtime is down, retry at a steady pace instead of spinning on refused connections.
            if (!ok) await sleep(20);
          }
        });
        const acksSince = (t: number) => outcomes.filter((o) => o.ok && o.sent > t).length;

        const windows: { outageMs: number; restartMs: number; backAfterMs: number; errors: number; lastErrorSentMs: number }[] =
          [];
        let since = 0;
        for (let crash = 1; crash <= crashes; crash++) {
          await until(async () => acksSince(since) >= 40, 20_000, 50);
          const record = JSON.parse(readFileSync(path.join(s.dir, "data", "runtime.json"), "utf8")) as { runtime: number };
          // Only the workerd this test's launcher started: it must be among our launcher's processes.
          expect(processTree(s.child.pid!).has(record.runtime)).toBe(true);
          expect(readFileSync(`/proc/${record.runtime}/cmdline`, "utf8")).toContain("workerd");
          runtimes.add(record.runtime);
          const killedAt = Date.now();
          since = killedAt;
          process.kill(record.runtime, "SIGKILL");
          // Back when writes sent after the kill are acknowledged, and the launcher recorded its new runtime.
          await until(async () => acksSince(killedAt) >= 10, 45_000, 50).catch((e: Error) => {
            throw new Error(`${e.message}; the launcher said:\n${launcherLines(s)}`);
          });
          const next = await until(async () => {
            const r = JSON.parse(readFileSync(path.join(s.dir, "data", "runtime.json"), "utf8")) as { runtime: number };
            return r.runtime !== record.runtime && r.runtime;
          }, 10_000);
          runtimes.add(next);
          // The launcher's own account: the backoff it waited, and when the new runtime was up.
          const exits = launcherRecords(s, "runtime exited unexpectedly; restarting");
          expect(exits, launcherLines(s)).toHaveLength(crash);
          expect(exits[crash - 1]!.restart_in_ms, "the backoff starts at 0.5 s and doubles").toBeLessThanOrEqual(
            500 * 2 ** (crash - 1),
          );
          const restarted = await until(async () => launcherRecords(s, "runtime restarted")[crash - 1], 10_000);
          const restartedAt = Date.parse(restarted.time);
          const after = outcomes.filter((o) => o.at > killedAt);
          const failed = after.filter((o) => !o.ok);
          const firstBack = Math.min(...after.filter((o) => o.ok && o.sent > killedAt).map((o) => o.at));
          windows.push({
            // From the kill to the first acknowledged write sent after it.
            outageMs: firstBack - killedAt,
            // From the kill to the launcher's new runtime being up: what the machine's load decides.
            restartMs: restartedAt - killedAt,
            backAfterMs: firstBack - restartedAt,
            errors: failed.length,
            lastErrorSentMs: failed.length ? Math.max(...failed.map((o) => o.sent)) - restartedAt : 0,
          });
        }
        stop = true;
        await Promise.all(writers);
        const acknowledged = outcomes.filter((o) => o.ok).map((o) => o.content);
        console.log(
          `runtime crash under load: ${crashes} crash(es), ${acknowledged.length} acknowledged writes, ${outcomes.length - acknowledged.length} errors; ` +
            windows
              .map(
                (w, i) =>
                  `#${i + 1}: outage ${w.outageMs} ms (runtime back after ${w.restartMs} ms, writes ${w.backAfterMs} ms later), ${w.errors} errors`,
              )
              .join("; "),
        );
        windows.forEach((w) => {
          // How long a new runtime takes to boot depends on the machine and its load, so the error
          // window is measured against the launcher's own "runtime restarted": once it says so,
          // writes succeed again, and no write sent after that point fails.
          expect(w.errors, "the clients saw the crash").toBeGreaterThan(0);
          expect(w.backAfterMs, `writes succeed soon after the restart\n${launcherLines(s)}`).toBeLessThan(SETTLE_MS);
          expect(w.lastErrorSentMs, `no write sent after the restart fails\n${launcherLines(s)}`).toBeLessThan(SETTLE_MS);
        });
        expect(s.exitCode, "the launcher itself kept running").toBeUndefined();
        expect(s.output).toContain("runtime exited unexpectedly; restarting");

        const g = (await (await s.api("/memory/open_nodes?name=Log")).json()) as { entities: { observations: string[] }[] };
        const present = new Set(g.entities[0]!.observations);
        const lost = acknowledged.filter((c) => !present.has(c));
        expect(lost, `${lost.length} of ${acknowledged.length} acknowledged writes lost`).toEqual([]);

        // The restarts are counted durably, for alerting.
        const restarts = new RegExp(`aios_runtime_restarts_total\\{cell_id="crash-load"\\} ${crashes}\\n`);
        await until(async () => restarts.test(await (await fetch(s.url("metrics", "/metrics"))).text()), 10_000);
      } finally {
        await s.stop();
        // Whatever happened above, never leave a runtime we started running.
        for (const pid of runtimes) {
          try {
            if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd")) process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
    },
  );
});
