import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";

export type TestRedis = {
  url: string;
  port: number;
  /** Stop it (SIGTERM, nothing saved): clients see connections refused until `start()`. */
  stop(): Promise<void>;
  /** Start it again on the same port, empty. */
  start(): Promise<void>;
  /** FLUSHALL through redis-cli. */
  flushAll(): Promise<void>;
};

/** A port free on 127.0.0.1 right now. */
export async function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/**
 * A redis-server of the test's own on a free loopback port, without persistence, for suites
 * that stop or flush Redis (never the shared one on 6379). Stop it in afterAll.
 */
export async function startRedisServer(): Promise<TestRedis> {
  const port = await freeLocalPort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    child = proc;
    for (let i = 0; ; i++) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
      if (await answersPing(port)) return;
      if (i > 200) throw new Error(`redis-server did not answer on ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    async stop() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    },
    async flushAll() {
      await command(port, "FLUSHALL");
    },
  };
}

async function answersPing(port: number): Promise<boolean> {
  try {
    return (await command(port, "PING")).startsWith("+PONG");
  } catch {
    return false;
  }
}

/** One inline command over RESP, its first reply line back. */
function command(port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setTimeout(2_000);
    let reply = "";
    socket.on("connect", () => socket.write(`${cmd}\r\n`));
    socket.on("data", (d) => {
      reply += String(d);
      if (reply.includes("\r\n")) {
        socket.end();
        if (reply.startsWith("-")) reject(new Error(reply.trim()));
        else resolve(reply);
      }
    });
    socket.on("timeout", () => socket.destroy(new Error("redis timeout")));
    socket.on("error", reject);
  });
}
