/**
 * The scenario registry: one line per scenario file in this folder. The registry test
 * (tests/integration/scenarios/registry.test.ts) fails when a file is not listed here.
 */
import { blocklist } from './blocklist.js';
import { cameraCovered } from './camera-covered.js';
import { cameraOffline } from './camera-offline.js';
import { deniedCard } from './denied-card.js';
import { fire } from './fire.js';
import { forcedDoor } from './forced-door.js';
import { heldDoor } from './held-door.js';
import { stranger } from './stranger.js';
import type { Scenario } from './types.js';

export const SCENARIOS: readonly Scenario[] = Object.freeze([
  fire,
  forcedDoor,
  heldDoor,
  deniedCard,
  stranger,
  blocklist,
  cameraOffline,
  cameraCovered,
]);

const byId: ReadonlyMap<string, Scenario> = new Map(SCENARIOS.map((s) => [s.id, s]));

export function scenarioById(id: string): Scenario | undefined {
  return byId.get(id);
}

export type { ExpectedAlert, Offset, Scenario, ScenarioDevice, ScenarioExpectation, ScenarioStep } from './types.js';
export { classesOf, defineScenario, offsetMs } from './types.js';
