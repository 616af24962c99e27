/**
 * The kind registry: every sensor kind this gateway understands, one line each. Adding a kind is
 * one file in this folder plus one line here; tests/unit/kinds/registry-drift.test.ts fails when a
 * kind file is not listed.
 */
import type { KindDefinition } from '../kind.js';
import { cameraKind } from './camera.js';
import { doorKind } from './door.js';
import { faceGateKind } from './face-gate.js';
import { smokeKind } from './smoke.js';

export const KINDS: readonly KindDefinition[] = Object.freeze([
  smokeKind,
  doorKind,
  faceGateKind,
  cameraKind,
]);

const byId: ReadonlyMap<string, KindDefinition> = new Map(KINDS.map((k) => [k.id, k]));

export function kindById(id: string): KindDefinition | undefined {
  return byId.get(id);
}
