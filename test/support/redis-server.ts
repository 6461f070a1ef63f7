/** Real redis-server processes for tests (the same helper the benchmarks use). */
export { RedisServer, freeLoopbackPort, startRedisServers, type RedisServerOptions } from "../../src/loadtest/redis-server-process.js";
