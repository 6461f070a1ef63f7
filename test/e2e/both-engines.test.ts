import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { defaultConfig } from "../../src/config.js";
import { startTradingCore } from "../../src/main.js";
import { ServingStatus } from "../../src/server/handlers/health-state.js";

describe("a server started with --engine both", () => {
  it("serves the same services and state on the grpc-js port and the connect port", async () => {
    const core = await startTradingCore(
      { ...defaultConfig(), engine: "both", port: 0, connectPort: 0, shutdownGraceMs: 1_000 },
      { log: pino({ level: "silent" }) },
    );
    const clients = [core.address, core.connectAddress!].map((address) => ({
      health: createGrpcJsClient(Health, address),
      exits: createGrpcJsClient(ExitService, address),
    }));
    try {
      expect(core.engines.map((engine) => engine.engine)).toEqual(["grpc-js", "connect"]);
      expect(core.connectAddress).not.toBe(core.address);
      const [grpcJs, connect] = clients as [(typeof clients)[0], (typeof clients)[0]];
      await grpcJs.exits.registerTracker({ orderNo: "BOTH-1", segment: 2, securityId: "1", side: 1, quantity: "1", entryPrice: "10" });
      const { tracker } = await connect.exits.getTracker({ orderNo: "BOTH-1" });
      expect(tracker?.orderNo).toBe("BOTH-1");
      for (const client of clients) expect((await client.health.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    } finally {
      for (const client of clients) {
        client.health.close();
        client.exits.close();
      }
      await core.stop();
    }
  });
});
