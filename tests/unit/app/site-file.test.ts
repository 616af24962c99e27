import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSiteConsistency, DEMO_SITE_FILE, parseSiteText, SiteFileError } from '../../../gateway/src/app/site-file.js';
import { KINDS, kindById } from '../../../gateway/src/domain/kinds/index.js';

describe('site file', () => {
  it('the demo site is valid, consistent, and has devices of every kind', () => {
    const site = parseSiteText(readFileSync(DEMO_SITE_FILE, 'utf8'), DEMO_SITE_FILE);
    expect(checkSiteConsistency(site, kindById)).toEqual([]);
    const kinds = new Set<string>();
    let communities = 0;
    for (const s of site.streets)
      for (const c of s.communities ?? []) {
        communities++;
        for (const g of c.grids ?? []) for (const b of g.buildings ?? []) for (const d of b.devices ?? []) kinds.add(d.kind);
      }
    expect(site.streets).toHaveLength(1);
    expect(communities).toBe(2);
    expect([...kinds].sort()).toEqual(KINDS.map((k) => k.id).sort());
  });

  it('accepts JSON as well as YAML', () => {
    const site = parseSiteText(JSON.stringify({ streets: [{ id: 's1', code: '110105001', name: 'S' }] }), 'site.json');
    expect(site.streets[0]?.id).toBe('s1');
  });

  it('lists schema problems with their paths', () => {
    const text = `
streets:
  - id: s1
    code: "12345"
    name: S
    colour: red
`;
    const err = (() => {
      try {
        parseSiteText(text, 'bad.yaml');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(SiteFileError);
    const problems = (err as SiteFileError).problems.join('\n');
    expect(problems).toContain('/streets/0/code');
    expect(problems).toContain('/streets/0');
  });

  it('reports YAML syntax errors as site file errors', () => {
    expect(() => parseSiteText('streets: [ {id: ', 'broken.yaml')).toThrow(SiteFileError);
  });

  it('finds cross-reference problems a schema cannot see', () => {
    const site = parseSiteText(
      `
streets:
  - id: s1
    code: "110105001"
    name: S
    communities:
      - id: c1
        code: "999999999001"
        name: C
        grids:
          - id: g1
            code: "99999999900101"
            name: G
            buildings:
              - id: b1
                name: B
                floors: 5
                devices:
                  - { id: d1, kind: smoke, floor: 9 }
                  - { id: d1, kind: toaster }
                  - { id: d2, kind: camera, parentId: nvr-9 }
`,
      'x.yaml',
    );
    const problems = checkSiteConsistency(site, kindById).join('\n');
    expect(problems).toContain("community 'c1' code");
    expect(problems).toContain("device id 'd1' appears twice");
    expect(problems).toContain("unknown kind 'toaster'");
    expect(problems).toContain('floor 9 of a 5-floor building');
    expect(problems).toContain("parent 'nvr-9'");
  });
});
