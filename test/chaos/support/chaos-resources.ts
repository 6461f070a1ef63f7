/**
 * What consecutive chaos runs share, since starting processes is most of a
 * short run's time on a busy machine: the client processes, and the fleet
 * when the next run asks for the very same settings and the last one left it
 * whole (every server running and not paused, every Redis up). Runs never
 * share trackers (their order_nos carry the scenario and seed), so a shared
 * fleet changes nothing they check. `dispose` stops everything by pid.
 */
import { ChaosClients } from "./chaos-clients.js";
import { ChaosFleet, type FleetSettings } from "./chaos-fleet.js";
import type { ChaosProfile } from "./chaos-profile.js";

export class ChaosResources {
  private fleet: ChaosFleet | undefined;
  private fleetKey: string | undefined;

  private constructor(readonly clients: ChaosClients) {}

  static async start(profile: ChaosProfile): Promise<ChaosResources> {
    return new ChaosResources(await ChaosClients.start(profile.clients));
  }

  /** The fleet left by the last run when its settings are these and it is whole; else a new one. */
  async fleetFor(settings: FleetSettings): Promise<ChaosFleet> {
    // Per-server flags are functions: such a fleet is never shared.
    const key = settings.argsFor ? undefined : JSON.stringify(settings);
    if (this.fleet && key !== undefined && key === this.fleetKey && this.fleet.whole) return this.fleet;
    await this.dropFleet();
    this.fleet = await ChaosFleet.start(settings);
    this.fleetKey = key;
    return this.fleet;
  }

  /** After a run: keeps a shareable fleet of a run that finished, stops any other. */
  async release(fleet: ChaosFleet, finished: boolean): Promise<void> {
    if (finished && this.fleetKey !== undefined && fleet === this.fleet) return;
    if (fleet === this.fleet) await this.dropFleet();
    else await fleet.dispose();
  }

  async dispose(): Promise<void> {
    await this.dropFleet();
    await this.clients.stop();
  }

  private async dropFleet(): Promise<void> {
    const fleet = this.fleet;
    this.fleet = undefined;
    this.fleetKey = undefined;
    await fleet?.dispose();
  }
}
