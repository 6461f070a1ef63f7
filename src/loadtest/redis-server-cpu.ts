/**
 * A redis-server's own CPU time (INFO cpu: user + system), read over a
 * connection of its own, for the bench's figures beside the servers' CPU.
 */
import { createClient } from "redis";
import type { ServerCpu } from "./bench-protection.js";

export interface RedisServerCpu {
  /** The server's CPU time so far, µs. */
  readonly read: ServerCpu;
  close(): Promise<void>;
}

export async function redisServerCpu(url: string): Promise<RedisServerCpu> {
  const client = createClient({ url });
  await client.connect();
  return {
    read: async () => cpuMicrosFromInfo(await client.info("cpu")),
    close: async () => {
      await client.close();
    },
  };
}

/** used_cpu_user + used_cpu_sys of an INFO cpu reply, in µs. */
export function cpuMicrosFromInfo(info: string): number {
  const seconds = (field: string) => {
    const value = new RegExp(`^${field}:([0-9.]+)\\r?$`, "m").exec(info)?.[1];
    if (value === undefined) throw new Error(`INFO cpu has no ${field}`);
    return Number(value);
  };
  return Math.round((seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1e6);
}
