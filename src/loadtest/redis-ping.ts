/**
 * The machine's own Redis round trip: sequential PINGs through node-redis
 * from the bench process, so the Redis exit rows can be read in round trips.
 */
import { createClient } from "redis";

/** Latencies of `calls` sequential PINGs to `url`, ms. */
export async function measureRedisPing(url: string, calls: number): Promise<number[]> {
  const client = createClient({ url });
  await client.connect();
  try {
    const latencies: number[] = [];
    for (let index = 0; index < calls; index++) {
      const started = performance.now();
      await client.ping();
      latencies.push(performance.now() - started);
    }
    return latencies;
  } finally {
    await client.quit();
  }
}
