import type { ExecutorTier } from "../../protocol/index.ts";

/**
 * Agent names by the tiers they serve, so a dispatch reads the few agents of its tier instead of
 * scanning the fleet. Immutable: the registry builds a new one only when a hello brings
 * an agent or changes what it serves, never on a heartbeat.
 */
export class TierIndex {
  private constructor(private readonly byTier: ReadonlyMap<ExecutorTier, readonly string[]>) {}

  static of(agents: ReadonlyMap<string, { name: string; tiers: readonly ExecutorTier[] }>): TierIndex {
    const byTier = new Map<ExecutorTier, string[]>();
    for (const agent of agents.values()) {
      for (const tier of agent.tiers) {
        const names = byTier.get(tier);
        if (names === undefined) byTier.set(tier, [agent.name]);
        else names.push(agent.name);
      }
    }
    return new TierIndex(byTier);
  }

  /** Names of the agents that serve `tier` (whatever their state). */
  serving(tier: ExecutorTier): readonly string[] {
    return this.byTier.get(tier) ?? [];
  }
}
