/**
 * TypeBox validates only the string formats registered with it. The ingest pipeline registers
 * 'date-time' at start-up; tests that compile kind schemas on their own call this first.
 */
import { FormatRegistry } from '@sinclair/typebox';

export function registerTypeboxFormats(): void {
  if (!FormatRegistry.Has('date-time')) {
    FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d{2}-\d{2}T/.test(v));
  }
}

registerTypeboxFormats();
