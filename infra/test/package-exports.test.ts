/**
 * The production folder resolves `@k1s0/*` through `publishConfig.exports` (build-image-tree applies
 * it), the workspace through `exports`. A subpath present in one but not the other starts fine from
 * source and fails only in the image (ERR_PACKAGE_PATH_NOT_EXPORTED), so every package that has a
 * publishConfig must publish exactly the subpaths it exports, each pointing into dist.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Manifest {
  name: string;
  exports?: Record<string, unknown> | string;
  publishConfig?: { exports?: Record<string, unknown> };
}

const manifests: Manifest[] = ['apps', 'packages'].flatMap((group) =>
  readdirSync(join(root, group), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map(
      (entry) => JSON.parse(readFileSync(join(root, group, entry.name, 'package.json'), 'utf8')) as Manifest,
    )
    .filter((manifest) => manifest.publishConfig?.exports !== undefined),
);

describe('publishConfig.exports mirrors exports', () => {
  it('covers the workspace packages the services run on', () => {
    expect(manifests.map((m) => m.name)).toEqual(
      expect.arrayContaining(['@k1s0/platform', '@k1s0/config-domain']),
    );
  });

  for (const manifest of manifests) {
    it(`${manifest.name}: the same subpaths, all in dist`, () => {
      const source =
        typeof manifest.exports === 'string' ? { '.': manifest.exports } : (manifest.exports ?? {});
      const published = manifest.publishConfig?.exports ?? {};
      // `./package.json` is published on purpose (tools read it); it has no source counterpart.
      const publishedPaths = Object.keys(published).filter((path) => path !== './package.json');
      expect(publishedPaths.sort()).toEqual(Object.keys(source).sort());
      expect(JSON.stringify(published)).not.toContain('/src/');
    });
  }
});
