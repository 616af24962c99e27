import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACL_REFUSAL_REASONS, AUTH_REFUSAL_REASONS } from '../../../broker/src/types.js';

// The reason codes label metrics and log lines: each one must be explained in broker/README.md.
const readme = readFileSync(new URL('../../../broker/README.md', import.meta.url), 'utf8');

describe('broker refusal codes', () => {
  it.each(Object.keys(AUTH_REFUSAL_REASONS))('documents the CONNECT refusal %s', (reason) => {
    expect(readme).toContain(`\`${reason}\``);
  });

  it.each(Object.keys(ACL_REFUSAL_REASONS))('documents the topic refusal %s', (reason) => {
    expect(readme).toContain(`\`${reason}\``);
  });
});
